"""Recomputing health scores, in chunks of accounts: assign each account the first active profile
whose segment matches it, measure (one aggregate query per source, see `measures`), score, then
write only what changed — scores (inserted, or upserted), a history point when the day is new or the
status changed, status change alerts and churn-signal alerts. The built-in `health_score` /
`health_status` properties are read from the score rows (`crm.registry.DERIVED_COLUMNS`), so a
recompute never writes customer records.

A full recompute handles 100k accounts and more, so the per-account work is kept to lookups: the
measures come as columns, each criterion's points and JSON text are computed once per distinct
value, a score once per combination of points (`_Plan`), and the stored breakdown is compared as
text. Writes are one statement per chunk and table (COPY on PostgreSQL); see bench/README.md.

Stored breakdowns are compact (criterion key → measured value, None = no data); the full
explanation is the version's definition evaluated on them (`expand`), so it always reads the same
as when it was computed, at a fraction of the storage.
"""

import datetime as dt
import functools
import json
import multiprocessing
import os
import re
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tend.core import bulk, clock
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for

from . import churn
from .measures import Chunk, fetch_rows, measure_columns
from .models import HealthAlert, HealthScore, NewHealthAlert, ProfileVersion, RecomputeRun, ScoreProfile
from .scoring import NO_DATA, BatchScorer, Evaluation, compile_definition, criterion_change, evaluate

CHUNK_SIZE = 10000
ALERT_DAYS = 14
HISTORY_REASONS = ("daily", "status_change", "recompute", "activation")


@dataclass
class _Active:
    profile: ScoreProfile
    version: ProfileVersion
    segment: Q | None  # None = every customer


def compact(evaluation: Evaluation) -> dict:
    return {c["key"]: c["value"] for g in evaluation.groups for c in g["criteria"]}


def expand(definition: dict, breakdown: dict) -> Evaluation:
    """The full explanation of a stored (compact) breakdown under its version's definition."""
    values = {k: (NO_DATA if v is None else v) for k, v in (breakdown or {}).items()}
    return evaluate(definition, values)


def customer_type() -> ObjectType:
    from tend.workspace.services import workspace_settings

    return workspace_settings().customer_object_type


def active_profiles(ctype: ObjectType) -> list[_Active]:
    registry = registry_for(ctype)
    out = []
    for profile in ScoreProfile.objects.active().select_related("active_version"):
        version = profile.active_version
        segment = version.segment or {}
        q = None
        if segment.get("filterGroups"):
            q = compile_search({"filterGroups": segment["filterGroups"]}, registry, user=None).where
        out.append(_Active(profile=profile, version=version, segment=q))
    return out


