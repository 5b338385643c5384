"""POST / GET /api/v1/activities: batches idempotent by id, errors row by row, cursor paging."""

import datetime as dt
import json

import pytest
import time_machine

from tend.activity.models import Activity

NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def post(client, body):
    return client.post("/api/v1/activities", json.dumps(body), content_type="application/json")


def row(i, **extra):
    return {
        "id": f"a{i}",
        "type": "form_submitted",
        "contactEmail": "Jane@Acme.example",
        "occurredAt": "2026-03-11T09:00:00Z",
        "asset": {"name": "Trial form", "url": "https://acme.example/trial"},
        **extra,
    }


def test_a_batch_keeps_the_good_rows_reports_the_bad_ones_by_field_and_is_idempotent(api, jane, acme):
    body = {
        "activities": [
            row(1),
            row(2, type="Not A Type"),
            row(3, contactEmail="nobody@example.com"),
            row(4, type="webinar_attended", label="Attended a webinar", contactEmail=None, contactId=jane.pk),
            row(5, occurredAt="yesterday"),
            row(6, type="webinar_attended"),  # a custom type without its label
            row(1),  # the same id again within the batch
        ]
    }
    response = post(api, body)
    assert response.status_code == 201
    data = response.json()
    assert (data["accepted"], data["duplicates"]) == (2, 1)
    assert [(e["field"], e["code"]) for e in data["errors"]] == [
        ("activities[1].type", "invalid"),
        ("activities[2].contactEmail", "not_found"),
        ("activities[4].occurredAt", "invalid"),
        ("activities[5].label", "required"),
    ]
    assert [r["status"] for r in data["results"]] == [
        "accepted",
        "error",
        "error",
        "accepted",
        "error",
        "error",
        "duplicate",
    ]
    stored = {a.external_id: a for a in Activity.objects.all()}
    assert sorted(stored) == ["a1", "a4"]
    assert (stored["a1"].contact_id, stored["a1"].company_id, stored["a1"].source) == (jane.pk, acme.pk, "api")
    assert (stored["a1"].asset_name, stored["a1"].asset_url) == ("Trial form", "https://acme.example/trial")
    assert stored["a4"].type_label == "Attended a webinar"

    again = post(api, body).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert Activity.objects.count() == 2


def test_only_bad_rows_is_a_problem_document_naming_each_field(api, jane):
    response = post(api, {"activities": [row(1, contactEmail=None), row(2, asset="x")]})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["activities[0].contactId", "activities[1].asset"]
    assert Activity.objects.count() == 0


def test_the_batch_itself_must_be_a_list_of_at_most_1000(api, jane):
    assert post(api, {"activities": "x"}).json()["errors"][0]["field"] == "activities"
    too_many = post(api, {"activities": [row(i) for i in range(1001)]})
    assert (too_many.status_code, too_many.json()["errors"][0]["code"]) == (422, "too_many")
    assert post(api, {}).json()["errors"][0]["field"] == "activities"
    assert Activity.objects.count() == 0


def test_a_read_token_may_not_write(api_client_for, csm, jane):
    response = post(api_client_for(csm, write=False), {"activities": [row(1)]})
    assert response.status_code == 403
    assert Activity.objects.count() == 0


def test_list_newest_first_with_a_cursor_across_equal_times(api, jane, django_assert_max_num_queries):
    same = "2026-03-11T09:00:00Z"
    post(api, {"activities": [row(i, occurredAt=same) for i in range(5)] + [row(9, occurredAt="2026-03-10T09:00:00Z")]})
    seen, after = [], None
    for _page in range(4):
        with django_assert_max_num_queries(4):
            data = api.get("/api/v1/activities", {"limit": 2, **({"after": after} if after else {})}).json()
        seen += [r["id"] for r in data["results"]]
        after = data.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    assert seen == ["a4", "a3", "a2", "a1", "a0", "a9"]
    assert api.get("/api/v1/activities", {"after": "garbage!"}).json()["errors"][0]["field"] == "after"
    one = api.get("/api/v1/activities", {"contactId": jane.pk, "type": "form_submitted", "limit": 1}).json()
    assert one["results"][0]["contactId"] == jane.pk
