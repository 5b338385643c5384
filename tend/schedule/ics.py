"""The ICS (RFC 5545) document of a calendar subscription, written with the icalendar library.

Choices that calendar clients care about:
- everything is a VEVENT (Google Calendar ignores VTODO); a task is a timed event at its due
  time, TASK_DURATION long, transparent (it does not make the user busy), its summary marked
  when done;
- times carry TZID in the user's own zone with a matching VTIMEZONE, and X-WR-TIMEZONE names it;
- UIDs are stable per item (``tend-task-42@host``) so clients update events in place;
- a cancelled meeting stays in the feed with STATUS:CANCELLED, so clients remove it visibly.
"""

import datetime as dt

from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from tend.core import clock

from .models import CalendarFeed
from .queries import Item, feed_window

PRODID = "-//Tend//Tend Schedule//EN"


def feed_url(request: HttpRequest, raw_token: str) -> str:
    """The address calendar clients subscribe to (the secret token is its last segment)."""
    return request.build_absolute_uri(reverse("calendar-feed", args=[raw_token]))


def _uid(item: Item, host: str) -> str:
    return f"tend-{item.kind}-{item.obj.pk}@{host}"


def _description(item: Item, record_url) -> str:
    lines = []
    obj = item.obj
    if not item.is_task and obj.meeting_url:
        lines.append(_("Join: %(url)s") % {"url": obj.meeting_url})
    for record in item.records:
        lines.append(f"{record.name or record.pk}: {record_url(record)}")
    if not item.is_task and obj.attendees:
        lines.append(_("Attendees: %(emails)s") % {"emails": ", ".join(obj.attendees)})
    if obj.notes:
        if lines:
            lines.append("")
        lines.append(obj.notes)
    return "\n".join(lines)


def _summary(item: Item) -> str:
    if item.is_task:
        if item.done:
            return _("✓ Task: %(subject)s") % {"subject": item.title}
        return _("Task: %(subject)s") % {"subject": item.title}
    return item.title


def _event(item: Item, *, tz, host: str, stamp: dt.datetime, record_url, schedule_url: str) -> Event:
    event = Event()
    obj = item.obj
    event.add("uid", _uid(item, host))
    event.add("dtstamp", stamp)
    event.add("created", obj.created_at.astimezone(dt.UTC))
    event.add("last-modified", obj.updated_at.astimezone(dt.UTC))
    event.add("dtstart", item.start.astimezone(tz))
    event.add("dtend", item.end.astimezone(tz))
    event.add("summary", _summary(item))
    description = _description(item, record_url)
    if description:
        event.add("description", description)
    if item.is_task:
        event.add("transp", "TRANSPARENT")
        event.add("categories", [_("Task")])
        event.add("url", record_url(item.records[0]) if item.records else schedule_url)
    else:
        if obj.location or obj.meeting_url:
            event.add("location", obj.location or obj.meeting_url)
        event.add("url", obj.meeting_url or (record_url(item.records[0]) if item.records else schedule_url))
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("categories", [_("Meeting")])
    return event


def feed_calendar(feed: CalendarFeed, items: list[Item], *, host: str, record_url, schedule_url: str) -> bytes:
    """The whole feed as bytes (UTF-8, CRLF lines folded at 75 octets by icalendar)."""
    user = feed.user
    tz = clock.user_zone(user)
    start, end = feed_window()
    with translation.override(user.language):
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Tend: %(name)s") % {"name": user.display_name})
        calendar.add("x-wr-timezone", tz.key)
        calendar.add("x-published-ttl", "PT1H")
        calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
        stamp = clock.now().astimezone(dt.UTC).replace(microsecond=0)
        for item in items:
            calendar.add_component(
                _event(item, tz=tz, host=host, stamp=stamp, record_url=record_url, schedule_url=schedule_url)
            )
        if tz.key != "UTC":
            # One VTIMEZONE for the user's zone, covering the feed's window (and the items in it).
            first = min([start, *(i.start for i in items)]).astimezone(tz).date()
            last = max([end, *(i.end for i in items)]).astimezone(tz).date() + dt.timedelta(days=1)
            calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()