def customer_ids(ctype: ObjectType) -> list[int]:
    return list(
        Record.objects.filter(object_type=ctype, archived_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    )


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def recompute(
    account_ids: Iterable[int] | None = None,
    *,
    reason: str = "recompute",
    run: RecomputeRun | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute the given accounts (None = every customer); returns how many were scored or cleared.
    Progress goes to `run` (a RecomputeRun row) and `on_progress(done, total)` after each chunk."""
    ctype = customer_type()
    if account_ids is None:
        ids = customer_ids(ctype)
    else:
        ids = sorted(
            Record.objects.filter(pk__in=sorted(set(account_ids)), object_type=ctype).values_list("pk", flat=True)
        )
    profiles = active_profiles(ctype)
    from tend.workspace.services import workspace_settings

    ws = workspace_settings()
    rules = churn.enabled_rules()
    chunks = list(_chunks(ids, chunk_size))
    context = {
        "ctype": ctype,
        "profiles": profiles,
        "csm_property": ws.customer_csm_property,
        "reason": reason,
        "renewal_property": ws.customer_renewal_property,
        "rules": rules,
        "full": account_ids is None,
    }
    if run is not None:
        run.total = len(ids)
        run.done = 0
        run.save(update_fields=["total", "done"])
    done = 0
    books: dict[int, list] = {}
    for size, chunk_books in _run_chunks(chunks, context, processes=_processes(len(chunks))):
        done += size
        for user_id, (total, n) in chunk_books.items():
            book = books.setdefault(user_id, [0.0, 0])
            book[0] += total
            book[1] += n
        if run is not None:
            RecomputeRun.objects.filter(pk=run.pk).update(done=done)
            run.done = done
        if on_progress is not None:
            on_progress(done, len(ids))
    if account_ids is None:
        _write_book_days(books)
    return done


def _write_book_days(books: dict[int, list]) -> None:
    """After a full recompute: each user's book (the customers they own or are the CSM of, as
    `queries.health_summary` reads it), summed by the chunks as they scored it, into a
    `BookScoreDay` of today (UTC)."""
    from django.contrib.auth import get_user_model

    from .models import BookScoreDay

    known = set(get_user_model().objects.filter(pk__in=list(books)).values_list("pk", flat=True))
    now = clock.now()
    day, at = bulk.db_date(now.astimezone(dt.UTC).date()), bulk.db_datetime(now)
    rows = [(user_id, day, at, total, n) for user_id, (total, n) in sorted(books.items()) if user_id in known]
    if rows:
        with bulk.write_turn(), transaction.atomic():
            bulk.upsert_rows(
                BookScoreDay._meta.db_table, ("user_id", "day", "at", "total", "count"), rows, key=("user_id", "day")
            )


# --------------------------------------------------------------------------- chunks, in processes

_pool_context: dict = {}


def _processes(chunks: int) -> int:
    """How many processes share a recompute's chunks: `TEND_HEALTH_PROCESSES` (default: one per
    CPU, at most 4), never more than the chunks, and one where other processes could not see the
    data — inside a transaction (tests, a request) or in an in-memory SQLite database."""
    wanted = getattr(settings, "TEND_HEALTH_PROCESSES", None) or min(os.cpu_count() or 1, 4)
    if chunks < 2 or wanted < 2 or connection.in_atomic_block or bulk.in_memory():
        return 1
    return min(wanted, chunks)


def _run_chunks(chunks: list[list[int]], context: dict, *, processes: int) -> Iterable[tuple[int, dict]]:
    """Recompute each chunk (measure and score, then write in one transaction) and yield its size
    and its users' book sums as it is done. With several processes (forked, each with its own database connection) the
    chunks are shared out: on PostgreSQL they run fully in parallel, on SQLite they compute in
    parallel and take turns to write (`bulk.write_turn`)."""
    if processes == 1:
        plans: dict[int, _Plan] = {}
        for chunk_ids in chunks:
            writes = _compute_chunk(chunk_ids, plans=plans, **context)
            _write_chunk(writes)
            yield len(chunk_ids), writes.books
        return
    _pool_context.clear()
    _pool_context.update(context, plans={})
    connections.close_all()  # the forked processes open their own
    with multiprocessing.get_context("fork").Pool(processes, initializer=_start_pool_process) as pool:
        yield from pool.imap_unordered(_pool_chunk, chunks)
        pool.close()
        pool.join()


_inherited_connections: list = []


def _start_pool_process() -> None:
    """In a forked process: SIGTERM back to its default (the worker's inherited handler only asks
    the worker's loop to stop; the pool's terminate must end this process) and Ctrl-C left to the
    parent, which ends the pool; and the database connections still open in the parent (another thread's or context's, which `close_all` there does not reach) dropped
    without closing them — closing would end the parent's session on the socket both share, and
    using them would mix the two processes' results. They are kept referenced so that garbage
    collection never closes them either; the first query opens this process's own connection."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which ends the pool
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _inherited_connections.append(wrapper.connection)
            wrapper.connection = None


def _pool_chunk(chunk_ids: list[int]) -> tuple[int, dict]:
    writes = _compute_chunk(chunk_ids, **_pool_context)
    _write_chunk(writes)
    return len(chunk_ids), writes.books


def _assign(chunk: Chunk, ctype: ObjectType, profiles: list[_Active]) -> dict[int, _Active]:
    remaining = set(chunk.ids)
    assigned: dict[int, _Active] = {}
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


_EXACT_TYPES = (int, float, str, bool, type(None))
_DECODED_MAX = 100_000


