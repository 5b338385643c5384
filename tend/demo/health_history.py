"""The demo's health past, written after the first full recompute: 90 days of score history for
every scored account and each book's daily sums (the Summary's "average over time"), and a few
status changes per CSM in the last two weeks, so that the Summary has active alerts of both kinds
(the churn signals come from the recompute itself).

A status change is raised by the recompute, not written here: the account's score is set back to
a score of a neighbouring status, the account recomputed (which raises the alert and writes its
point, as a nightly run would), and the alert and the point are then dated back to the day of the
change. Deterministic for a seed and a "now"; set-based (COPY on PostgreSQL), a chunk of accounts
at a time.
"""

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from tend.core import bulk
from tend.crm.models import Record
from tend.cs_settings.queries import workspace_settings
from tend.health.models import BookScoreDay, HealthAlert, HealthScore, HealthScoreHistory, ProfileVersion
from tend.health.recompute.run import recompute
from tend.health.recompute.write import POINT_COLUMNS

HISTORY_DAYS = 90  # today's point is the recompute's; the 89 days before it are written here
CHANGES_PER_CSM = 3
CHANGE_DAYS = (1, 12)  # days ago: an alert raised then is still active (alerts last 14 days)
ACCOUNT_CHUNK = 2000
STEP = 1.5  # the largest day-to-day move of a score, in points
DRIFT = 0.1  # the largest daily trend of an account's score, in points


@dataclass(frozen=True)
class Band:
    key: str
    low: float
    high: float


@dataclass
class Account:
    record_id: int
    profile_id: int
    version_id: int
    score: float
    status: str
    coverage: float
    books: tuple[int, ...]  # the users whose book it is in (owner, CSM)
    changed_days_ago: int = 0  # a status change that many days ago (0: none)
    previous: Band | None = None
    previous_score: float = 0.0


def write_health_history(*, seed: float, now: dt.datetime, csm_ids: Iterable[int]) -> Counter:
    """The history before today, the status changes and the books' daily sums; returns counts."""
    rng = random.Random(f"{seed}/health-history")
    bands = _bands()
    accounts = _accounts()
    counts: Counter = Counter()
    changed = _plan_changes(accounts, bands, csm_ids, rng)
    if changed:
        _raise_changes(changed, now)
        counts["health status changes"] += len(changed)
    books: dict[int, list[list[float]]] = {}  # user → [totals by day ago, counts by day ago]
    for start in range(0, len(accounts), ACCOUNT_CHUNK):
        rows = []
        for account in accounts[start : start + ACCOUNT_CHUNK]:
            band = bands[account.version_id].get(account.status)
            if band is None:
                continue
            for days_ago, score, status in _past(account, band, rng):
                if days_ago != account.changed_days_ago:  # that day's point is the change's
                    rows.append(
                        (
                            account.record_id,
                            account.profile_id,
                            account.version_id,
                            score,
                            status,
                            account.coverage,
                            "[]",
                            "daily",
                            _at(now, days_ago),
                        )
                    )
                for user_id in account.books:
                    book = books.setdefault(user_id, [[0.0] * HISTORY_DAYS, [0] * HISTORY_DAYS])
                    book[0][days_ago] += score
                    book[1][days_ago] += 1
        with bulk.write_turn(), transaction.atomic():
            bulk.copy_rows(HealthScoreHistory._meta.db_table, (*POINT_COLUMNS, "at"), rows)
        counts["health history points"] += len(rows)
    days = [
        (user_id, bulk.db_date((now - dt.timedelta(days=d)).date()), _at(now, d), totals[d], n[d])
        for user_id, (totals, n) in sorted(books.items())
        for d in range(1, HISTORY_DAYS)
        if n[d]
    ]
    with bulk.write_turn(), transaction.atomic():
        bulk.copy_rows(BookScoreDay._meta.db_table, ("user_id", "day", "at", "total", "count"), days)
    counts["book score days"] += len(days)
    return counts


def _bands() -> dict[int, dict[str, Band]]:
    """Each version's statuses as score bands (a status holds the scores from its minimum up to
    the next status's)."""
    out = {}
    for version_id, definition in ProfileVersion.objects.values_list("pk", "definition"):
        statuses = sorted(definition.get("statuses", []), key=lambda s: -s["min"])
        bands, high = {}, 100.0
        for status in statuses:
            bands[status["key"]] = Band(status["key"], float(status["min"]), high)
            high = float(status["min"]) - 0.1
        out[version_id] = bands
    return out


