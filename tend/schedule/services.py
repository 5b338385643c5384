"""Writes of the Schedule tab: scheduling a meeting, recording its outcome, and calendar
subscriptions (private ICS feed URLs). Meetings are written by the engagement services."""

import datetime as dt
import hashlib
import secrets
import zoneinfo
from collections.abc import Iterable
from typing import cast

from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.directory.models import User
from tend.engagement.kinds import KINDS
from tend.engagement.models import Meeting
from tend.engagement.services import engagement_create, engagement_update

from .models import CalendarFeed

FEED_PREFIX = "tendcal_"
MAX_ACTIVE_FEEDS = 10

# Engagement field names → the meeting form's field names.
_FORM_FIELDS = {"title": "title", "start_at": "start", "end_at": "end", "location": "location"}
_FORM_FIELDS |= {"meeting_url": "meeting_url", "notes": "notes", "attendees": "attendees"}


def _form_field(name: str) -> str:
    if name.startswith("associations"):
        return "records"
    name = name.removeprefix("properties.")
    return _FORM_FIELDS.get(name.split("[", 1)[0], name)


def _local_moment(raw: str, tz: zoneinfo.ZoneInfo, field: str, errors: list[FieldError]) -> dt.datetime | None:
    """A wall time typed in `tz` (a datetime-local input: 2026-05-01T09:30) as an aware datetime.
    A time that does not exist there (skipped by a daylight-saving change) is an error."""
    text = (raw or "").strip()
    if not text:
        errors.append(FieldError(field, _("Enter a date and time."), "required"))
        return None
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(field, _("Enter a date and time, e.g. 2026-05-01 09:30.")))
        return None
    if naive.tzinfo is not None:
        return naive
    value = naive.replace(tzinfo=tz)
    if value.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != naive:
        errors.append(
            FieldError(
                field,
                _("%(time)s does not exist in %(tz)s: the clocks change then. Choose another time.")
                % {"time": naive.strftime("%Y-%m-%d %H:%M"), "tz": tz.key},
                "nonexistent_time",
            )
        )
        return None
    return value


def _record_ids(raw: Iterable[int | str], errors: list[FieldError]) -> list[int]:
    ids = []
    for value in raw:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            errors.append(FieldError("records", _("Choose records from the list.")))
            return []
    return list(dict.fromkeys(ids))


def meeting_schedule(
    *,
    actor: Actor,
    tz: zoneinfo.ZoneInfo,
    title: str,
    start: str,
    end: str,
    attendees: str | list[str] = "",
    location: str = "",
    meeting_url: str = "",
    notes: str = "",
    record_ids: Iterable[int | str] | None = None,
) -> Meeting:
    """Schedule a meeting owned by the actor, from the calendar or a record. Start and end are
    wall times in `tz` (or carry an offset). Errors name the form's fields; nothing is saved."""
    errors: list[FieldError] = []
    start_at = _local_moment(start, tz, "start", errors)
    end_at = _local_moment(end, tz, "end", errors)
    if start_at and end_at and end_at <= start_at:
        errors.append(FieldError("end", _("The meeting must end after it starts.")))
    ids = _record_ids(record_ids or [], errors)
    if not (title or "").strip():
        errors.append(FieldError("title", _("Give the meeting a title."), "required"))
    properties = {
        "title": (title or "").strip(),
        "location": (location or "").strip(),
        "meeting_url": (meeting_url or "").strip(),
        "notes": (notes or "").strip(),
        "attendees": attendees,
    }
    if not errors and start_at and end_at:
        properties |= {"start_at": start_at.isoformat(), "end_at": end_at.isoformat()}
    ours = {e.field for e in errors}
    try:
        # After an error of ours the times are left out, and the engagement service refuses a
        # meeting without them: it saves nothing and reports the other fields' problems too.
        meeting = engagement_create(actor=actor, kind=KINDS["meetings"], properties=properties, associations=ids)
    except ValidationFailed as exc:
        errors += [
            FieldError(_form_field(e.field), e.message, e.code)
            for e in exc.errors
            if _form_field(e.field) not in ours and not (ours and _form_field(e.field) in ("start", "end"))
        ]
        raise ValidationFailed(errors=errors, detail=errors[0].message if errors else exc.detail) from None
    return cast(Meeting, meeting)  # the meetings kind makes meetings


def meeting_set_outcome(*, actor: Actor, meeting: Meeting, outcome: str) -> Meeting:
    """Record what became of a meeting: attended, no-show, cancelled (or back to scheduled)."""
    if outcome not in Meeting.Outcome.values:
        raise ValidationFailed.single(
            "outcome", _("Choose one of: %(options)s.") % {"options": ", ".join(Meeting.Outcome.values)}
        )
    return engagement_update(actor=actor, kind=KINDS["meetings"], engagement=meeting, properties={"outcome": outcome})


# --------------------------------------------------------------------------- subscriptions


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _personal_writer(actor: Actor) -> User:
    """The actor's own user, allowed to change their subscriptions (not with a read-only token)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    if not actor.can_write:
        raise Forbidden(_("This API token is read-only."))
    if actor.user is None:  # Tend itself (policy.SYSTEM) keeps no calendar
        raise Forbidden(_("Calendar subscriptions belong to a user."))
    return actor.user


def calendar_feed_create(*, actor: Actor, name: str = "") -> tuple[CalendarFeed, str]:
    """A new private feed of the actor's own tasks and meetings; returns it with its secret,
    which is never retrievable again (only its hash is kept)."""
    user = _personal_writer(actor)
    name = (name or "").strip() or _("Calendar")
    if len(name) > 120:
        raise ValidationFailed.single("name", _("Use at most 120 characters."))
    if CalendarFeed.objects.owned_by(user).active().count() >= MAX_ACTIVE_FEEDS:
        raise ValidationFailed.single(
            "name",
            _("You already have %(n)d active subscriptions; revoke one first.") % {"n": MAX_ACTIVE_FEEDS},
            "too_many",
        )
    raw = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=user, name=name, prefix=raw[: len(FEED_PREFIX) + 6], token_hash=_hash(raw), created_at=clock.now()
    )
    return feed, raw


def calendar_feed_revoke(*, actor: Actor, feed_id: int) -> CalendarFeed:
    """Turn a feed URL off for good: calendar clients get 404 from then on."""
    user = _personal_writer(actor)
    feed = CalendarFeed.objects.owned_by(user).active().filter(pk=feed_id).first()
    if feed is None:
        raise NotFound(_("No active calendar subscription %(id)s.") % {"id": feed_id})
    feed.revoked_at = clock.now()
    feed.save(update_fields=["revoked_at"])
    return feed


def calendar_feed_open(*, raw_token: str) -> CalendarFeed | None:
    """The active feed for this secret (its user active and with workspace access), noting when
    it was fetched — at most once a minute, since clients poll."""
    if not raw_token or not raw_token.startswith(FEED_PREFIX) or len(raw_token) > 100:
        return None
    feed = (
        CalendarFeed.objects.active()
        .select_related("user")
        .filter(token_hash=_hash(raw_token), user__is_active=True)
        .first()
    )
    if feed is None or not policy.allows(feed.user, policy.Action.USE_WORKSPACE):
        return None
    now = clock.now()
    if feed.last_fetched_at is None or (now - feed.last_fetched_at).total_seconds() > 60:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
        feed.last_fetched_at = now
    return feed
