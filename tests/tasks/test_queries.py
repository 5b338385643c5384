"""The default views of the Tasks tab: "today" is the viewing user's local day, also on the days
clocks change. Every scenario puts the same tasks (fixed UTC instants) in front of users in
Tokyo, Berlin, Rome and New York and checks which view shows which task."""

import datetime as dt

import pytest

from tend.core import clock
from tend.directory.services import user_create
from tend.engagement.models import Task
from tend.tasks import queries

from .conftest import make_task

pytestmark = pytest.mark.django_db

ZONES = ("Asia/Tokyo", "Europe/Berlin", "Europe/Rome", "America/New_York")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# scenario: now, the tasks' due instants, and per zone the subjects of each view
SCENARIOS = {
    "us-dst-starts-2026-03-08": (
        utc("2026-03-08T15:00"),  # 11:00 EDT in New York, exactly midnight (03-09) in Tokyo
        {
            "A": "2026-03-08T04:30",
            "B": "2026-03-09T03:30",
            "C": "2026-03-09T04:30",  # New York: 00:30 on the 9th (a 24-hour "today" would include it)
            "D": "2026-03-08T14:00",
            "E": "2026-03-08T16:00",
            "F": "2026-03-10T03:30",
            "G": "2026-03-07T23:00",  # Berlin and Rome: exactly the start of the 8th
        },
        {
            "America/New_York": {"today": "BDE", "tomorrow": "CF", "overdue": "ADG", "upcoming": "CF"},
            "Asia/Tokyo": {"today": "BCE", "tomorrow": "F", "overdue": "ADG", "upcoming": "F"},
            "Europe/Berlin": {"today": "ADEG", "tomorrow": "BC", "overdue": "ADG", "upcoming": "BCF"},
            "Europe/Rome": {"today": "ADEG", "tomorrow": "BC", "overdue": "ADG", "upcoming": "BCF"},
        },
    ),
    "eu-dst-starts-2026-03-29": (
        utc("2026-03-29T10:00"),
        {
            "H": "2026-03-29T22:30",  # Berlin: 00:30 CEST on the 30th (the 29th has 23 hours)
            "I": "2026-03-29T21:30",
            "J": "2026-03-28T22:30",
            "K": "2026-03-30T21:59",
            "L": "2026-03-30T22:00",
        },
        {
            "America/New_York": {"today": "HI", "tomorrow": "KL", "overdue": "J", "upcoming": "KL"},
            "Asia/Tokyo": {"today": "J", "tomorrow": "HI", "overdue": "J", "upcoming": "HIKL"},
            "Europe/Berlin": {"today": "I", "tomorrow": "HK", "overdue": "J", "upcoming": "HKL"},
            "Europe/Rome": {"today": "I", "tomorrow": "HK", "overdue": "J", "upcoming": "HKL"},
        },
    ),
    "eu-dst-ends-2026-10-25": (
        utc("2026-10-25T12:00"),
        {
            "M": "2026-10-25T22:30",  # Berlin: 23:30 CET on the 25th (the 25th has 25 hours)
            "N": "2026-10-24T21:30",
            "O": "2026-10-25T23:00",
            "P": "2026-10-26T12:00",
        },
        {
            "America/New_York": {"today": "MO", "tomorrow": "P", "overdue": "N", "upcoming": "P"},
            "Asia/Tokyo": {"today": "N", "tomorrow": "MOP", "overdue": "N", "upcoming": "MOP"},
            "Europe/Berlin": {"today": "M", "tomorrow": "OP", "overdue": "N", "upcoming": "OP"},
            "Europe/Rome": {"today": "M", "tomorrow": "OP", "overdue": "N", "upcoming": "OP"},
        },
    ),
    "us-dst-ends-2026-11-01": (
        utc("2026-11-01T15:00"),  # exactly midnight (11-02) in Tokyo
        {
            "Q": "2026-11-02T04:30",  # New York: 23:30 EST on the 1st (the 1st has 25 hours)
            "R": "2026-11-02T05:00",
            "S": "2026-11-01T03:59",
        },
        {
            "America/New_York": {"today": "Q", "tomorrow": "R", "overdue": "S", "upcoming": "R"},
            "Asia/Tokyo": {"today": "QR", "tomorrow": "", "overdue": "S", "upcoming": ""},
            "Europe/Berlin": {"today": "S", "tomorrow": "QR", "overdue": "S", "upcoming": "QR"},
            "Europe/Rome": {"today": "S", "tomorrow": "QR", "overdue": "S", "upcoming": "QR"},
        },
    ),
}


