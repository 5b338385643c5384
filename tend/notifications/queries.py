"""Reads for the bell, the notifications page, the digest and the API: scoped to one user, each an
index range of (user, read_at | kind, created_at)."""

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from tend.core.paging import capped_count

from .models import Notification, NotificationQuerySet

BADGE_CAP = 99  # the badge reads "99+" past it

if TYPE_CHECKING:
    from tend.directory.models import User


def unread_count(user: "User") -> int:
    """Unread notifications, counted up to BADGE_CAP + 1 in one indexed query."""
    n, more = capped_count(Notification.objects.for_user(user).unread(), cap=BADGE_CAP)
    return n + 1 if more else n


def badge(count: int) -> str:
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)


@dataclass(frozen=True)
class Page:
    items: list[Notification]
    next_cursor: str  # "" on the last page


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def encode_cursor(n: Notification) -> str:
    """The last row's moment (microseconds since the epoch) and id: URL-safe, no encoding needed."""
    return f"{(n.created_at - EPOCH) // dt.timedelta(microseconds=1)}-{n.pk}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    at, _sep, pk = cursor.partition("-")
    if not (at.isdigit() and pk.isdigit()):
        return None
    try:
        return EPOCH + dt.timedelta(microseconds=int(at)), int(pk)
    except OverflowError:
        return None


def notifications_for(user: "User", *, kind: str = "", unread: bool = False) -> NotificationQuerySet:
    rows = Notification.objects.for_user(user)
    if kind:
        rows = rows.filter(kind=kind)
    if unread:
        rows = rows.unread()
    return rows


def notifications_page(
    user: "User", *, kind: str = "", unread: bool = False, cursor: str = "", limit: int = 20
) -> Page:
    """Newest first, `limit` at a time; `cursor` (from the previous page) continues after it.
    One query: the record (with its type, for the link) and the actor come along."""
    rows = notifications_for(user, kind=kind, unread=unread)
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        at, pk = after
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    items = list(rows.select_related("record__object_type", "actor").order_by("-created_at", "-id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=encode_cursor(items[-1]) if more else "")


def unread_since(user: "User", since: dt.datetime, *, limit: int = 50) -> list[Notification]:
    """For the digest: unread notifications created since `since`, newest first."""
    return list(
        Notification.objects.for_user(user)
        .unread()
        .filter(created_at__gte=since)
        .select_related("record__object_type", "actor")
        .order_by("-created_at", "-id")[:limit]
    )
