"""Concurrent ingestion: a sender retrying a batch while the first attempt is still being stored
(the same message ids, in another order) and other batches for the same accounts, days and users
at the same time. Nothing fails, nothing is stored or counted twice. These tests commit from
several threads (each with its own connection), so they need a database other connections can
open: PostgreSQL, or SQLite in a file (TEND_TEST_SQLITE_NAME)."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from tend.core import bulk
from tend.usage.ingest.store import IngestResult, events_ingest
from tend.usage.models import DailyActiveUser, DailyEventUser, DailyUsage, UsageEvent

from .conftest import track

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = ("Logged In", "Report Created", "Export Run")


def _batch(prefix: str, n: int) -> list[dict]:
    return [
        track(
            f"{prefix}-{i}",
            event=EVENTS[i % 3],
            user=f"user-{i % 7}",
            at=f"2026-03-{10 + i % 2}T{10 + i % 5:02}:00:00Z",
            group=("acme.example", "globex.example")[i % 2],
        )
        for i in range(n)
    ]


def _ingest_together(actor, batches: list[list[dict]]) -> list:
    start = threading.Barrier(len(batches))
    outcomes: list = [None] * len(batches)

    def send(i: int) -> None:
        try:
            start.wait()
            outcomes[i] = events_ingest(actor=actor, messages=batches[i])
        except Exception as exc:  # reported below: a deadlock or lock timeout must fail the test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_retried_and_overlapping_batches_store_and_count_each_event_once(acme, globex, csm_actor):
    if bulk.in_memory():  # known only once the test database is set up
        pytest.skip("needs a database other connections can open")
    for round_ in range(4):
        shared = _batch(f"r{round_}", 300)
        retry = list(reversed(shared))  # the same ids, in another order
        other = _batch(f"o{round_}", 300)  # same accounts, days, users and events; new ids
        outcomes = _ingest_together(csm_actor, [shared, retry, other])
        failures = [o for o in outcomes if not isinstance(o, IngestResult)]
        assert not failures, failures
        first, second, third = outcomes
        assert first.accepted + second.accepted == 300
        assert first.duplicates + second.duplicates == 300
        assert third.accepted == 300 and third.duplicates == 0

    stored = UsageEvent.objects.count()
    assert stored == 4 * 600
    assert DailyUsage.objects.aggregate(n=Sum("count"))["n"] == stored
    # every rollup's users are its distinct users, and every active user was recorded once
    for row in DailyUsage.objects.all():
        events = UsageEvent.objects.filter(account_id=row.account_id, event=row.event, timestamp__date=row.day)
        assert row.count == events.count()
        assert row.users == events.values("user_key").distinct().count()
        assert (
            row.users == DailyEventUser.objects.filter(account_id=row.account_id, day=row.day, event=row.event).count()
        )
    assert DailyActiveUser.objects.count() == len(
        set(UsageEvent.objects.values_list("account_id", "timestamp__date", "user_key"))
    )