class _Plan:
    """A version's definition prepared for a recompute, shared by its chunks: per criterion, the
    points and the JSON text of each distinct value met (a criterion has few), and the score of
    each combination of points (`BatchScorer`).

    The stored breakdown's JSON is assembled from those texts: compact, in the definition's order,
    as `_json` writes it. Both databases keep that text as written (`JSONTextField`), so equal text
    means an unchanged breakdown without decoding the stored one."""

    def __init__(self, version: ProfileVersion):
        definition = version.definition
        self.definition = definition
        self.keys = [c["key"] for g in definition["groups"] for c in g["criteria"]]
        self.scorer = BatchScorer(compile_definition(definition))
        self.status_order = [s["key"] for s in definition["statuses"]]
        self.status_by_key = {s["key"]: s for s in definition["statuses"]}
        keys = self.keys
        # each criterion's text piece carries its key (and the braces, first and last)
        self.prefixes = [("{" if i == 0 else ",") + _json(key) + ":" for i, key in enumerate(keys)]
        self.suffixes = [""] * len(keys)
        if keys:
            self.suffixes[-1] = "}"
        self.memos: list[dict] = [{} for _ in keys]  # (type, value) → (points, text piece, exact)
        self.criteria = [c for g in definition["groups"] for c in g["criteria"]]
        self.change_memos: list[dict] = [{} for _ in keys]  # (old, new) as (type, value) → JSON or None
        # A stored text in this form, cut into its values' texts (first match: a key's text, quotes
        # included, cannot occur inside a JSON string, and a cut inside a nested value leaves text
        # that does not decode).
        self.stored_form = (
            re.compile("".join(re.escape(prefix) + "(.*?)" for prefix in self.prefixes) + r"\}", re.DOTALL)
            if keys
            else None
        )
        self.decoded: dict[str, object] = {}  # a value's JSON text → the value

    def stored_values(self, text) -> tuple | None:
        """The values of a breakdown stored as this plan writes it (definition order, None for no
        data), from its text: a day moves most accounts' breakdowns (one day less to renewal), and
        decoding each whole text was the largest cost of a nightly run. None when the text is not
        in this form (written by another version, or by the ORM on SQLite): decode it then."""
        match = self.stored_form.fullmatch(text) if self.stored_form is not None and text.__class__ is str else None
        if match is None:
            return None
        pieces = match.groups()
        decoded = self.decoded
        try:
            return tuple(map(decoded.__getitem__, pieces))  # each value's text met before: most of them
        except KeyError:
            pass
        values = []
        for piece in pieces:
            try:
                value = decoded[piece]
            except KeyError:
                try:
                    value = json.loads(piece)
                except ValueError:
                    return None
                if len(decoded) >= _DECODED_MAX:
                    decoded.clear()
                decoded[piece] = value
            values.append(value)
        return tuple(values)

    def changes_json(self, old_values: list, values: list) -> str:
        """`_json(changes_from(definition, scorer, old breakdown, values))` from the old breakdown's
        values and the new ones (definition order, None or NO_DATA for no data), each criterion's entry
        made once per pair of values (a day moves many accounts the same way: one day less to renewal,
        one feature more)."""
        pieces = []
        for i, criterion in enumerate(self.criteria):
            old = old_values[i]
            if old is None:
                old = NO_DATA
            new = values[i]
            if new is None:
                new = NO_DATA
            if new.__class__ is old.__class__ and new == old:  # unmoved: most criteria, most days
                continue
            key = ((old.__class__, old), (new.__class__, new))
            memo = self.change_memos[i]
            try:
                piece = memo[key]
            except (KeyError, TypeError):
                change = criterion_change(criterion, self.scorer, i, old, new)
                piece = None if change is None else _json(change)
                try:
                    memo[key] = piece
                except TypeError:  # an unhashable value
                    pass
            if piece is not None:
                pieces.append(piece)
        return "[" + ",".join(pieces) + "]"

    def _entry(self, i: int, value) -> tuple[float | None, str, bool, object]:
        stored = None if value is NO_DATA else value
        # equal text means equal values except for NaN (NaN != NaN) and what JSON writes as a string
        exact = stored.__class__ in _EXACT_TYPES and stored == stored
        return self.scorer.points(i, value), self.prefixes[i] + _json(stored) + self.suffixes[i], exact, stored

    def columns(self, measured: list[tuple], ids: list[int]) -> tuple[list[tuple], list[str], list[tuple], set[int]]:
        """For the accounts `ids` (in order): their criteria's points (tuples, for the score), their
        breakdowns' JSON text, their breakdowns' values (tuples, None for no data, as
        `stored_values` reads them back) and the accounts whose text is not exact (rare)."""
        points_columns, text_columns = [None] * len(measured), [None] * len(measured)
        value_columns = [None] * len(measured)
        inexact: set[int] = set()
        for i, (_key, values, default) in enumerate(measured):
            memo = self.memos[i]
            entries = {}
            for account_id, value in values.items():
                key = (value.__class__, value)
                try:
                    entry = memo[key]
                except KeyError:
                    entry = self._entry(i, value)
                    if entry[2]:
                        memo[key] = entry
                except TypeError:  # an unhashable value
                    entry = self._entry(i, value)
                if not entry[2]:
                    inexact.add(account_id)
                entries[account_id] = entry
            missing = self._entry(i, default)
            if not missing[2]:
                inexact.update(a for a in ids if a not in entries)
            column = [entries.get(a, missing) for a in ids]
            points_columns[i] = [e[0] for e in column]
            text_columns[i] = [e[1] for e in column]
            value_columns[i] = [e[3] for e in column]
        if not measured:
            return [()] * len(ids), ["{}"] * len(ids), [()] * len(ids), inexact
        points = list(zip(*points_columns, strict=True))
        texts = list(map("".join, zip(*text_columns, strict=True)))
        return points, texts, list(zip(*value_columns, strict=True)), inexact


