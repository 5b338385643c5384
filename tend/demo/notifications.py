"""A few believable notifications for the demo CSMs: their latest alert, two tasks the manager
assigned them, and a note in which the manager mentions them (through the real note service)."""

import datetime as dt
from collections import Counter

from tend.core.hooks import Notice
from tend.core.policy import SYSTEM, Actor
from tend.engagement.kinds import KINDS
from tend.engagement.models import Task
from tend.engagement.services import engagement_create
from tend.health.alert_notices import KEY as ALERT_KEY
from tend.health.models import HealthAlert
from tend.notifications.models import Notification
from tend.notifications.services import notify_many

from .team import DEMO_USERS, demo_users

MENTIONS = {
    "ja": "@{name} 更新の前に一度フォローしてもらえますか？",
    "de": "@{name} kannst du vor der Verlängerung noch einmal nachfassen?",
    "it": "@{name} puoi ricontattarli prima del rinnovo?",
}
MENTION_EN = "@{name} can you check in with them before the renewal call?"


def write_demo_notifications(*, now: dt.datetime) -> Counter:
    users = {u.email: u for u in demo_users()}
    manager = next((users[s.email] for s in DEMO_USERS if s.role == "manager" and s.email in users), None)
    csms = [users[s.email] for s in DEMO_USERS if s.role == "csm" and s.seat and s.email in users]
    if manager is None:
        return Counter()
    before = Notification.objects.count()
    for csm in csms:
        alert = (
            HealthAlert.objects.filter(book_csm_id=csm.pk, record_live=True, dismissed_at__isnull=True)
            .order_by("-raised_at", "-id")
            .first()
        )
        if alert is not None:
            params = {"kind": alert.kind, "signal": alert.signal, "priority": alert.priority, "title": alert.title}
            notice = Notice(
                kind="alert",
                key=ALERT_KEY,
                event=f"demo:alert:{alert.pk}",
                user_ids=(csm.pk,),
                record_id=alert.record_id,
                params=params | {"evidence": alert.evidence},
            )
            notify_many(actor=SYSTEM, notices=[notice], at=min(alert.raised_at, now))
        tasks = Task.objects.filter(assignee=csm, archived_at__isnull=True).exclude(status=Task.Status.COMPLETED)
        for hours, task in enumerate(tasks.order_by("due_at", "id")[:2], start=1):
            record_id = task.records.order_by("pk").values_list("pk", flat=True).first()
            notice = Notice(
                kind="task_assigned",
                event=f"demo:task:{task.pk}",
                user_ids=(csm.pk,),
                actor_id=manager.pk,
                record_id=record_id,
                params={"subject": task.subject},
            )
            notify_many(actor=Actor(manager), notices=[notice], at=now - dt.timedelta(hours=3 * hours))
        if alert is not None:
            body = MENTIONS.get(csm.language, MENTION_EN).format(name=csm.full_name)
            engagement_create(
                actor=Actor(manager), kind=KINDS["notes"], properties={"body": body}, associations=[alert.record_id]
            )
    return Counter({"notifications": Notification.objects.count() - before})
