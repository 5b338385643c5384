"""Dirty accounts: the customers an incremental health recompute must score again. Usage events
and NPS responses reach `mark_accounts_dirty` through the core `accounts_changed` hook; record,
association and engagement changes reach `mark_related_accounts` through `records_changed` (both
subscribed in apps.py)."""

from collections.abc import Iterable

from django.db import connection

from tend.core import bulk, clock
from tend.crm.models import Association, Record
from tend.cs_settings.queries import workspace_settings

from .models import DirtyAccount
from .tasks import schedule_incremental


def mark_accounts_dirty(record_ids: Iterable[int], *, reason: str) -> int:
    """Mark the accounts (customer records) for recompute and queue the incremental recompute
    (debounced: one queued run at a time, enqueued when the transaction commits). Marking twice is
    marking once (the later time wins). Returns how many ids were given."""
    ids = sorted({int(i) for i in record_ids if i is not None})
    if not ids:
        return 0
    table = connection.ops.quote_name(DirtyAccount._meta.db_table)
    conflict = "ON CONFLICT (record_id) DO UPDATE SET marked_at = excluded.marked_at, reason = excluded.reason"
    at, reason = bulk.db_datetime(clock.now()), reason[:64]
    if bulk.is_postgres():
        # One array (the ids), not three: psycopg builds binary arrays in Python.
        with bulk.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (record_id, marked_at, reason) SELECT unnest(%b::bigint[]), %b, %b {conflict}",
                [ids, at, reason],
            )
    else:
        bulk.insert_rows(
            DirtyAccount._meta.db_table,
            ("record_id", "marked_at", "reason"),
            [(i, at, reason) for i in ids],
            pg_types=(),
            on_conflict=conflict,
        )
    schedule_incremental()
    return len(ids)


def customer_ids_for(record_ids: Iterable[int]) -> list[int]:
    """The customer records among `record_ids`, plus the customers associated with the others
    (a ticket's, a contact's, a service's company)."""
    ids = {int(i) for i in record_ids if i is not None}
    if not ids:
        return []
    ctype_id = workspace_settings().customer_object_type_id
    direct = set(Record.objects.filter(pk__in=ids, object_type_id=ctype_id).values_list("pk", flat=True))
    others = ids - direct
    if others:
        direct |= set(
            Association.objects.filter(from_record_id__in=others, to_record__object_type_id=ctype_id).values_list(
                "to_record_id", flat=True
            )
        )
    return sorted(direct)


def mark_related_accounts(record_ids: Iterable[int], *, reason: str) -> int:
    """Mark the customers concerned by a change of these records (themselves or associated)."""
    return mark_accounts_dirty(customer_ids_for(record_ids), reason=reason)
