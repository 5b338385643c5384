"""Net and gross revenue retention from the MRR and CS stage history: expansion, contraction and
churned MRR per customer of the cohort, two changes in a month, a churn and return, the viewer's
zone, the book at the period's start, bounded queries."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm.services import record_archive
from tend.reports.kpis import revenue

from .conftest import TOKYO, at, customer, scope, update

pytestmark = pytest.mark.django_db
QUERIES = 5  # the settings row and the KPI's query (on PostgreSQL in a savepoint, after its settings)


def moves(*rows: tuple[float, float, float, float]) -> list[dict]:
    return [dict(zip(("start", "churned", "expansion", "contraction"), row, strict=True)) for row in rows]


@pytest.fixture
def accounts(csms):
    ann, _ben = csms
    p, q, r = (
        customer("P", csm=ann.pk, mrr=1000),
        customer("Q", csm=ann.pk, mrr=500),
        customer("R", csm=ann.pk, mrr=800),
    )
    t, u = customer("T", csm=ann.pk, mrr=600), customer("U", csm=ann.pk, mrr=1000)
    update(p, at("2026-02-05"), mrr=1200)
    update(p, at("2026-02-20"), mrr=1100)  # two changes in a month: +100 in all
    update(q, at("2026-02-10"), mrr=300)
    update(r, at("2026-02-15"), cs_stage="churned", mrr=0)  # churned MRR, not contraction
    update(t, at("2026-02-10"), cs_stage="churned")
    update(t, at("2026-02-25"), cs_stage="active")  # back before the month ends
    update(t, at("2026-02-26"), mrr=700)
    update(u, at("2026-02-03"), mrr=1500)
    update(u, at("2026-02-08"), mrr=1000)  # and back: no movement
    customer("S", created=at("2026-02-03"), csm=ann.pk, mrr=400)  # in March's cohort
    customer("No MRR", csm=ann.pk)


def test_nrr_and_grr_per_month(accounts, now):
    data = revenue.compute(scope("2026-01-01", "2026-03-31"))

    assert data.extra["movements"] == moves((3900, 0, 0, 0), (3900, 800, 200, 200), (3500, 0, 0, 0))
    assert [s.key for s in data.series] == ["nrr", "grr"]
    assert data.series[0].values == [1.0, 3100 / 3900, 1.0]
    assert data.series[1].values == [1.0, 2900 / 3900, 1.0]
    assert (data.value, data.previous, data.value_format, data.chart) == (1.0, 3100 / 3900, "percent", "line")


def test_a_month_without_customers_has_no_retention(accounts, now):
    data = revenue.compute(scope("2025-05-01", "2025-06-30"))

    assert data.series[0].values == [None, None]
    assert data.series[1].values == [None, None]


def test_per_quarter(accounts, now):
    data = revenue.compute(scope("2026-01-01", "2026-06-15", unit="quarter"))

    # Q1's cohort at 1 January; S joined in it. Q2 (not over) has had no change.
    assert data.extra["movements"] == moves((3900, 800, 200, 200), (3500, 0, 0, 0))
    assert (data.value, data.previous) == (3100 / 3900, None)


def test_months_are_the_viewers(csms, now):
    ann, _ben = csms
    grown = customer("Grown", csm=ann.pk, mrr=100)
    update(grown, at("2026-01-31T20:00"), mrr=150)  # 05:00 on 1 February in Tokyo

    utc = revenue.compute(scope("2026-01-01", "2026-02-28"))
    tokyo = revenue.compute(scope("2026-01-01", "2026-02-28", tz=TOKYO))

    assert utc.extra["movements"] == moves((100, 0, 50, 0), (150, 0, 0, 0))
    assert tokyo.extra["movements"] == moves((100, 0, 0, 0), (100, 0, 50, 0))


def test_a_reassigned_customer_stays_in_the_book_it_started_the_month_in(csms, now):
    ann, ben = csms
    moved = customer("Moved", csm=ann.pk, mrr=1000)
    customer("Ben's", csm=ben.pk, mrr=300)
    update(moved, at("2026-02-05"), csm=ben.pk)
    update(moved, at("2026-02-10"), mrr=2000)

    anns = revenue.compute(scope("2026-02-01", "2026-03-31", csm_ids=(ann.pk,)))
    bens = revenue.compute(scope("2026-02-01", "2026-03-31", csm_ids=(ben.pk,)))

    assert anns.extra["movements"] == moves((1000, 0, 1000, 0), (0, 0, 0, 0))
    assert anns.series[0].values == [2.0, None]
    assert bens.extra["movements"] == moves((300, 0, 0, 0), (2300, 0, 0, 0))


def test_a_customer_back_after_a_churn_rejoins_the_cohort_without_expansion(csms, now):
    ann, _ben = csms
    back = customer("Back", csm=ann.pk, mrr=500)
    update(back, at("2026-01-10"), cs_stage="churned", mrr=0)
    update(back, at("2026-03-05"), cs_stage="active", mrr=600)  # won back in March

    data = revenue.compute(scope("2026-01-01", "2026-04-30"))

    # January loses its 500; February and March start without it; April's cohort has its 600.
    assert data.extra["movements"] == moves((500, 500, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0), (600, 0, 0, 0))
    assert data.series[0].values == [0.0, None, None, 1.0]


def test_archived_customers_are_in_no_cohort(csms, now):
    ann, _ben = csms
    customer("Kept", csm=ann.pk, mrr=100)
    gone = customer("Gone", csm=ann.pk, mrr=300)
    update(gone, at("2026-02-10"), cs_stage="churned")
    record_archive(actor=SYSTEM, record=gone)

    data = revenue.compute(scope("2026-01-01", "2026-02-28"))

    assert data.extra["movements"] == moves((100, 0, 0, 0), (100, 0, 0, 0))


def test_queries_do_not_grow_with_the_customers(csms, now, django_assert_max_num_queries):
    ann, ben = csms
    for i in range(30):
        record = customer(f"C{i}", csm=(ann if i % 2 else ben).pk, mrr=100)
        update(record, at(f"2026-0{1 + i % 5}-1{i % 9}"), mrr=100 + i)

    with django_assert_max_num_queries(QUERIES):
        data = revenue.compute(scope("2026-01-01", "2026-06-15"))

    assert sum(m["expansion"] for m in data.extra["movements"]) == sum(range(30))
