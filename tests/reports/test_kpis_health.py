"""Health distribution and customers per CSM: the current scores of a profile (the default active
one or the scope's), statuses in the profile's order with the Customers tab's filters, each CSM's
book with MRR, average score and customers in the lowest band, bounded queries."""

import pytest

from tend.core.policy import SYSTEM, Actor
from tend.crm.services import record_archive
from tend.directory.services import user_create
from tend.health.definitions.statuses import status_schemes
from tend.reports.kpis import books, health

from ..health.conftest import activate
from .conftest import customer, scope, score

pytestmark = pytest.mark.django_db
QUERIES = 5  # the settings row (twice), the profile, the aggregate, the CSMs' names


@pytest.fixture
def manager(db):
    return Actor(
        user_create(email="mia@example.com", full_name="Mia Manager", manage_cs_settings=True, has_service_seat=True)
    )


@pytest.fixture
def scored(csms, manager, now):
    """The standard profile (three bands) scoring Ann's and Ben's customers."""
    ann, ben = csms
    standard = activate(manager, name="Standard")
    a, b = customer("A", csm=ann.pk, mrr=1000), customer("B", csm=ann.pk, mrr=500)
    c, d = customer("C", csm=ann.pk), customer("D", csm=ben.pk, mrr=200)
    e, f = customer("E", mrr=100), customer("F", csm=ben.pk, mrr=50)
    gone = customer("Gone", csm=ann.pk, mrr=900)
    lost = customer("Lost", csm=ann.pk, mrr=700, cs_stage="churned")  # in no book today
    score(lost, standard, 40, "neutral")
    score(a, standard, 80, "healthy")
    score(b, standard, 30, "at_risk")
    score(d, standard, 50, "neutral")
    score(e, standard, 75, "healthy")
    score(f, standard, None, "")  # no criterion with data
    score(gone, standard, 10, "at_risk")
    record_archive(actor=SYSTEM, record=gone)
    return {"standard": standard, "A": a, "B": b, "C": c, "D": d}


def test_customers_per_status_of_the_default_profile(scored, now):
    data = health.compute(scope("2026-01-01", "2026-06-15"))

    assert [(c.key, c.label) for c in data.categories] == [
        ("healthy", "Healthy"),
        ("neutral", "Neutral"),
        ("at_risk", "At risk"),
        ("", "No score"),
    ]
    assert data.series[0].values == [2, 1, 1, 2]  # C, never scored, and F, scored without data
    assert (data.value, data.chart, data.drill_url) == (6, "donut", "/customers/")
    current = {"propertyName": "cs_stage", "operator": "NEQ", "value": "churned"}
    assert [c.drill for c in data.categories] == [
        [{"propertyName": "health_status", "operator": "EQ", "value": "healthy"}, current],
        [{"propertyName": "health_status", "operator": "EQ", "value": "neutral"}, current],
        [{"propertyName": "health_status", "operator": "EQ", "value": "at_risk"}, current],
        [{"propertyName": "health_status", "operator": "NOT_HAS_PROPERTY"}, current],
    ]


def test_a_csms_customers_only(scored, csms, now):
    ann, _ben = csms

    data = health.compute(scope("2026-01-01", "2026-06-15", csm_ids=(ann.pk,)))

    assert [(c.key, v) for c, v in zip(data.categories, data.series[0].values, strict=True)] == [
        ("healthy", 1),
        ("at_risk", 1),
        ("", 1),
    ]


def test_another_profile_is_counted_but_not_drilled(scored, manager, now):
    second = activate(manager, name="Enterprise")
    score(scored["A"], second, 20, "at_risk")

    data = health.compute(scope("2026-01-01", "2026-06-15", profile_id=second.pk))

    assert [(c.key, c.drill) for c in data.categories] == [("at_risk", None), ("", None)]
    assert (data.series[0].values, data.drill_url) == ([1, 5], "")


def test_without_an_active_profile_it_says_so(csms, now):
    data = health.compute(scope("2026-01-01", "2026-06-15"))

    assert (data.categories, data.value, data.notes) == ([], None, ["No health profile is active."])


def test_books_per_csm(scored, csms, now):
    ann, ben = csms

    data = books.compute(scope("2026-01-01", "2026-06-15"))

    assert [(c.key, c.label) for c in data.categories] == [
        (str(ann.pk), "Ann Lee"),
        (str(ben.pk), "Ben Ito"),
        ("", "No CSM"),
    ]
    assert data.table() == (
        ["CSM", "Customers", "MRR", "Average health score", "At risk"],
        [["Ann Lee", 3, 1500.0, 55.0, 1], ["Ben Ito", 2, 250.0, 50.0, 0], ["No CSM", 1, 100.0, 75.0, 0]],
    )
    assert [s.format for s in data.series] == ["number", "currency", "number", "number"]
    assert (data.value, data.chart, data.currency) == (6, "table", "USD")
    current = {"propertyName": "cs_stage", "operator": "NEQ", "value": "churned"}
    assert data.categories[0].drill == [{"propertyName": "csm", "operator": "EQ", "value": ann.pk}, current]
    assert data.categories[2].drill == [{"propertyName": "csm", "operator": "NOT_HAS_PROPERTY"}, current]


def test_at_risk_is_the_profiles_lowest_band(csms, manager, now):
    ann, _ben = csms
    four = activate(manager, name="Four bands")
    version = four.active_version
    version.definition = {**version.definition, "statuses": status_schemes()["four"]}
    version.save()
    red, orange = customer("Red", csm=ann.pk), customer("Orange", csm=ann.pk)
    score(red, four, 10, "red")
    score(orange, four, 45, "orange")

    data = books.compute(scope("2026-01-01", "2026-06-15", csm_ids=(ann.pk,)))

    assert data.table()[1] == [["Ann Lee", 2, 0, 27.5, 1]]


def test_queries_do_not_grow_with_the_customers(scored, csms, now, django_assert_max_num_queries):
    ann, ben = csms
    for i in range(20):
        score(customer(f"C{i}", csm=(ann if i % 2 else ben).pk, mrr=10), scored["standard"], 60, "neutral")

    with django_assert_max_num_queries(QUERIES):
        distribution = health.compute(scope("2026-01-01", "2026-06-15"))
    with django_assert_max_num_queries(QUERIES):
        book = books.compute(scope("2026-01-01", "2026-06-15"))

    assert (distribution.value, book.value) == (26, 26)
