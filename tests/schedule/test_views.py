"""The Schedule tab: the events endpoint across time zones and DST, View as, summaries,
scheduling a meeting in the side panel, outcomes, and the subscriptions page."""

import json

import pytest
import time_machine
from django.urls import reverse

from tend.core.web import VIEW_AS_SESSION_KEY
from tend.engagement.models import Meeting
from tend.schedule.models import CalendarFeed

from .conftest import utc

EVENTS = "/schedule/events/"


def _events(client, **params):
    response = client.get(EVENTS, params)
    assert response.status_code == 200, response.content
    return response.json()


def _times(events):
    return [(e["title"], e["start"], e["end"]) for e in events]


# --------------------------------------------------------------------------- page


def test_schedule_page_renders_the_calendar_in_the_users_zone(client_for, make_user):
    berlin = make_user("berta@example.com", "Europe/Berlin")
    response = client_for(berlin).get("/schedule/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-tz="Europe/Berlin"' in html
    assert 'data-events-url="/schedule/events/"' in html
    assert '<option value="Asia/Tokyo">' in html
    assert "vendor/fullcalendar.min.js" in html and "vendor/fullcalendar-locales.min.js" in html
    assert 'data-can-schedule="true"' in html


def test_schedule_page_takes_a_chosen_zone_and_the_users_language(client_for, make_user):
    user = make_user("gio@example.com", "Europe/Rome", language="it")
    html = client_for(user).get("/schedule/", {"tz": "Asia/Tokyo"}).content.decode()
    assert 'data-tz="Asia/Tokyo"' in html and 'data-locale="it"' in html
    # an unknown zone falls back to the user's own
    html = client_for(user).get("/schedule/", {"tz": "Nowhere/Land"}).content.decode()
    assert 'data-tz="Europe/Rome"' in html


def test_schedule_page_needs_sign_in(client):
    response = client.get("/schedule/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --------------------------------------------------------------------------- events


def test_events_in_a_berlin_week_across_the_spring_dst_change(client_for, make_user, make_meeting, make_task, acme):
    # given: a Berlin user; 2026-03-29 02:00 CET becomes 03:00 CEST
    berta = make_user("berta@example.com", "Europe/Berlin")
    make_task(berta, utc(2026, 3, 22, 22, 30), "Sunday before, 23:30 CET")  # outside
    make_task(berta, utc(2026, 3, 22, 23, 30), "Monday 00:30 CET")  # still the 22nd in UTC
    make_meeting(berta, utc(2026, 3, 28, 9), utc(2026, 3, 28, 10), "Saturday 10:00 CET", records=[acme])
    make_meeting(berta, utc(2026, 3, 29, 9), utc(2026, 3, 29, 10), "Sunday 11:00 CEST")
    make_task(berta, utc(2026, 3, 29, 21, 59), "Sunday 23:59 CEST")
    make_task(berta, utc(2026, 3, 29, 22, 0), "Monday after, 00:00 CEST")  # outside
    # when: FullCalendar asks for the week in Berlin wall time
    events = _events(client_for(berta), start="2026-03-23T00:00:00", end="2026-03-30T00:00:00", tz="Europe/Berlin")
    # then
    assert _times(events) == [
        ("Monday 00:30 CET", "2026-03-23T00:30:00+01:00", "2026-03-23T01:00:00+01:00"),
        ("Saturday 10:00 CET", "2026-03-28T10:00:00+01:00", "2026-03-28T11:00:00+01:00"),
        ("Sunday 11:00 CEST", "2026-03-29T11:00:00+02:00", "2026-03-29T12:00:00+02:00"),
        ("Sunday 23:59 CEST", "2026-03-29T23:59:00+02:00", "2026-03-30T00:29:00+02:00"),
    ]
    meeting = events[1]
    assert meeting["classNames"] == ["tend-meeting"] and meeting["allDay"] is False
    assert meeting["extendedProps"]["kind"] == "meeting"
    assert meeting["extendedProps"]["summaryUrl"].startswith("/schedule/items/meeting/")


def test_events_in_a_new_york_week_across_the_autumn_dst_change(client_for, make_user, make_meeting):
    # given: on 2026-11-01 New York's 01:00-02:00 happens twice (EDT, then EST)
    nina = make_user("nina@example.com", "America/New_York")
    make_meeting(nina, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6), "First 01:30 (EDT)")
    make_meeting(nina, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7), "Second 01:30 (EST)")
    make_meeting(nina, utc(2026, 11, 8, 4, 30), utc(2026, 11, 8, 5), "Saturday 23:30 EST")
    make_meeting(nina, utc(2026, 11, 8, 5), utc(2026, 11, 8, 5, 30), "Next Sunday 00:00")  # outside
    # when: the week Sunday 1 to Sunday 8 November, in the user's zone (tz omitted)
    events = _events(client_for(nina), start="2026-11-01T00:00:00", end="2026-11-08T00:00:00")
    # then
    assert _times(events) == [
        ("First 01:30 (EDT)", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00"),  # 06:00Z is 01:00 EST
        ("Second 01:30 (EST)", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"),
        ("Saturday 23:30 EST", "2026-11-07T23:30:00-05:00", "2026-11-08T00:00:00-05:00"),
    ]


def test_events_same_data_for_tokyo_berlin_rome_new_york(client_for, make_user, make_meeting, make_task):
    # given: one meeting with four attendees in four zones, at 2026-06-15 23:30 UTC
    users = {
        "Asia/Tokyo": make_user("taro@example.com", "Asia/Tokyo"),
        "Europe/Berlin": make_user("berta@example.com", "Europe/Berlin"),
        "Europe/Rome": make_user("gio@example.com", "Europe/Rome"),
        "America/New_York": make_user("nina@example.com", "America/New_York"),
    }
    organiser = make_user("org@example.com", "UTC")
    emails = [u.email for u in users.values()]
    make_meeting(organiser, utc(2026, 6, 15, 23, 30), utc(2026, 6, 16, 0, 30), "Global sync", attendees=emails)
    for user in users.values():
        make_task(user, utc(2026, 6, 16, 14, 45), f"Task of {user.email}")
    # when: each asks for "16 June" in their own zone
    found = {
        zone: _times(_events(client_for(user), start="2026-06-16", end="2026-06-17")) for zone, user in users.items()
    }
    # then: the meeting is on the 16th in Tokyo, Berlin and Rome, on the 15th in New York
    assert found == {
        "Asia/Tokyo": [
            ("Global sync", "2026-06-16T08:30:00+09:00", "2026-06-16T09:30:00+09:00"),
            ("Task of taro@example.com", "2026-06-16T23:45:00+09:00", "2026-06-17T00:15:00+09:00"),
        ],
        "Europe/Berlin": [
            ("Global sync", "2026-06-16T01:30:00+02:00", "2026-06-16T02:30:00+02:00"),
            ("Task of berta@example.com", "2026-06-16T16:45:00+02:00", "2026-06-16T17:15:00+02:00"),
        ],
        "Europe/Rome": [
            ("Global sync", "2026-06-16T01:30:00+02:00", "2026-06-16T02:30:00+02:00"),
            ("Task of gio@example.com", "2026-06-16T16:45:00+02:00", "2026-06-16T17:15:00+02:00"),
        ],
        "America/New_York": [
            ("Task of nina@example.com", "2026-06-16T10:45:00-04:00", "2026-06-16T11:15:00-04:00"),
        ],
    }
    # and a chosen zone moves the times, not the data
    tokyo_in_ny = _events(client_for(users["Asia/Tokyo"]), start="2026-06-15", end="2026-06-17", tz="America/New_York")
    assert _times(tokyo_in_ny)[0] == ("Global sync", "2026-06-15T19:30:00-04:00", "2026-06-15T20:30:00-04:00")


def test_events_style_completed_tasks_and_cancelled_meetings(client_for, csm, make_meeting, make_task):
    make_task(csm, utc(2026, 5, 4, 9), "Done", status="completed")
    make_meeting(
        csm, utc(2026, 5, 4, 10), utc(2026, 5, 4, 11), "Off", outcome="cancelled", meeting_url="https://m.example.com/1"
    )
    events = _events(client_for(csm), start="2026-05-04", end="2026-05-05", tz="UTC")
    assert [(e["classNames"], e["extendedProps"]["done"]) for e in events] == [
        (["tend-task", "tend-done"], True),
        (["tend-meeting", "tend-cancelled"], False),
    ]
    assert events[1]["extendedProps"]["meetingUrl"] == "https://m.example.com/1"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-05-05"}, "start"),
        ({"start": "2026-05-04"}, "end"),
        ({"start": "2026-05-04", "end": "next week"}, "end"),
        ({"start": "2026-05-04", "end": "2026-05-03"}, "end"),
        ({"start": "2026-01-01", "end": "2026-12-31"}, "end"),
        ({"start": "2026-05-04", "end": "2026-05-05", "tz": "Europe/Atlantis"}, "tz"),
    ],
)
def test_events_reject_bad_parameters_with_the_field(client_for, csm, params, field):
    response = client_for(csm).get(EVENTS, params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


def test_events_query_count_does_not_grow(
    client_for, csm, acme, make_meeting, make_task, django_assert_max_num_queries
):
    for day in range(1, 29):
        make_meeting(
            csm, utc(2026, 2, day, 9), utc(2026, 2, day, 10), f"M{day}", records=[acme], attendees=["a@example.com"]
        )
        make_task(csm, utc(2026, 2, day, 11), f"T{day}", records=[acme])
    client = client_for(csm)
    client.get("/schedule/")  # the session and user are loaded once here; what follows is the endpoint
    with django_assert_max_num_queries(8):
        events = _events(client, start="2026-02-01", end="2026-03-01", tz="UTC")
    assert len(events) == 56


def test_view_as_shows_the_other_users_calendar(client_for, admin, csm, make_meeting):
    make_meeting(csm, utc(2026, 5, 4, 9), utc(2026, 5, 4, 10), "Casey's")
    make_meeting(admin, utc(2026, 5, 4, 11), utc(2026, 5, 4, 12), "Ada's")
    client = client_for(admin)
    assert [e["title"] for e in _events(client, start="2026-05-04", end="2026-05-05")] == ["Ada's"]
    # when
    session = client.session
    session[VIEW_AS_SESSION_KEY] = csm.pk
    session.save()
    # then
    assert [e["title"] for e in _events(client, start="2026-05-04", end="2026-05-05")] == ["Casey's"]
    html = client.get("/schedule/").content.decode()
    assert "Showing Casey CSM’s tasks and meetings." in html
    assert 'data-can-schedule="false"' in html


def test_view_as_cannot_schedule_for_the_other_user(client_for, admin, csm):
    client = client_for(admin)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = csm.pk
    session.save()
    response = client.post(
        "/schedule/meetings/new/", {"title": "x", "start": "2026-05-04T09:00", "end": "2026-05-04T10:00", "tz": "UTC"}
    )
    assert response.status_code == 403
    assert Meeting.objects.count() == 0


# --------------------------------------------------------------------------- summary


def test_meeting_summary_shows_time_in_the_chosen_zone_records_and_launch(client_for, csm, acme, make_meeting):
    meeting = make_meeting(
        csm,
        utc(2026, 3, 29, 8),
        utc(2026, 3, 29, 9),
        "QBR",
        records=[acme],
        meeting_url="https://meet.example.com/qbr",
        location="Room 4",
        notes="Bring the numbers",
        attendees=["ana@example.com"],
    )
    response = client_for(csm).get(f"/schedule/items/meeting/{meeting.pk}/", {"tz": "Asia/Tokyo"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "March 29, 2026, 5 p.m. – 6 p.m." in html and "(Asia/Tokyo)" in html
    assert (
        'href="https://meet.example.com/qbr" target="_blank" rel="noopener noreferrer" data-testid="launch-meeting"'
        in html
    )
    assert f'href="/records/companies/{acme.pk}/"' in html and "Acme GmbH" in html
    assert "Room 4" in html and "Bring the numbers" in html and "ana@example.com" in html
    assert 'data-testid="outcome-attended"' in html


def test_task_summary_and_unknown_items(client_for, csm, make_task, acme):
    task = make_task(csm, utc(2026, 5, 4, 9), "Call Acme", records=[acme], status="completed")
    html = client_for(csm).get(f"/schedule/items/task/{task.pk}/", {"tz": "Europe/Berlin"}).content.decode()
    assert "Due May 4, 2026, 11 a.m." in html and "Completed" in html and "Launch meeting" not in html
    assert client_for(csm).get("/schedule/items/task/999999/").status_code == 404
    assert client_for(csm).get(f"/schedule/items/note/{task.pk}/").status_code == 404


def test_record_outcome_from_the_summary(client_for, csm, make_meeting):
    meeting = make_meeting(csm, utc(2026, 5, 4, 9), utc(2026, 5, 4, 10))
    url = f"/schedule/meetings/{meeting.pk}/outcome/"
    response = client_for(csm).post(url, {"outcome": "attended", "tz": "UTC"})
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"tend:schedule-changed": {}}
    meeting.refresh_from_db()
    assert meeting.outcome == "attended"
    response = client_for(csm).post(url, {"outcome": "perhaps"})
    assert response.status_code == 422
    meeting.refresh_from_db()
    assert meeting.outcome == "attended"


# --------------------------------------------------------------------------- scheduling


def test_meeting_form_is_prefilled_from_a_calendar_selection(client_for, csm):
    client = client_for(csm)
    html = client.get(
        "/schedule/meetings/new/", {"start": "2026-05-04T09:30:00", "end": "2026-05-04T10:30:00", "tz": "Europe/Rome"}
    ).content.decode()
    assert 'value="2026-05-04T09:30"' in html and 'value="2026-05-04T10:30"' in html
    assert 'name="tz" value="Europe/Rome"' in html and "Times in Europe/Rome." in html
    # a whole-day selection (month view) starts at 09:00 for 30 minutes
    html = client.get("/schedule/meetings/new/", {"start": "2026-05-06", "end": "2026-05-07"}).content.decode()
    assert 'value="2026-05-06T09:00"' in html and 'value="2026-05-06T09:30"' in html


@time_machine.travel(utc(2026, 5, 4, 7, 20), tick=False)
def test_meeting_form_defaults_to_the_next_whole_hour(client_for, make_user):
    taro = make_user("taro@example.com", "Asia/Tokyo")
    html = client_for(taro).get("/schedule/meetings/new/").content.decode()
    assert 'value="2026-05-04T17:00"' in html and 'value="2026-05-04T17:30"' in html


def test_meeting_form_from_a_record_is_prefilled_with_it(client_for, csm, acme):
    html = client_for(csm).get("/schedule/meetings/new/", {"record": acme.pk}).content.decode()
    assert 'data-testid="record-picker"' in html
    assert f"id: '{acme.pk}', name: 'Acme GmbH'" in html


def test_schedule_a_meeting_from_the_panel(client_for, csm, acme):
    response = client_for(csm).post(
        "/schedule/meetings/new/",
        {
            "title": "Kick-off",
            "start": "2026-11-01T01:30",
            "end": "2026-11-01T02:30",
            "tz": "America/New_York",
            "attendees": "ana@example.com",
            "location": "",
            "meeting_url": "https://meet.example.com/k",
            "notes": "",
            "records": [str(acme.pk)],
        },
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"tend:schedule-changed": {}}
    meeting = Meeting.objects.get()
    # 01:30 on the DST-end day is read as the first (EDT) one
    assert (meeting.start_at, meeting.end_at) == (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7, 30))
    assert meeting.owner == csm and list(meeting.records.all()) == [acme]
    assert 'data-testid="schedule-summary"' in response.content.decode()


def test_schedule_a_meeting_with_errors_shows_them_at_the_fields(client_for, csm, acme):
    response = client_for(csm).post(
        "/schedule/meetings/new/",
        {
            "title": "Sync",
            "start": "2026-05-04T10:00",
            "end": "2026-05-04T11:00",
            "tz": "UTC",
            "attendees": "ana@example.com, nope",
            "meeting_url": "ftp://x",
            "records": [str(acme.pk)],
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="error-attendees"' in html and 'data-testid="error-meeting_url"' in html
    assert 'value="ana@example.com, nope"' in html and 'value="Sync"' in html
    assert f"id: '{acme.pk}', name: 'Acme GmbH'" in html  # the chosen record stays chosen
    assert Meeting.objects.count() == 0


def test_schedule_a_meeting_needs_a_seat(client_for, viewer):
    response = client_for(viewer).post(
        "/schedule/meetings/new/", {"title": "x", "start": "2026-05-04T09:00", "end": "2026-05-04T10:00"}
    )
    assert response.status_code == 403
    assert Meeting.objects.count() == 0
    html = client_for(viewer).get("/schedule/meetings/new/").content.decode()
    assert 'data-testid="meeting-read-only"' in html and 'data-testid="meeting-form"' not in html


# --------------------------------------------------------------------------- subscriptions


def test_create_a_subscription_shows_the_url_once(client_for, csm):
    client = client_for(csm)
    response = client.post("/schedule/subscriptions/", {"name": "Google"})
    assert response.status_code == 302
    html = client.get("/schedule/subscriptions/").content.decode()
    feed = CalendarFeed.objects.get()
    start = html.index('data-testid="new-feed-url"')
    assert "http://testserver/calendar/tendcal_" in html[start - 200 : start]
    assert "webcal://testserver/calendar/tendcal_" in html
    assert feed.prefix in html and "Google" in html
    # shown once: the next visit lists it without the secret
    html = client.get("/schedule/subscriptions/").content.decode()
    assert "/calendar/tendcal_" not in html and feed.prefix in html


@time_machine.travel(utc(2026, 5, 4, 7, 20), tick=False)
def test_revoke_a_subscription_from_the_page(client_for, csm, viewer):
    client_for(csm).post("/schedule/subscriptions/", {"name": "Phone"})
    feed = CalendarFeed.objects.get()
    assert client_for(viewer).post(f"/schedule/subscriptions/{feed.pk}/revoke/").status_code == 404
    assert client_for(csm).post(f"/schedule/subscriptions/{feed.pk}/revoke/").status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at == utc(2026, 5, 4, 7, 20)
    assert "Revoked" in client_for(csm).get(reverse("calendar-subscriptions")).content.decode()


def test_subscription_name_too_long_is_a_field_error(client_for, csm):
    response = client_for(csm).post("/schedule/subscriptions/", {"name": "x" * 121})
    assert response.status_code == 422
    assert "Use at most 120 characters." in response.content.decode()
    assert CalendarFeed.objects.count() == 0


def test_record_page_and_preview_offer_schedule_meeting(client_for, csm, viewer, acme):
    for url in (f"/records/companies/{acme.pk}/", f"/records/companies/{acme.pk}/preview/"):
        html = client_for(csm).get(url, HTTP_HX_REQUEST="true").content.decode()
        assert f'hx-get="/schedule/meetings/new/?record={acme.pk}"' in html
        # without a Service seat there is no button
        html = client_for(viewer).get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "schedule-meeting-from-record" not in html


def test_nav_has_the_schedule_tab_and_the_subscription_link(client_for, csm):
    html = client_for(csm).get("/schedule/").content.decode()
    assert '<a class="nav-link active fw-semibold" href="/schedule/">Schedule</a>' in html
    assert 'href="/schedule/subscriptions/">Calendar subscription</a>' in html
