"""/api/v1/schedule and /api/v1/calendar-feeds."""

import pytest
from django.test import Client

from tend.schedule.models import CalendarFeed

from .conftest import utc


def test_schedule_lists_the_token_users_items_in_their_zone(
    api_client_for, make_user, make_meeting, make_task, acme, django_assert_max_num_queries
):
    # given
    berta = make_user("berta@example.com", "Europe/Berlin")
    meeting = make_meeting(
        berta, utc(2026, 3, 29, 9), utc(2026, 3, 29, 10), "QBR", records=[acme], meeting_url="https://m.example.com/q"
    )
    task = make_task(berta, utc(2026, 3, 28, 9), "Prep", records=[acme])
    client = api_client_for(berta)
    # when
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/schedule", {"start": "2026-03-23", "end": "2026-03-30"})
    # then
    assert response.status_code == 200
    assert response.json() == {
        "timeZone": "Europe/Berlin",
        "results": [
            {
                "id": task.pk,
                "type": "tasks",
                "title": "Prep",
                "start": "2026-03-28T10:00:00+01:00",
                "end": "2026-03-28T10:30:00+01:00",
                "associations": [acme.pk],
                "notes": "",
                "status": "not_started",
                "completed": False,
            },
            {
                "id": meeting.pk,
                "type": "meetings",
                "title": "QBR",
                "start": "2026-03-29T11:00:00+02:00",
                "end": "2026-03-29T12:00:00+02:00",
                "associations": [acme.pk],
                "notes": "",
                "outcome": "scheduled",
                "location": "",
                "meetingUrl": "https://m.example.com/q",
                "attendees": [],
            },
        ],
    }
    in_tokyo = client.get("/api/v1/schedule", {"start": "2026-03-23", "end": "2026-03-30", "tz": "Asia/Tokyo"}).json()
    assert in_tokyo["timeZone"] == "Asia/Tokyo"
    assert [r["start"] for r in in_tokyo["results"]] == ["2026-03-28T18:00:00+09:00", "2026-03-29T18:00:00+09:00"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-23", "end": "2026-03-01"}, "end"),
        ({"start": "soon", "end": "2026-03-30"}, "start"),
        ({"start": "2026-03-23", "end": "2026-03-30", "tz": "Moon/Base"}, "tz"),
        ({"end": "2026-03-30"}, "start"),
    ],
)
def test_schedule_rejects_bad_parameters(api, params, field):
    response = api.get("/api/v1/schedule", params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_schedule_needs_authentication():
    response = Client().get("/api/v1/schedule", {"start": "2026-03-23", "end": "2026-03-30"})
    assert response.status_code == 401


def test_feed_create_list_and_revoke(api, csm, viewer, api_client_for):
    # when: create
    response = api.post("/api/v1/calendar-feeds", {"name": "Outlook"}, content_type="application/json")
    # then: the URL, shown once
    assert response.status_code == 201
    body = response.json()
    feed = CalendarFeed.objects.get()
    assert body["url"].startswith("http://testserver/calendar/tendcal_") and body["url"].endswith(".ics")
    assert body["name"] == "Outlook" and body["prefix"] == feed.prefix and body["active"] is True
    assert Client().get(body["url"].removeprefix("http://testserver")).status_code == 200
    # list: no secret
    listed = api.get("/api/v1/calendar-feeds").json()["results"]
    assert [(f["id"], f["name"], f["active"]) for f in listed] == [(feed.pk, "Outlook", True)]
    assert "url" not in listed[0]
    # another user sees none and cannot revoke it
    other = api_client_for(viewer)
    assert other.get("/api/v1/calendar-feeds").json() == {"results": []}
    assert other.delete(f"/api/v1/calendar-feeds/{feed.pk}").status_code == 404
    # revoke
    assert api.delete(f"/api/v1/calendar-feeds/{feed.pk}").status_code == 204
    assert Client().get(body["url"].removeprefix("http://testserver")).status_code == 404
    assert api.get("/api/v1/calendar-feeds").json()["results"][0]["active"] is False
    assert api.delete(f"/api/v1/calendar-feeds/{feed.pk}").status_code == 404


def test_read_only_token_cannot_create_or_revoke_feeds(api_client_for, csm):
    client = api_client_for(csm, write=False)
    response = client.post("/api/v1/calendar-feeds", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert CalendarFeed.objects.count() == 0
    assert client.get("/api/v1/calendar-feeds").status_code == 200


def test_feed_name_too_long(api):
    response = api.post("/api/v1/calendar-feeds", {"name": "x" * 200}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
    assert CalendarFeed.objects.count() == 0
