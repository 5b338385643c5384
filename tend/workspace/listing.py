"""The list kit's workspace half: a table state resolved against saved views and the property
registry, the views bar, record headers and cells, and the context every list template shares."""

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.listkit import Cell, CellKind, Header, TableState, ViewChoice, headers
from tend.core.web import Viewing
from tend.crm.display import HEALTH_STATUS_COLORS, Formatter
from tend.crm.filter_builder import builder_schema
from tend.crm.filters import SORTABLE_TYPES
from tend.crm.models import ObjectType, PropertyType
from tend.crm.registry import Registry

from . import queries
from .models import SavedView

_NUMERIC = (PropertyType.NUMBER, PropertyType.CURRENCY)
_KINDS = {
    PropertyType.USER: CellKind.USER,
    PropertyType.DATE: CellKind.DATE,
    PropertyType.DATETIME: CellKind.DATE,
    PropertyType.CURRENCY: CellKind.MONEY,
    PropertyType.NUMBER: CellKind.NUMBER,
    PropertyType.ENUMERATION: CellKind.ENUMERATION,
    PropertyType.MULTI_ENUMERATION: CellKind.ENUMERATION,
}


@dataclass
class BuiltinView:
    """A view every user has on a tab (not a saved view): "Owned by me", "Due today"…"""

    key: str
    label: str
    count: int | None = None
    alert: bool = False


def table_state(
    params: QueryDict,
    viewing: Viewing,
    *,
    tab: str,
    registry: Registry,
    builtin_views: Iterable[str],
    default_view: str,
    default_columns: Sequence[str],
    sticky: tuple[str, ...] = (),
    quick: tuple[str, ...] = (),
    first_column: str | None = None,
) -> TableState:
    """The state of a tab's table; raises NotFound for a saved view the viewer may not see."""
    state = TableState.parse(
        params,
        default_view=default_view,
        builtin_views=builtin_views,
        load_saved=lambda key: queries.get_view_for_user(viewing.actor, tab, key),
        default_columns=default_columns,
        sticky=sticky,
        quick=quick,
    )
    state.filters = localize_datetimes(state.filters, registry, clock.user_zone(viewing.user))
    columns = [c for c in state.columns if registry.get(c) and c != first_column]
    state.columns = [first_column, *columns] if first_column else (columns or ["name"])
    return state


def localize_datetimes(filters: dict, registry: Registry, tz: dt.tzinfo) -> dict:
    """The builder sends datetime-local values (no offset); they mean the viewer's time zone."""
    for group in filters.get("filterGroups", []) if isinstance(filters.get("filterGroups"), list) else []:
        for f in group.get("filters", []) if isinstance(group, dict) else []:
            spec = registry.get(f.get("propertyName")) if isinstance(f, dict) else None
            if spec is None or spec.type != PropertyType.DATETIME:
                continue
            for key in ("value", "highValue"):
                value = f.get(key)
                if isinstance(value, str) and value and "+" not in value and not value.endswith("Z"):
                    try:
                        f[key] = dt.datetime.fromisoformat(value).replace(tzinfo=tz).isoformat()
                    except ValueError:
                        pass
    return filters


# ---- headers and cells of record tables -----------------------------------------------------


def record_headers(state: TableState, registry: Registry) -> list[Header]:
    columns = []
    for name in state.columns:
        spec = registry.get(name)
        columns.append((name, str(_(spec.label)), spec.type in SORTABLE_TYPES, spec.type in _NUMERIC))
    return headers(state, columns)


def cell_kind(name: str, spec_type: str) -> str:
    if name == "health_status":
        return CellKind.HEALTH
    if name == "health_score":
        return CellKind.HEALTH
    return _KINDS.get(spec_type, CellKind.TEXT)


class RecordCells:
    """Cells of record rows in the kit's vocabulary, with a fixed number of queries for a page
    (the formatter loads users and stages once; record URLs are reversed once)."""

    def __init__(self, registry: Registry, columns: list[str], *, object_type: ObjectType | None = None, users=None):
        self.registry = registry
        self.columns = columns
        self.formatter = Formatter(registry, users=users)
        # Rows of engagements (tasks) link elsewhere; records link to their record page.
        self.detail_prefix = (
            reverse("record-detail", args=[object_type.name, 1]).removesuffix("1/") if object_type else ""
        )
        self.kinds = {c: cell_kind(c, registry.get(c).type) for c in columns}

    def url(self, record) -> str:
        return f"{self.detail_prefix}{record.pk}/"

    def cell(self, record, name: str, *, link: bool = False) -> Cell:
        text = self.formatter.text(record, name)
        if link:
            url = self.url(record)
            return Cell(CellKind.RECORD, text or record.name or str(record.pk), url, f"{url}preview/", name=name)
        badge = getattr(text, "badge", "")
        if name == "health_score" and text:
            # The score wears its status's colour, as the status badge does.
            badge = HEALTH_STATUS_COLORS.get(self.formatter.raw(record, "health_status"), "secondary")
        return Cell(self.kinds[name], text, badge=badge, name=name)

    def row(self, record) -> dict:
        cells = [self.cell(record, c, link=i == 0) for i, c in enumerate(self.columns)]
        return {"record": record, "cells": cells}

    def rows(self, records: Iterable) -> list[dict]:
        return [self.row(r) for r in records]


