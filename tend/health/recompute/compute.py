"""What recomputing one chunk of accounts writes: the reads (profile assignment, measures, stored
scores), the scoring, and the history points and alerts that follow."""

import datetime as dt
import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q

from tend.core import bulk, clock
from tend.crm.models import ObjectType, Record
from tend.health import churn
from tend.health.measures import Chunk, fetch_rows, measure_columns
from tend.health.models import HealthAlert, HealthScore, NewHealthAlert, ProfileVersion, ScoreProfile

from .plan import Plan
from .write import ChunkWrites, PointRow, ScoreRow


@dataclass
class Active:
    profile: ScoreProfile
    version: ProfileVersion
    segment: Q | None  # None = every customer


def assign(chunk: Chunk, ctype: ObjectType, profiles: list[Active]) -> dict[int, Active]:
    remaining = set(chunk.ids)
    assigned: dict[int, Active] = {}
    for active in profiles:
        if not remaining:
            break
        if active.segment is None:
            matched = remaining
        else:
            matched = (
                set(
                    Record.objects.filter(chunk._range("pk"), active.segment, object_type=ctype).values_list(
                        "pk", flat=True
                    )
                )
                & remaining
            )
        assigned.update(dict.fromkeys(matched, active))
        remaining = remaining - matched
    return assigned


# A stored score row, as the driver returns it in this order: plain tuples, unpacked by name where
# read (a recompute reads one per account; a NamedTuple costs several times a tuple to build).
STORED_COLUMNS = (
    "record_id", "profile_id", "score", "status", "breakdown", "history_day", "pk", "coverage", "version_id"
)  # fmt: skip
StoredScore = tuple[int, int, float | None, str, object, object, int, float, int]


def existing_scores(
    chunk: Chunk, ids: list[int], assigned: dict[int, Active], *, full: bool
) -> tuple[dict[int, StoredScore], list[int]]:
    """The stored score rows of the chunk's records (record id → row) and
    the rows to delete: of records no profile applies to, of another profile than the one that
    applies, and a record's surplus rows. A full recompute also clears the rows of records in its
    id range that are no longer customers (archived); a partial one touches only its accounts."""
    rows = fetch_rows(HealthScore.objects.filter(chunk._range("record_id")).values_list(*STORED_COLUMNS).order_by())
    wanted = None if full else set(ids)
    existing: dict[int, StoredScore] = {}
    surplus: list[int] = []  # a record's rows before its last
    for row in rows:
        record_id, _profile_id, _score, _status, _breakdown, _day, _pk, _coverage, _version_id = row
        if wanted is not None and record_id not in wanted:
            continue
        earlier = existing.get(record_id)
        if earlier is not None:
            surplus.append(earlier)
        existing[record_id] = row
    remove = [pk for _r, _p, _s, _st, _b, _d, pk, _c, _v in surplus]
    for record_id, (_r, profile_id, _s, _st, _b, _d, pk, _c, _v) in existing.items():
        active = assigned.get(record_id)
        if active is None or profile_id != active.profile.pk:
            remove.append(pk)
    return existing, remove


