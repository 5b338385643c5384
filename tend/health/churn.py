"""Churn signals, evaluated for a chunk of accounts at each recompute with the same set-based
queries as the measures. Each enabled `ChurnSignalRule` raises an alert with its evidence.

Deduplication: a signal is not raised again while the same signal is active on the record; and
a signal about one fact (an NPS answer, a pair of missed meetings, contacts who left, a renewal
date, a month of tickets) is raised once for that fact, even after its alert expired.
"""

import datetime as dt

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.fields.json import KT

from tend.core import clock

from .definitions.churn_rules import SIGNAL_DEFAULTS
from .measures import Chunk, UsageSpec, _to_date, fetch_rows
from .models import ChurnSignalRule, HealthAlert, NewHealthAlert

ALERT_DAYS = 14
FACT_MEMORY_DAYS = 400


def install_rules() -> None:
    """Create the rules that do not exist yet with their defaults (idempotent)."""
    existing = set(ChurnSignalRule.objects.values_list("key", flat=True))
    missing = [
        ChurnSignalRule(key=key, priority=priority, params=dict(params), enabled=True)
        for key, (priority, params, _specs) in SIGNAL_DEFAULTS.items()
        if key not in existing
    ]
    if missing:
        ChurnSignalRule.objects.bulk_create(missing, ignore_conflicts=True)


def enabled_rules() -> list[ChurnSignalRule]:
    install_rules()
    return [r for r in ChurnSignalRule.objects.filter(enabled=True) if r.key in SIGNAL_DEFAULTS]


def _params(rule: ChurnSignalRule) -> dict:
    params = dict(SIGNAL_DEFAULTS[rule.key][1])
    params.update(rule.params or {})
    return params


def _month_starts(now: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    this_start = dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC)
    last_start = (this_start - dt.timedelta(days=1)).replace(day=1)
    next_start = (this_start + dt.timedelta(days=32)).replace(day=1)
    return last_start, this_start, next_start


def _as_int(value):
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _logins_specs(chunk: Chunk, params: dict) -> dict[str, UsageSpec]:
    w = int(params["window_days"])
    events = tuple(params["events"]) or None
    return {
        "sig_last": UsageSpec("sum", events, chunk.day_from(w)),
        "sig_prev": UsageSpec("sum", events, chunk.day_from(2 * w), chunk.day_from(w) - dt.timedelta(days=1)),
    }


def announce(chunk: Chunk, rules: list[ChurnSignalRule]) -> None:
    """Tell the chunk which usage aggregates the rules need (answered by the measures' one scan)."""
    for rule in rules:
        if rule.key == "logins_drop":
            chunk.want_usage(_logins_specs(chunk, _params(rule)))


