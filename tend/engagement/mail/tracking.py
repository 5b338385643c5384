"""Open and click tracking of sent emails: a 1×1 pixel and signed redirects through Tend.

A token names the email by its Message-ID and, for a click, the hash of the one URL it leads to,
signed with Django's signing (TEND_SECRET_KEY): a changed token is refused, and a redirect goes
only to a URL that was in the email."""

import datetime as dt
import hashlib
import html
import re
import urllib.parse
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest, Least
from django.urls import reverse

from ..models import Email
from . import events

SALT = "tend.engagement.email-tracking"
URL = re.compile(r"https?://[^\s<>\"'{}]+")
_TRAILING = ".,;:!?)]'"
CONTACTS = "contacts"


class BadToken(Exception):
    pass


@dataclass(frozen=True)
class Click:
    email: Email
    url: str


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def open_token(message_id: str) -> str:
    return signing.dumps({"m": message_id}, salt=SALT, compress=True)


def click_token(message_id: str, url: str) -> str:
    return signing.dumps({"m": message_id, "h": _url_hash(url)}, salt=SALT, compress=True)


def pixel_url(base_url: str, message_id: str) -> str:
    return base_url + reverse("email-open", args=[open_token(message_id)])


def click_url(base_url: str, message_id: str, url: str) -> str:
    path = reverse("email-click", args=[click_token(message_id, url)])
    return f"{base_url}{path}?{urllib.parse.urlencode({'u': url})}"


def _links(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).rstrip(_TRAILING) for m in URL.finditer(text)))


def tracked_bodies(text: str, *, base_url: str, message_id: str) -> tuple[str, str, list[str]]:
    """The plain-text and HTML bodies of a tracked email (links through Tend, a pixel in the
    HTML) and the links it may redirect to."""
    links = _links(text)
    redirects = {url: click_url(base_url, message_id, url) for url in links}
    pattern = re.compile("|".join(re.escape(u) for u in sorted(links, key=len, reverse=True))) if links else None
    plain = pattern.sub(lambda m: redirects[m.group(0)], text) if pattern else text
    parts, last = [], 0
    for match in pattern.finditer(text) if pattern else ():
        parts.append(html.escape(text[last : match.start()]))
        url = match.group(0)
        parts.append(f'<a href="{html.escape(redirects[url])}">{html.escape(url)}</a>')
        last = match.end()
    parts.append(html.escape(text[last:]))
    body = "".join(parts).replace("\n", "<br>\n")
    pixel = (
        f'<img src="{html.escape(pixel_url(base_url, message_id))}" width="1" height="1" alt="" style="display:none">'
    )
    document = f'<!DOCTYPE html>\n<html><body>\n<div style="white-space:normal">{body}</div>\n{pixel}\n</body></html>\n'
    return plain, document, links


def _load(token: str) -> dict:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise BadToken from exc
    if not isinstance(data, dict) or not isinstance(data.get("m"), str) or not data["m"]:
        raise BadToken
    return data


def _email(message_id: str) -> Email:
    email = Email.objects.filter(message_id=message_id, archived_at__isnull=True).first()
    if email is None or not email.tracked:
        raise BadToken
    return email


def email_for_open(token: str) -> Email:
    return _email(_load(token)["m"])


def click_for(token: str, url: str) -> Click:
    """The email and destination of a click token, if `url` is the one it was signed for and
    was in the email."""
    data = _load(token)
    if not isinstance(data.get("h"), str) or data["h"] != _url_hash(url):
        raise BadToken
    email = _email(data["m"])
    if url not in (email.links or []):
        raise BadToken
    return Click(email, url)


def _recipient_contacts(email: Email) -> tuple[int, ...]:
    """The email's contacts that it was sent to (To or Cc), by their email address."""
    sent_to = {a.lower() for a in [*(email.to_addresses or []), *(email.cc_addresses or [])]}
    contacts = email.records.filter(object_type__name=CONTACTS, archived_at__isnull=True).order_by("pk")
    return tuple(
        pk
        for pk, address in contacts.values_list("pk", "properties__email")
        if isinstance(address, str) and address.strip().lower() in sent_to
    )


def record_email_event(email: Email, kind: str, at: dt.datetime, *, url: str = "") -> None:
    """Count an open or a click ("opened" / "clicked", `url` the link) of a sent email at `at`:
    its count, first and last time; and announce it (events.on_email_event) for the contacts it was
    sent to. The one entry point for email events."""
    if kind not in (events.OPENED, events.CLICKED):
        raise ValueError(kind)
    prefix = "open" if kind == "opened" else "click"
    first, last = f"first_{kind}_at", f"last_{kind}_at"
    with transaction.atomic():
        Email.objects.filter(pk=email.pk).update(
            **{
                f"{prefix}_count": F(f"{prefix}_count") + 1,
                # Events may arrive out of order (a batch from the contact-activity import).
                first: Coalesce(Least(F(first), at), at),
                last: Coalesce(Greatest(F(last), at), at),
            }
        )
        if contacts := _recipient_contacts(email):
            events.email_event_announce(
                events.EmailEvent(
                    kind=kind,
                    at=at,
                    message_id=email.message_id,
                    subject=email.subject,
                    url=url if kind == events.CLICKED else "",
                    contact_ids=contacts,
                )
            )
