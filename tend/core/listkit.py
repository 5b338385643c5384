"""The list kit: the state of a table screen, its paging, headers and cells.

Every list screen (Customers, the Services and Revenue tables, Tasks, and the tabs to come) parses
one `TableState` from the query string, asks its app for a queryset, pages it with `page_of` and
renders the fragments of `core/list/_table.html`. Everything is in the URL, so that a page is
shareable and the back button works; htmx requests get the screen's `list` fragment.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict
from django.utils import formats
from django.utils.functional import cached_property

from .paging import COUNT_CAP, capped_count

# What a filter parameter that is not JSON becomes: the filter compiler rejects it with a field
# error, so the screen shows "these filters cannot be applied" instead of dropping them.
INVALID_FILTERS: dict = {"filterGroups": "invalid"}
PAGE_SIZE = 25
MAX_SEARCH = 200

# The one fragment an htmx request from inside a list screen asks for.
LIST_FRAGMENT = "list"


class SavedTable(Protocol):
    """What the kit reads of a saved view (workspace.SavedView)."""

    pk: Any
    filters: dict
    sorts: list
    columns: list | None


def parse_json_object(raw: str | None) -> dict:
    """A filter parameter: `{}` when empty, the sentinel when it is not a JSON object."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return dict(INVALID_FILTERS)
    return value if isinstance(value, dict) else dict(INVALID_FILTERS)


def parse_json_list(raw: str | None) -> list:
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


@dataclass
class TableState:
    """The view, filters, sort, columns, search and page that a query string asks for, on top of
    the saved view it came from (`saved`); `modified` when the URL changes that view."""

    params: QueryDict
    view_key: str
    saved: SavedTable | None
    filters: dict
    sorts: list[dict]
    columns: list[str]
    q: str = ""
    modified: bool = False
    # Parameters that every link keeps (the board's object, pipeline and layout) and the quick
    # filters that sort and page links keep but a change of view drops.
    sticky: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls,
        params: QueryDict,
        *,
        default_view: str,
        builtin_views: Iterable[str],
        load_saved: Callable[[str], SavedTable],
        default_columns: Sequence[str],
        sticky: tuple[str, ...] = (),
        quick: tuple[str, ...] = (),
    ) -> "TableState":
        """Raises whatever `load_saved` raises for a view that does not exist (NotFound)."""
        view_key = params.get("view") or default_view
        saved = None
        filters: dict = {}
        sorts: list[dict] = []
        columns = list(default_columns)
        if view_key not in set(builtin_views):
            saved = load_saved(view_key)
            filters = dict(saved.filters or {})
            sorts = list(saved.sorts or [])
            columns = list(saved.columns or columns)
        modified = False
        if params.get("filters") is not None:
            filters = parse_json_object(params.get("filters"))
            modified = True
        if params.get("columns"):
            columns = [c for c in params["columns"].split(",") if c]
            modified = True
        if params.get("sort"):
            direction = "DESCENDING" if params.get("dir") == "desc" else "ASCENDING"
            sorts = [{"propertyName": params["sort"], "direction": direction}]
            modified = True
        filters.pop("query", None)
        return cls(
            params=params,
            view_key=view_key,
            saved=saved,
            filters=filters,
            sorts=sorts,
            columns=columns,
            q=(params.get("q") or "").strip()[:MAX_SEARCH],
            modified=modified and saved is not None,
            sticky=sticky,
            quick=quick,
        )

    # ---- what the query asks the database for

    @property
    def search_filters(self) -> dict:
        """The filter body with the search text, as the filter language takes it."""
        return {**self.filters, "query": self.q} if self.q else dict(self.filters)

    def body(self) -> dict:
        return {**self.search_filters, "sorts": self.sorts}

    @property
    def sort_name(self) -> str | None:
        return (self.sorts or [{}])[0].get("propertyName")

    @property
    def sort_dir(self) -> str:
        return "desc" if (self.sorts or [{}])[0].get("direction") == "DESCENDING" else "asc"

    # ---- links: everything in the URL

    def _kept(self, names: Iterable[str]) -> dict[str, str]:
        return {k: self.params[k] for k in names if self.params.get(k)}

    def query_string(self, **overrides: Any) -> str:
        """The current state (without the page) with `overrides`; a None override drops a key."""
        keep = {**self._kept(self.sticky), "view": self.view_key}
        keep.update(self._kept(("q",)))
        if self.params.get("filters") is not None:
            keep["filters"] = self.params["filters"]  # even empty: the view's filters were cleared
        keep.update(self._kept(("columns", "sort", "dir", *self.quick)))
        for key, value in overrides.items():
            if value is None or value == "":
                keep.pop(key, None)
            else:
                keep[key] = str(value)
        return urlencode(keep)

    def view_link(self, key: Any) -> str:
        """Another view: the sticky parameters only (a view brings its own filters and sort)."""
        return urlencode({**self._kept(self.sticky), "view": str(key)})

    def sort_link(self, name: str) -> str:
        direction = "desc" if self.sort_name == name and self.sort_dir == "asc" else "asc"
        return self.query_string(sort=name, dir=direction, page=None)

    def page_link(self, number: int) -> str:
        return self.query_string(page=number)

    def hidden_fields(self, *, with_table: bool, with_quick: bool = False) -> list[tuple[str, str]]:
        """Inputs a GET form in the screen carries so that submitting it keeps the state: the
        toolbar's form carries the table (filters, columns), the dialogs the search and quick filters."""
        fields = [*self._kept(self.sticky).items(), ("view", self.view_key)]
        if with_quick:
            fields += list(self._kept(("q", *self.quick)).items())
        if with_table and self.params.get("filters") is not None:
            fields.append(("filters", self.params.get("filters") or ""))
        if with_table and self.params.get("columns"):
            fields.append(("columns", self.params["columns"]))
        if self.params.get("sort"):
            fields += [("sort", self.params["sort"]), ("dir", self.params.get("dir") or "asc")]
        return fields


