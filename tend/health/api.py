"""/api/v1 endpoints of health scores: a record's health, recompute, alerts, score profiles,
churn-signal rules and recompute runs."""

from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _
from ninja import Body, Router
from ninja.responses import Status

from tend.core import clock, policy
from tend.core.api import parse_after, parse_limit
from tend.core.errors import NotFound, ValidationFailed
from tend.crm import queries as crm_queries
from tend.crm.models import Record

from . import queries, services
from .alert_text import alert_text
from .definitions.churn_rules import SIGNAL_DESCRIPTIONS, SIGNAL_LABELS
from .models import ChurnSignalRule, HealthAlert, ProfileVersion, RecomputeRun, ScoreProfile
from .recompute.run import customer_type

router = Router(tags=["health"])


def _iso(value):
    if value is None:
        return None
    if hasattr(value, "hour"):
        return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _customer(request, record_id: int) -> Record:
    return crm_queries.get_record_for_user(request.auth, customer_type(), record_id, include_archived=False)


def _health_out(record: Record, health: dict | None) -> dict:
    if health is None:
        return {"recordId": record.pk, "score": None, "status": None, "profile": None, "breakdown": [], "history": []}
    return {
        "recordId": record.pk,
        "score": health["score"],
        "status": health["status"],
        "coverage": health["coverage"],
        "profile": {"id": health["profile"].pk, "name": health["profile"].name},
        "version": health["version"].number,
        "computedAt": _iso(health["computed_at"]),
        "breakdown": health["breakdown"],
        "history": [{"day": day.isoformat(), "score": score} for day, score in health["history"]],
        "why": [
            {
                "at": _iso(w["at"]),
                "score": w["score"],
                "status": w["status"],
                "reason": w["reason"],
                "changes": w["changes"],
            }
            for w in health["why"]
        ],
        "alerts": [_alert_out(a) for a in health["alerts"]],
    }


def _alert_out(alert: HealthAlert) -> dict:
    now = clock.now()
    worded = alert_text(alert)
    return {
        "id": alert.pk,
        "recordId": alert.record_id,
        "kind": alert.kind,
        "signal": alert.signal,
        "priority": alert.priority,
        "title": alert.title,
        "evidence": alert.evidence,
        # worded in the caller's language, as the screens show it
        "display": {"title": worded.title, "evidence": worded.evidence},
        "userId": alert.user_id,
        "raisedAt": _iso(alert.raised_at),
        "expiresAt": _iso(alert.expires_at),
        "dismissedAt": _iso(alert.dismissed_at),
        "active": alert.dismissed_at is None and alert.expires_at > now,
    }


def _version_out(version: ProfileVersion | None) -> dict | None:
    if version is None:
        return None
    return {
        "id": version.pk,
        "number": version.number,
        "definition": version.definition,
        "segment": version.segment,
        "activatedAt": _iso(version.activated_at),
        "activatedBy": version.activated_by_id,
    }


def _profile_out(profile: ScoreProfile) -> dict:
    return {
        "id": profile.pk,
        "name": profile.name,
        "displayName": profile.display_name,
        "description": profile.description,
        "segment": profile.segment,
        "priority": profile.priority,
        "draft": profile.draft,
        "active": profile.is_active,
        "activeVersion": _version_out(profile.active_version),
        "createdAt": _iso(profile.created_at),
        "updatedAt": _iso(profile.updated_at),
    }


def _run_out(run: RecomputeRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "total": run.total,
        "done": run.done,
        "progress": round(run.progress, 4),
        "queuedAt": _iso(run.queued_at),
        "startedAt": _iso(run.started_at),
        "finishedAt": _iso(run.finished_at),
        "error": run.error,
    }


# --------------------------------------------------------------------------- record health


@router.get("/records/{record_id}/health", summary="Health score, breakdown and history of a customer")
def get_record_health(request, record_id: int):
    record = _customer(request, record_id)
    return _health_out(record, queries.record_health(record))


