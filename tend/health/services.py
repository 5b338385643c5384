"""Every write of the health app: score profiles (draft, test, preview, activate), recomputing a
record, dismissing alerts, churn-signal rules. Profile work needs a Service seat
(`Action.MANAGE_HEALTH_PROFILES`); signal rules need "Manage Customer Success settings"."""

import copy
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.crm.filters import compile_search
from tend.crm.models import Record
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User

from . import churn, tasks
from .definitions.churn_rules import validate_signal_params
from .definitions.template import empty_definition, template
from .definitions.texts import localized, text
from .definitions.validate import validate_definition
from .dirty import mark_accounts_dirty
from .measures import Chunk, measure_definition
from .models import ChurnSignalRule, HealthAlert, HealthScore, ProfileVersion, ScoreProfile
from .recompute.run import customer_type, recompute
from .scoring import Evaluation, evaluate

MAX_NAME = 120
MAX_DESCRIPTION = 2000
PREVIEW_CHUNK = 5000


def _user(actor: Actor) -> User | None:
    return actor.user


def _require_manage(actor: Actor) -> None:
    policy.require(actor, policy.Action.MANAGE_HEALTH_PROFILES)


def _clean_segment(segment: object, errors: list[FieldError]) -> dict[str, Any]:
    if segment in (None, {}):
        return {}
    if not isinstance(segment, dict):
        errors.append(FieldError("segment", _("The segment must be a filter object.")))
        return {}
    unknown = [k for k in segment if k != "filterGroups"]
    for key in unknown:
        errors.append(FieldError(f"segment.{key}", _("A segment only has filterGroups.")))
    body = {"filterGroups": segment.get("filterGroups") or []}
    try:
        compile_search(body, registry_for(customer_type()), user=None)
    except ValidationFailed as exc:
        errors.extend(FieldError(f"segment.{e.field}", e.message, e.code) for e in exc.errors)
    return body if body["filterGroups"] else {}


def _check_name(name: object, errors: list[FieldError]) -> str:
    if not isinstance(name, str) or not name.strip():
        errors.append(FieldError("name", _("Enter a name."), "required"))
        return ""
    if len(name.strip()) > MAX_NAME:
        errors.append(FieldError("name", _("Enter at most %(n)d characters.") % {"n": MAX_NAME}))
    return name.strip()


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


def profile_create(
    *, actor: Actor, name: str = "", from_template: bool = True, description: str = "", builtin_name: str = ""
) -> ScoreProfile:
    """A new, inactive profile whose draft is the template (or empty). A `builtin_name` (an
    English message id, used when `name` is empty) is read in each viewer's language until renamed."""
    _require_manage(actor)
    errors: list[FieldError] = []
    name = _check_name(name or builtin_name, errors)
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", _("Enter at most %(n)d characters.") % {"n": MAX_DESCRIPTION}))
    _raise(errors)
    renewal = workspace_settings().customer_renewal_property or "renewal_date"
    draft = template(renewal) if from_template else empty_definition()
    now = clock.now()
    last = ScoreProfile.objects.live().aggregate(m=Max("priority"))["m"]
    return ScoreProfile.objects.create(
        name=name,
        builtin_name=builtin_name if name == builtin_name else "",
        description=description.strip(),
        draft=draft,
        priority=(last + 10) if last is not None else 100,
        created_by=_user(actor),
        created_at=now,
        updated_at=now,
    )


