"""Marking accounts for an incremental health recompute. Every source of change (usage events,
NPS responses, tickets, engagements, property changes) calls `mark_accounts_dirty`."""

from collections.abc import Iterable

from tend.core import clock

from .models import DirtyAccount


def mark_accounts_dirty(record_ids: Iterable[int], *, reason: str) -> int:
    """Mark the accounts (customer records) for recompute; marking twice is marking once.
    Returns how many ids were given."""
    ids = sorted({int(i) for i in record_ids if i is not None})
    if not ids:
        return 0
    now = clock.now()
    DirtyAccount.objects.bulk_create(
        [DirtyAccount(record_id=i, marked_at=now, reason=reason[:64]) for i in ids],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return len(ids)