@pytest.fixture
def users(db):
    return {
        zone: user_create(
            email=f"{zone.split('/')[1].lower()}@example.com",
            password="pw-123456789",
            full_name=zone,
            time_zone=zone,
            has_service_seat=True,
        )
        for zone in ZONES
    }


def subjects(tasks) -> str:
    return "".join(sorted(tasks.values_list("subject", flat=True)))


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("zone", ZONES)
def test_default_views_follow_the_users_local_day(users, time_machine, scenario, zone):
    # Given the same due times for four users in four time zones, plus a completed task and an
    # open task without a due time for each
    now, due, expected = SCENARIOS[scenario]
    for user in users.values():
        for subject, at in due.items():
            make_task(user, subject=subject, due_at=utc(at))
        make_task(user, subject="Z", due_at=now, status=Task.Status.COMPLETED)
        make_task(user, subject="Y")
    time_machine.move_to(now, tick=False)
    user = users[zone]
    tz = clock.user_zone(user)
    mine = Task.objects.active().assigned_to(user)

    # When the views are asked for at `now`, then each holds exactly the expected tasks
    assert subjects(mine.due_today(tz)) == expected[zone]["today"]
    assert subjects(mine.due_tomorrow(tz)) == expected[zone]["tomorrow"]
    assert subjects(mine.overdue(clock.now())) == expected[zone]["overdue"]
    assert subjects(mine.upcoming(tz)) == expected[zone]["upcoming"]
    assert subjects(mine.open()) == "".join(sorted(due)) + "Y"
    assert subjects(mine.completed()) == "Z"
    # and the counts of the view list agree with the lists, in one query
    counts = queries.view_counts(user, user)
    assert counts == {
        "today": len(expected[zone]["today"]),
        "overdue": len(expected[zone]["overdue"]),
        "tomorrow": len(expected[zone]["tomorrow"]),
        "upcoming": len(expected[zone]["upcoming"]),
        "open": len(due) + 1,
        "completed": 1,
    }


def test_view_counts_take_one_query(users, django_assert_num_queries, time_machine):
    time_machine.move_to(utc("2026-05-04T08:00"), tick=False)
    user = users["Europe/Rome"]
    for i in range(20):
        make_task(user, subject=f"T{i}", due_at=clock.now() + dt.timedelta(hours=i - 10))
    with django_assert_num_queries(1):
        counts = queries.view_counts(user, user)
    assert counts["open"] == 20
    assert counts["overdue"] == 10


def test_views_list_only_the_viewed_users_active_tasks(users, time_machine):
    time_machine.move_to(utc("2026-05-04T08:00"), tick=False)
    rome, tokyo = users["Europe/Rome"], users["Asia/Tokyo"]
    make_task(rome, subject="mine", due_at=utc("2026-05-04T12:00"))
    make_task(tokyo, subject="theirs", due_at=utc("2026-05-04T12:00"))
    archived = make_task(rome, subject="gone", due_at=utc("2026-05-04T12:00"))
    archived.archived_at = clock.now()
    archived.save()
    table = queries.TaskTable(view_key="today", builtin="today")
    assert [t.subject for t in queries.table_tasks(actor=rome, viewed_user=rome, table=table)] == ["mine"]
    # A manager viewing as Tokyo sees Tokyo's tasks, with Tokyo's "today"
    assert [t.subject for t in queries.table_tasks(actor=rome, viewed_user=tokyo, table=table)] == ["theirs"]