def evaluate(
    chunk: Chunk,
    rules: list[ChurnSignalRule],
    *,
    csm_property: str,
    renewal_property: str,
    props: dict[int, dict],
    user_ids: set[int],
    now: dt.datetime | None = None,
) -> list[NewHealthAlert]:
    now = now or clock.now()
    ids = set(chunk.ids)
    recent = (
        HealthAlert.objects.filter(
            chunk._range("record_id"),
            kind=HealthAlert.Kind.CHURN_SIGNAL,
            raised_at__gte=now - dt.timedelta(days=FACT_MEMORY_DAYS),
        )
        .annotate(
            fact=KT("evidence__fact"),
            # decided by the database: a first run reads tens of thousands of these rows
            is_active=Case(
                When(expires_at__gt=now, dismissed_at__isnull=True, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .values_list("record_id", "signal", "fact", "is_active")
        .order_by()
    )
    active: set[tuple[int, str]] = set()
    facts: set[tuple[int, str, str]] = set()
    for record_id, signal, fact, is_active in fetch_rows(recent):
        if is_active:
            active.add((record_id, signal))
        if fact:
            facts.add((record_id, signal, fact))

    alerts: list[NewHealthAlert] = []
    expires_at = now + dt.timedelta(days=ALERT_DAYS)

    def raise_(rule: ChurnSignalRule, account_id: int, title: tuple[str, dict], evidence: dict) -> None:
        """Raise unless deduplicated. The title (message, its parameters) is kept in English for
        the API; screens word the alert from its signal and evidence (`alert_text`)."""
        if account_id not in ids or (account_id, rule.key) in active:
            return
        fact = evidence.get("fact")
        if fact and (account_id, rule.key, fact) in facts:
            return
        csm = _as_int(props.get(account_id, {}).get(csm_property))
        message, params = title
        alerts.append(
            NewHealthAlert(
                record_id=account_id,
                profile_id=None,
                kind=HealthAlert.Kind.CHURN_SIGNAL,
                signal=rule.key,
                priority=rule.priority,
                title=(message % params)[:255],
                evidence=evidence,
                user_id=csm if csm in user_ids else None,
                raised_at=now,
                expires_at=expires_at,
            )
        )
        active.add((account_id, rule.key))

    for rule in rules:
        p = _params(rule)
        if rule.key == "logins_drop":
            w = int(p["window_days"])
            usage = chunk.usage(_logins_specs(chunk, p))
            for account_id, row in usage.items():
                last, previous = row["sig_last"] or 0, row["sig_prev"] or 0
                if previous >= p["min_previous"] and last <= p["max_ratio"] * previous:
                    raise_(
                        rule,
                        account_id,
                        (
                            "Logins dropped: %(last)d in the last %(w)d days, %(prev)d in the %(w)d days before",
                            {"last": last, "prev": previous, "w": w},
                        ),
                        {"last": last, "previous": previous, "window_days": w, "events": list(p["events"])},
                    )
        elif rule.key == "tickets_spike":
            months = _month_starts(now)
            for account_id, (last, this) in chunk.tickets_by_month(months).items():
                if this >= p["min_tickets"] and this >= p["factor"] * last:
                    raise_(
                        rule,
                        account_id,
                        (
                            "Ticket spike: %(this)d tickets this month, %(last)d last month",
                            {"this": this, "last": last},
                        ),
                        {"this_month": this, "last_month": last, "fact": months[1].strftime("%Y-%m")},
                    )
        elif rule.key == "nps_drop":
            drops = []
            for account_id, answers in chunk.surveys(p.get("survey") or "nps").items():
                if len(answers) == 2:
                    (latest, latest_id), (previous, previous_id) = answers
                    if previous - latest >= p["points"]:
                        drops.append((account_id, latest, latest_id, previous, previous_id))
            at = chunk.survey_times(
                pk for _a, _l, latest_id, _p, previous_id in drops for pk in (latest_id, previous_id)
            )
            for account_id, latest, latest_id, previous, previous_id in drops:
                raise_(
                    rule,
                    account_id,
                    ("NPS dropped from %(from)d to %(to)d", {"from": previous, "to": latest}),
                    {
                        "from": previous,
                        "to": latest,
                        "from_at": at[previous_id].isoformat(),
                        "to_at": at[latest_id].isoformat(),
                        "fact": f"response:{latest_id}",
                    },
                )
        elif rule.key == "meetings_missed":
            count = int(p["count"])
            for account_id, meetings in chunk.recent_meeting_outcomes(count).items():
                if len(meetings) == count and all(outcome == "no_show" for _s, outcome, _i in meetings):
                    raise_(
                        rule,
                        account_id,
                        ("%(n)d scheduled meetings in a row were missed", {"n": count}),
                        {
                            "meetings": [{"id": i, "start_at": s.isoformat()} for s, _o, i in meetings],
                            "fact": "meetings:" + ",".join(str(i) for _s, _o, i in meetings),
                        },
                    )
        elif rule.key == "key_contact_left":
            for account_id, contacts in chunk.contacts_left(require_key_contact=True).items():
                names = ", ".join(name or f"#{cid}" for cid, name in contacts)
                raise_(
                    rule,
                    account_id,
                    ("Key contact left: %(names)s", {"names": names}),
                    {
                        "contacts": [{"id": cid, "name": name} for cid, name in contacts],
                        "fact": "contacts:" + ",".join(str(cid) for cid, _n in contacts),
                    },
                )
        elif rule.key == "renewal_soon" and renewal_property:
            days = int(p["days"])
            parsed: dict[str, dt.date | None] = {}  # many accounts share a renewal date
            for account_id, row in props.items():
                raw = row.get(renewal_property)
                if raw.__class__ is str:
                    day = parsed[raw] if raw in parsed else parsed.setdefault(raw, _to_date(raw))
                else:
                    day = _to_date(raw)
                if day is None:
                    continue
                left = (day - chunk.today).days
                if 0 <= left <= days:
                    raise_(
                        rule,
                        account_id,
                        ("Renewal in %(n)d days (%(date)s)", {"n": left, "date": day.isoformat()}),
                        {"days": left, "renewal_date": day.isoformat(), "fact": f"renewal:{day.isoformat()}"},
                    )
    return alerts


def active_signal_q(now: dt.datetime) -> Q:
    return Q(kind=HealthAlert.Kind.CHURN_SIGNAL, expires_at__gt=now, dismissed_at__isnull=True)
