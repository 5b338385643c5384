"""/api/v1/reports: CRUD with problem documents naming the field, visibility, and the data endpoint."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.models import Team
from tend.directory.services import user_create
from tend.reports.models import Report

JSON = "application/json"
pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return user_create(email="mia@example.com", full_name="Mia Manager", has_service_seat=True, manage_cs_settings=True)


@pytest.fixture
def stages(db, csm):
    companies = ObjectType.objects.get(name="companies")
    for name, stage in (("A", "active"), ("B", "active"), ("C", "churned")):
        record_create(actor=SYSTEM, object_type=companies, properties={"name": name, "cs_stage": stage, "csm": csm.pk})


def test_create_read_update_and_archive(api, csm, stages):
    body = {"name": "By stage", "source": "companies", "definition": {"groupBy": "cs_stage"}, "chart": "donut"}
    created = api.post("/api/v1/reports", body, content_type=JSON)
    assert created.status_code == 201, created.content
    report = created.json()
    assert {k: report[k] for k in ("name", "source", "chart", "access", "ownerId", "kpi")} == {
        "name": "By stage",
        "source": "companies",
        "chart": "donut",
        "access": "private",
        "ownerId": csm.pk,
        "kpi": None,
    }
    data = api.get(f"/api/v1/reports/{report['id']}/data").json()
    assert [(c["key"], c["label"]) for c in data["categories"]] == [("active", "Active"), ("churned", "Churned")]
    assert data["series"][0]["values"] == [2, 1]
    assert data["categories"][1]["drill"] == [{"propertyName": "cs_stage", "operator": "EQ", "value": "churned"}]
    patched = api.patch(f"/api/v1/reports/{report['id']}", {"name": "Stages"}, content_type=JSON)
    assert patched.json()["name"] == "Stages"
    assert api.delete(f"/api/v1/reports/{report['id']}").status_code == 204
    assert api.get(f"/api/v1/reports/{report['id']}").status_code == 404


def test_a_bad_report_is_a_problem_document_naming_the_field(api):
    before = Report.objects.count()
    response = api.post(
        "/api/v1/reports",
        {
            "name": "X",
            "source": "companies",
            "definition": {"measure": {"type": "sum", "property": "name"}},
            "chart": "kpi",
        },
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["definition.measure.property"]
    assert (
        api.post("/api/v1/reports", {"name": "X", "colour": "red"}, content_type=JSON).json()["errors"][0]["field"]
        == "colour"
    )
    assert Report.objects.count() == before


def test_the_list_shows_what_the_caller_may_see_with_cursor_paging(api_client_for, csm, manager):
    team = Team.objects.create(name="East")
    team.members.add(csm)
    owner = api_client_for(manager)
    for i, access in enumerate(("private", "everyone", "teams")):
        body = {
            "name": f"R{i}",
            "source": "companies",
            "definition": {"groupBy": "cs_stage"},
            "chart": "bar",
            "access": access,
        }
        if access == "teams":
            body["teams"] = [team.pk]
        assert owner.post("/api/v1/reports", body, content_type=JSON).status_code == 201
    mine = api_client_for(csm)
    seen = [r["name"] for r in mine.get("/api/v1/reports?limit=200").json()["results"] if not r["builtIn"]]
    assert seen == ["R1", "R2"]
    first = mine.get("/api/v1/reports?limit=1").json()
    second = mine.get(f"/api/v1/reports?limit=1&after={first['paging']['next']['after']}").json()
    assert first["results"][0]["id"] < second["results"][0]["id"]
    private_id = Report.objects.get(name="R0").pk
    assert mine.get(f"/api/v1/reports/{private_id}/data").status_code == 404


def test_the_data_endpoint_takes_the_dashboard_filters(api, csm, stages):
    created = api.post(
        "/api/v1/reports",
        {"name": "S", "source": "companies", "definition": {"groupBy": "cs_stage"}, "chart": "bar"},
        content_type=JSON,
    ).json()
    other = user_create(email="o@example.com", has_service_seat=True)
    assert api.get(f"/api/v1/reports/{created['id']}/data?owner={other.pk}").json()["categories"] == []
    assert api.get(f"/api/v1/reports/{created['id']}/data?owner={csm.pk}").json()["series"][0]["values"] == [2, 1]
    bad = api.get(f"/api/v1/reports/{created['id']}/data?range=someday")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "range"
    custom = api.get(f"/api/v1/reports/{created['id']}/data?range=custom&start=2026-13-01&end=2026-01-01")
    assert custom.json()["errors"][0]["field"] == "start"
