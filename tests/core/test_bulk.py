"""tend.core.bulk: the SQLite writers' turn-taking lock."""

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


@pytest.mark.django_db
def test_write_turn_is_a_no_op_inside_a_transaction(tmp_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "tend.sqlite3"))
    with bulk.write_turn():  # the test runs inside a transaction: its writer may hold the lock
        pass
    assert not (tmp_path / "tend.sqlite3.write-lock").exists()
