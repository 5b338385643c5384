"""Reads for the bell, the notifications page, the digest and the API: scoped to one user, each an
index range of (user, read_at | kind, created_at)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from tend.core.paging import capped_count

from .models import Notification, NotificationQuerySet

BADGE_CAP = 99  # the badge reads "99+" past it


def unread_count(user) -> int:
    """Unread notifications, counted up to BADGE_CAP + 1 in one indexed query."""
    n, more = capped_count(Notification.objects.for_user(user).unread(), cap=BADGE_CAP)
    return n + 1 if more else n


def badge(count: int) -> str:
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)


@dataclass(frozen=True)
class Page:
    items: list[Notification]
    next_cursor: str  # "" on the last page


def encode_cursor(n: Notification) -> str:
    return f"{n.created_at.isoformat()}~{n.pk}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        at, _sep, pk = cursor.partition("~")
        moment = dt.datetime.fromisoformat(at)
        return (moment, int(pk)) if moment.tzinfo is not None else None
    except ValueError:
        return None


def notifications_for(user, *, kind: str = "", unread: bool = False) -> NotificationQuerySet:
    rows = Notification.objects.for_user(user)
    if kind:
        rows = rows.filter(kind=kind)
    if unread:
        rows = rows.unread()
    return rows


def notifications_page(user, *, kind: str = "", unread: bool = False, cursor: str = "", limit: int = 20) -> Page:
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


def unread_since(user, since: dt.datetime, *, limit: int = 50) -> list[Notification]:
    """For the digest: unread notifications created since `since`, newest first."""
    return list(
        Notification.objects.for_user(user)
        .unread()
        .filter(created_at__gte=since)
        .select_related("record__object_type", "actor")
        .order_by("-created_at", "-id")[:limit]
    )
