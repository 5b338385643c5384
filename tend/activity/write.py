"""Storing activity rows set-based (tend/core/bulk.py), idempotent by external id: PostgreSQL
copies the rows into a staged table and inserts them in one statement; SQLite runs one prepared
statement per row. Both say which rows were new."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from tend.core import bulk

from .models import Activity

COLUMNS = (
    "external_id",
    "type",
    "label",
    "contact_id",
    "company_id",
    "asset_name",
    "asset_url",
    "occurred_at",
    "source",
    "properties",
    "received_at",
)


@dataclass(slots=True)
class ActivityRow:
    """One activity ready to store: contact and company resolved, properties as JSON text."""

    external_id: str
    type: str
    contact_id: int
    company_id: int | None
    occurred_at: dt.datetime
    source: str
    label: str = ""
    asset_name: str = ""
    asset_url: str = ""
    properties_json: str = "{}"


def rows_insert(rows: Sequence[ActivityRow], now: dt.datetime) -> set[str]:
    """INSERT the rows, skipping external ids already stored (and repeats within `rows`: the first
    wins). Returns the external ids stored now. Call inside a transaction (`bulk.write_turn()` +
    `atomic()`): on SQLite it holds the write lock, so the ids past the last one are this insert's."""
    if not rows:
        return set()
    if bulk.is_postgres():
        return _insert_postgres(rows, now)
    return _insert_sqlite(rows, now)


def _insert_sqlite(rows: Sequence[ActivityRow], now: dt.datetime) -> set[str]:
    qn = connection.ops.quote_name
    table = qn(Activity._meta.db_table)
    received = bulk.db_datetime(now)
    values = [
        (
            r.external_id,
            r.type,
            r.label,
            r.contact_id,
            r.company_id,
            r.asset_name,
            r.asset_url,
            bulk.db_datetime(r.occurred_at),
            r.source,
            r.properties_json,
            received,
        )
        for r in rows
    ]
    cols = ", ".join(qn(c) for c in COLUMNS)
    marks = ", ".join(["%s"] * len(COLUMNS))
    with bulk.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        last_id = cursor.fetchone()[0] or 0
        cursor.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT (external_id) DO NOTHING", values
        )
        if cursor.rowcount == len(values):
            return {r.external_id for r in rows}
        cursor.execute(f"SELECT external_id FROM {table} WHERE id > %s", [last_id])
        return {row[0] for row in cursor.fetchall()}


def _insert_postgres(rows: Sequence[ActivityRow], now: dt.datetime) -> set[str]:
    qn = connection.ops.quote_name
    table = qn(Activity._meta.db_table)
    text, received = bulk.copy_text, now.isoformat()
    copy = "".join(
        f"{text(r.external_id)}\t{text(r.type)}\t{text(r.label)}\t{r.contact_id}\t"
        f"{text(None if r.company_id is None else str(r.company_id))}\t{text(r.asset_name)}\t{text(r.asset_url)}\t"
        f"{r.occurred_at.isoformat()}\t{text(r.source)}\t{text(r.properties_json)}\t{received}\n"
        for r in rows
    )
    cols = ", ".join(qn(c) for c in COLUMNS)
    with bulk.staged(Activity._meta.db_table, COLUMNS, copy) as (cursor, staged):
        # DISTINCT ON: a repeat within the batch would otherwise be a second conflict in one statement.
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT DISTINCT ON (external_id) {cols} FROM {staged} "
            "ORDER BY external_id ON CONFLICT (external_id) DO NOTHING RETURNING external_id"
        )
        return {row[0] for row in cursor.fetchall()}
