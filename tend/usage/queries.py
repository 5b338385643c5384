"""Reads of the usage app: usage of an account over a window, the latest NPS of accounts,
survey responses. The health engine reads the rollup tables the same way."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import Record
from tend.cs_settings.queries import workspace_settings

from .models import DailyActiveUser, DailyUsage, SurveyResponse

MAX_DAYS = 365


def nps_category(score: int | None) -> str | None:
    if score is None:
        return None
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def account_nps(account_ids: Iterable[int], *, survey: str = "nps") -> dict[int, dict]:
    """{account id: {"latest", "previous", "change", "responded_at", "category"}} for the accounts
    with at least one answer; latest and previous are the two most recent answers (any contact),
    change = latest − previous (None with a single answer). One query."""
    ids = sorted({int(i) for i in account_ids})
    if not ids:
        return {}
    rows = (
        SurveyResponse.objects.filter(account_id__in=ids, survey=survey)
        .order_by("account_id", "-responded_at", "-id")
        .values_list("account_id", "score", "responded_at")
    )
    out: dict[int, dict] = {}
    seen: dict[int, int] = {}
    # Two rows per account are needed; accounts have few answers, so reading them all is cheap
    # and portable (no window functions needed on old SQLite builds).
    for account, score, at in rows.iterator(chunk_size=2000):
        n = seen.get(account, 0)
        if n == 0:
            out[account] = {
                "latest": score,
                "previous": None,
                "change": None,
                "responded_at": at,
                "category": nps_category(score),
            }
        elif n == 1:
            out[account]["previous"] = score
            out[account]["change"] = out[account]["latest"] - score
        seen[account] = n + 1
    return out


def get_account(actor: Actor, account_id: int | str) -> Record:
    """A customer record the actor may see, or NotFound."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    try:
        pk = int(account_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(_("No customer account %(id)s.") % {"id": account_id}) from exc
    record = Record.objects.filter(pk=pk, object_type_id=workspace_settings().customer_object_type_id).first()
    if record is None:
        raise NotFound(_("No customer account %(id)s.") % {"id": account_id})
    return record


def usage_window(days: int) -> tuple[dt.date, dt.date]:
    """The last `days` UTC days, today included (rollups are kept by UTC day)."""
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed.single("days", _("days must be from 1 to %(n)d.") % {"n": MAX_DAYS})
    today = clock.now().astimezone(dt.UTC).date()
    return today - dt.timedelta(days=days - 1), today


def usage_summary(record: Record, days: int = 30) -> dict:
    """Usage of one account over the last `days` UTC days: totals per event name (count and the
    most users on one day is not additive, so users = distinct users over the window), active
    users, distinct features (distinct track event names) and a daily series with every day
    present. Three queries."""
    start, end = usage_window(days)
    rollups = DailyUsage.objects.filter(account=record, day__gte=start, day__lte=end)
    per_day = dict(rollups.values("day").annotate(n=Sum("count")).values_list("day", "n"))
    totals = list(rollups.values("event").annotate(n=Sum("count")).order_by("-n", "event").values_list("event", "n"))
    actives = DailyActiveUser.objects.filter(account=record, day__gte=start, day__lte=end)
    active_rows = list(actives.values("day").annotate(n=Count("user_key")).values_list("day", "n"))
    active_per_day = dict(active_rows)
    active_users = actives.values("user_key").distinct().count() if active_rows else 0
    series = []
    day = start
    while day <= end:
        series.append({"day": day, "events": per_day.get(day, 0) or 0, "activeUsers": active_per_day.get(day, 0)})
        day += dt.timedelta(days=1)
    return {
        "accountId": record.pk,
        "days": days,
        "from": start,
        "to": end,
        "totals": [{"event": event, "count": n} for event, n in totals],
        "events": sum(n for _e, n in totals),
        "activeUsers": active_users,
        "distinctFeatures": len(totals),
        "series": series,
    }


def survey_responses_for(actor: Actor, *, account_id: int | None = None) -> QuerySet[SurveyResponse]:
    """Survey responses the actor may see, newest first (everyone with workspace access sees all)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    responses = SurveyResponse.objects.all()
    if account_id is not None:
        responses = responses.filter(account_id=account_id)
    return responses.order_by("-responded_at", "-id")
