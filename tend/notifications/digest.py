"""The daily email digest: each user who turned it on gets one email a day of their unread
notifications of the last 24 hours, in their language and time zone, from Tend's own address
(TEND_EMAIL_FROM); nothing when there is nothing new."""

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tend.core import clock

from .models import NotificationSettings
from .queries import unread_since
from .text import notification_text, notification_url

log = logging.getLogger(__name__)
WINDOW = dt.timedelta(days=1)


def absolute(path: str) -> str:
    return f"{settings.TEND_BASE_URL}{path}" if settings.TEND_BASE_URL and path.startswith("/") else path


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def digest_message(user, items: list) -> EmailMessage:
    """The digest email for `user` (call it in their language and time zone)."""
    subject = ngettext("%(count)d new notification in Tend", "%(count)d new notifications in Tend", len(items)) % {
        "count": len(items)
    }
    lines = [_("Hello %(name)s,") % {"name": user.display_name}, "", _("Here is what is new for you in Tend:"), ""]
    for n in items:
        when = formats.date_format(timezone.localtime(n.created_at), "SHORT_DATETIME_FORMAT")
        lines.append(f"• {when} — {notification_text(n)}")
        lines.append(f"  {absolute(notification_url(n))}")
    lines += [
        "",
        _("You get this email because the daily digest is on in your notification settings: %(url)s")
        % {"url": absolute("/me/preferences/")},
    ]
    return EmailMessage(subject=subject, body="\n".join(lines) + "\n", to=[user.email])


def send_digests(*, now: dt.datetime | None = None) -> int:
    """Send today's digests (UTC day); a user already sent today's is skipped, so running it
    twice sends nothing more. Returns how many emails went out."""
    now = now or clock.now()
    day = now.astimezone(dt.UTC).date()
    pending = (
        NotificationSettings.objects.filter(digest=True, user__is_active=True)
        .filter(Q(digest_sent_on__isnull=True) | ~Q(digest_sent_on=day))
        .select_related("user")
        .order_by("user_id")
    )
    sent = 0
    for choice in pending.iterator(chunk_size=500):
        user = choice.user
        items = unread_since(user, now - WINDOW)
        if not items:
            continue
        # Claim the day first: a second job running at the same time sends nothing.
        claimed = (
            NotificationSettings.objects.filter(pk=choice.pk)
            .filter(Q(digest_sent_on__isnull=True) | ~Q(digest_sent_on=day))
            .update(digest_sent_on=day)
        )
        if not claimed:
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_zone(user.time_zone)):
            message = digest_message(user, items)
        try:
            message.send()
        except Exception:  # noqa: BLE001 - any failed send: give the day back, try the next user
            log.exception("The notification digest to user %s was not sent", user.pk)
            NotificationSettings.objects.filter(pk=choice.pk).update(digest_sent_on=choice.digest_sent_on)
            continue
        sent += 1
    return sent
