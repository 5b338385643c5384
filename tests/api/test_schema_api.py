"""Object types, properties, pipelines, engagements and the directory through /api/v1."""

import datetime as dt

import pytest
from django.test import Client

from tend.crm.models import ObjectType, Pipeline, PropertyDefinition, Record, Stage
from tend.engagement.models import Meeting, Task

from .test_records_api import assert_problem, make_company, patch, post

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


class TestObjectTypes:
    def test_list_has_the_built_ins(self, api):
        names = [o["name"] for o in api.get("/api/v1/object-types").json()["results"]]
        assert names == ["companies", "contacts", "deals", "tickets", "services"]

    def test_admin_creates_a_custom_object_that_holds_records(self, admin_api):
        body = {"name": "subscriptions", "labelSingular": "Subscription", "labelPlural": "Subscriptions"}
        response = post(admin_api, "/api/v1/object-types", body)
        assert response.status_code == 201
        assert response.json() == {**body, "primaryProperty": "name", "builtIn": False}
        created = post(admin_api, "/api/v1/objects/subscriptions", {"properties": {"name": "Gold plan"}})
        assert created.status_code == 201
        assert created.json()["objectType"] == "subscriptions"

    def test_invalid_and_duplicate_names(self, admin_api):
        bad = post(admin_api, "/api/v1/object-types", {"name": "Bad Name", "labelSingular": "", "labelPlural": "X"})
        body = assert_problem(bad, 422)
        assert {e["field"] for e in body["errors"]} == {"name", "labelSingular"}
        dup = post(admin_api, "/api/v1/object-types", {"name": "companies", "labelSingular": "C", "labelPlural": "Cs"})
        assert_problem(dup, 422, "name")
        assert ObjectType.objects.count() == 5

    def test_csm_may_not_change_the_schema(self, api):
        body = {"name": "things", "labelSingular": "Thing", "labelPlural": "Things"}
        assert_problem(post(api, "/api/v1/object-types", body), 403)
        assert not ObjectType.objects.filter(name="things").exists()


class TestProperties:
    def test_list_includes_hot_columns_and_cs_properties(self, api):
        results = api.get("/api/v1/properties/companies").json()["results"]
        by_name = {p["name"]: p for p in results}
        assert by_name["owner"]["storage"] == "column"
        assert by_name["renewal_date"]["type"] == "date"
        assert [o["value"] for o in by_name["cs_stage"]["options"]] == ["onboarding", "active", "at_risk", "churned"]
        assert by_name["csm"]["type"] == "user"

    def test_create_update_and_archive(self, admin_api):
        body = {
            "name": "tier",
            "label": "Tier",
            "type": "enumeration",
            "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
            "group": "customer_success",
        }
        response = post(admin_api, "/api/v1/properties/companies", body)
        assert response.status_code == 201, response.content
        assert response.json()["options"] == body["options"]

        changed = patch(admin_api, "/api/v1/properties/companies/tier", {"label": "Service tier"})
        assert changed.json()["label"] == "Service tier"

        make_company("Acme", tier="gold")
        in_use = patch(admin_api, "/api/v1/properties/companies/tier", {"options": [{"value": "silver"}]})
        assert_problem(in_use, 422, "options")
        assert PropertyDefinition.objects.get(name="tier").options[0]["value"] == "gold"

        assert admin_api.delete("/api/v1/properties/companies/tier").status_code == 204
        names = [p["name"] for p in admin_api.get("/api/v1/properties/companies").json()["results"]]
        assert "tier" not in names
        assert_problem(admin_api.get("/api/v1/properties/companies/tier"), 404)

    def test_invalid_property_definitions(self, admin_api):
        bad = post(admin_api, "/api/v1/properties/companies", {"name": "2bad", "label": "X", "type": "colour"})
        body = assert_problem(bad, 422)
        assert {e["field"] for e in body["errors"]} == {"name", "type"}
        no_options = post(admin_api, "/api/v1/properties/companies", {"name": "t", "label": "T", "type": "enumeration"})
        assert_problem(no_options, 422, "options")
        reserved = post(admin_api, "/api/v1/properties/companies", {"name": "owner", "label": "O", "type": "text"})
        assert_problem(reserved, 422, "name")

    def test_built_in_properties_cannot_be_deleted(self, admin_api):
        assert_problem(admin_api.delete("/api/v1/properties/companies/mrr"), 422, "name")
        assert PropertyDefinition.objects.filter(name="mrr", archived_at__isnull=True).count() == 2


