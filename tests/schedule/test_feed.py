"""The calendar subscription feed (RFC 5545), parsed with the icalendar library."""

import datetime as dt
import zoneinfo

import time_machine
from icalendar import Calendar

from tend.core.policy import Actor
from tend.schedule import services
from tend.schedule.models import CalendarFeed

from .conftest import utc

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = utc(2026, 3, 20, 12)


def _feed_url(user) -> str:
    _feed, raw = services.calendar_feed_create(actor=Actor(user), name="Google")
    return f"/calendar/{raw}.ics"


def _parse(response) -> Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


@time_machine.travel(NOW, tick=False)
def test_feed_is_a_valid_calendar_with_every_item(client, make_user, make_meeting, make_task, acme):
    # given: a Berlin user with a meeting on each side of the spring DST change, an invitation,
    # tasks open and done, and items outside the window (60 days back, 365 ahead)
    berta = make_user("berta@example.com", "Europe/Berlin")
    other = make_user("otto@example.com", "UTC")
    qbr = make_meeting(
        berta,
        utc(2026, 3, 27, 9),
        utc(2026, 3, 27, 10),
        "QBR, Acme; part 1",
        records=[acme],
        meeting_url="https://meet.example.com/qbr",
        notes="Agenda:\n1. Numbers\n2. " + "Long text " * 20,
        attendees=["ana@example.com"],
    )
    invite = make_meeting(
        other,
        utc(2026, 3, 30, 7),
        utc(2026, 3, 30, 8),
        "Otto's sync",
        attendees=["berta@example.com"],
        location="Room 1",
        outcome="cancelled",
    )
    open_task = make_task(berta, utc(2026, 3, 29, 16), "Call Acme", records=[acme])
    done_task = make_task(berta, utc(2026, 3, 2, 8), "Send deck", status="completed")
    make_task(berta, utc(2026, 1, 10, 8), "Too old")  # 69 days back
    make_meeting(berta, utc(2027, 3, 30, 8), utc(2027, 3, 30, 9), "Too far")  # 375 days ahead
    make_task(other, utc(2026, 3, 29, 16), "Not hers")
    # when
    response = client.get(_feed_url(berta))
    # then
    calendar = _parse(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Tend//Tend Schedule//EN"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Tend: Berta"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert sorted(events) == sorted(
        [
            f"tend-meeting-{qbr.pk}@testserver",
            f"tend-meeting-{invite.pk}@testserver",
            f"tend-task-{open_task.pk}@testserver",
            f"tend-task-{done_task.pk}@testserver",
        ]
    )
    expected = {
        f"tend-meeting-{qbr.pk}@testserver": (
            "QBR, Acme; part 1",
            dt.datetime(2026, 3, 27, 10, tzinfo=BERLIN),
            dt.datetime(2026, 3, 27, 11, tzinfo=BERLIN),
        ),
        f"tend-meeting-{invite.pk}@testserver": (
            "Otto's sync",
            dt.datetime(2026, 3, 30, 9, tzinfo=BERLIN),
            dt.datetime(2026, 3, 30, 10, tzinfo=BERLIN),
        ),
        f"tend-task-{open_task.pk}@testserver": (
            "Task: Call Acme",
            dt.datetime(2026, 3, 29, 18, tzinfo=BERLIN),
            dt.datetime(2026, 3, 29, 18, 30, tzinfo=BERLIN),
        ),
        f"tend-task-{done_task.pk}@testserver": (
            "✓ Task: Send deck",
            dt.datetime(2026, 3, 2, 9, tzinfo=BERLIN),
            dt.datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN),
        ),
    }
    for uid, (summary, start, end) in expected.items():
        event = events[uid]
        assert str(event["SUMMARY"]) == summary
        assert event.DTSTART == start and event.DTEND == end
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event["DTEND"].params["TZID"] == "Europe/Berlin"
        assert event.DTSTART.utcoffset() == start.utcoffset()
        assert event["DTSTAMP"].dt == NOW
    meeting = events[f"tend-meeting-{qbr.pk}@testserver"]
    assert str(meeting["URL"]) == "https://meet.example.com/qbr"
    assert str(meeting["LOCATION"]) == "https://meet.example.com/qbr"
    assert str(meeting["STATUS"]) == "CONFIRMED"
    description = str(meeting["DESCRIPTION"])
    assert description.startswith(
        f"Join: https://meet.example.com/qbr\nAcme GmbH: http://testserver/records/companies/{acme.pk}/\n"
    )
    assert "Attendees: ana@example.com" in description and "1. Numbers" in description
    cancelled = events[f"tend-meeting-{invite.pk}@testserver"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and str(cancelled["LOCATION"]) == "Room 1"
    task = events[f"tend-task-{open_task.pk}@testserver"]
    assert str(task["TRANSP"]) == "TRANSPARENT"
    assert str(task["URL"]) == f"http://testserver/records/companies/{acme.pk}/"
    # escaping and folding as RFC 5545 wants: CRLF lines of at most 75 octets
    raw = response.content
    assert b"SUMMARY:QBR\\, Acme\\; part 1\r\n" in raw
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert raw.endswith(b"END:VCALENDAR\r\n")


@time_machine.travel(NOW, tick=False)
def test_feed_uids_are_stable_between_fetches(client, csm, make_meeting):
    meeting = make_meeting(csm, utc(2026, 3, 21, 9), utc(2026, 3, 21, 10), "Sync")
    url = _feed_url(csm)
    first = [str(e["UID"]) for e in _parse(client.get(url)).walk("VEVENT")]
    meeting.title = "Renamed"
    meeting.save()
    second = _parse(client.get(url)).walk("VEVENT")
    assert first == [str(e["UID"]) for e in second] == [f"tend-meeting-{meeting.pk}@testserver"]
    assert str(second[0]["SUMMARY"]) == "Renamed"


@time_machine.travel(NOW, tick=False)
def test_feed_in_utc_needs_no_vtimezone(client, csm, make_task):
    make_task(csm, utc(2026, 3, 21, 9), "Early")
    calendar = _parse(client.get(_feed_url(csm)))
    assert calendar.walk("VTIMEZONE") == []
    event = calendar.walk("VEVENT")[0]
    assert event.DTSTART == utc(2026, 3, 21, 9)
    assert str(calendar["X-WR-TIMEZONE"]) == "UTC"


@time_machine.travel(NOW, tick=False)
def test_feed_summaries_in_the_users_language(client, make_user, make_task):
    gio = make_user("gio@example.com", "Europe/Rome", language="it")
    make_task(gio, utc(2026, 3, 21, 9), "Chiamare")
    calendar = _parse(client.get(_feed_url(gio)))
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Rome"
    assert calendar.walk("VEVENT")[0].DTSTART == dt.datetime(2026, 3, 21, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Rome"))


def test_revoked_or_unknown_feed_is_404(client, csm):
    feed, raw = services.calendar_feed_create(actor=Actor(csm))
    assert client.get(f"/calendar/{raw}.ics").status_code == 200
    services.calendar_feed_revoke(actor=Actor(csm), feed_id=feed.pk)
    assert client.get(f"/calendar/{raw}.ics").status_code == 404
    assert client.get("/calendar/tendcal_nothing.ics").status_code == 404
    assert client.get("/calendar/whatever.ics").status_code == 404


def test_feed_notes_when_it_was_fetched_and_answers_head(client, csm):
    url = _feed_url(csm)
    with time_machine.travel(NOW, tick=False):
        assert client.head(url).status_code == 200
    assert CalendarFeed.objects.get().last_fetched_at == NOW


@time_machine.travel(NOW, tick=False)
def test_feed_query_count_is_bounded(client, csm, acme, make_meeting, make_task, django_assert_max_num_queries):
    for day in range(1, 40):
        make_meeting(csm, NOW + dt.timedelta(days=day), NOW + dt.timedelta(days=day, hours=1), records=[acme])
        make_task(csm, NOW - dt.timedelta(days=day), records=[acme])
    url = _feed_url(csm)
    with django_assert_max_num_queries(6):
        calendar = _parse(client.get(url))
    assert len(calendar.walk("VEVENT")) == 78
