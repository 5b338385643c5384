"""Indexes that follow the workspace settings: a CSM's book of customers, in the order of each
column of the Customers tab that a click sorts; and the Customers tab's default views.

"Owned by me" is `<CSM property> IS_ME`, and which property is the CSM is a setting: an index on a
fixed property name would stop serving the tab the day an admin chose another one. So the set is
computed from the settings (`book_indexes`), and `sync_book_indexes` makes the database hold
exactly that set: run by migration `workspace.0002` and, after the customer settings change, by a
background task (`tasks.sync_book_indexes_task`).

A default view is read by everyone, from the tab's views bar and from each Summary: a view of
everyone's accounts (no `IS_ME`, which the book indexes serve) gets an index in its own order,
led by the properties it filters by equality (`view_indexes`, `sync_view_indexes`), so that its
first rows and capped count read index entries instead of every customer's properties. Synced
by migration `workspace.0005` and, when the default views change, by `tasks.sync_view_indexes_task`.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Index, Q

from tend.crm.models import PropertyKey, Record
from tend.crm.registry import COLUMN_NAMES, DERIVED_COLUMNS, PropSpec, Registry, registry_for
from tend.cs_settings.models import WorkspaceSettings

from .models import SavedView
from .services import DEFAULT_COLUMNS

PREFIX = "wsbook_"
VIEW_PREFIX = "wsview_"
BOOK_OPERATORS = ("IS_ME", "IN_MY_TEAM")


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


def _stored_key(registry: Registry, name: object):
    """The expression a filter or sort of the filter language compiles a stored property to
    (`crm.filters`), or None for an unknown or derived one (the health score is another table's)."""
    spec: PropSpec | None = registry.get(name) if isinstance(name, str) else None
    if spec is None or spec.is_derived or spec.name in DERIVED_COLUMNS:
        return None
    return F(spec.column) if spec.is_column else PropertyKey(spec.name, "properties")


def view_index(vendor: str, csm_property: str, registry: Registry, filters: dict, sorts: list) -> BookIndex | None:
    """The index of one default view of everyone's accounts: (object type, each property filtered
    by EQ, the first sort, id) for the live records; None for a book (`IS_ME`), several OR-groups,
    or nothing stored to lead with."""
    groups = (filters or {}).get("filterGroups") or [{"filters": []}]
    if len(groups) != 1:
        return None
    terms = [t for t in groups[0].get("filters") or [] if isinstance(t, dict)]
    if any(t.get("propertyName") == csm_property and t.get("operator") in BOOK_OPERATORS for t in terms):
        return None
    keys, labels = [], []
    for term in terms:
        key = _stored_key(registry, term.get("propertyName")) if term.get("operator") == "EQ" else None
        if key is not None and term["propertyName"] not in labels:
            keys.append(key)
            labels.append(term["propertyName"])
    first = sorts[0] if sorts and isinstance(sorts[0], dict) else {}
    if (key := _stored_key(registry, first.get("propertyName"))) is not None:
        descending = first.get("direction") == "DESCENDING"
        # as filters._compile_sort orders: NULLs last both ways (see book_indexes)
        keys.append((key.desc() if vendor == "sqlite" else key.desc(nulls_last=True)) if descending else key.asc())
        labels.append(f"{first['propertyName']}_{'d' if descending else 'a'}")
    if not keys:
        return None
    label = "_".join(labels)
    digest = hashlib.sha1(f"{label}|{vendor}|v1".encode()).hexdigest()[:8]
    name = f"{VIEW_PREFIX}{label[:40]}_{digest}"
    expressions = (F("object_type"), *keys, F("id"))
    return BookIndex(name, Index(*expressions, name=name, condition=Q(archived_at__isnull=True)))


def view_indexes(vendor: str, csm_property: str, registry: Registry, views: Iterable) -> list[BookIndex]:
    """The indexes of the default views (`SavedView`s or anything with `filters` and `sorts`);
    views of the same shape share one."""
    wanted = {}
    for view in views:
        if (index := view_index(vendor, csm_property, registry, view.filters or {}, view.sorts or [])) is not None:
            wanted[index.name] = index
    return list(wanted.values())


def _existing(connection, prefix: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Record._meta.db_table)
    return {name for name, info in constraints.items() if info.get("index") and name.startswith(prefix)}


def existing_book_indexes(connection) -> set[str]:
    return _existing(connection, PREFIX)


def existing_view_indexes(connection) -> set[str]:
    return _existing(connection, VIEW_PREFIX)


def _sync(connection, have: set[str], wanted: dict[str, BookIndex]) -> tuple[list[str], list[str]]:
    """Create what is wanted and missing, drop what is there and no longer wanted. Outside a
    transaction PostgreSQL builds and drops them CONCURRENTLY, so that writes to the records go
    on meanwhile."""
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


def current_csm_property(using: str = DEFAULT_DB_ALIAS, settings_model=WorkspaceSettings) -> str:
    ws = settings_model.objects.using(using).first()
    return ws.customer_csm_property if ws is not None else "csm"


def sync_book_indexes(using: str = DEFAULT_DB_ALIAS, *, csm_property: str | None = None) -> tuple[list[str], list[str]]:
    """Create the book indexes the settings ask for and drop the ones they no longer ask for;
    (created, dropped) names. Safe to run twice."""
    connection = connections[using]
    csm_property = csm_property or current_csm_property(using)
    wanted = {b.name: b for b in book_indexes(connection.vendor, csm_property, sorted_columns())}
    return _sync(connection, existing_book_indexes(connection), wanted)


def sync_view_indexes(using: str = DEFAULT_DB_ALIAS) -> tuple[list[str], list[str]]:
    """Create the indexes of the Customers tab's default views and drop those of views no longer
    default (or changed); (created, dropped) names. Safe to run twice."""
    connection = connections[using]
    views = list(SavedView.objects.using(using).filter(tab="customers", is_default=True).only("filters", "sorts"))
    ws = WorkspaceSettings.objects.using(using).only("customer_object_type", "customer_csm_property").first()
    wanted: dict[str, BookIndex] = {}
    if views and ws is not None:
        registry = registry_for(ws.customer_object_type)
        wanted = {v.name: v for v in view_indexes(connection.vendor, ws.customer_csm_property, registry, views)}
    return _sync(connection, existing_view_indexes(connection), wanted)


def drop_book_indexes(using: str = DEFAULT_DB_ALIAS, prefix: str = PREFIX) -> list[str]:
    """Drop every book index, or with `prefix=VIEW_PREFIX` every view index (the migrations'
    reverse; a bulk load builds them after, with the syncs, which is cheaper than maintaining
    them row by row)."""
    connection = connections[using]
    names = sorted(_existing(connection, prefix))
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    return names
