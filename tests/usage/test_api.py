"""Ingestion over HTTP (Segment paths and auth), usage and survey-response endpoints."""

import base64
import datetime as dt
import gzip
import json

import pytest
import time_machine
from django.test import Client

from tend.usage.models import DailyUsage, SurveyResponse, UsageEvent

from .conftest import track

NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def post(client, path, body, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


@pytest.mark.parametrize("path", ["/api/v1/ingest/batch", "/api/v1/ingest/v1/batch"])
def test_batch_with_basic_write_key_reports_each_message(segment, acme, path):
    body = {
        "batch": [
            track("m1", group="acme.example"),
            {"type": "track", "messageId": "m2", "userId": "u2"},
            track("m3", user="u3", group="zz"),
        ]
    }
    response = post(segment, path, body)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "accepted": 2,
        "duplicates": 0,
        "unmatched": 1,
        "errors": [{"index": 1, "messageId": "m2", "field": "event", "message": "A track call needs an event name."}],
    }
    again = post(segment, path, body).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert UsageEvent.objects.count() == 2


def test_gzip_body_as_segment_libraries_send(segment, acme):
    raw = gzip.compress(json.dumps({"batch": [track("g1", group="acme.example")]}).encode())
    response = segment.post(
        "/api/v1/ingest/v1/batch", raw, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.json()["accepted"] == 1


@pytest.mark.parametrize("kind", ["track", "identify", "group", "page", "screen"])
def test_single_call_endpoints(api, acme, kind):
    body = {"messageId": f"{kind}-1", "userId": "u1", "timestamp": "2026-03-12T10:00:00Z", "event": "Logged In",
            "groupId": "acme.example", "context": {"groupId": "acme.example"}}  # fmt: skip
    response = post(api, f"/api/v1/ingest/{kind}", body)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    assert UsageEvent.objects.get().kind == kind


def test_single_call_with_bad_message_is_a_422_problem(api):
    response = post(api, "/api/v1/ingest/track", {"messageId": "x", "userId": "u1"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "event", "message": "A track call needs an event name.", "code": "invalid"}
    ]
    assert UsageEvent.objects.count() == 0


def test_read_token_is_refused(api_client_for, csm, acme):
    _client = api_client_for(csm, write=False)
    response = post(_client, "/api/v1/ingest/batch", {"batch": [track("r1", group="acme.example")]})
    assert response.status_code == 403
    assert UsageEvent.objects.count() == 0


def test_unknown_write_key_is_401(db):
    bad = Client(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"tend_nope:").decode())
    assert post(bad, "/api/v1/ingest/batch", {"batch": []}).status_code == 401


def test_oversized_body_is_413_and_bad_json_422(api):
    response = api.post(
        "/api/v1/ingest/batch", b'{"batch": ["' + b"x" * 600_000 + b'"]}', content_type="application/json"
    )
    assert response.status_code == 413
    response = api.post("/api/v1/ingest/batch", b"{nope", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_account_usage(api, acme, django_assert_max_num_queries):
    post(api, "/api/v1/ingest/batch", {"batch": [track("a", group="acme.example", at="2026-03-11T10:00:00Z")]})
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/v1/accounts/{acme.pk}/usage?days=3")
    body = response.json()
    assert body["totals"] == [{"event": "Logged In", "count": 1}]
    assert body["series"] == [
        {"day": "2026-03-10", "events": 0, "activeUsers": 0},
        {"day": "2026-03-11", "events": 1, "activeUsers": 1},
        {"day": "2026-03-12", "events": 0, "activeUsers": 0},
    ]
    assert api.get(f"/api/v1/accounts/{acme.pk}/usage?days=0").status_code == 422
    assert api.get("/api/v1/accounts/999999/usage").status_code == 404
    assert DailyUsage.objects.count() == 1


def test_survey_responses_single_batch_and_list(api, jane, acme, django_assert_max_num_queries):
    response = post(api, "/api/v1/surveys/responses", {"email": "jane@acme.example", "score": 9, "externalId": "e1"})
    assert response.status_code == 201
    assert response.json()["results"][0]["accountId"] == acme.pk
    response = post(api, "/api/v1/surveys/responses", {"responses": [{"contactId": jane.pk, "score": 20}]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "responses[0].score"
    response = post(api, "/api/v1/surveys/responses", {"contactId": jane.pk})
    assert response.json()["errors"][0]["field"] == "score"
    post(api, "/api/v1/surveys/responses", {"responses": [{"contactId": jane.pk, "score": s} for s in (1, 2, 3)]})
    with django_assert_max_num_queries(4):
        page = api.get(f"/api/v1/surveys/responses?accountId={acme.pk}&limit=2").json()
    assert len(page["results"]) == 2
    rest = api.get(f"/api/v1/surveys/responses?accountId={acme.pk}&limit=2&after={page['paging']['next']['after']}")
    assert len(rest.json()["results"]) == 2
    assert SurveyResponse.objects.count() == 4


CSV = "email,score,comment,responded_at,external_id\njane@acme.example,9,great,2026-03-01T10:00:00Z,c1\n"


def test_csv_import_dry_run_then_real(api, jane, acme):
    response = api.post("/api/v1/surveys/responses/import?dry_run=true", CSV, content_type="text/csv")
    assert response.json() == {"rows": 1, "created": 1, "duplicates": 0, "dryRun": True, "errors": []}
    assert SurveyResponse.objects.count() == 0
    response = api.post("/api/v1/surveys/responses/import", CSV, content_type="text/csv")
    assert response.status_code == 201
    acme.refresh_from_db()
    assert acme.properties["nps"] == 9
    again = api.post("/api/v1/surveys/responses/import", CSV, content_type="text/csv").json()
    assert (again["created"], again["duplicates"]) == (0, 1)


def test_csv_import_is_atomic_with_row_errors(api, jane):
    data = CSV + "nobody@x.example,5,,,\njane@acme.example,eleven,,,\n"
    response = api.post("/api/v1/surveys/responses/import", data, content_type="text/csv")
    assert response.status_code == 422
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [
        (3, "email", "not_found"),
        (4, "score", "invalid"),
    ]
    assert SurveyResponse.objects.count() == 0


def test_csv_unknown_column(api):
    response = api.post("/api/v1/surveys/responses/import", "mail,score\n", content_type="text/csv")
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(1, "mail"), (1, "email")]
