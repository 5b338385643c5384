"""Schedule reads (the calendar's items in a window) and writes (meetings, outcomes, feeds)."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from tend.core.errors import Forbidden, NotFound, ValidationFailed
from tend.core.policy import SYSTEM, Actor, Scope
from tend.engagement.kinds import KINDS
from tend.engagement.models import Meeting
from tend.engagement.services import engagement_update
from tend.schedule import queries, services
from tend.schedule.models import CalendarFeed

from .conftest import utc

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _keys(items):
    return [i.key for i in items]


def test_items_are_the_users_tasks_and_meetings_owned_or_attended(
    csm, viewer, make_meeting, make_task, django_assert_max_num_queries
):
    # given: csm's own meeting, viewer's meeting inviting csm, one inviting a look-alike address, tasks of both
    own = make_meeting(csm, utc(2026, 5, 4, 9), utc(2026, 5, 4, 10), "Own")
    invited = make_meeting(viewer, utc(2026, 5, 5, 9), utc(2026, 5, 5, 10), "Invited", attendees=["CSM@example.com"])
    make_meeting(viewer, utc(2026, 5, 5, 11), utc(2026, 5, 5, 12), "Look-alike", attendees=["xcsm@example.com"])
    task = make_task(csm, utc(2026, 5, 6, 8), "Call Acme")
    make_task(viewer, utc(2026, 5, 6, 8), "Not mine")
    make_task(csm, None, "No due time")
    # when
    with django_assert_max_num_queries(4):
        items = queries.schedule_items(csm, user=csm, start=utc(2026, 5, 4), end=utc(2026, 5, 11))
        # then (records prefetched: reading them costs nothing more)
        assert all(i.records == [] for i in items)
    assert _keys(items) == [f"meeting-{own.pk}", f"meeting-{invited.pk}", f"task-{task.pk}"]
    assert items[2].end - items[2].start == queries.TASK_DURATION


def test_an_invitation_taken_off_the_list_leaves_the_schedule(csm, viewer, make_meeting):
    # given viewer's meeting inviting csm
    meeting = make_meeting(viewer, utc(2026, 5, 5, 9), utc(2026, 5, 5, 10), "Invited", attendees=["csm@example.com"])
    window = {"start": utc(2026, 5, 4), "end": utc(2026, 5, 11)}
    assert _keys(queries.schedule_items(csm, user=csm, **window)) == [f"meeting-{meeting.pk}"]
    # when the list no longer holds csm, then it is off csm's schedule and still on viewer's
    engagement_update(actor=SYSTEM, kind=KINDS["meetings"], engagement=meeting, properties={"attendees": ["a@b.com"]})
    assert _keys(queries.schedule_items(csm, user=csm, **window)) == []
    assert _keys(queries.schedule_items(viewer, user=viewer, **window)) == [f"meeting-{meeting.pk}"]


def test_window_bounds_are_half_open_and_meetings_overlapping_count(csm, make_meeting, make_task):
    # given
    before = make_meeting(csm, utc(2026, 5, 3, 23), utc(2026, 5, 4, 0), "Ends at the start")
    across = make_meeting(csm, utc(2026, 5, 3, 23), utc(2026, 5, 4, 1), "Across the start")
    at_end = make_meeting(csm, utc(2026, 5, 5), utc(2026, 5, 5, 1), "Starts at the end")
    zero = make_meeting(csm, utc(2026, 5, 4), utc(2026, 5, 4), "Zero length at the start")
    first = make_task(csm, utc(2026, 5, 4), "Due at the start")
    make_task(csm, utc(2026, 5, 5), "Due at the end")
    # when
    items = queries.schedule_items(csm, user=csm, start=utc(2026, 5, 4), end=utc(2026, 5, 5))
    # then
    assert _keys(items) == [f"meeting-{across.pk}", f"meeting-{zero.pk}", f"task-{first.pk}"]
    assert before.pk and at_end.pk


def test_archived_items_are_not_on_the_calendar(csm, make_meeting, make_task):
    meeting = make_meeting(csm, utc(2026, 5, 4, 9), utc(2026, 5, 4, 10))
    task = make_task(csm, utc(2026, 5, 4, 9))
    Meeting.objects.filter(pk=meeting.pk).update(archived_at=utc(2026, 5, 1))
    task.archived_at = utc(2026, 5, 1)
    task.save()
    assert queries.schedule_items(csm, user=csm, start=utc(2026, 5, 4), end=utc(2026, 5, 5)) == []


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("", "2026-05-02", "start", "start is required."),
        ("2026-05-02", "yesterday", "end", None),
        ("2026-05-02", "2026-05-01", "end", "end must be after start."),
        ("2026-01-01", "2026-06-01", "end", "Ask for at most 100 days at a time."),
    ],
)
def test_window_validation_names_the_field(start, end, field, message):
    with pytest.raises(ValidationFailed) as caught:
        queries.parse_window(start, end, BERLIN)
    assert caught.value.errors[0].field == field
    if message:
        assert caught.value.errors[0].message == message


def test_window_wall_times_are_read_in_the_zone_and_offsets_are_kept():
    start, end = queries.parse_window("2026-03-29T00:00:00", "2026-03-30T00:00:00", BERLIN)
    assert start == utc(2026, 3, 28, 23) and end == utc(2026, 3, 29, 22)  # a 23-hour day
    start, end = queries.parse_window("2026-03-29T00:00:00Z", "2026-03-29T07:00:00 05:00", BERLIN)
    assert start == utc(2026, 3, 29) and end == utc(2026, 3, 29, 2)  # "+05:00" arrives as " 05:00" in a query


def test_unknown_zone_is_a_field_error():
    with pytest.raises(ValidationFailed) as caught:
        queries.parse_zone("Mars/Olympus", default=BERLIN)
    assert caught.value.errors[0].field == "tz"
    assert queries.parse_zone("", default=BERLIN) is BERLIN


def test_nearest_keeps_the_items_closest_to_now_in_time_order(csm, make_meeting, make_task):
    # given: items 5 days back, 1 day back, 2 hours ahead, 2 days ahead, 30 days ahead
    now = utc(2026, 5, 10, 12)
    back5 = make_task(csm, now - dt.timedelta(days=5), "back 5")
    make_meeting(csm, now - dt.timedelta(days=1), now - dt.timedelta(days=1) + dt.timedelta(hours=1), "back 1")
    make_task(csm, now + dt.timedelta(hours=2), "ahead 2h")
    make_meeting(csm, now + dt.timedelta(days=2), now + dt.timedelta(days=2, hours=1), "ahead 2")
    make_task(csm, now + dt.timedelta(days=30), "ahead 30")
    items = queries.schedule_items(csm, user=csm, start=now - dt.timedelta(days=60), end=now + dt.timedelta(days=60))
    # when / then
    assert [i.title for i in queries.nearest(items, now=now, limit=3)] == ["back 1", "ahead 2h", "ahead 2"]
    assert [i.title for i in queries.nearest(items, now=now, limit=5)][0] == back5.subject


# --------------------------------------------------------------------------- meetings


def test_meeting_schedule_reads_wall_times_in_the_zone(csm_actor, csm, acme):
    # when
    meeting = services.meeting_schedule(
        actor=csm_actor,
        tz=BERLIN,
        title="  QBR  ",
        start="2026-03-29T10:00",
        end="2026-03-29T11:30",
        attendees="Ana@Example.com, li@example.com",
        location="Berlin office",
        meeting_url="https://meet.example.com/qbr",
        notes="Agenda",
        record_ids=[str(acme.pk)],
    )
    # then
    meeting.refresh_from_db()
    assert meeting.title == "QBR"
    assert (meeting.start_at, meeting.end_at) == (utc(2026, 3, 29, 8), utc(2026, 3, 29, 9, 30))  # CEST, +02:00
    assert meeting.attendees == ["ana@example.com", "li@example.com"]
    assert (meeting.location, meeting.meeting_url, meeting.notes) == (
        "Berlin office",
        "https://meet.example.com/qbr",
        "Agenda",
    )
    assert meeting.owner_id == csm.pk
    assert list(meeting.records.values_list("pk", flat=True)) == [acme.pk]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"title": " "}, {"title"}),
        ({"start": ""}, {"start"}),
        ({"start": "soon"}, {"start"}),
        ({"end": "2026-05-04T08:59"}, {"end"}),
        ({"end": "2026-05-04T09:00"}, {"end"}),
        ({"start": "2026-03-29T02:30", "end": "2026-03-29T03:30"}, {"start"}),  # skipped by DST in Berlin
        ({"attendees": "ana@example.com, not-an-email"}, {"attendees"}),
        ({"meeting_url": "meet.example.com"}, {"meeting_url"}),
        ({"record_ids": ["x"]}, {"records"}),
        ({"record_ids": [999999]}, {"records"}),
        ({"title": "", "end": "2026-05-04T08:00"}, {"title", "end"}),
        ({"start": "", "attendees": "bad", "record_ids": [999999]}, {"start", "attendees", "records"}),
        ({"title": "", "meeting_url": "x"}, {"title", "meeting_url"}),
    ],
)
def test_meeting_schedule_rejects_bad_input_and_saves_nothing(csm_actor, changes, errors):
    values = {"title": "Sync", "start": "2026-05-04T09:00", "end": "2026-05-04T10:00"} | changes
    with pytest.raises(ValidationFailed) as caught:
        services.meeting_schedule(actor=csm_actor, tz=BERLIN, **values)
    assert {e.field for e in caught.value.errors} == errors
    assert Meeting.objects.count() == 0


def test_meeting_schedule_needs_a_service_seat(viewer):
    with pytest.raises(Forbidden):
        services.meeting_schedule(
            actor=Actor(viewer), tz=BERLIN, title="x", start="2026-05-04T09:00", end="2026-05-04T10:00"
        )
    assert Meeting.objects.count() == 0


def test_meeting_outcome(csm_actor, csm, make_meeting):
    meeting = make_meeting(csm, utc(2026, 5, 4, 9), utc(2026, 5, 4, 10))
    services.meeting_set_outcome(actor=csm_actor, meeting=meeting, outcome="no_show")
    meeting.refresh_from_db()
    assert meeting.outcome == Meeting.Outcome.NO_SHOW
    with pytest.raises(ValidationFailed) as caught:
        services.meeting_set_outcome(actor=csm_actor, meeting=meeting, outcome="maybe")
    assert caught.value.errors[0].field == "outcome"
    meeting.refresh_from_db()
    assert meeting.outcome == Meeting.Outcome.NO_SHOW


# --------------------------------------------------------------------------- feeds


@time_machine.travel(utc(2026, 5, 4, 12), tick=False)
def test_feed_create_stores_only_a_hash_and_opens_with_the_secret(csm_actor, csm):
    # when
    feed, raw = services.calendar_feed_create(actor=csm_actor, name=" Phone ")
    # then
    assert raw.startswith("tendcal_") and len(raw) > 40
    assert feed.name == "Phone" and feed.prefix == raw[:14]
    assert raw not in feed.token_hash and len(feed.token_hash) == 64
    assert services.calendar_feed_open(raw_token=raw) == feed
    assert CalendarFeed.objects.get().last_fetched_at == utc(2026, 5, 4, 12)
    assert services.calendar_feed_open(raw_token=raw + "x") is None
    assert services.calendar_feed_open(raw_token="") is None


def test_tend_itself_keeps_no_calendar_subscription(db):
    # when the system actor (background work) asks for a feed
    with pytest.raises(Forbidden) as excinfo:
        services.calendar_feed_create(actor=SYSTEM, name="Robot")
    # then it is refused, and nothing is stored
    assert str(excinfo.value) == "Calendar subscriptions belong to a user."
    assert CalendarFeed.objects.count() == 0


def test_feed_revoke_is_for_good_and_only_the_owners(csm_actor, csm, viewer):
    feed, raw = services.calendar_feed_create(actor=csm_actor)
    with pytest.raises(NotFound):
        services.calendar_feed_revoke(actor=Actor(viewer), feed_id=feed.pk)
    assert services.calendar_feed_open(raw_token=raw) == feed
    services.calendar_feed_revoke(actor=csm_actor, feed_id=feed.pk)
    assert services.calendar_feed_open(raw_token=raw) is None
    with pytest.raises(NotFound):
        services.calendar_feed_revoke(actor=csm_actor, feed_id=feed.pk)


def test_feed_of_a_deactivated_user_is_closed(csm_actor, csm):
    _feed, raw = services.calendar_feed_create(actor=csm_actor)
    csm.is_active = False
    csm.save()
    assert services.calendar_feed_open(raw_token=raw) is None


def test_feed_create_refuses_read_only_tokens_and_too_many(csm):
    with pytest.raises(Forbidden):
        services.calendar_feed_create(actor=Actor(csm, Scope.READ))
    for _ in range(services.MAX_ACTIVE_FEEDS):
        services.calendar_feed_create(actor=Actor(csm))
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_feed_create(actor=Actor(csm))
    assert caught.value.errors[0].code == "too_many"
    assert CalendarFeed.objects.count() == services.MAX_ACTIVE_FEEDS
