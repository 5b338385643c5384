"""Reads of the workspace: which views a user sees, and the rows of the Customers tab."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tend.core import clock, policy
from tend.core.errors import NotFound
from tend.core.policy import Actor
from tend.crm.filters import compile_search
from tend.crm.models import PropertyChange, Record
from tend.crm.queries import records_for
from tend.crm.registry import Registry, registry_for
from tend.cs_settings.models import WorkspaceSettings
from tend.directory.models import User

from .models import SavedView
from .services import DEFAULT_COLUMNS

BUILTIN_VIEWS = {
    "owned": _("Owned by me"),
    "team": _("Owned by my team"),
    "assigned30": _("Assigned in the last 30 days"),
    # Everyone's accounts: where a report's bar opens its records (and a manager looks beyond a book).
    "all": _("All customers"),
}
# The built-in views of one CSM's book (the CSM is the same on every row).
OWN_BOOK_VIEWS = ("owned", "assigned30")
# The built-in views shown only to a user who manages others.
TEAM_VIEWS = ("team",)
ASSIGNED_WITHIN_DAYS = 30


def views_for(actor: Actor, tab: str | None) -> QuerySet[SavedView]:
    """Views the actor sees on a tab (or on every tab): their private ones and shared ones."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    views = SavedView.objects.all() if tab is None else SavedView.objects.filter(tab=tab)
    return views.filter(Q(owner=actor.user) | Q(visibility=SavedView.Visibility.EVERYONE))


def default_views(actor: Actor, tab: str) -> QuerySet[SavedView]:
    return (
        views_for(actor, tab)
        .filter(is_default=True, visibility=SavedView.Visibility.EVERYONE)
        .order_by("default_position", "id")
    )


def get_view_for_user(actor: Actor, tab: str | None, view_id: int | str) -> SavedView:
    try:
        view_id = int(view_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such view.") from exc
    view = views_for(actor, tab).filter(pk=view_id).select_related("owner").first()
    if view is None:
        raise NotFound("No such view.")
    return view


@dataclass
class TableSpec:
    """What a table shows: filter body (groups/query), sorts, columns, and a built-in rule."""

    filters: dict = field(default_factory=dict)
    sorts: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    builtin: str | None = None
    person: int | None = None  # the "team" view narrowed to one member of the team


def with_extra_filters(filters: dict[str, Any], extra: list[dict[str, Any]]) -> dict[str, Any]:
    """AND extra filters into every OR-group of a filter body."""
    if not extra:
        return filters
    groups = (filters or {}).get("filterGroups") or [{"filters": []}]
    return {**(filters or {}), "filterGroups": [{"filters": [*g.get("filters", []), *extra]} for g in groups]}


def customer_records(
    *,
    actor: Actor,
    viewed_user: User,
    ws: WorkspaceSettings,
    table: TableSpec,
    extra_filters: list[dict[str, Any]],
    registry: Registry | None = None,
) -> tuple[Registry, QuerySet[Record]]:
    """The Customers tab's queryset for `viewed_user` (the actor, or whom they view as)."""
    object_type = ws.customer_object_type
    registry = registry or registry_for(object_type)
    filters = dict(table.filters or {})
    extra = list(extra_filters)
    if table.builtin in OWN_BOOK_VIEWS:
        extra.append({"propertyName": ws.customer_csm_property, "operator": "IS_ME"})
    elif table.builtin == "team":
        extra.append({"propertyName": ws.customer_csm_property, "operator": "IN_MY_TEAM"})
        if table.person is not None:
            extra.append({"propertyName": ws.customer_csm_property, "operator": "EQ", "value": table.person})
    body = {**with_extra_filters(filters, extra), "sorts": _book_sorts(table, ws)}
    compiled = compile_search(body, registry, user=viewed_user, tz=clock.user_zone(viewed_user))
    records = compiled.apply(records_for(actor, object_type))
    if table.builtin == "assigned30":
        since = clock.now() - dt.timedelta(days=ASSIGNED_WITHIN_DAYS)
        assigned = PropertyChange.objects.filter(
            record=OuterRef("pk"),
            property_name=ws.customer_csm_property,
            new_value=viewed_user.pk,
            changed_at__gte=since,
        )
        records = records.filter(Exists(assigned))
    return registry, records


def _book_sorts(table: TableSpec, ws: WorkspaceSettings) -> list:
    """Within one CSM's book the CSM is the same on every row: a sort by it is the id order, which
    a book index serves (SQLite does not drop a constant `NULLS LAST` term from ORDER BY itself)."""
    sorts = list(table.sorts or [])
    if table.builtin in OWN_BOOK_VIEWS and sorts and isinstance(sorts[0], dict):
        first = sorts[0]
        if first.get("propertyName") == ws.customer_csm_property and first.get("direction") in (
            "ASCENDING",
            "DESCENDING",
        ):
            sorts = sorts[1:]
    return sorts


def default_columns(tab: str) -> list[str]:
    return list(DEFAULT_COLUMNS.get(tab, ["name"]))
