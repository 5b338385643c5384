"""Engagement services: tasks, meetings, notes, calls and emails — validation, completion, activity."""

import datetime as dt

import pytest

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import SYSTEM, Actor, Scope
from tend.crm import services as crm
from tend.crm.models import ChangeSource, ObjectType, Record
from tend.engagement import services
from tend.engagement.kinds import KINDS
from tend.engagement.models import Call, Email, Meeting, MeetingAttendee, Note, Task

pytestmark = pytest.mark.django_db


NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)
MODELS = (Task, Meeting, Note, Call, Email)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def pat(db):
    return crm.record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="contacts"),
        properties={"name": "Pat"},
        source=ChangeSource.SYSTEM,
    )


def create(actor, kind: str, properties: dict, associations=None):
    return services.engagement_create(actor=actor, kind=KINDS[kind], properties=properties, associations=associations)


def update(actor, kind: str, engagement, properties: dict, associations=None):
    return services.engagement_update(
        actor=actor, kind=KINDS[kind], engagement=engagement, properties=properties, associations=associations
    )


def fields(excinfo) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in excinfo.value.errors]


def state() -> dict:
    """Every engagement row, its record links, and the records' activity dates."""
    snapshot = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    for model in MODELS:
        snapshot[f"{model.__name__}.records"] = list(
            model.records.through.objects.order_by("pk").values_list(
                *[f.attname for f in model.records.through._meta.fields]
            )
        )
    snapshot["activity"] = list(Record.objects.order_by("pk").values_list("pk", "last_activity_at", "updated_at"))
    return snapshot


def last_activity(record: Record):
    record.refresh_from_db()
    return record.last_activity_at


# --------------------------------------------------------------------------- tasks