@router.post("/records/{record_id}/health/recompute", summary="Recompute the health score of a customer now")
def recompute_record_health(request, record_id: int):
    record = _customer(request, record_id)
    if not request.auth.can_write:
        policy.require(request.auth, policy.Action.EDIT_RECORDS)
    services.record_recompute(actor=request.auth, record=record)
    return _health_out(record, queries.record_health(record))


# --------------------------------------------------------------------------- alerts


@router.get("/health/alerts", summary="List health alerts")
def list_alerts(
    request,
    record: int | None = None,
    user: int | None = None,
    active: bool | None = True,
    limit: int | None = None,
    after: str | None = None,
):
    """The alerts the Alerts page shows the caller: on their book or addressed to them."""
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    limit = parse_limit(limit, default=50, maximum=200)
    cursor = parse_after(after)
    alerts = queries.book_alerts(request.auth.user, active=active)
    if record is not None:
        alerts = alerts.filter(record_id=record)
    if user is not None:
        alerts = alerts.filter(user_id=user)
    alerts = alerts.order_by("-id")
    if cursor:
        alerts = alerts.filter(pk__lt=cursor)
    page = list(alerts[: limit + 1])
    result: dict[str, Any] = {"results": [_alert_out(a) for a in page[:limit]]}
    if len(page) > limit:
        result["paging"] = {"next": {"after": str(page[limit - 1].pk)}}
    return result


@router.post("/health/alerts/{alert_id}/dismiss", summary="Dismiss a health alert")
def dismiss_alert(request, alert_id: int):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    # Someone else's alert answers as if it did not exist, as on the Alerts page.
    alert = queries.book_alerts(request.auth.user, active=None).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(_("No alert %(id)s.") % {"id": alert_id})
    return _alert_out(services.alert_dismiss(actor=request.auth, alert=alert))


# --------------------------------------------------------------------------- profiles


@router.get("/health/profiles", summary="List score profiles")
def list_profiles(request):
    profiles = queries.profiles_for(request.auth).select_related("active_version").order_by("priority", "id")
    return {"results": [_profile_out(p) for p in profiles]}


@router.post("/health/profiles", response={201: dict}, summary="Create a score profile (from the template)")
def create_profile(request, payload: Body[dict[str, Any]]):
    name = payload.get("name")
    from_template = payload.get("fromTemplate", True)
    if not isinstance(from_template, bool):
        raise ValidationFailed.single("fromTemplate", _("Enter true or false."))
    profile = services.profile_create(
        actor=request.auth, name=name, from_template=from_template, description=payload.get("description") or ""
    )
    extra = {k: payload[k] for k in ("segment", "priority", "definition") if k in payload}
    if extra:
        try:
            services.profile_update_draft(actor=request.auth, profile=profile, **extra)
        except ValidationFailed:
            profile.delete()
            raise
    return Status(201, _profile_out(queries.get_profile_for_user(request.auth, profile.pk)))


@router.get("/health/profiles/{profile_id}", summary="Get a score profile")
def get_profile(request, profile_id: int):
    return _profile_out(queries.get_profile_for_user(request.auth, profile_id))


@router.patch("/health/profiles/{profile_id}", summary="Update a profile's draft, name, segment or priority")
def update_profile(request, profile_id: int, payload: Body[dict[str, Any]]):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    allowed = {"name", "description", "segment", "priority", "definition"}
    unknown = [k for k in payload if k not in allowed]
    if unknown:
        raise ValidationFailed.single(unknown[0], _("Unknown field %(name)s.") % {"name": unknown[0]}, "unknown")
    services.profile_update_draft(actor=request.auth, profile=profile, **payload)
    return _profile_out(queries.get_profile_for_user(request.auth, profile_id))


