"""Each demo user's day: tasks due overdue / today / tomorrow / later and meetings this week, in
their own time zone (drawn from a stream of its own, so company data does not depend on "now")."""

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from tend.engagement.models import Meeting, Task

from .rows import Company, local
from .team import DEMO_USERS
from .words import MEETING_TITLES, TASK_SUBJECTS

if TYPE_CHECKING:
    from .generate import Generator


def write_schedules(g: "Generator") -> None:
    """Tasks due overdue / today / tomorrow / later and meetings this week for every CSM and
    the manager, placed in each one's own time zone."""
    every_company = [c for book in g.book.values() for c in book]
    engagements = []
    for spec in DEMO_USERS:
        if spec.role == "admin":
            continue
        user = g.users[spec.email]
        book = g.book.get(user.pk) or every_company
        if not book:
            continue
        engagements.extend(schedule(g, user.pk, g.zones[user.pk], book))
    g.write_engagements(engagements)


def schedule(g: "Generator", user_id: int, tz: zoneinfo.ZoneInfo, book: list[Company]) -> list[tuple]:
    r = g.schedule_rng
    today = g.now.astimezone(tz).date()
    out = []

    def company() -> Company:
        return book[r.randrange(len(book))]

    def task(day_offset: int, minute: int, status: str = "not_started", priority: str = "medium"):
        c = company()
        due = local(today + dt.timedelta(days=day_offset), minute, tz)
        done = status == "completed"
        created = min(due, g.now) - dt.timedelta(days=r.randint(1, 10))
        subject = r.choice(TASK_SUBJECTS).format(c=c.record.name)
        out.append(
            (
                Task(
                    subject=subject,
                    type=r.choice(("todo", "call", "email")),
                    priority=priority,
                    status=status,
                    due_at=due,
                    assignee_id=user_id,
                    completed_at=due if done else None,
                    created_at=created,
                    updated_at=due if done else created,
                ),
                [c.record],
            )
        )

    def meeting(day_offset: int, minute: int, length: int = 45):
        c = company()
        start = local(today + dt.timedelta(days=day_offset), minute, tz)
        roll = r.random()  # drawn either way, so the stream does not depend on "now"
        outcome = "scheduled" if start > g.now else ("no_show" if roll < 0.2 else "attended")
        attendees = [c.contacts[0].props["email"]] if c.contacts else []
        links = [c.record] + c.contacts[:1]
        title = r.choice(MEETING_TITLES).format(c=c.record.name)
        url = f"https://meet.example/{c.domain.split('.')[0]}"
        out.append(
            (
                Meeting(
                    title=title,
                    start_at=start,
                    end_at=start + dt.timedelta(minutes=length),
                    attendees=attendees,
                    outcome=outcome,
                    meeting_url=url,
                    owner_id=user_id,
                    created_at=min(start, g.now) - dt.timedelta(days=3),
                    updated_at=min(start, g.now),
                ),
                links,
            )
        )

    # Overdue, due today, due tomorrow, upcoming, and a few done.
    task(-1, 10 * 60, "in_progress", "high")
    task(-3, 15 * 60)
    task(-6, 11 * 60, "waiting")
    task(0, 9 * 60 + 30, priority="high")
    task(0, 13 * 60)
    task(0, 16 * 60 + 30, "in_progress")
    task(1, 10 * 60)
    task(1, 14 * 60 + 30, priority="low")
    for offset in (2, 4, 7, 12):
        task(offset, r.choice((9, 11, 14, 16)) * 60)
    for offset in (-1, -2, -5):
        task(offset, 12 * 60, "completed")
    # Meetings: every working day of this week (some already held), today, and next week.
    monday = -today.weekday()
    for offset in range(monday, monday + 5):
        meeting(offset, r.choice((10, 11, 15)) * 60)
    meeting(0, 14 * 60 + 30, 30)
    for offset in (monday + 7, monday + 9):
        meeting(offset, 10 * 60)
    return out
