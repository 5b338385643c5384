"""A full recompute shares its chunks between processes (forked, each with its own connection):
the same scores, history and alerts as one process, and progress for every chunk. The processes
must see committed data, so these tests commit (transaction=True) and need a database other
processes can open: PostgreSQL, or SQLite in a file (TEND_TEST_SQLITE_NAME)."""

import multiprocessing
import signal

import pytest

from tend.core import bulk
from tend.core.policy import Actor
from tend.health.models import HealthAlert, HealthScore, HealthScoreHistory
from tend.health.recompute import pool
from tend.health.recompute.run import recompute

from .conftest import activate, make_company, nps, usage
from .test_services import two_groups

pytestmark = pytest.mark.django_db(transaction=True)


def shared_database() -> bool:
    return not bulk.in_memory()


def need_shared_database() -> None:
    """Skip unless other processes can open the test database (known once it is set up, so
    checked in the test, not by a skipif mark evaluated before)."""
    if not shared_database():
        pytest.skip("needs a database other processes can open")


def snapshot() -> dict:
    scores = {
        r: (score, status, coverage)
        for r, score, status, coverage in HealthScore.objects.values_list("record_id", "score", "status", "coverage")
    }
    history = sorted(HealthScoreHistory.objects.values_list("record_id", "score", "status", "reason"))
    alerts = sorted(HealthAlert.objects.values_list("record_id", "kind", "signal"))
    return {"scores": scores, "history": history, "alerts": alerts}


def test_one_process_where_others_could_not_see_the_data(settings):
    settings.TEND_HEALTH_PROCESSES = 4
    if shared_database():
        assert pool.processes_for(10) == 4
        assert pool.processes_for(3) == 3  # never more than the chunks
        assert pool.processes_for(1) == 1
    else:
        assert pool.processes_for(10) == 1  # in-memory SQLite: only this connection sees it
    settings.TEND_HEALTH_PROCESSES = 1
    assert pool.processes_for(10) == 1


def test_processes_write_what_one_process_writes(csm, settings, monkeypatch, at_now):
    need_shared_database()
    companies = [make_company(f"Company {i}", csm=csm.pk) for i in range(23)]
    for i, company in enumerate(companies):
        nps(company, i % 11, days_ago=3)
        if i % 3:
            usage(company, "Logged In", days_ago=2, count=4 * i, users=1 + i % 4)
    activate(Actor(csm), two_groups())
    forks = []
    real_get_context = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method: forks.append(method) or real_get_context(method))

    settings.TEND_HEALTH_PROCESSES = 2
    progress = []
    assert recompute(chunk_size=5, on_progress=lambda done, total: progress.append((done, total))) == 23
    in_processes = snapshot()

    assert forks == ["fork"]
    assert len(progress) == 5 and progress[-1] == (23, 23)  # after each chunk, in the order they end
    assert [done for done, _total in progress] == sorted({done for done, _total in progress})
    assert len(in_processes["scores"]) == 23 and len(in_processes["history"]) == 23

    HealthAlert.objects.all().delete()
    HealthScoreHistory.objects.all().delete()
    HealthScore.objects.all().delete()
    settings.TEND_HEALTH_PROCESSES = 1
    recompute(chunk_size=5)
    assert snapshot() == in_processes
    assert forks == ["fork"]  # the second run stayed in this process


def test_a_failing_chunk_fails_the_run_and_ends_the_processes(csm, settings, monkeypatch, at_now):
    need_shared_database()
    # given a worker whose SIGTERM handler only asks its loop to stop (as db_worker's does) and
    # a chunk that fails in its process
    for i in range(12):
        nps(make_company(f"Company {i}", csm=csm.pk), 9, days_ago=3)
    activate(Actor(csm), two_groups())
    real_compute = pool.compute_chunk

    def compute(ids, **context):
        if len(ids) < 5:  # the last chunk
            raise RuntimeError("broken chunk")
        return real_compute(ids, **context)

    monkeypatch.setattr(pool, "compute_chunk", compute)
    previous_term = signal.signal(signal.SIGTERM, lambda *_: None)

    def hung(*_):
        raise TimeoutError("the pool did not end")

    previous_alarm = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    settings.TEND_HEALTH_PROCESSES = 2
    try:
        # when the run meets it
        with pytest.raises(RuntimeError, match="broken chunk"):
            recompute(chunk_size=5)  # chunks of 5, 5 and 2 ids
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_alarm)
        signal.signal(signal.SIGTERM, previous_term)
    # then the error reaches the caller and no process is left behind
    assert multiprocessing.active_children() == []