class TestTasks:
    def test_create_with_defaults(self, clock, csm, csm_actor, acme):
        task = create(csm_actor, "tasks", {"subject": "Kick-off prep"}, [acme.pk])

        task.refresh_from_db()
        assert (
            task.subject,
            task.type,
            task.priority,
            task.status,
            task.assignee_id,
            task.due_at,
            task.completed_at,
            task.created_at,
            task.updated_at,
        ) == ("Kick-off prep", "todo", "none", "not_started", csm.pk, None, None, NOW, NOW)
        assert list(task.records.values_list("pk", flat=True)) == [acme.pk]

    def test_create_with_every_field(self, clock, csm, admin, csm_actor):
        task = create(
            csm_actor,
            "tasks",
            {
                "subject": "Renewal call",
                "notes": "Bring the numbers.\nAnd the deck.",
                "type": "call",
                "priority": "high",
                "status": "in_progress",
                "due_at": "2026-03-05T17:00:00+01:00",
                "assignee": admin.pk,
            },
        )

        task.refresh_from_db()
        assert (task.type, task.priority, task.status, task.due_at, task.assignee_id, task.notes) == (
            "call",
            "high",
            "in_progress",
            dt.datetime(2026, 3, 5, 16, 0, tzinfo=dt.UTC),
            admin.pk,
            "Bring the numbers.\nAnd the deck.",
        )

    @pytest.mark.parametrize(
        ("properties", "expected"),
        [
            ({}, [("properties.subject", "required")]),
            ({"subject": ""}, [("properties.subject", "required")]),
            ({"subject": "S", "status": "done"}, [("properties.status", "invalid")]),
            ({"subject": "S", "priority": "urgent"}, [("properties.priority", "invalid")]),
            ({"subject": "S", "type": "meeting"}, [("properties.type", "invalid")]),
            ({"subject": "S", "due_at": "tomorrow"}, [("properties.due_at", "invalid")]),
            ({"subject": "S", "due_at": "2026-03-05T17:00:00"}, [("properties.due_at", "invalid")]),
            ({"subject": "S", "assignee": 999_999}, [("properties.assignee", "invalid")]),
            ({"subject": "S", "completed_at": "2026-03-01T00:00:00Z"}, [("properties.completed_at", "read_only")]),
            ({"subject": "S", "created_at": "2026-03-01T00:00:00Z"}, [("properties.created_at", "read_only")]),
            ({"subject": "S", "colour": "red"}, [("properties.colour", "unknown_property")]),
            ({"subject": "x" * 256}, [("properties.subject", "invalid")]),
        ],
    )
    def test_invalid_input_creates_nothing(self, csm_actor, properties, expected):
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "tasks", properties)

        assert fields(excinfo) == expected
        assert state() == before

    def test_enumeration_message_lists_the_options(self, csm_actor):
        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "tasks", {"subject": "S", "status": "done"})

        assert excinfo.value.errors[0].message == (
            "Choose one of: not_started, in_progress, waiting, deferred, completed."
        )

    def test_tend_itself_creates_tasks_without_an_assignee(self, clock, csm, acme):
        unassigned = create(SYSTEM, "tasks", {"subject": "Follow up on churn signal"}, [acme.pk])
        assigned = create(SYSTEM, "tasks", {"subject": "Call the champion", "assignee": csm.pk}, [acme.pk])

        unassigned.refresh_from_db()
        assigned.refresh_from_db()
        assert (unassigned.assignee_id, assigned.assignee_id) == (None, csm.pk)

    def test_completing_sets_and_reopening_clears_completed_at(self, clock, csm_actor):
        task = create(csm_actor, "tasks", {"subject": "S"})
        clock.move_to(LATER)

        update(csm_actor, "tasks", task, {"status": "completed"})
        task.refresh_from_db()
        assert (task.status, task.completed_at, task.updated_at) == ("completed", LATER, LATER)

        clock.move_to(LATER + dt.timedelta(hours=1))
        update(csm_actor, "tasks", task, {"notes": "Done and dusted."})
        task.refresh_from_db()
        assert task.completed_at == LATER

        update(csm_actor, "tasks", task, {"status": "in_progress"})
        task.refresh_from_db()
        assert (task.status, task.completed_at) == ("in_progress", None)

    def test_created_completed(self, clock, csm_actor):
        task = create(csm_actor, "tasks", {"subject": "S", "status": "completed"})

        task.refresh_from_db()
        assert task.completed_at == NOW

    def test_tasks_do_not_count_as_activity(self, clock, csm_actor, acme):
        create(csm_actor, "tasks", {"subject": "S", "due_at": "2026-03-01T09:00:00Z", "status": "completed"}, [acme.pk])

        assert last_activity(acme) is None

    def test_update_clears_an_optional_value(self, clock, csm_actor):
        task = create(csm_actor, "tasks", {"subject": "S", "due_at": "2026-03-05T17:00:00Z", "priority": "high"})

        update(csm_actor, "tasks", task, {"due_at": None, "priority": None})

        task.refresh_from_db()
        assert (task.due_at, task.priority) == (None, "none")

    def test_invalid_update_changes_nothing(self, clock, csm_actor, acme):
        task = create(csm_actor, "tasks", {"subject": "S"}, [acme.pk])
        before = state()
        clock.move_to(LATER)

        with pytest.raises(ValidationFailed) as excinfo:
            update(csm_actor, "tasks", task, {"subject": "New", "status": "done"}, associations=[])

        assert fields(excinfo) == [("properties.status", "invalid")]
        assert state() == before


# --------------------------------------------------------------------------- meetings


