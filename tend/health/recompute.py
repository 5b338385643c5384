"""Recomputing health scores, in chunks of accounts: assign each account the first active profile
whose segment matches it, measure (one aggregate query per source, see `measures`), score in Python,
then write only what changed — scores by upsert, a history point when the day is new or the status
changed, the built-in `health_score` / `health_status` properties (no property history), status
change alerts and churn-signal alerts.

Stored breakdowns are compact (criterion key → measured value, None = no data); the full
explanation is the version's definition evaluated on them (`expand`), so it always reads the same
as when it was computed, at a fraction of the storage.
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tend.core import clock
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for

from . import churn
from .measures import Chunk, measure_definition
from .models import HealthAlert, HealthScore, ProfileVersion, RecomputeRun, ScoreProfile
from .scoring import NO_DATA, Evaluation, changes_between, compile_definition, evaluate, fast_score

CHUNK_SIZE = 20000
ALERT_DAYS = 14
HISTORY_REASONS = ("daily", "status_change", "recompute", "activation")


@dataclass
class _Active:
    profile: ScoreProfile
    version: ProfileVersion
    segment: Q | None  # None = every customer


@dataclass
class _Scored:
    score: float | None
    status_key: str
    coverage: float


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
    if run is not None:
        run.total = len(ids)
        run.done = 0
        run.save(update_fields=["total", "done"])
    done = 0
    for chunk_ids in _chunks(ids, chunk_size):
        with transaction.atomic():
            _recompute_chunk(
                chunk_ids,
                ctype=ctype,
                profiles=profiles,
                csm_property=ws.customer_csm_property,
                reason=reason,
                renewal_property=ws.customer_renewal_property,
                rules=rules,
            )
        done += len(chunk_ids)
        if run is not None:
            RecomputeRun.objects.filter(pk=run.pk).update(done=done)
            run.done = done
        if on_progress is not None:
            on_progress(done, len(ids))
    return done


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
        for account_id in matched:
            assigned[account_id] = active
        remaining = remaining - matched
    return assigned


def _recompute_chunk(
    ids: list[int],
    *,
    ctype: ObjectType,
    profiles: list[_Active],
    csm_property: str,
    renewal_property: str,
    reason: str,
    rules: list,
) -> None:
    now = clock.now()
    today = now.astimezone(dt.UTC).date()
    chunk = Chunk(ids, now=now, customer_type=ctype)
    churn.announce(chunk, rules)
    assigned = _assign(chunk, ctype, profiles)
    prop_names = ["health_score", "health_status", csm_property]
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

    existing = {
        row[0]: row
        for row in HealthScore.objects.filter(chunk._range("record_id"))
        .values_list(
            "record_id", "profile_id", "score", "status", "breakdown", "history_day", "pk", "coverage", "version_id"
        )
        .order_by()
    }
    stale_ids = [row[6] for rid, row in existing.items() if rid not in assigned or row[1] != assigned[rid].profile.pk]
    # a record may hold rows of several profiles only transiently; drop what no longer applies
    extra = HealthScore.objects.filter(chunk._range("record_id")).exclude(pk__in=[row[6] for row in existing.values()])
    upserts, history, alerts, prop_updates = [], [], [], []
    user_ids = _existing_user_ids({_as_int(p.get(csm_property)) for p in props.values()})

    for version_id, account_ids in by_version.items():
        active = versions[version_id]
        definition = active.version.definition
        measured = measure_definition(definition, chunk)
        compiled = compile_definition(definition)
        status_order = [s["key"] for s in definition["statuses"]]
        status_by_key = {s["key"]: s for s in definition["statuses"]}
        for account_id in account_ids:
            values = measured[account_id]
            evaluation = _Scored(*fast_score(compiled, values))
            breakdown = {k: (None if v is NO_DATA else v) for k, v in values.items()}
            old = existing.get(account_id)
            same_profile = old is not None and old[1] == active.profile.pk
            old_status = old[3] if same_profile else ""
            new_status = evaluation.status_key
            unchanged = (
                same_profile
                and old[2] == evaluation.score
                and old[3] == new_status
                and old[4] == breakdown
                and old[7] == evaluation.coverage
                and old[8] == version_id
            )
            status_changed = same_profile and old_status != new_status
            new_day = not same_profile or old[5] != today
            if not unchanged or new_day:
                upserts.append(
                    (
                        account_id,
                        active.profile.pk,
                        version_id,
                        evaluation,
                        breakdown,
                        today if (new_day or status_changed) else old[5],
                    )
                )
            if new_day or status_changed:
                old_groups = None
                if same_profile and old[4] != breakdown:
                    old_groups = expand(definition, old[4]).groups
                changes = changes_between(old_groups, expand(definition, breakdown).groups) if old_groups else []
                history.append(
                    (
                        account_id,
                        active.profile.pk,
                        version_id,
                        evaluation,
                        breakdown,
                        changes,
                        "status_change" if status_changed else ("daily" if same_profile else reason),
                    )
                )
            if status_changed and old_status and new_status:
                csm = _as_int(props.get(account_id, {}).get(csm_property))
                alerts.append(
                    _status_alert(
                        account_id,
                        active.profile,
                        old=status_by_key.get(old_status),
                        old_key=old_status,
                        new=status_by_key[new_status],
                        order=status_order,
                        score_from=old[2],
                        score_to=evaluation.score,
                        user_id=csm if csm in user_ids else None,
                        now=now,
                    )
                )
            current = props.get(account_id, {})
            if (
                _prop_score(current.get("health_score")) != evaluation.score
                or (current.get("health_status") or "") != new_status
            ):
                prop_updates.append((account_id, evaluation.score, new_status or None))

    if stale_ids:
        HealthScore.objects.filter(pk__in=stale_ids).delete()
    extra.delete()
    for account_id in set(ids) - set(assigned):
        current = props.get(account_id, {})
        if current.get("health_score") is not None or current.get("health_status"):
            prop_updates.append((account_id, None, None))

    _write_scores(upserts, now)
    _write_history(history, now)
    _write_properties(prop_updates)
    if alerts:
        HealthAlert.objects.bulk_create(alerts)
    if rules:
        churn_alerts = churn.evaluate(
            chunk,
            rules,
            csm_property=csm_property,
            renewal_property=renewal_property,
            props=props,
            user_ids=user_ids,
            now=now,
        )
        if churn_alerts:
            HealthAlert.objects.bulk_create(churn_alerts)


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _prop_score(value):
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _existing_user_ids(ids: set) -> set[int]:
    from django.contrib.auth import get_user_model

    ids = {i for i in ids if i is not None}
    if not ids:
        return set()
    return set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))


def _status_alert(account_id, profile, *, old, old_key, new, order, score_from, score_to, user_id, now) -> HealthAlert:
    worse = order.index(new["key"]) > (order.index(old_key) if old_key in order else -1)
    if worse:
        priority = "high" if new["key"] == order[-1] else "medium"
    else:
        priority = "low"
    old_label = old["label"] if old else old_key
    return HealthAlert(
        record_id=account_id,
        profile=profile,
        kind=HealthAlert.Kind.STATUS_CHANGE,
        signal="",
        priority=priority,
        title=_("Health changed from %(old)s to %(new)s") % {"old": old_label, "new": new["label"]},
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


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _dt_param(value: dt.datetime):
    return value


def _write_scores(rows: list, now: dt.datetime) -> None:
    if not rows:
        return
    table = HealthScore._meta.db_table
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    head = (
        f"INSERT INTO {table} (record_id, profile_id, version_id, score, status, coverage, breakdown, computed_at, "
        "history_day) VALUES "
    )
    row = f"(%s, %s, %s, %s, %s, %s, %s{jsonb}, %s, %s)"
    tail = (
        " ON CONFLICT (record_id, profile_id) DO UPDATE SET version_id = EXCLUDED.version_id, "
        "score = EXCLUDED.score, status = EXCLUDED.status, coverage = EXCLUDED.coverage, "
        "breakdown = EXCLUDED.breakdown, computed_at = EXCLUDED.computed_at, history_day = EXCLUDED.history_day"
    )
    now_param = _db_datetime(now)
    params = [
        (
            account_id,
            profile_id,
            version_id,
            ev.score,
            ev.status_key,
            ev.coverage,
            _json(breakdown),
            now_param,
            _db_date(history_day),
        )
        for account_id, profile_id, version_id, ev, breakdown, history_day in rows
    ]
    _bulk_insert(
        head,
        row,
        tail,
        params,
        ["bigint", "bigint", "bigint", "float8", "text", "float8", "jsonb", "timestamptz", "date"],
    )


def _write_history(rows: list, now: dt.datetime) -> None:
    if not rows:
        return
    from .models import HealthScoreHistory

    table = HealthScoreHistory._meta.db_table
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    head = (
        f"INSERT INTO {table} (record_id, profile_id, version_id, at, score, status, coverage, breakdown, changes, "
        "reason) VALUES "
    )
    row = f"(%s, %s, %s, %s, %s, %s, %s, %s{jsonb}, %s{jsonb}, %s)"
    now_param = _db_datetime(now)
    params = [
        (
            account_id,
            profile_id,
            version_id,
            now_param,
            ev.score,
            ev.status_key,
            ev.coverage,
            _json(breakdown),
            _json(changes),
            reason,
        )
        for account_id, profile_id, version_id, ev, breakdown, changes, reason in rows
    ]
    _bulk_insert(
        head,
        row,
        "",
        params,
        ["bigint", "bigint", "bigint", "timestamptz", "float8", "text", "float8", "jsonb", "jsonb", "text"],
    )


def _bulk_insert(head: str, row: str, tail: str, params: list[tuple], pg_types: list[str]) -> None:
    """Insert many rows: on PostgreSQL one statement over `unnest` of one array per column; on
    SQLite (in-process, no round trips) a prepared statement executed per row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [list(col) for col in zip(*params, strict=True)]
            arrays = ", ".join(f"%s::text[]::{t}[]" if t == "jsonb" else f"%s::{t}[]" for t in pg_types)
            cursor.execute(f"{head.removesuffix('VALUES ')} SELECT * FROM unnest({arrays}){tail}", columns)
        else:
            cursor.executemany(head + row + tail, params)