def _existing_scores(
    chunk: Chunk, ids: list[int], assigned: dict[int, _Active], *, full: bool
) -> tuple[dict[int, tuple], list[int]]:
    """The stored score rows of the chunk's records (record id → row, as the driver returns it) and
    the rows to delete: of records no profile applies to, of another profile than the one that
    applies, and a record's surplus rows. A full recompute also clears the rows of records in its
    id range that are no longer customers (archived); a partial one touches only its accounts."""
    rows = fetch_rows(
        HealthScore.objects.filter(chunk._range("record_id"))
        .values_list(
            "record_id", "profile_id", "score", "status", "breakdown", "history_day", "pk", "coverage", "version_id"
        )
        .order_by()
    )
    if not full:
        wanted = set(ids)
        rows = [row for row in rows if row[0] in wanted]
    existing: dict[int, tuple] = {}
    for row in rows:
        existing[row[0]] = row
    remove = [row[6] for row in rows if existing[row[0]] is not row]
    for record_id, row in existing.items():
        active = assigned.get(record_id)
        if active is None or row[1] != active.profile.pk:
            remove.append(row[6])
    return existing, remove


@dataclass
class _ChunkWrites:
    now: dt.datetime
    remove: list[int]  # score rows
    inserts: list[tuple]
    upserts: list[tuple]
    history: list[tuple]
    alerts: list[NewHealthAlert]
    # user id → [sum of scores, count] of the chunk's accounts in the user's book (owner or CSM)
    books: dict[int, list] = field(default_factory=dict)


def _write_chunk(writes: _ChunkWrites) -> None:
    with bulk.write_turn(), transaction.atomic():
        if writes.remove:
            HealthScore.objects.filter(pk__in=writes.remove).delete()
        if bulk.is_postgres():
            _write_scores_and_history_staged(writes.inserts, writes.upserts, writes.history, writes.now)
        else:
            _write_scores(writes.inserts, writes.upserts, writes.now)
            _write_history(writes.history, writes.now)
        _write_alerts(writes.alerts)


