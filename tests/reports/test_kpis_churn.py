"""Churn rate: cohorts at each period's start from the CS stage history, returns, new customers,
boundaries at midnight, the viewer's zone, books by the CSM at the start, and bounded queries."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm.models import ChangeSource, PropertyChange
from tend.crm.services import record_archive
from tend.reports.kpis import churn

from .conftest import TOKYO, at, create, customer, scope, update

pytestmark = pytest.mark.django_db
QUERIES = 5  # the settings row and the KPI's query (on PostgreSQL in a savepoint, after its settings)


def churn_at(record, when: str) -> None:
    update(record, at(when), cs_stage="churned")


@pytest.fixture
def book(csms):
    """Six customers of Ann's since June 2025 (one churned before the year) and one new in February."""
    ann, _ben = csms
    a, b, c, f = (customer(n, csm=ann.pk) for n in "ABCF")
    e = customer("E", csm=ann.pk)
    churn_at(e, "2025-12-01")
    churn_at(a, "2026-02-10")
    churn_at(c, "2026-02-20")
    update(c, at("2026-03-05"), cs_stage="active")  # back again
    churn_at(c, "2026-04-15")
    churn_at(f, "2026-03-01T00:00")  # at midnight: the first instant of March
    d = customer("D", created=at("2026-02-15"), csm=ann.pk)
    churn_at(d, "2026-03-10")
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}


def test_churn_per_month_counts_the_cohort_at_each_start(book, now):
    data = churn.compute(scope("2026-01-01", "2026-06-15"))

    assert [c.label for c in data.categories] == [
        "Jan 2026",
        "Feb 2026",
        "Mar 2026",
        "Apr 2026",
        "May 2026",
        "Jun 2026",
    ]
    # Jan: A B C F active (E churned in 2025, D not yet a customer); Feb: A and C churn; Mar:
    # B, D, F at its start (C churned), D and F churn; Apr: B and C (back), C churns again.
    assert data.extra == {"active": [4, 4, 3, 2, 1, 1], "churned": [0, 2, 2, 1, 0, 0]}
    assert data.series[0].values == [0.0, 0.5, 2 / 3, 0.5, 0.0, 0.0]
    assert (data.value, data.previous) == (0.0, 0.5)  # May (June is not over), April
    assert (data.chart, data.value_format, data.category_title) == ("line", "percent", "Month")


def test_a_period_without_customers_at_its_start_has_no_value(book, now):
    data = churn.compute(scope("2025-05-01", "2025-07-31"))

    # They became customers on 1 June at 09:00: July is the first month to start with them.
    assert data.extra == {"active": [0, 0, 5], "churned": [0, 0, 0]}
    assert data.series[0].values == [None, None, 0.0]


def test_per_quarter(book, now):
    data = churn.compute(scope("2026-01-01", "2026-06-15", unit="quarter"))

    # Q1: A B C F at its start, A C F churn (C once, though it came back in it); Q2: B and C.
    assert [c.label for c in data.categories] == ["Q1 2026", "Q2 2026"]
    assert data.extra == {"active": [4, 2], "churned": [3, 1]}
    assert (data.value, data.previous) == (0.75, None)


def test_months_are_the_viewers(csms, now):
    ann, _ben = csms
    late, early = customer("Late", csm=ann.pk), customer("Early", csm=ann.pk)
    churn_at(late, "2026-03-31T23:30")  # 08:30 on 1 April in Tokyo
    churn_at(early, "2026-02-28T16:00")  # 01:00 on 1 March in Tokyo

    utc = churn.compute(scope("2026-02-01", "2026-04-30"))
    tokyo = churn.compute(scope("2026-02-01", "2026-04-30", tz=TOKYO))

    assert utc.extra == {"active": [2, 1, 0], "churned": [1, 1, 0]}
    assert tokyo.extra == {"active": [2, 2, 1], "churned": [0, 1, 1]}


def test_a_reassigned_customer_churns_in_the_book_it_started_the_period_in(csms, now):
    ann, ben = csms
    moved = customer("Moved", csm=ann.pk)
    customer("Ann's", csm=ann.pk)
    customer("Ben's", csm=ben.pk)
    update(moved, at("2026-02-05"), csm=ben.pk)
    churn_at(moved, "2026-02-20")

    anns = churn.compute(scope("2026-02-01", "2026-03-31", csm_ids=(ann.pk,)))
    bens = churn.compute(scope("2026-02-01", "2026-03-31", csm_ids=(ben.pk,)))
    both = churn.compute(scope("2026-02-01", "2026-03-31", csm_ids=(ann.pk, ben.pk)))
    nobody = churn.compute(scope("2026-02-01", "2026-03-31", csm_ids=()))

    assert anns.extra == {"active": [2, 1], "churned": [1, 0]}
    assert bens.extra == {"active": [1, 1], "churned": [0, 0]}
    assert both.extra == {"active": [3, 2], "churned": [1, 0]}
    assert nobody.extra == {"active": [0, 0], "churned": [0, 0]}


def test_archived_customers_and_other_records_are_not_customers(csms, now):
    ann, _ben = csms
    customer("Kept", csm=ann.pk)
    record_archive(actor=SYSTEM, record=customer("Gone", csm=ann.pk))
    create("deals", at("2025-06-01"), name="Deal", csm=ann.pk)

    assert churn.compute(scope("2026-01-01", "2026-01-31")).extra == {"active": [1], "churned": [0]}


def test_archiving_a_churned_customer_takes_it_out_of_past_months_too(csms, now):
    ann, _ben = csms
    customer("Kept", csm=ann.pk)
    left = customer("Left", csm=ann.pk)
    churn_at(left, "2026-02-10")

    before = churn.compute(scope("2026-01-01", "2026-02-28")).extra
    record_archive(actor=SYSTEM, record=left)
    after = churn.compute(scope("2026-01-01", "2026-02-28")).extra

    assert before == {"active": [2, 2], "churned": [0, 1]}
    assert after == {"active": [1, 1], "churned": [0, 0]}


def test_a_history_row_inserted_directly_counts_like_a_write(csms, now):
    ann, _ben = csms
    imported = customer("Imported", csm=ann.pk)
    PropertyChange.objects.create(
        record=imported,
        property_name="cs_stage",
        old_value="active",
        new_value="churned",
        changed_at=at("2026-01-20"),
        source=ChangeSource.IMPORT,
    )

    data = churn.compute(scope("2026-01-01", "2026-02-28"))

    # The record still says "active": as of February its last change says "churned".
    assert data.extra == {"active": [1, 0], "churned": [1, 0]}


def test_queries_do_not_grow_with_the_customers(csms, now, django_assert_max_num_queries):
    ann, ben = csms
    for i in range(30):
        record = customer(f"C{i}", csm=(ann if i % 2 else ben).pk)
        if i % 3 == 0:
            churn_at(record, f"2026-0{1 + i % 5}-1{i % 9}")

    with django_assert_max_num_queries(QUERIES):
        data = churn.compute(scope("2026-01-01", "2026-06-15", csm_ids=(ann.pk,)))

    assert sum(data.extra["churned"]) == 5
