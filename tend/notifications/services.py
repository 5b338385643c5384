"""Writes for notifications: telling people (set-based, once per event), marking read, and each
user's notification settings. The bell's reads are in `queries`, the texts in `text`."""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction

from tend.core import clock, policy
from tend.core.hooks import Notice
from tend.core.policy import Actor

from .models import OPTIONAL_KINDS, Notification, NotificationSettings
from .tasks import ensure_digest

KINDS = set(Notification.Kind.values)
BATCH = 2000

if TYPE_CHECKING:
    from tend.directory.models import User


def notify_many(*, actor: Actor, notices: Iterable[Notice], at: dt.datetime | None = None) -> int:
    """Tell each notice's users, in a few statements whatever the number of notices: never the
    person who caused it, only active users, not those who turned the kind off, and once per
    (user, event) — a retried job notifies nobody twice. Returns how many rows were new."""
    if actor is None:
        raise TypeError("An actor is required; background work acts as policy.SYSTEM.")
    items = [n for n in notices if n.user_ids]
    for n in items:
        if n.kind not in KINDS:
            raise ValueError(f"Unknown notification kind {n.kind!r}")
    if not items:
        return 0
    user_ids = {u for n in items for u in n.user_ids}
    active = set(get_user_model().objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    kinds = {n.kind for n in items if n.kind in OPTIONAL_KINDS}
    muted: set[tuple[int, str]] = set()
    if kinds:
        for row in NotificationSettings.objects.filter(user_id__in=active).values("user_id", *kinds):
            muted.update((row["user_id"], kind) for kind in kinds if not row[kind])
    now = at or clock.now()
    default_actor = actor.user.pk if actor.user is not None else None
    rows = []
    for n in items:
        cause = n.actor_id if n.actor_id is not None else default_actor
        for user_id in dict.fromkeys(n.user_ids):
            if user_id == cause or user_id not in active or (user_id, n.kind) in muted:
                continue
            rows.append(
                Notification(
                    user_id=user_id,
                    kind=n.kind,
                    record_id=n.record_id,
                    actor_id=cause,
                    key=n.key or n.kind,
                    params=n.params,
                    url=n.url,
                    event=n.event[:200],
                    created_at=now,
                )
            )
    if not rows:
        return 0
    before = Notification.objects.filter(user_id__in={r.user_id for r in rows}, event__in={r.event for r in rows})
    known = set(before.values_list("user_id", "event"))
    fresh = [r for r in rows if (r.user_id, r.event) not in known]
    # The unique (user, event) constraint settles a race with a concurrent retry.
    Notification.objects.bulk_create(fresh, batch_size=BATCH, ignore_conflicts=True)
    return len(fresh)


def notify(
    *,
    actor: Actor,
    kind: str,
    user_ids: Sequence[int],
    event: str,
    key: str = "",
    params: dict | None = None,
    record_id: int | None = None,
    url: str = "",
) -> int:
    """Tell these users about one event (see `notify_many`)."""
    notice = Notice(
        kind=kind, event=event, user_ids=tuple(user_ids), record_id=record_id, url=url, key=key, params=params or {}
    )
    return notify_many(actor=actor, notices=[notice])


def workflow_notify(
    *,
    actor: Actor,
    user_ids: Sequence[int],
    event: str,
    workflow: str,
    message: str,
    record_id: int | None = None,
    url: str = "",
) -> int:
    """For the workflows' "Send an in-app notification" step: tell these users `message` (the text
    the workflow's author wrote) from `workflow` (its name). `event` should name the step run
    (e.g. "workflow:12:run:3456") so that a retried step notifies once."""
    return notify(
        actor=actor,
        kind=Notification.Kind.WORKFLOW,
        user_ids=user_ids,
        event=event,
        key="workflow.message",
        params={"workflow": workflow[:200], "message": message[:1000]},
        record_id=record_id,
        url=url,
    )


def notices_received(notices: list[Notice]) -> None:
    """The hook (tend.core.hooks.notices): lower layers' notices, caused by whoever the notice names."""
    notify_many(actor=policy.SYSTEM, notices=notices)


def notifications_mark_read(*, actor: Actor, user: "User", ids: Iterable[int] | None = None) -> int:
    """Mark read the user's given notifications (None: all of them); returns how many changed."""
    policy.require(actor, policy.Action.MANAGE_NOTIFICATIONS, user)
    rows = Notification.objects.for_user(user).unread()
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=clock.now())


def notification_settings_for(user: "User") -> NotificationSettings:
    """The user's settings (the defaults, unsaved, when they never chose)."""
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user)


def notification_settings_update(*, actor: Actor, user: "User", **choices: bool) -> NotificationSettings:
    """Save which kinds the user is told about and whether they get the daily digest."""
    policy.require(actor, policy.Action.MANAGE_NOTIFICATIONS, user)
    fields = {*OPTIONAL_KINDS, "digest"}
    unknown = set(choices) - fields
    if unknown:
        raise TypeError(f"Unknown notification settings: {sorted(unknown)}")
    with transaction.atomic():
        current = notification_settings_for(user)
        for name, value in choices.items():
            setattr(current, name, bool(value))
        current.save()
        if current.digest:
            ensure_digest()
    return current
