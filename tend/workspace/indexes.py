"""Indexes that follow the workspace settings: a CSM's book of customers, in the order of each
column of the Customers tab that a click sorts.

"Owned by me" is `<CSM property> IS_ME`, and which property is the CSM is a setting: an index on a
fixed property name would stop serving the tab the day an admin chose another one. So the set is
computed from the settings (`book_indexes`), and `sync_book_indexes` makes the database hold
exactly that set: run by migration `workspace.0002` and, after the customer settings change, by a
background task (`tasks.sync_book_indexes_task`).
"""

import hashlib
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Index, Q

from tend.crm.models import PropertyKey, Record
from tend.crm.registry import COLUMN_NAMES, DERIVED_COLUMNS
from tend.cs_settings.models import WorkspaceSettings

from .services import DEFAULT_COLUMNS

PREFIX = "wsbook_"


@dataclass(frozen=True)
class BookIndex:
    name: str  # PREFIX + what it sorts + a hash of its definition (a changed setting, a new name)
    index: Index


def sorted_columns() -> list[str]:
    """The Customers tab's default columns: those a click sorts first."""
    return list(DEFAULT_COLUMNS["customers"])


def book_indexes(vendor: str, csm_property: str, columns: list[str]) -> list[BookIndex]:
    """(object type, CSM, id) for the default order, the count and the CSM column (a constant
    within a book), then (object type, CSM, column, id) ascending and descending for every other
    column stored on the record; a derived column (the health score) lives in another table."""
    csm = PropertyKey(csm_property, "properties")
    wanted: list[tuple[str, tuple]] = [("id", ())]
    for name in dict.fromkeys(columns):
        if name in (csm_property, "id") or name in DERIVED_COLUMNS:
            continue
        key = F(name) if name in COLUMN_NAMES else PropertyKey(name, "properties")
        # NULLs go last in both directions (filters._compile_sort). SQLite puts them last in a
        # descending index anyway and rejects NULLS LAST there; PostgreSQL needs it said.
        desc = key.desc() if vendor == "sqlite" else key.desc(nulls_last=True)
        wanted += [(f"{name}_a", (key.asc(),)), (f"{name}_d", (desc,))]
    result = []
    for label, keys in wanted:
        expressions = (F("object_type"), csm, *keys, F("id"))
        condition = Q(archived_at__isnull=True)
        digest = hashlib.sha1(f"{csm_property}|{label}|{vendor}|v1".encode()).hexdigest()[:8]
        name = f"{PREFIX}{label[:40]}_{digest}"
        result.append(BookIndex(name, Index(*expressions, name=name, condition=condition)))
    return result


def existing_book_indexes(connection) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Record._meta.db_table)
    return {name for name, info in constraints.items() if info.get("index") and name.startswith(PREFIX)}


def current_csm_property(using: str = DEFAULT_DB_ALIAS, settings_model=WorkspaceSettings) -> str:
    ws = settings_model.objects.using(using).first()
    return ws.customer_csm_property if ws is not None else "csm"


def sync_book_indexes(using: str = DEFAULT_DB_ALIAS, *, csm_property: str | None = None) -> tuple[list[str], list[str]]:
    """Create the book indexes the settings ask for and drop the ones they no longer ask for;
    (created, dropped) names. Safe to run twice. Outside a transaction PostgreSQL builds and
    drops them CONCURRENTLY, so that writes to the records go on meanwhile."""
    connection = connections[using]
    csm_property = csm_property or current_csm_property(using)
    wanted = {b.name: b for b in book_indexes(connection.vendor, csm_property, sorted_columns())}
    have = existing_book_indexes(connection)
    concurrently = connection.vendor == "postgresql" and not connection.in_atomic_block
    created, dropped = [], []
    editor = connection.schema_editor()  # renders the SQL only: a cursor runs it, in any transaction
    with connection.cursor() as cursor:
        for name in sorted(have - set(wanted)):
            cursor.execute(f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {editor.quote_name(name)}")
            dropped.append(name)
        for name in sorted(set(wanted) - have):
            options = {"concurrently": True} if concurrently else {}
            cursor.execute(str(wanted[name].index.create_sql(Record, editor, **options)))
            created.append(name)
    return created, dropped


def drop_book_indexes(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Drop every book index (the migration's reverse; a bulk load builds them after, with
    `sync_book_indexes`, which is cheaper than maintaining them row by row)."""
    connection = connections[using]
    names = sorted(existing_book_indexes(connection))
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    return names