def _accounts() -> list[Account]:
    csm_property = workspace_settings().customer_csm_property
    scores = HealthScore.objects.filter(score__isnull=False).order_by("record_id")
    rows = list(scores.values_list("record_id", "profile_id", "version_id", "score", "status", "coverage"))
    books: dict[int, tuple[int, ...]] = {}
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 10_000):
        for pk, owner, props in Record.objects.filter(pk__in=ids[start : start + 10_000]).values_list(
            "pk", "owner_id", "properties"
        ):
            csm = props.get(csm_property) if isinstance(props, dict) else None
            books[pk] = tuple(sorted({u for u in (owner, csm) if isinstance(u, int) and not isinstance(u, bool)}))
    return [Account(*row, books=books.get(row[0], ())) for row in rows]


def _plan_changes(
    accounts: list[Account], bands: dict[int, dict[str, Band]], csm_ids: Iterable[int], rng: random.Random
) -> list[Account]:
    """A few accounts of each CSM that changed status in the last two weeks: two got worse (from
    the status above theirs), one better (from the status below); in a book all of one status,
    each the way its status allows."""
    changed = []
    for csm in csm_ids:
        book = [a for a in accounts if csm in a.books and a.status in bands[a.version_id]]
        for wanted in (-1, -1, 1):  # -1: came from the status above, 1: from the one below
            account = previous = None
            for step in (wanted, -wanted):
                candidates = [a for a in book if not a.changed_days_ago and _neighbour(bands, a, step)]
                if candidates:
                    account = candidates[int(rng.random() * len(candidates))]
                    previous = _neighbour(bands, account, step)
                    break
            if account is None or previous is None:
                continue
            account.previous = previous
            account.previous_score = round(
                previous.low + (previous.high - previous.low) * (0.3 + 0.4 * rng.random()), 1
            )
            account.changed_days_ago = CHANGE_DAYS[0] + int(rng.random() * (CHANGE_DAYS[1] - CHANGE_DAYS[0] + 1))
            changed.append(account)
    return changed


def _neighbour(bands: dict[int, dict[str, Band]], account: Account, step: int) -> Band | None:
    """The status above (step -1) or below (step 1) the account's, best first."""
    order = list(bands[account.version_id].values())
    i = next(j for j, b in enumerate(order) if b.key == account.status) + step
    return order[i] if 0 <= i < len(order) else None


def _raise_changes(changed: list[Account], now: dt.datetime) -> None:
    """Score each account as it was before its change, recompute it (the recompute raises the
    status change and writes its point), then date the alert and the point back to the change."""
    with transaction.atomic():
        for account in changed:
            HealthScore.objects.filter(record_id=account.record_id, profile_id=account.profile_id).update(
                score=account.previous_score, status=account.previous.key
            )
    ids = [a.record_id for a in changed]
    recompute(ids, notify=False)  # back-dated changes; the demo writes a few believable notifications itself
    with transaction.atomic():
        for account in changed:
            back = dt.timedelta(days=account.changed_days_ago)
            HealthAlert.objects.filter(
                record_id=account.record_id, kind=HealthAlert.Kind.STATUS_CHANGE, raised_at__gte=now
            ).update(raised_at=F("raised_at") - back, expires_at=F("expires_at") - back)
            HealthScoreHistory.objects.filter(record_id=account.record_id, reason="status_change", at__gte=now).update(
                at=F("at") - back
            )


def _past(account: Account, band: Band, rng: random.Random):
    """(days ago, score, status) for each day before today: a walk back from today's score that
    stays in its status's band; for a changed account, from the day before its change, a walk in
    the previous status's band from the score it had then."""
    rnd = rng.random
    score, current = account.score, band
    anchor = score
    drift = (rnd() - 0.35) * 2 * DRIFT  # most accounts were a little worse before
    for days_ago in range(1, HISTORY_DAYS):
        if days_ago == account.changed_days_ago:
            yield days_ago, account.score, band.key  # the change's point: scored as today
            score = anchor = account.previous_score
            current = account.previous or band
            continue
        if account.changed_days_ago and days_ago == account.changed_days_ago + 1:
            yield days_ago, score, current.key
            continue
        anchor -= drift
        score += (rnd() - 0.5) * 2 * STEP + (anchor - score) * 0.1
        score = round(min(max(score, current.low), current.high), 1)
        yield days_ago, score, current.key


def _at(now: dt.datetime, days_ago: int):
    return bulk.db_datetime(now - dt.timedelta(days=days_ago))
