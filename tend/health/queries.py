"""Reads of the health app: profiles, a record's health (score, explanation, history, alerts),
scores for a table page, the Summary tab's health summary, the latest recompute run."""

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import NotFound
from tend.core.policy import Actor
from tend.crm.models import Record
from tend.directory.models import User

from .churn import install_rules
from .definitions.statuses import STATUS_KEYS, status_schemes
from .definitions.texts import localized, text
from .models import (
    BookScore,
    BookScoreDay,
    ChurnSignalRule,
    HealthAlert,
    HealthScore,
    HealthScoreHistory,
    ProfileVersion,
    RecomputeRun,
    ScoreProfile,
)
from .recompute.plan import expand

HISTORY_DAYS = 90
WHY_LIMIT = 10


def profiles_for(actor: Actor) -> QuerySet[ScoreProfile]:
    """The profiles (not archived) an actor may see: everyone with workspace access."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    return ScoreProfile.objects.live()


def get_profile_for_user(actor: Actor, profile_id: int | str) -> ScoreProfile:
    try:
        profile_id = int(profile_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(_("No score profile %(id)s.") % {"id": profile_id}) from exc
    profile = profiles_for(actor).select_related("active_version").filter(pk=profile_id).first()
    if profile is None:
        raise NotFound(_("No score profile %(id)s.") % {"id": profile_id})
    return profile


def versions_of(profile: ScoreProfile) -> QuerySet[ProfileVersion]:
    return profile.versions.select_related("activated_by").order_by("-number")


def signal_rules() -> QuerySet[ChurnSignalRule]:
    install_rules()
    return ChurnSignalRule.objects.order_by("id")


def alerts_for(
    *,
    record: Record | None = None,
    user: User | None = None,
    active: bool | None = True,
    now: dt.datetime | None = None,
) -> QuerySet[HealthAlert]:
    """Alerts, newest first; `active` True = active only, False = expired or dismissed only, None = all."""
    now = now or clock.now()
    alerts = HealthAlert.objects.select_related("record", "user", "profile")
    if record is not None:
        alerts = alerts.filter(record=record)
    if user is not None:
        alerts = alerts.filter(user=user)
    if active is True:
        alerts = alerts.active(now)
    elif active is False:
        alerts = alerts.exclude(pk__in=HealthAlert.objects.active(now).values("pk"))
    return alerts.order_by("-raised_at", "-id")


def _status_entry(definition: dict, key: str) -> dict | None:
    """A status of the definition as the viewer reads it (built-in labels and actions translated)."""
    for status in definition.get("statuses", []):
        if status["key"] == key:
            entry = {k: status.get(k, "") for k in ("key", "color", "min")}
            entry["label"], entry["action"] = text(status), text(status, "action")
            return entry
    return None


def _criterion_labels(definition: dict) -> dict[str, str]:
    return {c["key"]: c["label"] for g in definition.get("groups", []) for c in g.get("criteria", [])}


def record_health(record: Record, *, tz: dt.tzinfo = dt.UTC) -> dict | None:
    """Everything the health card shows, or None when no profile scores the record. The history
    is a score per day, days in `tz` (the viewer's time zone; UTC for the API)."""
    score = (
        HealthScore.objects.filter(record=record)
        .select_related("profile", "version")
        .order_by("profile__priority", "profile_id")
        .first()
    )
    now = clock.now()
    alerts = list(alerts_for(record=record, active=True, now=now))
    if score is None:
        return None
    definition = localized(score.version.definition)
    evaluation = expand(definition, score.breakdown)
    since = now - dt.timedelta(days=HISTORY_DAYS)
    points = list(
        HealthScoreHistory.objects.filter(record=record, profile=score.profile, at__gte=since)
        .order_by("at", "id")
        .values_list("at", "score", "status", "changes", "reason", "version_id")
    )
    by_day: dict[dt.date, float | None] = {}
    for at, value, _status, _changes, _reason, _version in points:
        by_day[at.astimezone(tz).date()] = value
    labels = _criterion_labels(definition)  # a change names its criterion as the viewer reads it
    why = [
        {
            "at": at,
            "score": value,
            "status": _status_entry(definition, status),
            "changes": [{**c, "label": labels.get(c.get("criterion"), c.get("label", ""))} for c in changes or []],
            "reason": reason,
        }
        for at, value, status, changes, reason, _version in reversed(points)
        if changes or reason == "status_change"
    ][:WHY_LIMIT]
    return {
        "score": score.score,
        "status": _status_entry(definition, score.status),
        "coverage": score.coverage,
        "profile": score.profile,
        "version": score.version,
        "computed_at": score.computed_at,
        "breakdown": evaluation.groups,
        "max_points_with_data": evaluation.max_points_with_data,
        "history": sorted(by_day.items()),
        "why": why,
        "alerts": alerts,
        "signals": [a for a in alerts if a.kind == HealthAlert.Kind.CHURN_SIGNAL],
    }


def scores_for_records(record_ids: Iterable[int]) -> dict[int, HealthScore]:
    """record id → its health score (one query), for table columns."""
    ids = [int(i) for i in record_ids]
    if not ids:
        return {}
    out: dict[int, HealthScore] = {}
    for score in HealthScore.objects.filter(record_id__in=ids).order_by("profile__priority", "profile_id"):
        out.setdefault(score.record_id, score)
    return out


def book_alerts(
    user: User,
    *,
    active: bool | None = True,
    now: dt.datetime | None = None,
    user_ids: list[int] | None = None,
) -> QuerySet[HealthAlert]:
    """The alerts a user sees, newest first: on their book (accounts they own or are the CSM of), or
    addressed to them, on records not archived. The Alerts page and the API read the same scope;
    `active` True = active only, False = expired or dismissed only, None = all. `user_ids` (a
    manager's team) widens the book and the addressees to those users."""
    now = now or clock.now()
    ids = user_ids or [user.pk]

    def among(field: str) -> Q:
        return Q(**{field: ids[0]}) if len(ids) == 1 else Q(**{f"{field}__in": ids})

    # The record's owner and CSM as copied onto the alert (`books`): three index ranges.
    seen = among("user") | among("book_owner_id") | among("book_csm_id")
    alerts = HealthAlert.objects.filter(seen, record_live=True)
    if active is True:
        alerts = alerts.active(now)
    elif active is False:
        alerts = alerts.exclude(pk__in=HealthAlert.objects.active(now).values("pk"))
    return alerts.select_related("record", "record__object_type", "profile").order_by("-raised_at", "-pk")


def _status_labels() -> dict[str, dict]:
    """Label and colour of each status key, from the active profiles (first wins), else the defaults."""
    out: dict[str, dict] = {}
    for profile in ScoreProfile.objects.active().select_related("active_version"):
        for status in profile.active_version.definition.get("statuses", []):
            out.setdefault(status["key"], status)
    for scheme in status_schemes().values():
        for status in scheme:
            out.setdefault(status["key"], status)
    return out


def _customers_url(status_key: str, view: dict[str, str]) -> str:
    """The Customers tab on `view` (its query parameters: the book or the team's) filtered to a status."""
    try:
        base = reverse("customers")
    except NoReverseMatch:
        return ""
    filters = {
        "filterGroups": [{"filters": [{"propertyName": "health_status", "operator": "EQ", "value": status_key}]}]
    }
    return f"{base}?{urlencode({**view, 'filters': json.dumps(filters)})}"


def summary_profiles() -> list[ScoreProfile]:
    """The active profiles, in their priority order (the first scores the `health_status` column)."""
    return list(ScoreProfile.objects.active().order_by("priority", "pk"))


def health_summary(
    *,
    actor: Actor,
    user: User,
    user_ids: list[int] | None = None,
    profile: ScoreProfile | None = None,
    customers_view: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Summary tab's health card for the user's book (customers where they are CSM or owner):
    average score, count and share per status (linking to the Customers tab filtered to it), the
    distribution in 10 buckets, and the daily average over the last 90 days (days in the user's
    time zone). The current figures come from one grouped query over the books' copies of the
    scores (`BookScore`, one index); the past days from the book's daily sums (`BookScoreDay`, written by each full recompute), today's from
    the book as it is now: the history points of a large book over 90 days are millions of rows.
    `user_ids` (a manager's team) covers those users' books: its current figures count an account
    once, its line sums their daily rows, so an account whose owner and CSM are both in the team
    counts twice there. `profile` limits the
    figures to one profile's scores (the Summary's dropdown when several are active);
    `customers_view` is the Customers tab view the status links open (default: "Owned by me")."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    ids = user_ids or [user.pk]
    copies = BookScore.objects.filter(user_id=ids[0]) if len(ids) == 1 else BookScore.objects.filter(user_id__in=ids)
    if profile is not None:
        copies = copies.filter(profile=profile)
    if len(ids) > 1:  # an account in two of the team's books: counted on the row of the smaller user id
        copies = copies.exclude(shared_with__in=ids, shared_with__lt=F("user_id"))
    # Grouped in the order of `book_score_user`, so that the count reads that index alone, unsorted.
    groups = (
        copies.values_list("user_id", "profile", "status", "bucket")
        .annotate(n=Count("*"), total=Sum("score"))
        .values_list("status", "bucket", "n", "total")
        .order_by()
    )
    counts: dict[str, int] = defaultdict(int)
    buckets = [{"from": b * 10, "to": b * 10 + 10, "count": 0} for b in range(10)]
    total_score = 0.0
    for status, bucket, n, total in groups:
        counts[status] += n
        buckets[min(max(int(bucket), 0), 9)]["count"] += n
        total_score += total
    total = sum(counts.values())
    average = total_score / total if total else None
    labels = _status_labels()
    statuses = []
    for key, n in sorted(counts.items(), key=lambda kv: -labels.get(kv[0], {}).get("min", 0)):
        entry = labels.get(key, {"label": str(STATUS_KEYS.get(key, key)), "color": "secondary"})
        statuses.append(
            {
                "key": key,
                "label": text(entry),
                "color": entry["color"],
                "count": n,
                "share": round(n / total, 4) if total else 0.0,
                "url": _customers_url(key, customers_view or {}),
            }
        )
    now = clock.now()
    zone = clock.user_zone(user)
    days: dict[dt.date, float] = {}
    day_sums: dict[dt.date, list[float]] = defaultdict(lambda: [0.0, 0])
    for at, day_total, n in (
        BookScoreDay.objects.filter(user__in=ids, at__gte=now - dt.timedelta(days=HISTORY_DAYS), count__gt=0)
        .order_by("at")
        .values_list("at", "total", "count")
    ):
        sums = day_sums[at.astimezone(zone).date()]
        sums[0] += day_total
        sums[1] += n
    for day, (score_sum, scored) in day_sums.items():
        days[day] = score_sum / scored
    if average is not None:
        days[now.astimezone(zone).date()] = average
    return {
        "count": total,
        "average": round(average, 1) if average is not None else None,
        "statuses": statuses,
        "distribution": buckets,
        "over_time": [(day, round(avg, 1)) for day, avg in sorted(days.items())],
        "alerts": HealthAlert.objects.active(now).filter(user__in=ids).count(),
    }


def latest_run() -> RecomputeRun | None:
    """The run to show progress for: a running one, else the latest one."""
    running = RecomputeRun.objects.filter(status=RecomputeRun.Status.RUNNING).order_by("-started_at").first()
    return running or RecomputeRun.objects.exclude(status=RecomputeRun.Status.QUEUED, kind="full").first()


def active_alert_counts(record_ids: Iterable[int]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for record_id, n in (
        HealthAlert.objects.active(clock.now())
        .filter(record_id__in=list(record_ids))
        .values_list("record_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[record_id] = n
    return dict(counts)