class TestMeetings:
    def test_create(self, clock, csm, csm_actor, acme, pat):
        meeting = create(
            csm_actor,
            "meetings",
            {
                "title": "QBR",
                "start_at": "2026-03-10T10:00:00+01:00",
                "end_at": "2026-03-10T11:00:00+01:00",
                "meeting_url": "https://meet.example.com/qbr",
                "attendees": ["Pat@Acme.com", "kim@acme.com", "pat@acme.com", ""],
                "outcome": "scheduled",
            },
            [acme.pk, pat.pk],
        )

        meeting.refresh_from_db()
        assert (meeting.start_at, meeting.end_at, meeting.meeting_url, meeting.attendees, meeting.owner_id) == (
            dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC),
            "https://meet.example.com/qbr",
            ["pat@acme.com", "kim@acme.com"],
            csm.pk,
        )
        assert sorted(meeting.records.values_list("pk", flat=True)) == [acme.pk, pat.pk]

    def test_attendees_as_comma_separated_text(self, clock, csm_actor):
        meeting = create(
            csm_actor,
            "meetings",
            {
                "title": "Sync",
                "start_at": "2026-03-10T10:00:00Z",
                "end_at": "2026-03-10T10:00:00Z",
                "attendees": "a@x.com, B@y.com",
            },
        )

        assert meeting.attendees == ["a@x.com", "b@y.com"]

    def test_attendee_rows_follow_the_list(self, clock, csm_actor):
        def rows(meeting):
            return sorted(MeetingAttendee.objects.filter(meeting=meeting).values_list("email", flat=True))

        # given a meeting created with three attendees (one twice, in two cases)
        meeting = create(
            csm_actor,
            "meetings",
            {
                "title": "Sync",
                "start_at": "2026-03-10T10:00:00Z",
                "end_at": "2026-03-10T10:30:00Z",
                "attendees": ["Ana@x.com", "li@y.com", "ana@x.com"],
            },
        )
        other = create(
            csm_actor,
            "meetings",
            {
                "title": "Other",
                "start_at": "2026-03-10T11:00:00Z",
                "end_at": "2026-03-10T11:30:00Z",
                "attendees": ["li@y.com"],
            },
        )
        assert rows(meeting) == ["ana@x.com", "li@y.com"]

        # when its list changes, then its rows are the new list; another property leaves them be
        update(csm_actor, "meetings", meeting, {"attendees": ["li@y.com", "Bo@z.com"]})
        assert rows(meeting) == ["bo@z.com", "li@y.com"]
        update(csm_actor, "meetings", meeting, {"title": "Weekly sync"})
        assert rows(meeting) == ["bo@z.com", "li@y.com"]
        update(csm_actor, "meetings", meeting, {"attendees": []})
        assert rows(meeting) == []
        assert rows(other) == ["li@y.com"]

    def test_required_fields(self, csm_actor):
        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "meetings", {"notes": "agenda"})

        assert fields(excinfo) == [
            ("properties.title", "required"),
            ("properties.start_at", "required"),
            ("properties.end_at", "required"),
        ]
        assert Meeting.objects.count() == 0

    @pytest.mark.parametrize(
        ("extra", "expected"),
        [
            ({"end_at": "2026-03-10T09:59:59Z"}, [("properties.end_at", "invalid")]),
            ({"end_at": "2026-03-10T10:30:00+01:00"}, [("properties.end_at", "invalid")]),
            ({"meeting_url": "ftp://files.example.com/x"}, [("properties.meeting_url", "invalid")]),
            ({"meeting_url": "javascript:alert(1)"}, [("properties.meeting_url", "invalid")]),
            ({"meeting_url": "meet.example.com/qbr"}, [("properties.meeting_url", "invalid")]),
            ({"attendees": ["ok@x.com", "not-an-email"]}, [("properties.attendees[1]", "invalid")]),
            ({"attendees": [5]}, [("properties.attendees[0]", "invalid")]),
            ({"attendees": 5}, [("properties.attendees", "invalid")]),
            ({"attendees": ["a@x.com"] * 201}, [("properties.attendees", "invalid")]),
            ({"outcome": "maybe"}, [("properties.outcome", "invalid")]),
            ({"location": "l" * 256}, [("properties.location", "invalid")]),
        ],
    )
    def test_invalid_meetings_are_rejected(self, csm_actor, extra, expected):
        before = state()
        properties = {"title": "QBR", "start_at": "2026-03-10T10:00:00Z", "end_at": "2026-03-10T11:00:00Z", **extra}

        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "meetings", properties)

        assert fields(excinfo) == expected
        assert state() == before

    def test_moving_the_start_after_the_end_is_rejected(self, clock, csm_actor):
        meeting = create(
            csm_actor,
            "meetings",
            {"title": "QBR", "start_at": "2026-03-10T10:00:00Z", "end_at": "2026-03-10T11:00:00Z"},
        )
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            update(csm_actor, "meetings", meeting, {"start_at": "2026-03-10T12:00:00Z"})

        assert [(e.field, e.message) for e in excinfo.value.errors] == [
            ("properties.end_at", "The meeting cannot end before it starts.")
        ]
        assert state() == before

    def test_a_past_meeting_is_activity_a_future_one_is_not(self, clock, csm_actor, acme, pat):
        create(
            csm_actor,
            "meetings",
            {"title": "Past", "start_at": "2026-03-01T15:00:00Z", "end_at": "2026-03-01T16:00:00Z"},
            [acme.pk],
        )
        create(
            csm_actor,
            "meetings",
            {"title": "Future", "start_at": "2026-03-09T15:00:00Z", "end_at": "2026-03-09T16:00:00Z"},
            [pat.pk],
        )

        assert last_activity(acme) == dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC)
        assert last_activity(pat) is None

    def test_a_meeting_that_has_happened_counts_when_updated(self, clock, csm_actor, acme):
        meeting = create(
            csm_actor,
            "meetings",
            {"title": "Soon", "start_at": "2026-03-02T10:00:00Z", "end_at": "2026-03-02T10:30:00Z"},
            [acme.pk],
        )
        assert last_activity(acme) is None
        clock.move_to(dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC))

        update(csm_actor, "meetings", meeting, {"outcome": "attended"})

        assert last_activity(acme) == dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- notes, calls, emails


