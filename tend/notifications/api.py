"""/api/v1/notifications: the caller's own notifications (newest first, cursor paging) and
marking them read."""

from datetime import UTC

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from tend.core import policy
from tend.core.api import parse_limit
from tend.core.errors import ValidationFailed

from . import queries, services
from .models import Notification
from .text import notification_text, notification_url

router = Router(tags=["notifications"])


def _iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None


def notification_out(n: Notification) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "text": notification_text(n),
        "key": n.key,
        "params": n.params,
        "recordId": n.record_id,
        "actorId": n.actor_id,
        "url": notification_url(n),
        "createdAt": _iso(n.created_at),
        "readAt": _iso(n.read_at),
    }


@router.get("/notifications", summary="List your notifications, newest first (cursor paging)")
def list_notifications(
    request, kind: str | None = None, unread: bool = False, limit: int | None = None, after: str | None = None
):
    user = request.auth.user
    policy.require(request.auth, policy.Action.READ_NOTIFICATIONS, user)
    limit = parse_limit(limit, default=50, maximum=200)
    if kind and kind not in Notification.Kind.values:
        raise ValidationFailed.single(
            "kind", _("kind must be one of %(kinds)s.") % {"kinds": ", ".join(Notification.Kind.values)}
        )
    if after and queries.decode_cursor(after) is None:
        raise ValidationFailed.single("after", _("after must be the cursor from a previous page."))
    page = queries.notifications_page(user, kind=kind or "", unread=unread, cursor=after or "", limit=limit)
    body: dict = {
        "results": [notification_out(n) for n in page.items],
        "unreadCount": queries.unread_count(user),
    }
    if page.next_cursor:
        body["paging"] = {"next": {"after": page.next_cursor}}
    return body


class ReadIn(Schema):
    ids: list[int] | None = Field(default=None, description="the notifications to mark read; omit for all")


@router.post("/notifications/read", summary="Mark your notifications read (the given ids, or all)")
def mark_read(request, payload: ReadIn):
    user = request.auth.user
    changed = services.notifications_mark_read(actor=request.auth, user=user, ids=payload.ids)
    return {"marked": changed, "unreadCount": queries.unread_count(user)}