def _db_datetime(value: dt.datetime):
    """A datetime as the backend stores it (SQLite: naive UTC text, as Django writes it)."""
    return connection.ops.adapt_datetimefield_value(value)


def _db_date(value: dt.date | None):
    return connection.ops.adapt_datefield_value(value)


def _write_properties(rows: list) -> None:
    """Set (or clear) health_score / health_status in the records' properties, without history and
    without moving "last modified"."""
    if not rows:
        return
    table = Record._meta.db_table
    set_rows = [(score, status or "", rid) for rid, score, status in rows if score is not None]
    clear_rows = [(rid,) for rid, score, _status in rows if score is None]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if set_rows:
                scores, statuses, ids = (list(col) for col in zip(*set_rows, strict=True))
                cursor.execute(
                    f"UPDATE {table} AS r SET properties = r.properties || jsonb_build_object("
                    "'health_score', v.score, 'health_status', v.status) "
                    "FROM unnest(%s::float8[], %s::text[], %s::bigint[]) AS v(score, status, id) WHERE r.id = v.id",
                    [scores, statuses, ids],
                )
            if clear_rows:
                cursor.executemany(
                    f"UPDATE {table} SET properties = properties - 'health_score' - 'health_status' WHERE id = %s",
                    clear_rows,
                )
        else:
            if set_rows:
                cursor.executemany(
                    f"UPDATE {table} SET properties = json_set(properties, '$.health_score', %s, "
                    "'$.health_status', %s) WHERE id = %s",
                    set_rows,
                )
            if clear_rows:
                cursor.executemany(
                    f"UPDATE {table} SET properties = json_remove(properties, '$.health_score', '$.health_status') "
                    "WHERE id = %s",
                    clear_rows,
                )