class TestNotesCallsEmails:
    def test_a_note_is_activity_now(self, clock, csm, csm_actor, acme, pat):
        note = create(csm_actor, "notes", {"body": "Renewal looks safe."}, [acme.pk, pat.pk])

        note.refresh_from_db()
        assert (note.body, note.owner_id, note.created_at) == ("Renewal looks safe.", csm.pk, NOW)
        assert (last_activity(acme), last_activity(pat)) == (NOW, NOW)

    def test_a_note_needs_a_body(self, csm_actor, acme):
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "notes", {"body": ""}, [acme.pk])

        assert fields(excinfo) == [("properties.body", "required")]
        assert state() == before

    def test_a_call_defaults_to_now(self, clock, csm_actor, acme):
        call = create(
            csm_actor, "calls", {"title": "Check-in", "direction": "inbound", "duration_seconds": 300}, [acme.pk]
        )

        call.refresh_from_db()
        assert (call.occurred_at, call.direction, call.duration_seconds, call.outcome) == (NOW, "inbound", 300, "")
        assert last_activity(acme) == NOW

    def test_a_logged_past_call_is_activity_at_its_time(self, clock, csm_actor, acme):
        create(csm_actor, "calls", {"occurred_at": "2026-02-27T08:00:00-05:00", "outcome": "connected"}, [acme.pk])

        assert last_activity(acme) == dt.datetime(2026, 2, 27, 13, 0, tzinfo=dt.UTC)

    def test_activity_never_moves_backwards(self, clock, csm_actor, acme):
        create(csm_actor, "notes", {"body": "Today"}, [acme.pk])

        create(csm_actor, "calls", {"occurred_at": "2026-02-01T08:00:00Z"}, [acme.pk])
        create(csm_actor, "emails", {"subject": "Old thread", "occurred_at": "2026-01-01T08:00:00Z"}, [acme.pk])

        assert last_activity(acme) == NOW

    def test_a_scheduled_email_in_the_future_is_not_activity(self, clock, csm_actor, acme):
        email = create(
            csm_actor,
            "emails",
            {
                "subject": "Renewal offer",
                "direction": "outbound",
                "from_address": "csm@example.com",
                "to_addresses": ["Pat@Acme.com", "kim@acme.com"],
                "occurred_at": "2026-03-03T08:00:00Z",
            },
            [acme.pk],
        )

        email.refresh_from_db()
        assert email.to_addresses == ["pat@acme.com", "kim@acme.com"]
        assert last_activity(acme) is None

    def test_an_email_is_activity(self, clock, csm_actor, acme):
        create(csm_actor, "emails", {"subject": "Hello", "direction": "inbound"}, [acme.pk])

        assert last_activity(acme) == NOW

    @pytest.mark.parametrize(
        ("kind", "properties", "expected"),
        [
            ("emails", {"body": "no subject"}, [("properties.subject", "required")]),
            ("emails", {"subject": "S", "to_addresses": ["pat@"]}, [("properties.to_addresses[0]", "invalid")]),
            ("emails", {"subject": "S", "direction": "sideways"}, [("properties.direction", "invalid")]),
            ("calls", {"direction": "sideways"}, [("properties.direction", "invalid")]),
            ("calls", {"outcome": "hung_up"}, [("properties.outcome", "invalid")]),
            ("calls", {"duration_seconds": "long"}, [("properties.duration_seconds", "invalid")]),
            ("calls", {"duration_seconds": -5}, [("properties.duration_seconds", "invalid")]),
            ("calls", {"duration_seconds": 1.5}, [("properties.duration_seconds", "invalid")]),
            ("calls", {"occurred_at": "yesterday"}, [("properties.occurred_at", "invalid")]),
            ("calls", {"title": "t" * 256}, [("properties.title", "invalid")]),
            ("notes", {"body": "B", "owner": 999_999}, [("properties.owner", "invalid")]),
        ],
    )
    def test_invalid_input_creates_nothing(self, csm_actor, acme, kind, properties, expected):
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, kind, properties, [acme.pk])

        assert fields(excinfo) == expected
        assert state() == before

    def test_the_time_of_a_call_cannot_be_cleared(self, clock, csm_actor, acme):
        call = create(csm_actor, "calls", {"title": "Check-in"}, [acme.pk])
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            update(csm_actor, "calls", call, {"occurred_at": None})

        assert fields(excinfo) == [("properties.occurred_at", "required")]
        assert state() == before


