"""Reads for the Schedule tab, the schedule API and the ICS feed: a user's tasks and meetings in a
time window, as one list of calendar items."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import Record
from tend.directory.models import User
from tend.engagement.models import Meeting, Task
from tend.schedule.models import CalendarFeed

# A task is due at a moment; on a calendar it takes this much room from its due time.
TASK_DURATION = dt.timedelta(minutes=30)
# The longest window one request may ask for (a month view shows six weeks).
MAX_WINDOW = dt.timedelta(days=100)


@dataclass(frozen=True)
class Item:
    """One thing on a calendar: a task (at its due time) or a meeting."""

    kind: str  # "task" or "meeting"
    obj: Task | Meeting
    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.obj.pk}"

    @property
    def is_task(self) -> bool:
        return self.kind == "task"

    @property
    def title(self) -> str:
        return self.obj.subject if isinstance(self.obj, Task) else self.obj.title

    @property
    def done(self) -> bool:
        return isinstance(self.obj, Task) and self.obj.status == Task.Status.COMPLETED

    @property
    def cancelled(self) -> bool:
        return isinstance(self.obj, Meeting) and self.obj.outcome == Meeting.Outcome.CANCELLED

    @property
    def records(self) -> list[Record]:
        return list(self.obj.records.all())  # prefetched


def _records_prefetch() -> Prefetch:
    return Prefetch(
        "records",
        queryset=Record.objects.filter(archived_at__isnull=True).select_related("object_type").order_by("name", "id"),
    )


def _meetings_of(user: User, window: Q) -> QuerySet[Meeting]:
    """Meetings in `window` the user owns or is invited to (their email among the attendees, found
    through the attendee rows the engagement services write with the list, stored lower-cased).
    The two as a UNION of ids: an OR of the owner and the invitations read every meeting on
    PostgreSQL, each half alone is an index range."""
    live = Meeting.objects.active().filter(window)
    owned = live.filter(owner=user).order_by().values("pk")
    invited = live.filter(attendee_rows__email=(user.email or "").lower()).order_by().values("pk")
    return Meeting.objects.filter(pk__in=owned.union(invited))


def schedule_items(actor: Actor, *, user: User, start: dt.datetime, end: dt.datetime) -> list[Item]:
    """The user's tasks due in [start, end) and the meetings overlapping it, by start time.
    Four queries whatever the number of items (tasks, meetings and their records)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    tasks = (
        Task.objects.active()
        .filter(assignee=user, due_at__gte=start, due_at__lt=end)
        .prefetch_related(_records_prefetch())
        .order_by("due_at", "id")
    )
    # end_at >= start follows from the rest (a meeting never ends before it starts: the services
    # refuse it) and bounds the owner's meetings to their coming ones in an index.
    window = Q(start_at__lt=end, end_at__gte=start) & (Q(end_at__gt=start) | Q(start_at__gte=start))
    meetings = _meetings_of(user, window).prefetch_related(_records_prefetch()).order_by("start_at", "id")
    items = [Item("task", t, t.due_at, t.due_at + TASK_DURATION) for t in tasks]
    items += [Item("meeting", m, m.start_at, m.end_at) for m in meetings]
    items.sort(key=lambda i: (i.start, i.kind, i.obj.pk))
    return items


def get_item(actor: Actor, *, kind: str, item_id: int) -> Item:
    """One task or meeting for its summary; any workspace user may read engagements."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    model = {"task": Task, "meeting": Meeting}.get(kind)
    obj = (
        model.objects.active().filter(pk=item_id).prefetch_related(_records_prefetch()).first()
        if model is not None
        else None
    )
    if obj is None:
        raise NotFound(_("No such calendar item."))
    if kind == "task":
        if obj.due_at is None:
            raise NotFound(_("This task has no due time, so it is not on the calendar."))
        return Item("task", obj, obj.due_at, obj.due_at + TASK_DURATION)
    return Item("meeting", obj, obj.start_at, obj.end_at)


def parse_zone(raw: str | None, *, default: zoneinfo.ZoneInfo, field: str = "tz") -> zoneinfo.ZoneInfo:
    """An IANA time zone by name (empty: `default`); an unknown name is a field error."""
    if raw in (None, ""):
        return default
    if raw not in zoneinfo.available_timezones():
        raise ValidationFailed.single(field, _("%(tz)s is not a known time zone.") % {"tz": raw[:64]})
    return zoneinfo.ZoneInfo(raw)


def parse_moment(raw: str | None, tz: zoneinfo.ZoneInfo, *, field: str) -> dt.datetime:
    """An aware datetime from an ISO 8601 date or date-time; without an offset it is a wall time
    in `tz` (what FullCalendar sends for a named time zone)."""
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed.single(field, _("%(field)s is required.") % {"field": field}, "required")
    try:
        value = dt.datetime.fromisoformat(text.replace(" ", "+"))  # a "+" in a query string arrives as a space
    except ValueError:
        raise ValidationFailed.single(
            field, _("Enter a date or date and time in ISO 8601, e.g. 2026-05-01 or 2026-05-01T09:30:00.")
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def parse_window(start: str | None, end: str | None, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    errors: list[FieldError] = []
    parsed = {}
    for field, raw in (("start", start), ("end", end)):
        try:
            parsed[field] = parse_moment(raw, tz, field=field)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if not errors:
        if parsed["end"] <= parsed["start"]:
            errors.append(FieldError("end", _("end must be after start.")))
        elif parsed["end"] - parsed["start"] > MAX_WINDOW:
            errors.append(FieldError("end", _("Ask for at most %(days)d days at a time.") % {"days": MAX_WINDOW.days}))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    return parsed["start"], parsed["end"]


def local_iso(value: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, to the second: 2026-03-29T10:00:00+02:00."""
    return value.astimezone(tz).replace(microsecond=0).isoformat()


FEEDS_LISTED = 50


def feeds_for(actor: Actor, *, user: User) -> QuerySet[CalendarFeed]:
    """The user's subscription URLs, newest first (active and revoked, the latest FEEDS_LISTED)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    return user.calendar_feeds.all()[:FEEDS_LISTED]


# A subscription carries at most this many items (about 1 MB of ICS; Google Calendar stops
# reading much larger feeds). Beyond it, the items closest to now are kept.
MAX_FEED_ITEMS = 3000


def nearest(items: list[Item], *, now: dt.datetime, limit: int = MAX_FEED_ITEMS) -> list[Item]:
    """At most `limit` of `items`, those starting closest to `now`, still in time order."""
    if len(items) <= limit:
        return items
    kept = sorted(items, key=lambda i: abs((i.start - now).total_seconds()))[:limit]
    return sorted(kept, key=lambda i: (i.start, i.kind, i.obj.pk))


def feed_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """What a calendar subscription covers: 60 days back, 365 days ahead."""
    now = now or clock.now()
    return now - dt.timedelta(days=60), now + dt.timedelta(days=365)