def _compute_chunk(
    ids: list[int],
    *,
    ctype: ObjectType,
    profiles: list[_Active],
    plans: dict[int, _Plan],
    csm_property: str,
    renewal_property: str,
    reason: str,
    rules: list,
    full: bool = True,
) -> _ChunkWrites:
    """What recomputing the chunk's accounts writes (the reads happen here, outside the write
    transaction)."""
    now = clock.now()
    today = now.astimezone(dt.UTC).date()
    today_db = bulk.db_date(today)
    chunk = Chunk(ids, now=now, customer_type=ctype)
    churn.announce(chunk, rules)
    assigned = _assign(chunk, ctype, profiles)
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

    existing, remove = _existing_scores(chunk, ids, assigned, full=full)
    language = get_language()  # looked up once: a context-local lookup costs more than a title
    inserts, upserts, history, alerts = [], [], [], []
    user_ids = _existing_user_ids({_as_int(p.get(csm_property)) for p in props.values()})
    no_props: dict = {}
    owners = chunk.owners()
    book_pairs: dict[tuple, list] = {}  # (owner, CSM as read) → [sum of scores, count]

    for version_id, account_ids in by_version.items():
        active = versions[version_id]
        profile_id = active.profile.pk
        plan = plans.get(version_id)
        if plan is None:
            plan = plans[version_id] = _Plan(active.version)
        keys = plan.keys
        measured = measure_columns(plan.definition, chunk)
        account_ids = sorted(account_ids)
        points, texts, breakdowns, inexact = plan.columns(measured, account_ids)
        score_of = plan.scorer.score
        for account_id, account_points, text, values in zip(account_ids, points, texts, breakdowns, strict=True):
            score, new_status, coverage = score_of(account_points)
            old = existing.get(account_id)
            same_profile = old is not None and old[1] == profile_id
            if same_profile:
                old_status = old[3]
                same_breakdown = old[4] == text and account_id not in inexact
                old_values = None
                if not same_breakdown:
                    old_values = plan.stored_values(old[4]) if old[8] == version_id else None
                    if old_values is None:
                        old_breakdown = (json.loads(old[4]) if isinstance(old[4], str) else old[4]) or {}
                        same_breakdown = old_breakdown == dict(zip(keys, values, strict=True))
                        old_values = tuple(old_breakdown.get(k) for k in keys)
                    else:
                        same_breakdown = old_values == values
                unchanged = (
                    old[2] == score
                    and old_status == new_status
                    and same_breakdown
                    and old[7] == coverage
                    and old[8] == version_id
                )
                status_changed = old_status != new_status
                new_day = old[5] != today
            else:
                old_status = ""
                unchanged = status_changed = False
                new_day = True
            if not same_profile:
                inserts.append((account_id, profile_id, version_id, score, new_status, coverage, text, today_db))
            elif not unchanged or new_day:
                upserts.append(
                    (
                        account_id,
                        profile_id,
                        version_id,
                        score,
                        new_status,
                        coverage,
                        text,
                        today_db if (new_day or status_changed) else bulk.db_date(old[5]),
                    )
                )
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
                        score_from=old[2],
                        score_to=score,
                        user_id=csm if csm in user_ids else None,
                        now=now,
                        language=language,
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
    books: dict[int, list] = {}
    for (owner_id, csm), (total, n) in book_pairs.items():
        for user_id in {owner_id, _as_int(csm)} - {None}:  # an account owned and CSM'd by one user: once
            book = books.setdefault(user_id, [0.0, 0])
            book[0] += total
            book[1] += n
    return _ChunkWrites(
        now=now, remove=remove, inserts=inserts, upserts=upserts, history=history, alerts=alerts, books=books
    )


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _existing_user_ids(ids: set) -> set[int]:
    from django.contrib.auth import get_user_model

    ids = {i for i in ids if i is not None}
    if not ids:
        return set()
    return set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))


@functools.lru_cache(maxsize=256)
def _status_title(old_label: str, new_label: str, _language: str | None) -> str:
    """The alert title, translated once per pair of statuses (a nightly run can raise thousands)."""
    return _("Health changed from %(old)s to %(new)s") % {"old": old_label, "new": new_label}


def _status_alert(
    account_id, profile, *, old, old_key, new, order, score_from, score_to, user_id, now, language
) -> NewHealthAlert:
    worse = order.index(new["key"]) > (order.index(old_key) if old_key in order else -1)
    if worse:
        priority = "high" if new["key"] == order[-1] else "medium"
    else:
        priority = "low"
    old_label = old["label"] if old else old_key
    return NewHealthAlert(
        record_id=account_id,
        profile_id=profile.pk,
        kind=HealthAlert.Kind.STATUS_CHANGE,
        signal="",
        priority=priority,
        title=_status_title(old_label, new["label"], language),
        evidence={
            "from_status": old_key,
            "to_status": new["key"],
            "from_score": score_from,
            "to_score": score_to,
            "worse": worse,
            "action": new.get("action", ""),
        },
        user_id=user_id,
        raised_at=now,
        expires_at=now + dt.timedelta(days=ALERT_DAYS),
    )


