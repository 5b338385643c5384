"""Storing usage events and adding them to the daily rollups.

The rule, on both databases: a usage event (track, page, screen) of a known account marks its user
active that day (`DailyActiveUser`); a track event adds one to the count of its (account, day,
event) and, when its user is new to that triple (`DailyEventUser`), one to its users. Only events
really inserted are added, so replays never count twice; `rollups_recompute` rebuilds the rows from
the events. It is written once per database because PostgreSQL applies it in the statement that
stores the events (one round trip: the INSERT's RETURNING feeds the rollup INSERTs in one WITH),
which SQLite cannot (no INSERT inside WITH); SQLite applies it after, from the stored messages.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from tend.core import bulk
from tend.usage.models import DailyActiveUser, DailyEventUser, DailyUsage, UsageEvent

from .parse import USAGE_KINDS, Message

_EVENT_COLUMNS = ("message_id", "kind", "event", "account_id", "user_key", "properties", "timestamp", "received_at")


def insert_events(todo: list[Message], now: dt.datetime) -> set[str] | None:
    """SQLite: INSERT … ON CONFLICT (message_id) DO NOTHING. Returns the message ids stored, or None
    when all were (the usual case). The transaction holds the write lock, so the rows past the last
    id before the insert are this insert's: no lookup of the batch's ids beforehand."""
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _EVENT_COLUMNS)
    marks = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    received = bulk.db_datetime(now)
    rows = [
        (m.message_id, m.kind, m.event, m.account_id, m.user_key, m.properties_json, m.timestamp_db, received)
        for m in todo
    ]
    with bulk.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        last_id = cursor.fetchone()[0] or 0
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT (message_id) DO NOTHING", rows)
        if cursor.rowcount == len(rows):
            return None
        cursor.execute(f"SELECT message_id FROM {table} WHERE id > %s", [last_id])
        return {row[0] for row in cursor.fetchall()}


def insert_events_with_rollups(todo: list[Message], now: dt.datetime) -> set[str]:
    """PostgreSQL: store the events (COPY into a staged table) and add the newly stored ones to the
    rollups, in one statement. Rows go in key order so that concurrent batches (or a retry of a
    batch still in progress) lock them in the same order. Returns the message ids stored."""
    qn = connection.ops.quote_name
    events = qn(UsageEvent._meta.db_table)
    actives = qn(DailyActiveUser._meta.db_table)
    event_users = qn(DailyEventUser._meta.db_table)
    usage = qn(DailyUsage._meta.db_table)
    cols = ", ".join(qn(c) for c in _EVENT_COLUMNS)
    # The rows as COPY text: cheaper than psycopg adapting each value (`write_row`).
    text, received = bulk.copy_text, now.isoformat()
    rows = "".join(
        f"{text(m.message_id)}\t{m.kind}\t{text(m.event)}\t{text(None if m.account_id is None else str(m.account_id))}"
        f"\t{text(m.user_key)}\t{text(m.properties_json)}\t{m.timestamp.isoformat()}\t{received}\n"
        for m in todo
    )
    with bulk.staged(UsageEvent._meta.db_table, _EVENT_COLUMNS, rows) as (cursor, staged):
        cursor.execute(
            f"WITH stored AS (INSERT INTO {events} ({cols}) SELECT {cols} FROM {staged} ORDER BY message_id "
            "ON CONFLICT (message_id) DO NOTHING "
            "RETURNING message_id, kind, event, account_id, user_key, (timestamp AT TIME ZONE 'UTC')::date AS day), "
            "used AS (SELECT * FROM stored WHERE account_id IS NOT NULL AND kind = ANY(%s)), "
            f"active AS (INSERT INTO {actives} (account_id, day, user_key) "
            "SELECT DISTINCT account_id, day, user_key FROM used ORDER BY 1, 2, 3 "
            "ON CONFLICT (account_id, day, user_key) DO NOTHING), "
            f"added AS (INSERT INTO {event_users} (account_id, day, event, user_key) "
            "SELECT DISTINCT account_id, day, event, user_key FROM used WHERE kind = 'track' ORDER BY 1, 2, 3, 4 "
            "ON CONFLICT (account_id, day, event, user_key) DO NOTHING RETURNING account_id, day, event), "
            # One grouping of events and new users (no join: the staged rows have no statistics).
            f"rolled AS (INSERT INTO {usage} (account_id, day, event, count, users) "
            "SELECT account_id, day, event, SUM(n), SUM(u) FROM ("
            "SELECT account_id, day, event, 1 AS n, 0 AS u FROM used WHERE kind = 'track' "
            "UNION ALL SELECT account_id, day, event, 0, 1 FROM added) x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 "
            f"ON CONFLICT (account_id, day, event) DO UPDATE SET count = {usage}.count + excluded.count, "
            f"users = {usage}.users + excluded.users) "
            "SELECT message_id FROM stored",
            [list(USAGE_KINDS)],
        )
        return {row[0] for row in cursor.fetchall()}


def rollups_add(stored: list[Message]) -> None:
    """SQLite: add newly stored usage messages of known accounts to the rollups (added to, not
    re-read from the events, so a batch costs the same however many events came before)."""
    active: set[tuple[int, dt.date, str]] = set()
    counts: dict[tuple[int, dt.date, str], int] = {}  # (account, day, event) → new events
    users: dict[tuple[int, dt.date, str], set[str]] = {}  # … → their users
    for m in stored:
        if m.account_id is None:  # not a known account's (the caller passes only those)
            continue
        day = m.timestamp.date()
        active.add((m.account_id, day, m.user_key))
        if m.kind == "track":
            key = (m.account_id, day, m.event)
            counts[key] = counts.get(key, 0) + 1
            users.setdefault(key, set()).add(m.user_key)
    if active:
        bulk.insert_rows(
            DailyActiveUser._meta.db_table,
            ("account_id", "day", "user_key"),
            [(account, bulk.db_date(day), user) for account, day, user in sorted(active)],
            pg_types=(),
            on_conflict="ON CONFLICT (account_id, day, user_key) DO NOTHING",
        )
    if not counts:
        return
    keys = sorted(counts)
    event_users = [(a, bulk.db_date(d), e, u) for a, d, e in keys for u in sorted(users[(a, d, e)])]
    count_rows = [(a, bulk.db_date(d), e, counts[(a, d, e)]) for a, d, e in keys]
    usage_table = connection.ops.quote_name(DailyUsage._meta.db_table)
    users_table = connection.ops.quote_name(DailyEventUser._meta.db_table)
    with bulk.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {users_table} (account_id, day, event, user_key) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (account_id, day, event, user_key) DO NOTHING",
            event_users,
        )
        # SQLite has no INSERT in WITH: count the row's users afresh (an index range per row).
        cursor.executemany(
            f"INSERT INTO {usage_table} (account_id, day, event, count, users) "
            f"SELECT v.a, v.d, v.e, v.n, (SELECT COUNT(*) FROM {users_table} u "
            "WHERE u.account_id = v.a AND u.day = v.d AND u.event = v.e) "
            "FROM (SELECT %s AS a, %s AS d, %s AS e, %s AS n) v WHERE true "
            f"ON CONFLICT (account_id, day, event) DO UPDATE SET count = {usage_table}.count + excluded.count, "
            "users = excluded.users",
            count_rows,
        )


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def rollups_recompute(pairs: Iterable[tuple[int, dt.date]]) -> None:
    """Rebuild the DailyUsage and DailyEventUser rows of the given (account, UTC day) pairs from the
    stored track events (a repair: ingestion adds to the rollups as it stores events)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    qn = connection.ops.quote_name
    events = qn(UsageEvent._meta.db_table)
    usage = qn(DailyUsage._meta.db_table)
    users = qn(DailyEventUser._meta.db_table)
    day = _day_sql("e.timestamp")
    if bulk.is_postgres():
        window = "unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS t(a, lo, hi)"
    else:
        window = "(SELECT %s AS a, %s AS lo, %s AS hi) AS t"
    join = (
        f"FROM {events} e JOIN {window} ON e.account_id = t.a AND e.timestamp >= t.lo AND e.timestamp < t.hi "
        "WHERE e.kind = 'track'"
    )
    params = []
    for account, d in pairs:
        lo = dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC)
        params.append((account, bulk.db_datetime(lo), bulk.db_datetime(lo + dt.timedelta(days=1))))
    statements = [
        f"INSERT INTO {users} (account_id, day, event, user_key) SELECT DISTINCT e.account_id, {day}, e.event, "
        f"e.user_key {join} ON CONFLICT (account_id, day, event, user_key) DO NOTHING",
        f"INSERT INTO {usage} (account_id, day, event, count, users) "
        f"SELECT e.account_id, {day}, e.event, COUNT(*), COUNT(DISTINCT e.user_key) {join} "
        f"GROUP BY e.account_id, {day}, e.event "
        "ON CONFLICT (account_id, day, event) DO UPDATE SET count = excluded.count, users = excluded.users",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            if bulk.is_postgres():
                cursor.execute(sql, [list(c) for c in zip(*params, strict=True)])
            else:
                cursor.executemany(sql, params)