# ---- the views bar and the shared context ---------------------------------------------------


@dataclass
class MenuEntry:
    """One view of the "All views" menu; `meta` says whose it is or whom it is shared with."""

    key: str
    label: str
    link: str
    active: bool = False
    meta: str = ""
    description: str = ""


@dataclass
class MenuGroup:
    key: str  # "default" | "mine" | "shared"
    label: str
    entries: list[MenuEntry]


def views_bar(viewing: Viewing, tab: str, state: TableState, builtins: Iterable[BuiltinView]) -> dict[str, object]:
    """The views bar: built-in views, the default views (in the admin's order), the current saved
    view when it is not a default one, and the "All views" menu of every view the viewer may open:
    the built-in and default ones, their own, and those others share with everyone."""
    builtins = list(builtins)
    all_views = list(queries.views_for(viewing.actor, tab).select_related("owner"))
    defaults = sorted(
        (v for v in all_views if v.is_default and v.visibility == SavedView.Visibility.EVERYONE),
        key=lambda v: (v.default_position, v.pk),
    )
    choices = [
        ViewChoice(b.key, b.label, state.view_link(b.key), state.view_key == b.key, b.count, alert=b.alert)
        for b in builtins
    ]
    saved = state.saved
    for v in defaults:
        choices.append(
            ViewChoice(
                str(v.pk),
                v.name,
                state.view_link(v.pk),
                saved is not None and saved.pk == v.pk,
                description=v.description,
            )
        )
    if saved is not None and not saved.is_default:
        choices.append(ViewChoice(str(saved.pk), saved.name, state.view_link(saved.pk), True))
    return {
        "view_choices": choices,
        "view_menu": _view_menu(viewing, state, builtins, defaults, all_views),
        "has_saved_views": bool(all_views),
        "default_views": defaults,
    }


def _view_menu(
    viewing: Viewing,
    state: TableState,
    builtins: list[BuiltinView],
    defaults: list[SavedView],
    all_views: list[SavedView],
) -> list[MenuGroup]:
    saved_pk = state.saved.pk if state.saved is not None else None

    def entry(view: SavedView, meta: str) -> MenuEntry:
        return MenuEntry(str(view.pk), view.name, state.view_link(view.pk), view.pk == saved_pk, meta, view.description)

    default_ids = {v.pk for v in defaults}
    standard = [MenuEntry(b.key, str(b.label), state.view_link(b.key), state.view_key == b.key) for b in builtins]
    standard += [entry(v, "") for v in defaults]
    mine, shared = [], []
    for v in all_views:  # in name order
        if v.pk in default_ids:
            continue
        if v.owner_id == viewing.actor.user.pk:
            everyone = v.visibility == SavedView.Visibility.EVERYONE
            mine.append(entry(v, _("shared with everyone") if everyone else _("private")))
        else:
            shared.append(entry(v, v.owner.display_name))
    groups = [
        MenuGroup("default", _("Default views"), standard),
        MenuGroup("mine", _("My views"), mine),
        MenuGroup("shared", _("Shared with everyone"), shared),
    ]
    return [g for g in groups if g.entries]


def list_context(
    viewing: Viewing,
    *,
    tab: str,
    state: TableState,
    registry: Registry,
    users: Iterable,
    builtins: Iterable[BuiltinView],
    create_url: str,
) -> dict[str, object]:
    """What the views bar, the toolbar and the filter, column and view dialogs read."""
    actor = viewing.actor
    saved = state.saved
    can_share = policy.allows(actor, policy.Action.MANAGE_CS_SETTINGS)
    return {
        "state": state,
        "viewing": viewing,
        "saved": saved,
        "modified": state.modified,
        "can_edit_saved": saved is not None
        and viewing.can_act
        and policy.allows(actor, policy.Action.EDIT_SAVED_VIEW, saved),
        "can_share": can_share,
        "can_reorder": can_share and viewing.can_act,
        "filters_json": json.dumps(state.filters or {}),
        "sorts_json": json.dumps(state.sorts or []),
        "columns_param": ",".join(state.columns),
        "builder": builder_schema(registry, users),
        "view_create_url": create_url,
        "state_fields": state.hidden_fields(with_table=True),
        "filter_fields": state.hidden_fields(with_table=False, with_quick=True),
        "list_tab": tab,
        **views_bar(viewing, tab, state, builtins),
    }
