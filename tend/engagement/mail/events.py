"""Opens and clicks of tracked emails, announced to whoever subscribes (contact activity does, in
its AppConfig.ready()): engagement stays below the apps that record what a contact did."""

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from tend.core.hooks import Announcement

OPENED, CLICKED = "opened", "clicked"
BUCKET_SECONDS = 60  # loads of one pixel (or one link) within a minute are one event


@dataclass(frozen=True)
class EmailEvent:
    """An open or a click of a sent email: who it was sent to (the contacts among its recipients),
    its subject, the link clicked, and an id that is the same for a repeat of the same event."""

    kind: str  # OPENED / CLICKED
    at: dt.datetime
    message_id: str
    subject: str
    url: str  # the link clicked; "" for an open
    contact_ids: tuple[int, ...]

    @property
    def event_id(self) -> str:
        """Stable for the same email, kind, link and minute: a mail client that loads the pixel
        twice, or a retried redirect, is one event."""
        digest = hashlib.sha256(f"{self.message_id}\n{self.url}".encode()).hexdigest()[:24]
        bucket = int(self.at.timestamp()) // BUCKET_SECONDS
        return f"email:{self.kind}:{digest}:{bucket}"


_events = Announcement()


def on_email_event(receiver: Callable[[EmailEvent], object]) -> Callable[[EmailEvent], object]:
    """Subscribe `receiver(event: EmailEvent)`; it runs in the transaction that counts the event."""
    return _events.subscribe(receiver)


def email_event_announce(event: EmailEvent) -> None:
    _events.announce(event)