def compute_chunk(
    ids: list[int],
    *,
    ctype: ObjectType,
    profiles: list[Active],
    plans: dict[int, Plan],
    csm_property: str,
    renewal_property: str,
    reason: str,
    rules: list,
    full: bool = True,
    notify: bool = False,
) -> ChunkWrites:
    """What recomputing the chunk's accounts writes (the reads happen here, outside the write
    transaction)."""
    now = clock.now()
    today = now.astimezone(dt.UTC).date()
    today_db = bulk.db_date(today)
    chunk = Chunk(ids, now=now, customer_type=ctype)
    churn.announce(chunk, rules)
    assigned = assign(chunk, ctype, profiles)
    prop_names = [csm_property]
    if renewal_property:
        prop_names.append(renewal_property)
    for active in profiles:  # one read of the properties serves the measures too
        prop_names += [
            c["measure"]["property"]
            for g in active.version.definition["groups"]
            for c in g["criteria"]
            if c["measure"]["kind"] in ("property", "days_until")
        ]
    props = chunk.properties(prop_names)

    by_version: dict[int, list[int]] = {}
    for account_id, active in assigned.items():
        by_version.setdefault(active.version.pk, []).append(account_id)
    versions = {a.version.pk: a for a in profiles}

    existing, remove = existing_scores(chunk, ids, assigned, full=full)
    inserts: list[ScoreRow] = []
    upserts: list[ScoreRow] = []
    history: list[PointRow] = []
    alerts: list[NewHealthAlert] = []
    user_ids = _existing_user_ids({_as_int(p.get(csm_property)) for p in props.values()})
    no_props: dict = {}
    owners = chunk.owners()
    book_pairs: dict[tuple, list] = {}  # (owner, CSM as read) → [sum of scores, count]
    books_changed: list[int] = []  # accounts whose BookScore rows change (a new score, status or profile)

    for version_id, account_ids in by_version.items():
        active = versions[version_id]
        profile_id = active.profile.pk
        plan = plans.get(version_id)
        if plan is None:
            plan = plans[version_id] = Plan(active.version)
        keys = plan.keys
        measured = measure_columns(plan.definition, chunk)
        account_ids = sorted(account_ids)
        points, texts, breakdowns, inexact = plan.columns(measured, account_ids)
        score_of = plan.scorer.score
        for account_id, account_points, text, values in zip(account_ids, points, texts, breakdowns, strict=True):
            score, new_status, coverage = score_of(account_points)
            old = existing.get(account_id)
            if old is not None:
                _r, old_profile_id, old_score, old_status, stored, old_day, _pk, old_coverage, old_version_id = old
            same_profile = old is not None and old_profile_id == profile_id
            if same_profile:
                same_breakdown = stored == text and account_id not in inexact
                old_values = None
                if not same_breakdown:
                    old_values = plan.stored_values(stored) if old_version_id == version_id else None
                    if old_values is None:
                        old_breakdown = (json.loads(stored) if isinstance(stored, str) else stored) or {}
                        same_breakdown = old_breakdown == dict(zip(keys, values, strict=True))
                        old_values = tuple(old_breakdown.get(k) for k in keys)
                    else:
                        same_breakdown = old_values == values
                unchanged = (
                    old_score == score
                    and old_status == new_status
                    and same_breakdown
                    and old_coverage == coverage
                    and old_version_id == version_id
                )
                status_changed = old_status != new_status
                new_day = old_day != today
            else:
                old_status = ""
                unchanged = status_changed = False
                new_day = True
            if not same_profile:
                inserts.append((account_id, profile_id, version_id, score, new_status, coverage, text, today_db))
            elif not unchanged or new_day:
                day = today_db if (new_day or status_changed) else bulk.db_date(old_day)
                upserts.append((account_id, profile_id, version_id, score, new_status, coverage, text, day))
            if new_day or status_changed:
                changes = "[]"
                if same_profile and not same_breakdown:
                    changes = plan.changes_json(old_values, values)
                history.append(
                    (
                        account_id,
                        profile_id,
                        version_id,
                        score,
                        new_status,
                        coverage,
                        changes,
                        "status_change" if status_changed else ("daily" if same_profile else reason),
                    )
                )
            current = props.get(account_id, no_props)
            if not same_profile or old_score != score or old_status != new_status:
                books_changed.append(account_id)
            if score is not None:
                pair = (owners.get(account_id), current.get(csm_property))
                book = book_pairs.get(pair)
                if book is None:
                    book = book_pairs[pair] = [0.0, 0]
                book[0] += score
                book[1] += 1
            if status_changed and old_status and new_status:
                csm = _as_int(current.get(csm_property))
                alerts.append(
                    _status_alert(
                        account_id,
                        active.profile,
                        old=plan.status_by_key.get(old_status),
                        old_key=old_status,
                        new=plan.status_by_key[new_status],
                        order=plan.status_order,
                        score_from=old_score,
                        score_to=score,
                        user_id=csm if csm in user_ids else None,
                        now=now,
                    )
                )

    if rules:
        alerts += churn.evaluate(
            chunk,
            rules,
            csm_property=csm_property,
            renewal_property=renewal_property,
            props=props,
            user_ids=user_ids,
            now=now,
        )
    # Whose book each alert's record is in, as read now (HealthAlert.book_*).
    archived = (
        set()
        if full
        else set(Record.objects.filter(pk__in=ids, archived_at__isnull=False).values_list("pk", flat=True))
    )
    alerts = [
        a._replace(
            book_owner_id=owners.get(a.record_id),
            book_csm_id=_as_int(props.get(a.record_id, no_props).get(csm_property)),
            record_live=a.record_id not in archived,
        )
        for a in alerts
    ]
    books: dict[int, list] = {}
    for (owner_id, csm), (total, n) in book_pairs.items():
        for user_id in {owner_id, _as_int(csm)} - {None}:  # an account owned and CSM'd by one user: once
            book = books.setdefault(user_id, [0.0, 0])
            book[0] += total
            book[1] += n
    return ChunkWrites(
        now=now,
        remove=remove,
        inserts=inserts,
        upserts=upserts,
        history=history,
        alerts=alerts,
        books=books,
        books_changed=books_changed,
        notify=notify,
    )


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _existing_user_ids(ids: set) -> set[int]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return set()
    return set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))


def _status_alert(
    account_id, profile, *, old, old_key, new, order, score_from, score_to, user_id, now
) -> NewHealthAlert:
    """A status-change alert. The evidence keeps the statuses' labels and the action as the
    definition holds them (with their built-in marks), so that the alert is worded when shown, in
    the viewer's language; `title` is an English summary for the API."""
    worse = order.index(new["key"]) > (order.index(old_key) if old_key in order else -1)
    if worse:
        priority = "high" if new["key"] == order[-1] else "medium"
    else:
        priority = "low"
    old = old or {"label": old_key}
    builtin = {}
    for field, status, source in (("from_label", old, "label"), ("to_label", new, "label"), ("action", new, "action")):
        mark = (status.get("builtin") or {}).get(source)
        if mark and mark == status.get(source):
            builtin[field] = mark
    evidence = {
        "from_status": old_key,
        "to_status": new["key"],
        "from_score": score_from,
        "to_score": score_to,
        "worse": worse,
        "from_label": old["label"],
        "to_label": new["label"],
        "action": new.get("action", ""),
    }
    if builtin:
        evidence["builtin"] = builtin
    return NewHealthAlert(
        record_id=account_id,
        profile_id=profile.pk,
        kind=HealthAlert.Kind.STATUS_CHANGE,
        signal="",
        priority=priority,
        title=_STATUS_TITLE % {"old": old["label"], "new": new["label"]},
        evidence=evidence,
        user_id=user_id,
        raised_at=now,
        expires_at=now + dt.timedelta(days=churn.ALERT_DAYS),
    )


_STATUS_TITLE = "Health changed from %(old)s to %(new)s"  # worded for the viewer by alert_text