# --------------------------------------------------------------------------- set-based writes


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _json(value) -> str:
    """Compact JSON, as `json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)`
    (one encoder, not one per call)."""
    return _ENCODER.encode(value)


_SCORE_COLUMNS = ("record_id", "profile_id", "version_id", "score", "status", "coverage", "breakdown", "history_day")


def _write_scores(new: list[tuple], changed: list[tuple], now: dt.datetime) -> None:
    """Write score rows (record, profile, version, score, status, coverage, breakdown JSON text,
    history day as the backend stores it): `new` ones of (record, profile) pairs without a row,
    inserted; `changed` ones upserted. A row inserted meanwhile by another recompute (a record
    recomputed from its page during a full run) turns the insert into an upsert. (A chunk's writes
    on PostgreSQL go through `_write_scores_and_history_staged` instead.)"""
    table = HealthScore._meta.db_table
    columns = (*_SCORE_COLUMNS, "computed_at")
    stamp = bulk.db_datetime(now)
    if new:
        try:
            with transaction.atomic():
                bulk.copy_rows(table, columns, [(*row, stamp) for row in new])
        except IntegrityError:
            changed = new + changed
    if changed:
        bulk.upsert_rows(table, columns, [(*row, stamp) for row in changed], key=("record_id", "profile_id"))


def _write_scores_and_history_staged(
    inserts: list[tuple], upserts: list[tuple], history: list[tuple], now: dt.datetime
) -> None:
    """PostgreSQL: the score rows (as for `_write_scores`: `inserts` of records without a row,
    `upserts` of records with one) and their history points (as for `_write_history`; every point
    is of a score written here) go by one COPY into a staged table; the scores are written from it
    and the points inserted from it, so a point's score, status and coverage are sent once, with
    its score. Rows known to exist are updated in place (an UPDATE joined on the key: no attempted
    insert before each conflict); one deleted meanwhile is inserted again, as an upsert would."""
    from .models import HealthScoreHistory

    points = {row[0]: row[6:] for row in history}
    unstaged = points.keys() - set(map(itemgetter(0), inserts)) - set(map(itemgetter(0), upserts))
    if unstaged:  # not expected (a point is written with its score); kept rather than lost
        _write_history([row for row in history if row[0] in unstaged], now)
    if not inserts and not upserts:
        return
    columns = (*_SCORE_COLUMNS, "computed_at")
    rows = _staged_text(inserts, upserts, points, now)
    qn = connection.ops.quote_name
    table = qn(HealthScore._meta.db_table)
    cols = ", ".join(qn(c) for c in columns)
    key = ("record_id", "profile_id")
    conflict = bulk.on_conflict_update(columns, key)
    point_columns = ("record_id", "profile_id", "version_id", "score", "status", "coverage")
    point_cols = ", ".join(qn(c) for c in point_columns)
    extra = (("changes", "json"), ("reason", "text"), ("new", "boolean"))
    with bulk.staged(HealthScore._meta.db_table, columns, rows, extra=extra) as (cursor, name):
        if inserts:
            cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name} WHERE new {conflict}")
        if upserts:
            sets = ", ".join(f"{qn(c)} = s.{qn(c)}" for c in columns if c not in key)
            cursor.execute(
                f"UPDATE {table} AS t SET {sets} FROM {name} AS s "
                "WHERE NOT s.new AND t.record_id = s.record_id AND t.profile_id = s.profile_id"
            )
            if cursor.rowcount < len(upserts):  # a row deleted since it was read
                cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name} WHERE NOT new {conflict}")
        if points:
            cursor.execute(
                f"INSERT INTO {qn(HealthScoreHistory._meta.db_table)} ({point_cols}, changes, reason, at) "
                f"SELECT {point_cols}, changes, reason, computed_at FROM {name} WHERE reason IS NOT NULL"
            )


def _copy_json(text: str) -> str:
    """JSON text in COPY's text format: JSON writes control characters escaped, so only its
    backslashes need escaping (one scan instead of `bulk.copy_text`'s four)."""
    return text.replace("\\", "\\\\") if "\\" in text else text


