"""POST /api/v1/tasks/bulk mirrors the bulk services; task writes through the API record history."""

import pytest

from tend.engagement.models import Task, TaskChange

from .conftest import make_task, make_tasks

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post("/api/v1/tasks/bulk", body, content_type="application/json")


def test_bulk_complete_by_ids(api, csm):
    a, b = make_task(csm, subject="a"), make_task(csm, subject="b")
    response = post(api, {"action": "complete", "ids": [a.pk, b.pk]})
    assert response.status_code == 200
    assert response.json() == {"changed": 2}
    assert Task.objects.completed().count() == 2


def test_bulk_by_filter_over_thousands_in_constant_queries(api, csm, admin, django_assert_max_num_queries):
    make_tasks(csm, 2000, prefix="Renewal")
    make_tasks(csm, 10, prefix="Other")
    body = {
        "action": "set_property",
        "property": "priority",
        "value": "high",
        "filter": {
            "filterGroups": [
                {"filters": [{"propertyName": "subject", "operator": "CONTAINS_TOKEN", "value": "renewal"}]}
            ]
        },
    }
    with django_assert_max_num_queries(12):
        response = post(api, body)
    assert response.json() == {"changed": 2000}
    assert Task.objects.filter(priority="high").count() == 2000
    assert TaskChange.objects.filter(property="priority", new_value="high").count() == 2000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "complete"}, "ids"),
        ({"action": "complete", "ids": [1], "filter": {}}, "ids"),
        ({"action": "melt", "ids": ["ID"]}, "action"),
        ({"action": "assign", "ids": ["ID"], "value": 999999}, "value"),
        ({"action": "set_property", "ids": ["ID"], "property": "status", "value": "done"}, "value"),
        ({"action": "complete", "ids": [999999]}, "ids[0]"),
    ],
)
def test_bulk_invalid_input_is_a_problem_naming_the_field(api, csm, body, field):
    task = make_task(csm)
    body = {**body, "ids": [task.pk if i == "ID" else i for i in body.get("ids", [])]} if "ids" in body else body
    response = post(api, body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert Task.objects.get(pk=task.pk).status == "not_started"
    assert TaskChange.objects.count() == 0


def test_read_token_cannot_bulk_change(api_client_for, csm):
    task = make_task(csm)
    response = post(api_client_for(csm, write=False), {"action": "complete", "ids": [task.pk]})
    assert response.status_code == 403
    assert Task.objects.get(pk=task.pk).status == "not_started"


def test_api_writes_record_history_with_source_api(api, csm):
    created = api.post("/api/v1/tasks", {"properties": {"subject": "Call"}}, content_type="application/json").json()
    api.patch(
        f"/api/v1/tasks/{created['id']}", {"properties": {"status": "completed"}}, content_type="application/json"
    )
    assert list(TaskChange.objects.order_by("id").values_list("property", "new_value", "source"))[:2] == [
        ("created", "Call", "api"),
        ("status", "completed", "api"),
    ]


def test_bulk_is_not_taken_for_a_task_id(api):
    # /tasks/{id} routes take whole numbers only, so /tasks/bulk is the bulk endpoint (POST only)
    assert api.get("/api/v1/tasks/bulk").status_code == 405
    assert api.get("/api/v1/tasks/abc").status_code == 404