# --------------------------------------------------------------------------- associations, archive, permissions


class TestAssociationsArchiveAndPermissions:
    @pytest.mark.parametrize(
        ("associations", "expected"),
        [
            ("missing", [("associations[1]", "not_found")]),
            ("archived", [("associations[1]", "not_found")]),
            ([True], [("associations", "invalid")]),
            (["1"], [("associations", "invalid")]),
            ({"id": 1}, [("associations", "invalid")]),
        ],
    )
    def test_associations_to_missing_records_are_rejected(self, csm_actor, acme, pat, associations, expected):
        if associations == "missing":
            associations = [acme.pk, 999_999]
        elif associations == "archived":
            crm.record_archive(actor=SYSTEM, record=pat)
            associations = [acme.pk, pat.pk]
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "notes", {"body": "B"}, associations)

        assert fields(excinfo) == expected
        assert state() == before

    def test_missing_record_message(self, csm_actor):
        with pytest.raises(ValidationFailed) as excinfo:
            create(csm_actor, "notes", {"body": "B"}, [424242])

        assert excinfo.value.errors[0].message == "No record 424242."

    def test_update_replaces_associations_only_when_given(self, clock, csm_actor, acme, pat):
        task = create(csm_actor, "tasks", {"subject": "S"}, [acme.pk])

        update(csm_actor, "tasks", task, {"priority": "low"})
        assert list(task.records.values_list("pk", flat=True)) == [acme.pk]

        update(csm_actor, "tasks", task, {}, associations=[pat.pk])
        assert list(task.records.values_list("pk", flat=True)) == [pat.pk]

        update(csm_actor, "tasks", task, {}, associations=[])
        assert task.records.count() == 0

    def test_archive_then_no_more_updates(self, clock, csm_actor):
        note = create(csm_actor, "notes", {"body": "B"})
        clock.move_to(LATER)

        services.engagement_archive(actor=csm_actor, engagement=note)
        note.refresh_from_db()
        assert note.archived_at == LATER
        assert list(Note.objects.active()) == []

        before = state()
        with pytest.raises(ValidationFailed) as excinfo:
            update(csm_actor, "notes", note, {"body": "Changed"})
        assert fields(excinfo) == [("id", "archived")]
        assert state() == before

    @pytest.mark.parametrize("kind", ["tasks", "meetings", "notes", "calls", "emails"])
    def test_writes_need_a_service_seat(self, viewer, csm, kind):
        minimal = {
            "tasks": {"subject": "S"},
            "meetings": {"title": "M", "start_at": "2026-03-10T10:00:00Z", "end_at": "2026-03-10T11:00:00Z"},
            "notes": {"body": "B"},
            "calls": {"title": "C"},
            "emails": {"subject": "E"},
        }[kind]
        engagement = create(Actor(csm), kind, minimal)
        before = state()

        for actor in (Actor(viewer), Actor(csm, Scope.READ)):
            with pytest.raises(Forbidden):
                create(actor, kind, minimal)
            with pytest.raises(Forbidden):
                update(actor, kind, engagement, {})
            with pytest.raises(Forbidden):
                services.engagement_archive(actor=actor, engagement=engagement)

        assert state() == before