def _staged_text(
    inserts: list[tuple], upserts: list[tuple], points: dict[int, tuple[str, str]], now: dt.datetime
) -> str:
    """The staged rows of `_write_scores_and_history_staged` in COPY's text format: the score row,
    its `computed_at`, its point's changes and reason (NULL without a point), and whether it is
    new."""
    stamp = now.isoformat()
    null = "\\N"
    no_point = f"{null}\t{null}"
    words: dict[str, str] = {}  # statuses and reasons: a few, each escaped once
    days: dict = {None: null}  # history days: one or a few
    lines = []
    for rows, new in ((inserts, "t"), (upserts, "f")):
        for record_id, profile_id, version_id, score, status, coverage, breakdown, day in rows:
            status_text = words.get(status)
            if status_text is None:
                status_text = words[status] = bulk.copy_text(status)
            day_text = days.get(day)
            if day_text is None:
                day_text = days[day] = day.isoformat()
            point = points.get(record_id)
            if point is None:
                point_text = no_point
            else:
                reason = words.get(point[1])
                if reason is None:
                    reason = words[point[1]] = bulk.copy_text(point[1])
                point_text = f"{_copy_json(point[0])}\t{reason}"
            lines.append(
                f"{record_id}\t{profile_id}\t{version_id}\t{null if score is None else repr(score)}\t{status_text}\t"
                f"{coverage!r}\t{_copy_json(breakdown)}\t{day_text}\t{stamp}\t{point_text}\t{new}"
            )
    lines.append("")
    return "\n".join(lines)


def _write_history(rows: list[tuple], now: dt.datetime) -> None:
    """Insert history points (record, profile, version, score, status, coverage, changes JSON text,
    reason)."""
    from .models import HealthScoreHistory

    columns = ("record_id", "profile_id", "version_id", "score", "status", "coverage", "changes")
    stamp = bulk.db_datetime(now)
    bulk.copy_rows(HealthScoreHistory._meta.db_table, (*columns, "reason", "at"), [(*row, stamp) for row in rows])


_ALERT_COLUMNS = (
    "record_id",
    "profile_id",
    "kind",
    "signal",
    "priority",
    "title",
    "evidence",
    "user_id",
    "raised_at",
    "expires_at",
)


def _write_alerts(alerts: list[NewHealthAlert]) -> None:
    """Insert alerts as `bulk_create` would store them, without its per-row work (a first run
    raises one for a good share of the accounts). On PostgreSQL as COPY text written for the
    columns (psycopg's `write_row` adapting ten values a row was most of a first run's alert cost)."""
    if not alerts:
        return
    table = HealthAlert._meta.db_table
    if bulk.is_postgres():
        bulk.copy_rows(table, _ALERT_COLUMNS, _alerts_text(alerts))
        return
    dates: dict[dt.datetime, object] = {}
    for a in alerts:
        for value in (a.raised_at, a.expires_at):
            if value not in dates:
                dates[value] = bulk.db_datetime(value)
    rows = [
        (
            a.record_id,
            a.profile_id,
            str(a.kind),  # a TextChoices member: its value, not an enum for the driver
            a.signal,
            str(a.priority),
            str(a.title),
            json.dumps(a.evidence),  # the text JSONField stores on SQLite
            a.user_id,
            dates[a.raised_at],
            dates[a.expires_at],
        )
        for a in alerts
    ]
    bulk.copy_rows(table, _ALERT_COLUMNS, rows)


def _alerts_text(alerts: list[NewHealthAlert]) -> str:
    """PostgreSQL: the alerts' rows in COPY's text format (`_ALERT_COLUMNS`)."""
    null = "\\N"
    words: dict[object, str] = {None: null}  # kinds, signals, priorities, titles, ids and times repeat
    lines = []

    def word(value) -> str:
        text = words.get(value)
        if text is None:
            if value.__class__ is int:
                text = str(value)
            elif isinstance(value, dt.datetime):
                text = value.isoformat()
            else:
                text = bulk.copy_text(str(value))
            words[value] = text
        return text

    for a in alerts:
        lines.append(
            f"{a.record_id}\t{word(a.profile_id)}\t{word(a.kind)}\t{word(a.signal)}\t{word(a.priority)}\t"
            f"{word(a.title)}\t{_copy_json(_json(a.evidence))}\t{word(a.user_id)}\t{word(a.raised_at)}\t"
            f"{word(a.expires_at)}"
        )
    lines.append("")
    return "\n".join(lines)
