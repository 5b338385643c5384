"""/api/v1 endpoints of the schedule: the token user's tasks and meetings in a window, and
their calendar subscriptions (private ICS feed URLs)."""

from ninja import Router, Schema
from ninja.responses import Status

from tend.core import clock
from tend.engagement.api import _iso

from . import ics, queries, services
from .models import CalendarFeed

router = Router(tags=["schedule"])


def item_out(item: queries.Item, tz) -> dict:
    obj = item.obj
    out = {
        "id": obj.pk,
        "type": "tasks" if item.is_task else "meetings",
        "title": item.title,
        "start": queries.local_iso(item.start, tz),
        "end": queries.local_iso(item.end, tz),
        "associations": [r.pk for r in item.records],
        "notes": obj.notes,
    }
    if item.is_task:
        out |= {"status": obj.status, "completed": item.done}
    else:
        out |= {
            "outcome": obj.outcome,
            "location": obj.location,
            "meetingUrl": obj.meeting_url,
            "attendees": obj.attendees,
        }
    return out


@router.get("/schedule", summary="The token user's tasks and meetings in a window", operation_id="get_schedule")
def get_schedule(request, start: str, end: str, tz: str | None = None):
    """Tasks due in [start, end) and meetings overlapping it (owned, or the user invited by
    email), by start time. `start` / `end` are ISO 8601; without an offset they are wall times in
    `tz` (an IANA zone, default the user's), and times are answered in `tz` with its offset.
    At most 100 days per request."""
    actor = request.auth
    zone = queries.parse_zone(tz, default=clock.user_zone(actor.user))
    window_start, window_end = queries.parse_window(start, end, zone)
    items = queries.schedule_items(actor, user=actor.user, start=window_start, end=window_end)
    return {"timeZone": zone.key, "results": [item_out(i, zone) for i in items]}


def feed_out(feed: CalendarFeed) -> dict:
    return {
        "id": feed.pk,
        "name": feed.name,
        "prefix": feed.prefix,
        "createdAt": _iso(feed.created_at),
        "lastFetchedAt": _iso(feed.last_fetched_at),
        "revokedAt": _iso(feed.revoked_at),
        "active": feed.is_active,
    }


class FeedIn(Schema):
    name: str = ""


@router.get("/calendar-feeds", summary="List your calendar subscriptions", operation_id="list_calendar_feeds")
def list_feeds(request):
    feeds = queries.feeds_for(request.auth, user=request.auth.user)
    return {"results": [feed_out(f) for f in feeds]}


@router.post(
    "/calendar-feeds",
    response={201: dict},
    summary="Create a calendar subscription URL",
    operation_id="create_calendar_feed",
)
def create_feed(request, payload: FeedIn):
    """The answer's `url` (an ICS feed, no sign-in needed) is shown this once; only its hash is kept."""
    feed, raw = services.calendar_feed_create(actor=request.auth, name=payload.name)
    return Status(201, feed_out(feed) | {"url": ics.feed_url(request, raw)})


@router.delete(
    "/calendar-feeds/{feed_id}",
    response={204: None},
    summary="Revoke a calendar subscription URL",
    operation_id="revoke_calendar_feed",
)
def revoke_feed(request, feed_id: int):
    services.calendar_feed_revoke(actor=request.auth, feed_id=feed_id)
    return Status(204, None)
