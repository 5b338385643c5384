"""Demo product usage and NPS for the demo workspace (called at the end of `tend demo`).

90 days of Segment-style track events per company, with patterns the health engine can tell
apart: healthy accounts log in steadily (or more and more) and use many features; at-risk
accounts log in far less in the last 30 days than in the 30 before and use few features; churned
accounts stopped weeks ago. Onboarding accounts ramp up. NPS responses come from the companies'
contacts, a few per account, and some drop by 3 points or more. Deterministic from the demo seed.

Events and their rollups are written together (the rollups computed here from the same events,
exactly as `ingest.rollups.rollups_recompute` would) set-based (`tend.core.bulk`), one
transaction per chunk of companies, so memory stays flat at any size. Workspaces with more than
5,000 companies get 2–4 product users per account instead of 2–15 (≈10M events at 100k accounts).
"""

import datetime as dt
import functools
import random
from collections import Counter

from django.db import transaction

from tend.core import bulk
from tend.crm.models import Association, ObjectType, Record

from .models import DailyActiveUser, DailyEventUser, DailyUsage, SurveyResponse, UsageEvent, UsageIdentity
from .surveys import account_nps_sync

UTC = dt.UTC
DAYS = 90
CHUNK = 200
FEATURES = ("Report Created", "Dashboard Viewed", "Export Run", "Integration Connected", "Invite Sent",
            "Alert Configured", "Comment Added")  # fmt: skip
LOGIN = "Logged In"
EVENT_COLUMNS = ("message_id", "kind", "event", "account_id", "user_key", "properties", "timestamp", "received_at")
USAGE_COLUMNS = ("account_id", "day", "event", "count", "users")
EVENT_USER_COLUMNS = ("account_id", "day", "event", "user_key")
DAU_COLUMNS = ("account_id", "day", "user_key")
IDENTITY_COLUMNS = ("user_key", "account_id", "traits", "updated_at")


def _pattern(rng: random.Random, cs_stage: str) -> str:
    if cs_stage == "churned":
        return "churned"
    if cs_stage == "at_risk":
        return "falling"
    if cs_stage == "onboarding":
        return "rising"
    roll = rng.random()
    return "steady" if roll < 0.72 else ("rising" if roll < 0.88 else "falling")


def _login_chance(pattern: str, days_ago: int, churned_at: int) -> float:
    """Chance that one user logs in on a day `days_ago` days before today."""
    match pattern:
        case "steady":
            return 0.55
        case "rising":
            return 0.15 + 0.6 * (DAYS - days_ago) / DAYS
        case "falling":
            return 0.55 if days_ago >= 30 else 0.08
        case "churned":
            return 0.4 if days_ago > churned_at else 0.0
    return 0.0