@router.post("/health/profiles/{profile_id}/test", summary="Score one record with the profile's draft")
def test_profile(request, profile_id: int, payload: Body[dict[str, Any]]):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    record_id = payload.get("recordId")
    if isinstance(record_id, bool) or not isinstance(record_id, int):
        raise ValidationFailed.single("recordId", _("Enter a record id."), "required")
    record = crm_queries.records_by_id_for_user(request.auth, [record_id], include_archived=False).get(record_id)
    if record is None:
        raise ValidationFailed.single("recordId", _("No record %(id)s.") % {"id": record_id}, "not_found")
    ev = services.profile_test_on_record(actor=request.auth, profile=profile, record=record)
    return {
        "score": ev.score,
        "status": ev.status,
        "coverage": ev.coverage,
        "maxPointsWithData": ev.max_points_with_data,
        "groups": ev.groups,
    }


@router.post("/health/profiles/{profile_id}/preview", summary="Distribution of the draft's scores over its segment")
def preview_profile(request, profile_id: int):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    return services.profile_preview_distribution(actor=request.auth, profile=profile)


@router.post("/health/profiles/{profile_id}/activate", response={202: dict}, summary="Activate the draft as a version")
def activate_profile(request, profile_id: int):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    version = services.profile_activate(actor=request.auth, profile=profile)
    return Status(
        202,
        {
            "profile": _profile_out(profile),
            "version": _version_out(version),
            "run": _run_out(RecomputeRun.objects.filter(kind=RecomputeRun.Kind.ACTIVATION, profile=profile).first()),
        },
    )


@router.post("/health/profiles/{profile_id}/deactivate", summary="Stop scoring with a profile")
def deactivate_profile(request, profile_id: int):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    services.profile_deactivate(actor=request.auth, profile=profile)
    return _profile_out(profile)


@router.delete("/health/profiles/{profile_id}", response={204: None}, summary="Archive a profile")
def archive_profile(request, profile_id: int):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    services.profile_archive(actor=request.auth, profile=profile)
    return Status(204, None)


@router.get("/health/profiles/{profile_id}/versions", summary="The versions of a profile")
def list_versions(request, profile_id: int):
    profile = queries.get_profile_for_user(request.auth, profile_id)
    return {"results": [_version_out(v) for v in queries.versions_of(profile)]}


# --------------------------------------------------------------------------- rules and runs


def _rule_out(rule: ChurnSignalRule) -> dict:
    return {
        "key": rule.key,
        "label": str(SIGNAL_LABELS.get(rule.key, rule.key)),
        "description": str(SIGNAL_DESCRIPTIONS.get(rule.key, "")),
        "enabled": rule.enabled,
        "priority": rule.priority,
        "params": rule.params,
    }


@router.get("/health/signal-rules", summary="List churn-signal rules")
def list_rules(request):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    return {"results": [_rule_out(r) for r in queries.signal_rules()]}


@router.patch("/health/signal-rules/{key}", summary="Update a churn-signal rule")
def update_rule(request, key: str, payload: Body[dict[str, Any]]):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    rule = queries.signal_rules().filter(key=key).first()
    if rule is None:
        raise NotFound(_("No churn-signal rule %(key)s.") % {"key": key})
    unknown = [k for k in payload if k not in ("enabled", "priority", "params")]
    if unknown:
        raise ValidationFailed.single(unknown[0], _("Unknown field %(name)s.") % {"name": unknown[0]}, "unknown")
    services.signal_rule_update(
        actor=request.auth,
        rule=rule,
        enabled=payload.get("enabled"),
        priority=payload.get("priority"),
        params=payload.get("params"),
    )
    return _rule_out(rule)


@router.get("/health/runs/latest", summary="The latest recompute run and its progress")
def latest_run(request):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    return {"run": _run_out(queries.latest_run())}


@router.get("/health/runs/{run_id}", summary="A recompute run and its progress")
def get_run(request, run_id: int):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    run = RecomputeRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No recompute run %(id)s.") % {"id": run_id})
    return _run_out(run)
