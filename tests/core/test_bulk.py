"""tend.core.bulk: the SQLite writers' turn-taking lock and its checkpoint, and the bulk writes."""

import datetime as dt
import fcntl

import pytest
from django.db import connection

from tend.core import bulk


@pytest.mark.django_db(transaction=True)
def test_write_turn_holds_a_file_lock_next_to_the_database_until_the_block_ends(tmp_path, monkeypatch):
    if bulk.is_postgres():
        pytest.skip("PostgreSQL writers need no turn-taking")
    monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "tend.sqlite3"))
    with bulk.write_turn():
        other = open(tmp_path / "tend.sqlite3.write-lock")  # as another worker process would
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    other.close()


@pytest.mark.django_db(transaction=True)
def test_after_its_turn_a_writer_checkpoints_the_wal_with_the_lock_released():
    if bulk.is_postgres() or bulk.in_memory():
        pytest.skip("SQLite in a file only (TEND_TEST_SQLITE_NAME)")
    from pathlib import Path

    from django.db import transaction

    from tend.usage.models import DailyActiveUser

    database = Path(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # only the write turn's checkpoint may run
    try:
        def written() -> tuple[int, int]:  # the file may reuse pages earlier tests freed: not only its size
            stat = database.stat()
            return stat.st_size, stat.st_mtime_ns

        before = written()
        with bulk.write_turn(), transaction.atomic():
            DailyActiveUser.objects.bulk_create(
                DailyActiveUser(account_id=1, day=dt.date(2026, 1, 1), user_key=f"user-{i:05}") for i in range(3000)
            )
            assert written() == before  # the new pages are in the WAL only
        assert written() != before  # checkpointed into the database file
        lock = open(f"{database}.write-lock")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and the turn is over
        lock.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=10000")


@pytest.mark.django_db
def test_write_turn_is_a_no_op_inside_a_transaction(tmp_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "tend.sqlite3"))
    with bulk.write_turn():  # the test runs inside a transaction: its writer may hold the lock
        pass
    assert not (tmp_path / "tend.sqlite3.write-lock").exists()


@pytest.mark.django_db
def test_upsert_rows_inserts_new_rows_and_updates_the_others_by_key():
    from tend.usage.models import DailyUsage

    day = dt.date(2026, 1, 1)
    DailyUsage.objects.create(account_id=1, day=day, event="Logged In", count=1, users=1)
    columns = ("account_id", "day", "event", "count", "users")
    db_day = bulk.db_date(day)
    rows = [(1, db_day, "Logged In", 5, 2), (1, db_day, "Exported", 3, 1)]
    bulk.upsert_rows(DailyUsage._meta.db_table, columns, rows, key=("account_id", "day", "event"))
    # again in the same transaction (PostgreSQL stages the rows in a temporary table each time)
    bulk.upsert_rows(
        DailyUsage._meta.db_table, columns, [(1, db_day, "Exported", 4, 2)], key=("account_id", "day", "event")
    )

    stored = {e: (c, u) for e, c, u in DailyUsage.objects.values_list("event", "count", "users")}
    assert stored == {"Logged In": (5, 2), "Exported": (4, 2)}


@pytest.mark.django_db
def test_staged_rows_are_readable_in_the_block_and_gone_after():
    if not bulk.is_postgres():
        pytest.skip("staging is PostgreSQL's COPY path")
    from tend.usage.models import DailyUsage

    rows = [("Exported", 2), ("Logged In", None)]
    with bulk.staged(DailyUsage._meta.db_table, ("event",), rows, extra=[("n", "int")]) as (cur, name):
        cur.execute(f"SELECT event, n FROM {name} ORDER BY event")
        assert cur.fetchall() == [("Exported", 2), ("Logged In", None)]
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('pg_temp.staged_signals_dailyusage')")
        assert cur.fetchone() == (None,)
