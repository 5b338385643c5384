"""Whose book a record is in, copied onto what the Summary and the Alerts page count: the alerts'
`book_owner_id` / `book_csm_id` / `record_live` and the `BookScore` rows. A book is the customers
a user owns or is the CSM of (the CSM property is a workspace setting); reading it through the
records means joining every active alert, or every score, with its record — the copies make a
book an index range.

The recompute writes the copies with what it writes (it has read the owners and CSMs); the
functions here rewrite them from the records, set-based: when records change (a subscriber of
`hooks.records_changed`: owner, CSM, archived, restored, merged), when the CSM property changes
(`rebuild`, a background task) and in the migration that added them.
"""

from collections.abc import Iterable

from django.db import connection

from tend.core import bulk
from tend.cs_settings.queries import workspace_settings

from .models import BookScore, HealthAlert, HealthScore

# The record changes that may move a record to another book (an engagement or an association never does).
BOOK_REASONS = frozenset({"record", "archive", "restore", "merge"})
CHUNK = 5000


def csm_sql(csm_property: str, record: str = "r") -> str:
    """The SQL of a record's CSM as a user id: the property's value when it is a whole number
    (what the book's `properties__<csm> = <user id>` matches), else NULL."""
    key = csm_property.replace("'", "''").replace('"', "")
    if connection.vendor == "postgresql":
        value = f"({record}.properties -> '{key}')"
        return (
            f"(CASE WHEN jsonb_typeof({value}) = 'number' AND ({value})::numeric = trunc(({value})::numeric) "
            f"AND abs(({value})::numeric) < 1e18 THEN ({value})::numeric::bigint END)"
        )
    value = f"json_extract({record}.properties, '$.\"{key}\"')"
    return (
        f"(CASE WHEN json_type({record}.properties, '$.\"{key}\"') IN ('integer', 'real') "
        f"AND {value} = CAST({value} AS INTEGER) THEN CAST({value} AS INTEGER) END)"
    )


def _chunks(record_ids: Iterable[int] | None) -> Iterable[list[int] | None]:
    if record_ids is None:
        yield None
        return
    ids = sorted({int(i) for i in record_ids})
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _where(ids: list[int] | None, column: str) -> tuple[str, list]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def restamp_alerts(record_ids: Iterable[int] | None = None, *, csm_property: str | None = None) -> int:
    """Copy each record's owner, CSM and liveness onto its alerts (None: every alert); how many
    alerts changed."""
    csm = csm_sql(csm_property or workspace_settings().customer_csm_property)
    table = connection.ops.quote_name(HealthAlert._meta.db_table)
    changed = 0
    with bulk.cursor() as cursor:
        for ids in _chunks(record_ids):
            where, params = _where(ids, "a.record_id")
            live = "r.archived_at IS NULL"
            cursor.execute(
                f"UPDATE {table} AS a SET book_owner_id = r.owner_id, book_csm_id = {csm}, record_live = {live} "
                f"FROM crm_record AS r WHERE r.id = a.record_id{where} AND (a.book_owner_id IS DISTINCT FROM "
                f"r.owner_id OR a.book_csm_id IS DISTINCT FROM {csm} OR a.record_live <> ({live}))"
                if connection.vendor == "postgresql"
                else f"UPDATE {table} AS a SET book_owner_id = r.owner_id, book_csm_id = {csm}, record_live = {live} "
                f"FROM crm_record AS r WHERE r.id = a.record_id{where} AND (a.book_owner_id IS NOT r.owner_id "
                f"OR a.book_csm_id IS NOT {csm} OR a.record_live IS NOT ({live}))",
                params,
            )
            changed += max(cursor.rowcount, 0)
    return changed


def copy_scores(record_ids: Iterable[int] | None = None, *, csm_property: str | None = None) -> None:
    """Rewrite the records' `BookScore` rows from their scores and their live records' owner and
    CSM (None: every record's)."""
    csm = csm_sql(csm_property or workspace_settings().customer_csm_property)
    qn = connection.ops.quote_name
    table, scores = qn(BookScore._meta.db_table), qn(HealthScore._meta.db_table)
    bucket = "LEAST(GREATEST(FLOOR(s.score / 10), 0), 9)"
    if connection.vendor != "postgresql":
        bucket = "MIN(MAX(CAST(s.score / 10 AS INTEGER), 0), 9)"
    with bulk.cursor() as cursor:
        for ids in _chunks(record_ids):
            where, params = _where(ids, "s.record_id")
            if ids is None:
                cursor.execute(f"DELETE FROM {table}")
            else:
                cursor.execute(f"DELETE FROM {table} WHERE record_id IN ({', '.join(['%s'] * len(ids))})", ids)
            # Each distinct book user of the record, with the other one (if another) as shared_with.
            books = (
                f"SELECT s.record_id, s.profile_id, s.status, {bucket} AS bucket, s.score, r.owner_id AS owner, "
                f"{csm} AS csm FROM {scores} s JOIN crm_record r ON r.id = s.record_id "
                f"WHERE s.score IS NOT NULL AND r.archived_at IS NULL{where}"
            )
            cursor.execute(
                f"INSERT INTO {table} (record_id, profile_id, user_id, shared_with, status, bucket, score) "
                f"SELECT record_id, profile_id, owner, CASE WHEN csm <> owner THEN csm END, status, bucket, score "
                f"FROM ({books}) b WHERE owner IS NOT NULL "
                f"UNION ALL SELECT record_id, profile_id, csm, owner, status, bucket, score "
                f"FROM ({books}) b WHERE csm IS NOT NULL AND (owner IS NULL OR csm <> owner)",
                params + params,
            )


def records_moved(record_ids: list[int], *, reason: str) -> None:
    """A `hooks.records_changed` subscriber: the copies follow the records' owner, CSM and
    archiving, in the same transaction as the change."""
    if reason not in BOOK_REASONS or not record_ids:
        return
    csm_property = workspace_settings().customer_csm_property
    restamp_alerts(record_ids, csm_property=csm_property)
    copy_scores(record_ids, csm_property=csm_property)


def rebuild(csm_property: str | None = None) -> None:
    """Every copy again (after the CSM property changed; the migration that added them)."""
    restamp_alerts(None, csm_property=csm_property)
    copy_scores(None, csm_property=csm_property)