def profile_update_draft(
    *,
    actor: Actor,
    profile: ScoreProfile,
    name: str | None = None,
    description: str | None = None,
    segment: dict[str, Any] | None = None,
    priority: int | None = None,
    definition: dict[str, Any] | None = None,
) -> ScoreProfile:
    """Change the draft (and the profile's name, description, segment, priority); everything is
    validated first and nothing changes on error. The active version is untouched until activation."""
    _require_manage(actor)
    errors: list[FieldError] = []
    if profile.archived_at is not None:
        raise ValidationFailed.single("id", _("Archived profiles cannot be changed."), "archived")
    changes: dict = {}
    # the built-in name as the editor showed it (in the admin's language) is no rename
    if name is not None and not (isinstance(name, str) and name.strip() in (profile.name, profile.display_name)):
        changes["name"] = _check_name(name, errors)
        changes["builtin_name"] = ""
    if description is not None:
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            errors.append(FieldError("description", _("Enter at most %(n)d characters.") % {"n": MAX_DESCRIPTION}))
        else:
            changes["description"] = description.strip()
    if segment is not None:
        changes["segment"] = _clean_segment(segment, errors)
    if priority is not None:
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1_000_000:
            errors.append(FieldError("priority", _("Enter a whole number from 0 to 1000000.")))
        else:
            changes["priority"] = priority
    if definition is not None:
        try:
            changes["draft"] = validate_definition(definition)
        except ValidationFailed as exc:
            errors.extend(FieldError(f"definition.{e.field}", e.message, e.code) for e in exc.errors)
    _raise(errors)
    for field_name, value in changes.items():
        setattr(profile, field_name, value)
    profile.updated_at = clock.now()
    profile.save()
    return profile


def _valid_draft(profile: ScoreProfile) -> dict[str, Any]:
    try:
        return validate_definition(profile.draft)
    except ValidationFailed as exc:
        raise exc.prefixed("definition.") from exc


def profile_test_on_record(*, actor: Actor, profile: ScoreProfile, record: Record) -> Evaluation:
    """Score one record with the draft: every criterion's value, band and points (nothing is saved)."""
    _require_manage(actor)
    definition = _valid_draft(profile)
    ctype = customer_type()
    if record.object_type_id != ctype.pk:
        raise ValidationFailed.single("record", _("Choose a customer record."))
    chunk = Chunk([record.pk], now=clock.now(), customer_type=ctype)
    return evaluate(localized(definition), measure_definition(definition, chunk)[record.pk])


