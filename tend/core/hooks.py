"""Announcements from a lower layer to the apps above it, without importing them.

The record engine says "these records changed", the settings say "this section changed"; apps that
care (health marks the accounts dirty) subscribe in their AppConfig.ready(). Receivers run in the
caller's transaction, so whatever they write commits or rolls back with the change that caused it.
"""

from collections.abc import Callable, Iterable

RecordsChangedReceiver = Callable[..., None]

_records_changed: list[RecordsChangedReceiver] = []


def on_records_changed(receiver: RecordsChangedReceiver) -> RecordsChangedReceiver:
    """Subscribe `receiver(record_ids: list[int], *, reason: str)`; subscribing twice is once."""
    if receiver not in _records_changed:
        _records_changed.append(receiver)
    return receiver


def records_changed(record_ids: Iterable[int | None], *, reason: str) -> None:
    """Tell every subscriber that these records (properties, associations, engagements) changed."""
    ids = sorted({int(i) for i in record_ids if i is not None})
    if not ids:
        return
    for receiver in list(_records_changed):
        receiver(ids, reason=reason)


SettingsChangedReceiver = Callable[..., None]

_settings_changed: list[SettingsChangedReceiver] = []


def on_settings_changed(receiver: SettingsChangedReceiver) -> SettingsChangedReceiver:
    """Subscribe `receiver(section: str, *, before: object, after: object)`; twice is once."""
    if receiver not in _settings_changed:
        _settings_changed.append(receiver)
    return receiver


def settings_changed(section: str, *, before: object, after: object) -> None:
    """Tell every subscriber that a section of the settings was saved with another value (the
    workspace rebuilds its book indexes when the customers' CSM property changes)."""
    for receiver in list(_settings_changed):
        receiver(section, before=before, after=after)


AccountsChangedReceiver = Callable[..., None]
_accounts_changed: list[AccountsChangedReceiver] = []


def on_accounts_changed(receiver: AccountsChangedReceiver) -> AccountsChangedReceiver:
    """Subscribe `receiver(account_ids: list[int], *, reason: str)`; subscribing twice is once."""
    if receiver not in _accounts_changed:
        _accounts_changed.append(receiver)
    return receiver


def accounts_changed(account_ids: Iterable[int | None], *, reason: str) -> None:
    """Tell every subscriber that these customer accounts have new usage or survey answers."""
    ids = sorted({int(i) for i in account_ids if i is not None})
    if not ids:
        return
    for receiver in list(_accounts_changed):
        receiver(ids, reason=reason)
