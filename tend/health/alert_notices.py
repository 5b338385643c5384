"""Alerts to the bells: each alert the live recompute raises notifies the users whose book its
account is in (owner and CSM, as stamped on the alert), set-based for a whole chunk; and how such
a notification reads, composed from the alert's kind, signal and evidence like the alert itself."""

import datetime as dt

from django.utils.translation import gettext as _

from tend.core.hooks import Notice
from tend.core.policy import SYSTEM
from tend.notifications.models import Notification
from tend.notifications.services import notify_many
from tend.notifications.text import composer, record_name

from .alert_text import alert_text
from .models import HealthAlert, NewHealthAlert

KEY = "health.alert"


def alert_event(a: NewHealthAlert) -> str:
    """One alert's name: a rerun of the same chunk raises the same alert, so it notifies once."""
    return f"alert:{a.record_id}:{a.kind}:{a.signal or a.profile_id}:{a.raised_at.isoformat()}"


def notify_alerts(alerts: list[NewHealthAlert], *, at: dt.datetime | None = None) -> int:
    notices = [
        Notice(
            kind=Notification.Kind.ALERT,
            key=KEY,
            event=alert_event(a),
            user_ids=tuple({a.book_owner_id, a.book_csm_id} - {None}),
            record_id=a.record_id,
            params={
                "kind": str(a.kind),
                "signal": a.signal,
                "priority": str(a.priority),
                "title": str(a.title),
                "evidence": a.evidence,
            },
        )
        for a in alerts
        if a.record_live and (a.book_owner_id or a.book_csm_id)
    ]
    return notify_many(actor=SYSTEM, notices=notices, at=at)


@composer(KEY)
def alert_notification_text(n: Notification) -> str:
    p = n.params
    alert = HealthAlert(
        kind=p["kind"], signal=p.get("signal", ""), title=p.get("title", ""), evidence=p.get("evidence")
    )
    return _("Alert on %(record)s: %(title)s") % {"record": record_name(n), "title": alert_text(alert).title}