# ---- paging ------------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows: past the cap an exact count costs more than it tells."""

    def __init__(self, object_list, per_page: int, *, cap: int = COUNT_CAP, count: int | None = None):
        super().__init__(object_list, per_page)
        self.cap = cap
        if count is not None:  # counted already (at most cap + 1): no count query
            self.__dict__["count"] = count

    @cached_property
    def count(self) -> int:
        n, capped = capped_count(self.object_list, self.cap)
        return n + 1 if capped else n  # one past the cap: the paginator knows a next page follows

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def shown_count(self) -> int:
        return min(self.count, self.cap)

    @property
    def cap_text(self) -> str:
        return formats.number_format(self.cap, use_l10n=True, force_grouping=True)


def page_of(
    rows, params: QueryDict, *, per_page: int = PAGE_SIZE, cap: int | None = None, count: int | None = None
) -> Page:
    """The page asked for (`page`), the last one when it is past the end. `count`: the rows'
    capped count when the caller has it (at most `cap` + 1)."""
    return CappedPaginator(rows, per_page, cap=cap or COUNT_CAP, count=count).get_page(params.get("page"))


# ---- headers and cells -------------------------------------------------------------------------


class CellKind:
    """The cell vocabulary; `core/list/_table.html#cell` renders each kind."""

    TEXT = "text"
    RECORD = "record"  # a link to a record, with its preview in the side panel
    USER = "user"
    DATE = "date"  # a date or a moment, already in the viewer's time zone
    MONEY = "money"
    NUMBER = "number"
    ENUMERATION = "enumeration"
    HEALTH = "health"  # the health status badge


@dataclass
class Cell:
    kind: str
    text: str
    url: str = ""
    preview_url: str = ""
    badge: str = ""  # the health badge's colour
    name: str = ""  # the column


@dataclass
class Header:
    name: str
    label: str
    sortable: bool
    link: str = ""
    sorted_dir: str = ""  # "asc" / "desc" when the table is sorted by this column
    numeric: bool = False


def headers(state: TableState, columns: Iterable[tuple[str, str, bool, bool]]) -> list[Header]:
    """Headers for (name, label, sortable, numeric) columns, with their sort links."""
    result = []
    for name, label, sortable, numeric in columns:
        result.append(
            Header(
                name=name,
                label=label,
                sortable=sortable,
                link=state.sort_link(name) if sortable else "",
                sorted_dir=state.sort_dir if state.sort_name == name else "",
                numeric=numeric,
            )
        )
    return result


@dataclass
class ViewChoice:
    """One entry of the views bar."""

    key: str
    label: str
    link: str
    active: bool = False
    count: int | None = None
    description: str = ""
    alert: bool = False  # the count asks for attention (overdue)


@dataclass
class ListScreen:
    """What `core/list/_table.html` renders: headers, rows of cells and the page."""

    state: TableState
    headers: list[Header]
    rows: list[Any]
    page: Page | None
    empty_text: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def colspan(self) -> int:
        return len(self.headers) + self.extra.get("extra_columns", 0)

    @property
    def previous_link(self) -> str:
        if self.page is None or not self.page.has_previous():
            return ""
        return self.state.page_link(self.page.previous_page_number())

    @property
    def next_link(self) -> str:
        if self.page is None or not self.page.has_next():
            return ""
        return self.state.page_link(self.page.next_page_number())


def list_template(request: HttpRequest, template: str) -> str:
    """The whole page, or only its list fragment for an htmx request from inside the list (a
    history restore after the cache is gone asks for the whole page)."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == LIST_FRAGMENT and not htmx.history_restore_request:
        return f"{template}#{LIST_FRAGMENT}"
    return template
