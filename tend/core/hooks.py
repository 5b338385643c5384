"""Announcements from a lower layer to the apps above it, without importing them.

The record engine says "these records changed", usage ingestion "these customer accounts had news",
the settings "this section changed", engagements "tell these people"; apps that care (health marks
the accounts dirty, the workspace rebuilds its book indexes, notifications fill bells) subscribe in their AppConfig.ready(). Receivers run in the caller's
transaction, so whatever they write commits or rolls back with the change that caused it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

Receiver = TypeVar("Receiver", bound=Callable[..., object])


class Announcement:
    """The receivers of one kind of news, called in the order they subscribed."""

    def __init__(self) -> None:
        self.receivers: list[Callable[..., object]] = []

    def subscribe(self, receiver: Receiver) -> Receiver:
        if receiver not in self.receivers:  # subscribing twice is subscribing once
            self.receivers.append(receiver)
        return receiver

    def announce(self, *args: object, **kwargs: object) -> None:
        for receiver in list(self.receivers):
            receiver(*args, **kwargs)

    def announce_ids(self, ids: Iterable[int | None], *, reason: str) -> None:
        """Each id once, in order; nothing at all when there is none."""
        unique = sorted({int(i) for i in ids if i is not None})
        if unique:
            self.announce(unique, reason=reason)


_records = Announcement()
_accounts = Announcement()
_settings = Announcement()


def on_records_changed(receiver: Receiver) -> Receiver:
    """Subscribe `receiver(record_ids: list[int], *, reason: str)`."""
    return _records.subscribe(receiver)


def records_changed(record_ids: Iterable[int | None], *, reason: str) -> None:
    """These records (properties, associations, engagements) changed."""
    _records.announce_ids(record_ids, reason=reason)


def on_accounts_changed(receiver: Receiver) -> Receiver:
    """Subscribe `receiver(account_ids: list[int], *, reason: str)`."""
    return _accounts.subscribe(receiver)


def accounts_changed(account_ids: Iterable[int | None], *, reason: str) -> None:
    """These customer accounts have new usage events or survey answers."""
    _accounts.announce_ids(account_ids, reason=reason)


def on_settings_changed(receiver: Receiver) -> Receiver:
    """Subscribe `receiver(section: str, *, before: object, after: object)`."""
    return _settings.subscribe(receiver)


def settings_changed(section: str, *, before: object, after: object) -> None:
    """A section of the Customer Success settings was saved with another value."""
    _settings.announce(section, before=before, after=after)


@dataclass(frozen=True)
class Notice:
    """Something people should hear about, told by a lower layer (a task assigned, a mention in a
    note) to the notifications app above it. `event` names the event so that telling it twice
    notifies once; `params` are the facts its text is composed from in each reader's language."""

    kind: str  # "task_assigned", "mention", …: tend.notifications.models.Notification.Kind
    event: str
    user_ids: tuple[int, ...]
    actor_id: int | None = None
    record_id: int | None = None
    url: str = ""  # where it opens; empty: the record's page
    key: str = ""  # which text composes it (tend.notifications.text); empty: the kind's
    params: dict = field(default_factory=dict)


_notices = Announcement()


def on_notices(receiver: Receiver) -> Receiver:
    """Subscribe `receiver(notices: list[Notice])`."""
    return _notices.subscribe(receiver)


def notices(items: Iterable[Notice]) -> None:
    """Tell the people in these notices (nothing happens without a subscriber)."""
    items = [n for n in items if n.user_ids]
    if items:
        _notices.announce(items)