def generate(*, seed, now: dt.datetime, companies: int, on_progress=None) -> Counter:
    """Write the demo usage and NPS data for every company of the workspace; returns counts."""
    counts: Counter = Counter()
    company_type = ObjectType.objects.get(name="companies")
    contact_type = ObjectType.objects.filter(name="contacts").first()
    today = now.astimezone(UTC).date()
    max_users = 15 if companies <= 5000 else 4
    db_datetime = functools.lru_cache(maxsize=1 << 16)(bulk.db_datetime)  # generated instants repeat
    received = db_datetime(now)
    # A reset deletes the demo companies; the identities of their users stay behind, unattached.
    UsageIdentity.objects.filter(account__isnull=True, user_key__startswith="demo-").delete()
    last = 0
    while True:
        rows = list(
            Record.objects.filter(object_type=company_type, pk__gt=last, archived_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "properties")[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1][0]
        events, usage, event_users, dau, identities, nps_accounts = [], [], [], [], [], []
        contacts = _contacts(contact_type, [pk for pk, _p in rows])
        responses = []
        for pk, props in rows:
            key = props.get("domain") or props.get("external_id") or str(pk)
            rng = random.Random(f"{seed}/usage/{key}")
            pattern = _pattern(rng, props.get("cs_stage") or "active")
            n_users = rng.randint(2, max_users)
            users = [f"demo-{key}-{k + 1}" for k in range(n_users)]
            wide = pattern in ("steady", "rising")
            features = rng.sample(FEATURES, rng.randint(5, 7) if wide else rng.randint(1, 3))
            churned_at = rng.randint(35, 60)
            seq = 0
            for days_ago in range(DAYS - 1, -1, -1):
                day = today - dt.timedelta(days=days_ago)
                chance = _login_chance(pattern, days_ago, churned_at)
                if chance <= 0:
                    continue
                per_event: dict[str, set] = {}
                per_count: Counter = Counter()
                midnight = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
                for user in users:
                    if rng.random() >= chance:
                        continue
                    minute = 420 + int(rng.random() * 660)
                    names = [LOGIN] + [f for f in features if rng.random() < (0.35 if wide else 0.2)]
                    for name in names:
                        at = midnight + dt.timedelta(minutes=minute)
                        minute += 1 + int(rng.random() * 20)
                        if at > now:
                            continue
                        seq += 1
                        events.append((f"demo-{key}-{seq}", "track", name, pk, user, "{}", db_datetime(at), received))
                        per_event.setdefault(name, set()).add(user)
                        per_count[name] += 1
                day_text = day.isoformat()
                active = set()
                for name, who in per_event.items():
                    usage.append((pk, day_text, name, per_count[name], len(who)))
                    event_users.extend((pk, day_text, name, u) for u in sorted(who))
                    active |= who
                dau.extend((pk, day_text, u) for u in sorted(active))
            identities.extend((u, pk, "{}", received) for u in users)
            responses.extend(_responses(rng, pk, pattern, contacts.get(pk, []), now))
            if responses and responses[-1].account_id == pk:
                nps_accounts.append(pk)
        with transaction.atomic():
            bulk.copy_rows(UsageEvent._meta.db_table, EVENT_COLUMNS, events)
            bulk.copy_rows(DailyUsage._meta.db_table, USAGE_COLUMNS, usage)
            bulk.copy_rows(DailyEventUser._meta.db_table, EVENT_USER_COLUMNS, event_users)
            bulk.copy_rows(DailyActiveUser._meta.db_table, DAU_COLUMNS, dau)
            bulk.copy_rows(UsageIdentity._meta.db_table, IDENTITY_COLUMNS, identities)
            SurveyResponse.objects.bulk_create(responses, batch_size=500)
            if nps_accounts:
                # One property change (nps) per account whose latest answer differs.
                counts["property changes"] += account_nps_sync(account_ids=nps_accounts)
        counts["usage events"] += len(events)
        counts["daily usage rollups"] += len(usage) + len(dau)
        counts["survey responses"] += len(responses)
        if on_progress:
            on_progress(len(rows))
    return counts


def _contacts(contact_type, company_ids: list[int]) -> dict[int, list[int]]:
    if contact_type is None:
        return {}
    out: dict[int, list[int]] = {}
    links = (
        Association.objects.filter(from_record_id__in=company_ids, to_record__object_type=contact_type)
        .order_by("from_record_id", "to_record_id")
        .values_list("from_record_id", "to_record_id")
    )
    for company, contact in links:
        out.setdefault(company, []).append(contact)
    return out


def _responses(rng: random.Random, account: int, pattern: str, contacts: list[int], now: dt.datetime) -> list:
    """A few NPS answers over the 90 days, oldest first; falling and churned accounts drop."""
    if not contacts:
        return []
    n = rng.randint(1, 3) if pattern in ("steady", "rising") else rng.randint(2, 3)
    out = []
    for k in range(n):
        days_ago = 85 - k * (80 // n) - rng.randint(0, 10)
        if pattern in ("steady", "rising"):
            score = rng.choice((7, 8, 9, 9, 10, 10))
        elif k < n - 1:
            score = rng.choice((7, 8, 9))
        else:  # the latest answer of an at-risk account: a drop of 3 or more
            score = rng.choice((2, 3, 4))
        out.append(
            SurveyResponse(
                contact_id=contacts[rng.randrange(len(contacts))],
                account_id=account,
                survey="nps",
                score=score,
                comment="",
                responded_at=now - dt.timedelta(days=max(1, days_ago), minutes=rng.randint(0, 600)),
                external_id=None,
                created_at=now,
            )
        )
    return out
