"""Set-based writes for the hot paths (usage ingestion, health recompute): many rows per statement
without the ORM's per-row cost (`bulk_create` spends ~70 µs a row in Django's compiler, which alone
would cap ingestion far below its budget).

- PostgreSQL: one `INSERT … SELECT … FROM unnest(<one array per column>)`: one round trip and one
  short statement to parse and plan, whatever the number of rows. The arrays are bound on the server
  in binary (`cursor()`): Django's default client-side binding would quote every value into the SQL
  text, which costs more than the insert itself.
- SQLite (in-process, no round trips): one prepared statement executed per row (`executemany`),
  several times cheaper than a long multi-row VALUES statement.

Values must already be in the database's form: use `db_datetime` / `db_date` for dates.
"""

import contextlib
import datetime as dt
import functools
import hashlib
from collections.abc import Sequence

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

UTC = dt.UTC


@functools.cache
def _vendor() -> str:
    # Looked up once: `connection.vendor` goes through a thread-local proxy (~4 µs), and these
    # helpers run once per value.
    return connections[DEFAULT_DB_ALIAS].vendor


def is_postgres() -> bool:
    return _vendor() == "postgresql"


def db_datetime(value: dt.datetime):
    """An aware datetime as the backend stores it: SQLite keeps naive UTC text (what Django writes,
    without the cost of `adapt_datetimefield_value`)."""
    if _vendor() == "sqlite":
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # str() of a UTC datetime is its isoformat(" ") with "+00:00" after it
        return str(value)[:26] if value.microsecond else str(value)[:19]
    return value


def db_date(value: dt.date | None):
    if value is None:
        return None
    return value.isoformat() if _vendor() == "sqlite" else value


def in_memory() -> bool:
    """An in-memory SQLite database: only this process (and connection) sees its data."""
    if is_postgres():
        return False
    name = str(connection.settings_dict.get("NAME") or "")
    return not name or "memory" in name