def profile_preview_distribution(*, actor: Actor, profile: ScoreProfile) -> dict[str, Any]:
    """The draft's scores over its segment, without saving: counts per status and a histogram."""
    _require_manage(actor)
    definition = _valid_draft(profile)
    ctype = customer_type()
    records = Record.objects.filter(object_type=ctype, archived_at__isnull=True)
    if profile.segment.get("filterGroups"):
        records = records.filter(compile_search(profile.segment, registry_for(ctype), user=None).where)
    ids = list(records.order_by("pk").values_list("pk", flat=True))
    now = clock.now()
    scores: list[float] = []
    by_status = {s["key"]: 0 for s in definition["statuses"]}
    no_data = 0
    for i in range(0, len(ids), PREVIEW_CHUNK):
        chunk = Chunk(ids[i : i + PREVIEW_CHUNK], now=now, customer_type=ctype)
        for values in measure_definition(definition, chunk).values():
            ev = evaluate(definition, values)
            if ev.score is None:
                no_data += 1
                continue
            scores.append(ev.score)
            by_status[ev.status_key] += 1
    scored = len(scores)
    histogram = [{"from": b * 10, "to": b * 10 + 10, "count": 0} for b in range(10)]
    for score in scores:
        histogram[min(int(score // 10), 9)]["count"] += 1
    return {
        "count": len(ids),
        "scored": scored,
        "no_data": no_data,
        "average": round(sum(scores) / scored, 1) if scored else None,
        "by_status": [
            {
                "key": s["key"],
                "label": text(s),
                "color": s["color"],
                "count": by_status[s["key"]],
                "share": round(by_status[s["key"]] / scored, 4) if scored else 0.0,
            }
            for s in definition["statuses"]
        ],
        "histogram": histogram,
    }


def profile_activate(*, actor: Actor, profile: ScoreProfile) -> ProfileVersion:
    """Freeze the draft as a new version, make it active, and queue a full recompute (returns at once)."""
    _require_manage(actor)
    if profile.archived_at is not None:
        raise ValidationFailed.single("id", _("Archived profiles cannot be activated."), "archived")
    definition = _valid_draft(profile)
    errors: list[FieldError] = []
    segment = _clean_segment(profile.segment, errors)
    _raise(errors)
    with transaction.atomic():
        locked = ScoreProfile.objects.select_for_update().get(pk=profile.pk)
        number = (locked.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        version = ProfileVersion.objects.create(
            profile=locked,
            number=number,
            definition=copy.deepcopy(definition),
            segment=segment,
            activated_by=_user(actor),
            activated_at=clock.now(),
        )
        locked.active_version = version
        locked.draft = definition
        locked.updated_at = clock.now()
        locked.save(update_fields=["active_version", "draft", "updated_at"])
        churn.install_rules()
        tasks.schedule_activation(locked)
        tasks.ensure_daily()
    profile.refresh_from_db()
    return version


def _remove_scores(profile: ScoreProfile) -> None:
    ids = list(HealthScore.objects.filter(profile=profile).values_list("record_id", flat=True))
    HealthScore.objects.filter(profile=profile).delete()
    if ids:
        # another active profile may now apply to these accounts; else their health properties clear
        mark_accounts_dirty(ids, reason="profile")


def profile_deactivate(*, actor: Actor, profile: ScoreProfile) -> ScoreProfile:
    """Stop scoring with the profile (its versions and history are kept)."""
    _require_manage(actor)
    with transaction.atomic():
        profile.active_version = None
        profile.updated_at = clock.now()
        profile.save(update_fields=["active_version", "updated_at"])
        _remove_scores(profile)
    return profile


def profile_archive(*, actor: Actor, profile: ScoreProfile) -> ScoreProfile:
    """Deactivate and hide the profile."""
    _require_manage(actor)
    with transaction.atomic():
        now = clock.now()
        profile.active_version = None
        profile.archived_at = profile.archived_at or now
        profile.updated_at = now
        profile.save(update_fields=["active_version", "archived_at", "updated_at"])
        _remove_scores(profile)
    return profile


def record_recompute(*, actor: Actor, record: Record) -> list[HealthScore]:
    """Recompute one record now; returns its current scores (none when no profile applies)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    if record.object_type_id != customer_type().pk:
        raise ValidationFailed.single("record", _("Only customer records have a health score."))
    recompute([record.pk], reason="recompute")
    return list(HealthScore.objects.filter(record=record).select_related("profile", "version"))


def alert_dismiss(*, actor: Actor, alert: HealthAlert) -> HealthAlert:
    """Dismiss an active alert (it stops being active; it still counts for deduplication)."""
    policy.require(actor, policy.Action.EDIT_RECORDS)
    if alert.dismissed_at is None:
        alert.dismissed_at = clock.now()
        alert.dismissed_by = _user(actor)
        alert.save(update_fields=["dismissed_at", "dismissed_by"])
    return alert


def signal_rule_update(
    *,
    actor: Actor,
    rule: ChurnSignalRule,
    enabled: bool | None = None,
    priority: str | None = None,
    params: dict[str, Any] | None = None,
) -> ChurnSignalRule:
    """Turn a churn signal on or off, set its priority or parameters (validated; nothing changes on error)."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    if enabled is not None:
        if not isinstance(enabled, bool):
            errors.append(FieldError("enabled", _("Enter true or false.")))
        else:
            changes["enabled"] = enabled
    if priority is not None:
        if priority not in HealthAlert.Priority.values:
            errors.append(
                FieldError("priority", _("Choose one of: %(p)s.") % {"p": ", ".join(HealthAlert.Priority.values)})
            )
        else:
            changes["priority"] = priority
    if params is not None:
        try:
            changes["params"] = validate_signal_params(rule.key, params)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    _raise(errors)
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.updated_at = clock.now()
    rule.save()
    return rule
