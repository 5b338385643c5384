"""`health_score` / `health_status` are read from the score rows (crm.registry.DERIVED_COLUMNS):
filters, sorts, the record API and the tables see the current score without the recompute ever
writing the customer records."""

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.crm.models import Record
from tend.health.models import HealthScore
from tend.health.recompute.run import recompute

from .conftest import activate, make_company, nps
from .test_services import two_groups

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def scored(csm_actor, at_now):
    """Promoter (100, healthy), detractor (0 points on NPS: at risk) and an account without data."""
    promoter, detractor, silent = make_company("Promoter"), make_company("Detractor"), make_company("Silent")
    nps(promoter, 10, days_ago=2)
    nps(detractor, 2, days_ago=2)
    activate(csm_actor, two_groups())
    recompute()
    return promoter, detractor, silent


def search(api, filters=(), sorts=()):
    body = {"filterGroups": [{"filters": list(filters)}] if filters else [], "sorts": list(sorts), "limit": 100}
    response = api.post("/api/v1/objects/companies/search", body, content_type=JSON)
    assert response.status_code == 200, response.content
    return response.json()


def names(result) -> list[str]:
    return [r["properties"]["name"] for r in result["results"]]


def test_filters_and_sorts_read_the_score_rows(api, scored):
    promoter, detractor, silent = scored
    statuses = dict(HealthScore.objects.values_list("record__name", "status"))
    assert statuses["Promoter"] == "healthy" and statuses["Detractor"] != "healthy"

    healthy = search(api, [{"propertyName": "health_status", "operator": "EQ", "value": "healthy"}])
    assert names(healthy) == ["Promoter"]
    # "is not" also matches the records without a value, as for every property
    not_healthy = search(api, [{"propertyName": "health_status", "operator": "NEQ", "value": "healthy"}])
    assert sorted(names(not_healthy)) == ["Detractor", "Silent"]
    low = search(api, [{"propertyName": "health_score", "operator": "LT", "value": 50}])
    assert names(low) == ["Detractor"]
    unscored = search(api, [{"propertyName": "health_score", "operator": "NOT_HAS_PROPERTY"}])
    assert names(unscored) == ["Silent"]

    by_score = search(api, sorts=[{"propertyName": "health_score", "direction": "DESCENDING"}])
    assert names(by_score) == ["Promoter", "Detractor", "Silent"]  # no score last
    assert by_score["total"] == 3  # one row per record: the join does not repeat any
    first = by_score["results"][0]["properties"]
    assert (first["health_score"], first["health_status"]) == (100.0, "healthy")


def test_the_record_api_reads_the_current_score_and_refuses_writes(api, scored):
    promoter, _detractor, silent = scored

    body = api.get(f"/api/v1/objects/companies/{promoter.pk}").json()
    assert (body["properties"]["health_score"], body["properties"]["health_status"]) == (100.0, "healthy")
    assert "health_score" not in api.get(f"/api/v1/objects/companies/{silent.pk}").json()["properties"]

    refused = api.patch(
        f"/api/v1/objects/companies/{promoter.pk}", {"properties": {"health_score": 5}}, content_type=JSON
    )
    assert refused.status_code == 422
    assert HealthScore.objects.get(record=promoter).score == 100.0


def test_recompute_leaves_the_customer_records_alone(scored):
    promoter, *_ = scored
    promoter.refresh_from_db()
    assert "health_score" not in promoter.properties and "health_status" not in promoter.properties


def test_the_schema_names_them_derived(api):
    props = {p["name"]: p for p in api.get("/api/v1/properties/companies").json()["results"]}
    assert props["health_score"]["storage"] == props["health_status"]["storage"] == "derived"
    assert props["health_score"]["readOnly"] is True


def test_a_page_of_records_reads_all_their_scores_in_one_query(api, scored):
    for i in range(10):
        company = make_company(f"More {i}")
        HealthScore.objects.create(
            record=company,
            profile_id=HealthScore.objects.first().profile_id,
            version_id=HealthScore.objects.first().version_id,
            score=50,
            status="neutral",
            computed_at=company.created_at,
        )
    body = {"properties": ["name", "health_score", "health_status"], "limit": 100}
    with CaptureQueriesContext(connection) as few:
        api.post("/api/v1/objects/companies/search", {**body, "limit": 3}, content_type=JSON)
    with CaptureQueriesContext(connection) as many:
        result = api.post("/api/v1/objects/companies/search", body, content_type=JSON).json()
    assert len(result["results"]) == 13
    assert len(many) <= len(few)  # the same queries (a short page also counts the total)


def test_the_migration_removes_the_copies_earlier_recomputes_wrote(at_now):
    stale = make_company("Old", mrr=5)
    Record.objects.filter(pk=stale.pk).update(properties={"health_score": 80.0, "health_status": "healthy", "mrr": 5})
    module = __import__("tend.health.migrations.0005_health_properties_from_scores", fromlist=["remove_copies"])
    module.remove_copies(apps, SimpleNamespace(connection=connection))  # it only uses the connection
    stale.refresh_from_db()
    assert stale.properties == {"mrr": 5}
