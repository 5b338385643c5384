"""The Schedule tab in a real browser: switch calendar views, change the time zone (times move),
hide weekends (remembered), open a meeting summary with Launch meeting, and schedule a meeting by
selecting a time on the calendar."""

import datetime as dt
import zoneinfo

import pytest
from playwright.sync_api import expect

from tend.core import clock
from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.kinds import KINDS
from tend.engagement.models import Meeting
from tend.engagement.services import engagement_create

pytestmark = pytest.mark.django_db(transaction=True)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def _at(day: dt.date, hour: int, tz=BERLIN) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


def _hm(value: dt.datetime, tz) -> str:
    return value.astimezone(tz).strftime("%H:%M")


def test_calendar_views_time_zone_weekends_summary_and_scheduling(new_page):
    # given: a Berlin CSM with a meeting on this week's Wednesday and a task on its Saturday
    # (FullCalendar's English weeks start on Sunday)
    csm = user_create(
        email="csm@example.com",
        password="pw-123456789",
        full_name="Casey CSM",
        has_service_seat=True,
        time_zone="Europe/Berlin",
    )
    acme = record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name="companies"), properties={"name": "Acme"}, source="system"
    )
    today = clock.today(BERLIN)
    sunday = today - dt.timedelta(days=(today.weekday() + 1) % 7)
    wednesday, thursday, saturday = (sunday + dt.timedelta(days=n) for n in (3, 4, 6))
    start, end = _at(wednesday, 10), _at(wednesday, 11)
    engagement_create(
        actor=SYSTEM,
        kind=KINDS["meetings"],
        properties={
            "title": "Acme QBR",
            "start_at": start.isoformat(),
            "end_at": end.isoformat(),
            "owner": csm.pk,
            "meeting_url": "https://meet.example.com/acme-qbr",
            "location": "Room 4",
        },
        associations=[acme.pk],
    )
    engagement_create(
        actor=SYSTEM,
        kind=KINDS["tasks"],
        properties={"subject": "Weekend follow-up", "due_at": _at(saturday, 9).isoformat(), "assignee": csm.pk},
    )

    page = new_page(csm)
    page.goto("/schedule/")
    calendar = page.get_by_test_id("calendar")
    meeting = calendar.get_by_test_id("calendar-event").filter(has_text="Acme QBR")
    task = calendar.get_by_test_id("calendar-event").filter(has_text="Weekend follow-up")

    # the week view, in Berlin time
    expect(page.locator(".fc-timeGridWeek-view")).to_be_visible()
    expect(meeting).to_contain_text(f"{_hm(start, BERLIN)} - {_hm(end, BERLIN)}")
    expect(task).to_be_visible()

    # views: month, day, week
    page.locator(".fc-dayGridMonth-button").click()
    expect(page.locator(".fc-dayGridMonth-view")).to_be_visible()
    expect(meeting).to_be_visible()
    page.locator(".fc-timeGridDay-button").click()
    expect(page.locator(".fc-timeGridDay-view")).to_be_visible()
    expect(page.get_by_test_id("schedule-hide-weekends")).to_be_disabled()
    page.locator(".fc-timeGridWeek-button").click()
    expect(page.locator(".fc-timeGridWeek-view")).to_be_visible()
    expect(page.get_by_test_id("schedule-hide-weekends")).to_be_enabled()

    # time zone: the same meeting moves to Tokyo time
    zone = page.get_by_test_id("schedule-tz")
    zone.fill("Asia/Tokyo")
    zone.press("Enter")
    expect(meeting).to_contain_text(f"{_hm(start, TOKYO)} - {_hm(end, TOKYO)}")
    assert "tz=Asia%2FTokyo" in page.url or "tz=Asia/Tokyo" in page.url
    zone.fill("Mars/Olympus")
    zone.press("Enter")
    expect(page.get_by_test_id("schedule-tz-error")).to_be_visible()
    zone.fill("Asia/Tokyo")
    zone.press("Enter")
    expect(page.get_by_test_id("schedule-tz-error")).to_be_hidden()

    # hide weekends: five day columns, the Saturday task gone; remembered after a reload
    expect(page.locator(".fc-col-header-cell")).to_have_count(7)
    page.get_by_test_id("schedule-hide-weekends").check()
    expect(page.locator(".fc-col-header-cell")).to_have_count(5)
    expect(task).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("schedule-hide-weekends")).to_be_checked()
    expect(page.locator(".fc-col-header-cell")).to_have_count(5)
    expect(meeting).to_contain_text(f"{_hm(start, TOKYO)} - {_hm(end, TOKYO)}")  # the zone stays in the URL

    # a meeting's summary: time in the chosen zone, its record, Launch meeting
    meeting.click()
    summary = page.get_by_test_id("schedule-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_test_id("summary-time")).to_contain_text("(Asia/Tokyo)")
    expect(summary.get_by_test_id("summary-record-link")).to_have_text("Acme")
    launch = summary.get_by_test_id("launch-meeting")
    expect(launch).to_have_attribute("href", "https://meet.example.com/acme-qbr")
    expect(launch).to_have_attribute("target", "_blank")
    summary.get_by_test_id("outcome-attended").click()
    expect(summary.get_by_test_id("summary-outcome")).to_have_text("Attended")
    page.locator("#side-panel .btn-close").first.click()
    expect(page.locator("#side-panel")).to_be_hidden()

    # schedule a meeting by selecting Thursday 14:00 (Tokyo) on the calendar
    column = page.locator(f'.fc-timegrid-col[data-date="{thursday.isoformat()}"]')
    slot = page.locator('.fc-timegrid-slot-lane[data-time="14:00:00"]')
    slot.scroll_into_view_if_needed()
    col_box, slot_box = column.bounding_box(), slot.bounding_box()
    page.mouse.click(col_box["x"] + col_box["width"] / 2, slot_box["y"] + slot_box["height"] / 2)
    form = page.get_by_test_id("meeting-form")
    expect(form).to_be_visible()
    expect(form.get_by_test_id("meeting-start")).to_have_value(f"{thursday.isoformat()}T14:00")
    expect(form.get_by_test_id("meeting-end")).to_have_value(f"{thursday.isoformat()}T14:30")
    # a bad attendee first: the error is at the field and nothing is saved
    form.get_by_test_id("meeting-title").fill("Onboarding call")
    form.get_by_test_id("meeting-attendees").fill("ana@example.com, not-an-email")
    form.get_by_test_id("meeting-save").click()
    expect(page.get_by_test_id("error-attendees")).to_be_visible()
    assert Meeting.objects.filter(title="Onboarding call").count() == 0
    page.get_by_test_id("meeting-attendees").fill("ana@example.com")
    page.get_by_test_id("meeting-save").click()
    expect(page.get_by_test_id("schedule-summary")).to_contain_text("Onboarding call")
    created = Meeting.objects.get(title="Onboarding call")
    assert created.start_at == _at(thursday, 14, TOKYO) and created.attendees == ["ana@example.com"]
    # the calendar shows it without a reload
    expect(calendar.get_by_test_id("calendar-event").filter(has_text="Onboarding call")).to_contain_text(
        "14:00 - 14:30"
    )


def test_calendar_speaks_the_users_language(new_page):
    # given: a Japanese-speaking CSM in Tokyo with a meeting today at 15:00 Tokyo time
    csm = user_create(
        email="ja@example.com",
        password="pw-123456789",
        full_name="Taro",
        has_service_seat=True,
        language="ja",
        time_zone="Asia/Tokyo",
    )
    start = _at(clock.today(TOKYO), 15, TOKYO)
    engagement_create(
        actor=SYSTEM,
        kind=KINDS["meetings"],
        properties={
            "title": "定例",
            "start_at": start.isoformat(),
            "end_at": (start + dt.timedelta(hours=1)).isoformat(),
            "owner": csm.pk,
        },
    )
    page = new_page(csm, locale="ja-JP")
    page.goto("/schedule/")
    # then: FullCalendar's own labels are Japanese, and the page's are translated or at least present
    expect(page.locator(".fc-today-button")).to_have_text("今日")
    expect(page.locator(".fc-dayGridMonth-button")).to_have_text("月")
    page.locator(".fc-timeGridDay-button").click()
    expect(page.get_by_test_id("calendar-event").filter(has_text="定例")).to_contain_text("15:00 - 16:00")


def test_a_half_hour_meeting_shows_its_title_in_the_week_view(new_page):
    # given: a 30-minute meeting with a long title on this week's Wednesday
    csm = user_create(
        email="csm@example.com",
        password="pw-123456789",
        full_name="Casey CSM",
        has_service_seat=True,
        time_zone="Europe/Berlin",
    )
    today = clock.today(BERLIN)
    wednesday = today - dt.timedelta(days=(today.weekday() + 1) % 7) + dt.timedelta(days=3)
    start = _at(wednesday, 9)
    title = "Globex onboarding kickoff with the whole project team"
    engagement_create(
        actor=SYSTEM,
        kind=KINDS["meetings"],
        properties={
            "title": title,
            "start_at": start.isoformat(),
            "end_at": (start + dt.timedelta(minutes=30)).isoformat(),
            "owner": csm.pk,
        },
        source="system",
    )
    # when: the week view opens
    page = new_page(csm)
    page.goto("/schedule/")
    event = page.get_by_test_id("calendar-event").filter(has_text="Globex")
    expect(event).to_have_attribute("title", title)
    # then: the title's start is on the event's one line, inside the event's box
    name = event.locator(".fc-event-title")
    expect(name).to_be_visible()
    box, inside = event.bounding_box(), name.bounding_box()
    assert inside["width"] > 40
    assert box["y"] <= inside["y"] and inside["y"] + inside["height"] <= box["y"] + box["height"] + 1
    assert name.evaluate("el => el.scrollHeight <= el.clientHeight + 1")  # not wrapped out of sight
