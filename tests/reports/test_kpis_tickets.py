"""Ticket resolution time: hours from creation to close (a complete stage's entry or the close
date property) by month of closing, average and median, of a CSM's customers through their
associations, in the viewer's months, bounded queries."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm.models import Record
from tend.crm.services import association_link, record_archive
from tend.reports.kpis import tickets

from .conftest import TOKYO, at, create, customer, scope, stage, update

pytestmark = pytest.mark.django_db
QUERIES = 4  # the ticket type, its complete stages, the averages, the medians


def ticket(name: str, created: str, closed: str | None = None, *, account=None):
    record = create("tickets", at(created), name=name, stage=stage("Support pipeline", "New").pk)
    if closed:
        update(record, at(closed), stage=stage("Support pipeline", "Closed").pk)
    if account is not None:
        association_link(record, account)
    return record


@pytest.fixture
def queue(csms):
    ann, ben = csms
    anns, bens = customer("Ann's", csm=ann.pk), customer("Ben's", csm=ben.pk)
    ticket("T1", "2026-01-05", "2026-01-06", account=anns)  # 24 h
    ticket("T2", "2026-01-10T09:00", "2026-01-10T19:00", account=anns)  # 10 h
    ticket("T3", "2026-01-20", "2026-01-25", account=bens)  # 120 h
    t4 = ticket("T4", "2026-01-28")
    update(t4, at("2026-02-03"), closed_at="2026-02-02T09:00:00Z")  # closed by its close date: 120 h
    ticket("T5", "2026-02-01T09:00", "2026-02-01T13:00")  # 4 h
    ticket("T6", "2026-02-01")  # open
    ticket("T7", "2026-01-31T10:00", "2026-01-31T23:30")  # 13.5 h, on 1 February in Tokyo


def test_average_and_median_hours_by_month_of_closing(queue, now):
    data = tickets.compute(scope("2026-01-01", "2026-02-28"))

    # January: 10, 13.5, 24, 120 hours; February: 4 and 120.
    assert [s.key for s in data.series] == ["average", "median"]
    assert data.series[0].values == [41.88, 62.0]
    assert data.series[1].values == [18.75, 62.0]
    assert data.extra == {"closed": [4, 2]}
    assert (data.value, data.previous) == (62.0, 41.88)


def test_months_are_the_viewers(queue, now):
    data = tickets.compute(scope("2026-01-01", "2026-02-28", tz=TOKYO))

    assert data.extra == {"closed": [3, 3]}
    assert data.series[1].values == [24.0, 13.5]


def test_a_csms_tickets_are_those_of_their_customers(queue, csms, now):
    ann, _ben = csms

    data = tickets.compute(scope("2026-01-01", "2026-02-28", csm_ids=(ann.pk,)))

    assert (data.series[0].values, data.series[1].values) == ([17.0, None], [17.0, None])


def test_archived_tickets_are_not_counted_and_a_month_without_closes_has_no_value(queue, now):
    record_archive(actor=SYSTEM, record=Record.objects.get(name="T3"))

    data = tickets.compute(scope("2026-01-01", "2026-03-31"))

    # January: 10, 13.5 and 24 hours; February: 4 and 120; March: none closed.
    assert data.extra == {"closed": [3, 2, 0]}
    assert data.series[0].values == [15.83, 62.0, None]
    assert data.series[1].values == [13.5, 62.0, None]
    assert (data.value, data.previous) == (None, 62.0)


def test_a_reassigned_customers_tickets_follow_its_current_csm(queue, csms, now):
    ann, ben = csms
    update(Record.objects.get(name="Ann's"), at("2026-03-01"), csm=ben.pk)

    anns = tickets.compute(scope("2026-01-01", "2026-02-28", csm_ids=(ann.pk,)))
    bens = tickets.compute(scope("2026-01-01", "2026-02-28", csm_ids=(ben.pk,)))

    assert anns.extra == {"closed": [0, 0]}
    # January: T1 (24 h), T2 (10 h) and Ben's own T3 (120 h).
    assert bens.extra == {"closed": [3, 0]}
    assert (bens.series[0].values, bens.series[1].values) == ([51.33, None], [24.0, None])


def test_queries_do_not_grow_with_the_tickets(csms, now, django_assert_max_num_queries):
    for i in range(20):
        ticket(f"T{i}", f"2026-0{1 + i % 4}-0{1 + i % 9}", f"2026-0{1 + i % 4}-1{i % 9}")

    with django_assert_max_num_queries(QUERIES):
        data = tickets.compute(scope("2026-01-01", "2026-06-15"))

    assert sum(data.extra["closed"]) == 20


def test_a_close_date_before_the_creation_is_left_out(queue, now):
    t8 = ticket("T8", "2026-02-10")
    update(t8, at("2026-02-11"), closed_at="2026-02-05T09:00:00Z")  # mistyped: before it was created

    data = tickets.compute(scope("2026-01-01", "2026-02-28"))

    assert data.extra == {"closed": [4, 2]}
    assert data.series[0].values == [41.88, 62.0]