class TestPipelines:
    def test_list_services_pipelines(self, api):
        results = api.get("/api/v1/pipelines/services").json()["results"]
        assert [p["label"] for p in results] == ["Onboarding", "Maintenance"]
        onboarding = results[0]["stages"]
        assert [s["label"] for s in onboarding] == [
            "Kickoff prep",
            "Kickoff done",
            "Initial setup done",
            "Training done",
            "First value review",
            "Onboarding complete",
        ]
        assert onboarding[-1]["outcome"] == "complete"

    def test_create_pipeline_and_stages(self, admin_api):
        body = {
            "label": "Renewals",
            "stages": [
                {"label": "Upcoming", "probability": 0.5},
                {"label": "Renewed", "outcome": "won", "requiredProperties": ["amount"]},
            ],
        }
        response = post(admin_api, "/api/v1/pipelines/deals", body)
        assert response.status_code == 201, response.content
        pipeline = response.json()
        assert [(s["label"], s["outcome"], s["requiredProperties"]) for s in pipeline["stages"]] == [
            ("Upcoming", "open", []),
            ("Renewed", "won", ["amount"]),
        ]
        url = f"/api/v1/pipelines/deals/{pipeline['id']}/stages"
        added = post(admin_api, url, {"label": "Churned", "outcome": "lost"})
        assert added.status_code == 201
        renamed = patch(admin_api, f"{url}/{added.json()['id']}", {"label": "Lost"})
        assert renamed.json()["label"] == "Lost"
        assert admin_api.delete(f"{url}/{added.json()['id']}").status_code == 204
        assert Stage.objects.filter(pipeline_id=pipeline["id"]).count() == 2

    def test_invalid_pipeline_changes_nothing(self, admin_api):
        before = Pipeline.objects.count()
        body = {"label": "", "stages": [{"label": "A", "requiredProperties": ["nope"]}]}
        errors = assert_problem(post(admin_api, "/api/v1/pipelines/deals", body), 422)["errors"]
        assert {e["field"] for e in errors} == {"label", "stages[0].requiredProperties[0]"}
        assert Pipeline.objects.count() == before

    def test_stage_move_requires_its_properties(self, api):
        pipeline = Pipeline.objects.get(label="Sales pipeline")
        won = pipeline.stages.get(outcome="won")
        deal = post(api, "/api/v1/objects/deals", {"properties": {"name": "Big deal", "pipeline": pipeline.pk}}).json()
        assert deal["properties"]["stage"] == pipeline.stages.order_by("display_order").first().pk
        url = f"/api/v1/objects/deals/{deal['id']}"
        body = assert_problem(patch(api, url, {"properties": {"stage": won.pk}}), 422)
        assert {e["field"] for e in body["errors"]} == {"properties.amount", "properties.close_date"}
        moved = patch(api, url, {"properties": {"stage": won.pk, "amount": 5000, "close_date": "2026-11-20"}})
        assert moved.status_code == 200
        assert moved.json()["properties"]["stage"] == won.pk


class TestEngagements:
    def test_task_lifecycle(self, api, csm, time_machine):
        time_machine.move_to(NOW, tick=False)
        company = make_company("Acme")
        created = post(
            api,
            "/api/v1/tasks",
            {
                "properties": {"subject": "Kickoff call", "due_at": "2026-12-01T09:00:00+09:00", "priority": "high"},
                "associations": [company.pk],
            },
        )
        assert created.status_code == 201, created.content
        task = created.json()
        assert task["properties"]["due_at"] == "2026-12-01T00:00:00Z"
        assert task["properties"]["assignee"] == csm.pk
        assert task["associations"] == [company.pk]

        done = patch(api, f"/api/v1/tasks/{task['id']}", {"properties": {"status": "completed"}}).json()
        assert done["properties"]["completed_at"] == "2026-11-20T09:30:00Z"

        listed = api.get(f"/api/v1/tasks?associatedWith={company.pk}").json()["results"]
        assert [t["id"] for t in listed] == [task["id"]]

        found = post(
            api,
            "/api/v1/tasks/search",
            {"filterGroups": [{"filters": [{"propertyName": "status", "operator": "EQ", "value": "completed"}]}]},
        ).json()
        assert found["total"] == 1

        assert api.delete(f"/api/v1/tasks/{task['id']}").status_code == 204
        assert_problem(api.get(f"/api/v1/tasks/{task['id']}"), 404)
        assert Task.objects.get(pk=task["id"]).archived_at == NOW

    def test_invalid_meeting_changes_nothing(self, api):
        body = {
            "properties": {
                "title": "QBR",
                "start_at": "2026-12-01T10:00:00Z",
                "end_at": "2026-12-01T09:00:00Z",
                "meeting_url": "not a url",
                "attendees": ["ok@example.com", "broken"],
            },
            "associations": [123456],
        }
        errors = assert_problem(post(api, "/api/v1/meetings", body), 422)["errors"]
        assert {e["field"] for e in errors} == {
            "properties.end_at",
            "properties.meeting_url",
            "properties.attendees[1]",
            "associations[0]",
        }
        assert Meeting.objects.count() == 0

    def test_note_moves_last_activity(self, api, time_machine):
        time_machine.move_to(NOW, tick=False)
        company = make_company("Acme")
        assert (
            post(api, "/api/v1/notes", {"properties": {"body": "Great call"}, "associations": [company.pk]}).status_code
            == 201
        )
        assert Record.objects.get(pk=company.pk).last_activity_at == NOW

    def test_unknown_engagement_property(self, api):
        assert_problem(post(api, "/api/v1/calls", {"properties": {"mood": "happy"}}), 422, "properties.mood")


class TestDirectoryAndDocs:
    def test_me_users_and_teams(self, api, csm):
        assert api.get("/api/v1/users/me").json()["email"] == csm.email
        assert [u["email"] for u in api.get("/api/v1/users").json()["results"]] == [csm.email]
        assert api.get("/api/v1/teams").json() == {"results": []}
        assert_problem(api.get("/api/v1/users/999"), 404)

    def test_openapi_schema_and_docs_are_published(self):
        client = Client()
        schema = client.get("/api/v1/openapi.json").json()
        for path in (
            "/api/v1/objects/{object_type}/search",
            "/api/v1/objects/{object_type}/batch/create",
            "/api/v1/objects/{object_type}/merge",
            "/api/v1/pipelines/{object_type}",
            "/api/v1/tasks",
            "/api/v1/meetings/{item_id}",
        ):
            assert path in schema["paths"], path
        assert client.get("/api/v1/docs").status_code == 200

    def test_pages_content_type_is_json(self, api):
        response = api.get("/api/v1/object-types")
        assert response["Content-Type"].startswith("application/json")
        assert json_roundtrip(response) == response.json()


def json_roundtrip(response):
    import json

    return json.loads(response.content)