@contextlib.contextmanager
def write_turn():
    """Around a bulk write transaction: on SQLite, concurrent writers (gunicorn's worker processes)
    take turns through a file lock next to the database. Without it they wait in SQLite's busy
    handler, which polls with sleeps of up to 100 ms and wasted a third of the throughput of two
    workers ingesting at once. After its turn, a writer checkpoints the WAL (below). A no-op on
    PostgreSQL, in memory, and inside a transaction already open (its writer may hold the database
    lock that the lock holder is waiting for)."""
    if is_postgres() or fcntl is None or connection.in_atomic_block or in_memory():
        yield
        return
    with open(f"{connection.settings_dict['NAME']}.write-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    # Checkpoint now, with the lock released: the next writer goes on meanwhile (a passive
    # checkpoint never blocks it), and the WAL stays short, so the automatic checkpoint, which
    # runs inside a commit while the lock is held, is seldom due.
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")


def cursor():
    """A cursor for these statements (use as a context manager). On PostgreSQL it binds parameters
    on the server, in binary where `%b` is written (`param`); it is wrapped like Django's own
    cursors, so execute wrappers and query logging see its statements."""
    if not is_postgres():
        return connection.cursor()
    import psycopg  # only on PostgreSQL: an embedded SQLite install never loads the driver

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def param() -> str:
    """The placeholder for a parameter of `cursor()`: binary on PostgreSQL."""
    return "%b" if is_postgres() else "%s"


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    pg_types: Sequence[str],
    on_conflict: str = "",
) -> None:
    """INSERT the rows into `table` (`on_conflict` is the SQL after the VALUES, e.g.
    "ON CONFLICT (message_id) DO NOTHING"). `pg_types` names the PostgreSQL type of each column
    (jsonb values are given as JSON text)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with cursor() as cur:
        if is_postgres():
            arrays = ", ".join(f"%b::text[]::{t}[]" if t == "jsonb" else f"%b::{t}[]" for t in pg_types)
            cur.execute(
                f"INSERT INTO {qn(table)} ({cols}) SELECT * FROM unnest({arrays}) {on_conflict}", columns_of(rows)
            )
            return
        marks = ", ".join(["%s"] * len(columns))
        cur.executemany(f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks}) {on_conflict}", rows)


def reserve_ids(table: str, n: int) -> list[int]:
    """`n` new primary keys of `table` (an auto-incrementing `id`), for rows inserted with their ids
    in the same transaction."""
    with connection.cursor() as cur:
        if is_postgres():
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [row[0] for row in cur.fetchall()]
        # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so nobody else takes ids
        # meanwhile; AUTOINCREMENT's sequence follows the explicit ids.
        cur.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
        top = cur.fetchone()[0] or 0
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cur.fetchone()
        top = max(top, row[0] if row else 0)
        return list(range(top + 1, top + 1 + n))


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence] | str) -> None:
    """Plain INSERT of many rows (no conflict handling): PostgreSQL's COPY — no statement to parse,
    no parameters to bind; JSON columns are given as text and read as jsonb — and on SQLite the
    prepared `executemany` of `insert_rows`. On PostgreSQL `rows` may also be their COPY text, as
    for `staged`."""
    if not rows:
        return
    if not is_postgres():
        insert_rows(table, columns, rows, pg_types=())
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cur, connection.wrap_database_errors:
        with cur.copy(f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN") as copy:
            if isinstance(rows, str):
                copy.write(rows)
            else:
                for row in rows:
                    copy.write_row(row)


def upsert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence], *, key: Sequence[str]) -> None:
    """INSERT the rows, or UPDATE the other columns of the row with the same `key` (a unique
    constraint's columns). On PostgreSQL the rows go by COPY into a temporary table (`staged`), then
    one INSERT … SELECT … ON CONFLICT: no array of each column to build and bind (the larger part of
    the time for 100k rows with JSON). On SQLite a prepared `executemany`."""
    if not rows:
        return
    conflict = on_conflict_update(columns, key)
    if not is_postgres():
        insert_rows(table, columns, rows, pg_types=(), on_conflict=conflict)
        return
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with staged(table, columns, rows) as (cur, name):
        cur.execute(f"INSERT INTO {qn(table)} ({cols}) SELECT {cols} FROM {name} {conflict}")


def on_conflict_update(columns: Sequence[str], key: Sequence[str]) -> str:
    qn = connection.ops.quote_name
    updates = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in columns if c not in key)
    return f"ON CONFLICT ({', '.join(qn(c) for c in key)}) DO UPDATE SET {updates}"


@contextlib.contextmanager
def staged(like: str, columns: Sequence[str], rows: Sequence[Sequence] | str, *, extra: Sequence[tuple[str, str]] = ()):
    """PostgreSQL: the rows in a temporary table — `columns` typed as in the table `like`, then the
    `extra` (name, type) columns; each row gives them in that order — loaded by COPY (no WAL, no
    index). `rows` may also be their text in COPY's format (`copy_text`), written by a caller that
    knows its columns' types: psycopg's `write_row` adapts each value on its own, about twice the
    CPU. Yields (cursor, table name) inside a transaction; the rows are gone after.

    The table is the session's, created once (ON COMMIT DELETE ROWS) and emptied after each use:
    creating and dropping one per call writes and deletes catalog rows every time, which a busy
    ingestion endpoint would turn into catalog bloat."""
    qn = connection.ops.quote_name
    shape = hashlib.blake2s(repr((like, tuple(columns), tuple(extra))).encode(), digest_size=4).hexdigest()
    name = qn(f"staged_{like}_{shape}")
    typed = [qn(c) for c in columns] + [f"NULL::{t} AS {qn(c)}" for c, t in extra]
    all_columns = ", ".join(qn(c) for c in (*columns, *(c for c, _t in extra)))
    with transaction.atomic(), connection.cursor() as cur, connection.wrap_database_errors:
        cur.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(typed)} FROM {qn(like)} WITH NO DATA"
        )
        with cur.copy(f"COPY {name} ({all_columns}) FROM STDIN") as copy:
            if isinstance(rows, str):
                copy.write(rows)
            else:
                for row in rows:
                    copy.write_row(row)
        yield cur, name
        cur.execute(f"DELETE FROM {name}")


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str | None) -> str:
    """A text value in COPY's text format: `\\N` for NULL; backslash, tab and line breaks escaped."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def columns_of(rows: Sequence[Sequence]) -> list[list]:
    """Rows turned into one list per column (the arrays `unnest` takes)."""
    return [list(column) for column in zip(*rows, strict=True)]


def in_list(values: Sequence) -> tuple[str, list]:
    """`col IN (…)` for many values, for `cursor()`: `= ANY(%b)` with one array on PostgreSQL,
    placeholders on SQLite. Returns the SQL after the column and the parameters."""
    if is_postgres():
        return "= ANY(%b)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)
