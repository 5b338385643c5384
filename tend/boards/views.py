"""The Services and Revenue tabs: pipelines as tables and drag-and-drop boards."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.web import viewing, workspace_view
from tend.crm.display import Formatter
from tend.crm.filters import SORTABLE_TYPES
from tend.crm.models import ChangeSource, PropertyType, Stage
from tend.crm.services import record_update
from tend.workspace import queries as ws_queries
from tend.workspace import services as ws_services
from tend.workspace.models import SavedView
from tend.workspace.views import builder_schema, json_param, localize_datetimes

from . import queries
from .queries import BoardConfig

TABLE_PAGE_SIZE = 25
QUICK_DAYS = ("7", "30", "90")
RENEWAL_DAYS = ("30", "60", "90")
BUILTIN_VIEWS = {"all": "All", "mine": "Mine"}
STATE_KEYS = ("object", "pipeline", "layout", "view", "q", "owner", "created", "activity", "renew", "filters")


def _builtin_labels() -> dict:
    return {"all": _("All"), "mine": _("Assigned to me")}


# ---- the state of a board: everything in the URL ----------------------------------------------


class BoardState:
    """The board or table asked for by a query string: pipeline, view, quick and advanced filters."""

    def __init__(self, request, params: QueryDict, board: BoardConfig, registry):
        self.params = params
        self.board = board
        self.pipelines = board.pipelines()
        self.pipeline = board.pipeline(params.get("pipeline"), self.pipelines)
        self.layout = "table" if params.get("layout") == "table" else "board"
        self.view_key = params.get("view") or "all"
        self.saved: SavedView | None = None
        actor = viewing(request).actor
        columns = self.default_columns(registry)
        filters, sorts = {}, []
        if self.view_key not in BUILTIN_VIEWS:
            self.saved = ws_queries.get_view_for_user(actor, board.tab, self.view_key)  # NotFound
            filters, sorts, columns = self.saved.filters or {}, self.saved.sorts or [], self.saved.columns or columns
        self.modified = False
        if params.get("filters") is not None:
            parsed = json_param(params.get("filters"), None)
            filters = parsed if isinstance(parsed, dict) else {"filterGroups": "invalid"}
            self.modified = True
        if params.get("columns"):
            columns = [c for c in params["columns"].split(",") if c]
            self.modified = True
        if params.get("sort"):
            direction = "DESCENDING" if params.get("dir") == "desc" else "ASCENDING"
            sorts = [{"propertyName": params["sort"], "direction": direction}]
        self.filters = localize_datetimes(dict(filters), registry, clock.user_zone(viewing(request).user))
        self.sorts = sorts
        self.columns = [c for c in columns if registry.get(c)] or ["name"]

    def default_columns(self, registry) -> list[str]:
        names = ["name", "owner", "stage", self.board.csm_property]
        if queries.has_amount(registry):
            names.append(queries.AMOUNT)
        names += [self.board.renewal_property, "created_at", "last_activity_at"]
        return [n for n in dict.fromkeys(names) if n and registry.get(n)]

    def body(self) -> dict:
        body = {**self.filters, "sorts": self.sorts}
        if self.params.get("q"):
            body["query"] = self.params["q"][:200]
        return body

    def extra_filters(self) -> list[dict]:
        extra = []
        p = self.params
        if self.view_key == "mine" and self.board.csm_property:
            extra.append({"propertyName": self.board.csm_property, "operator": "IS_ME"})
        owner = p.get("owner", "")
        if owner == "me":
            extra.append({"propertyName": "owner", "operator": "IS_ME"})
        elif owner.isdigit():
            extra.append({"propertyName": "owner", "operator": "EQ", "value": int(owner)})
        if p.get("created") in QUICK_DAYS:
            extra.append({"propertyName": "created_at", "operator": "IN_LAST_DAYS", "value": int(p["created"])})
        if p.get("activity") in QUICK_DAYS:
            extra.append({"propertyName": "last_activity_at", "operator": "IN_LAST_DAYS", "value": int(p["activity"])})
        if p.get("renew") in RENEWAL_DAYS and self.board.renewal_property:
            extra.append(
                {"propertyName": self.board.renewal_property, "operator": "IN_NEXT_DAYS", "value": int(p["renew"])}
            )
        return extra

    def query_string(self, **overrides) -> str:
        keep = {k: self.params.get(k) for k in STATE_KEYS if self.params.get(k)}
        if self.pipeline is not None:
            keep["pipeline"] = str(self.pipeline.pk)
        keep.update({k: v for k, v in overrides.items() if v is not None})
        return urlencode({k: v for k, v in keep.items() if v != ""})


def _resolve(request, tab: str, params: QueryDict, board: BoardConfig | None = None):
    if board is None:
        board = queries.board_for_tab(ws_services.workspace_settings(), tab)
    from tend.crm.registry import registry_for

    registry = registry_for(board.object_type)
    state = BoardState(request, params, board, registry)
    return board, registry, state


# ---- columns and cards ------------------------------------------------------------------------


def _card(record, formatter: Formatter, board: BoardConfig, registry, stage: Stage, urls: tuple) -> dict:
    days = None
    if record.stage_entered_at is not None:
        days = (clock.now() - record.stage_entered_at).days
    details = []
    for name in (board.csm_property, queries.AMOUNT, board.renewal_property):
        spec = registry.get(name) if name else None
        if spec is None or name == "owner":
            continue
        text = formatter.text(record, name)
        if text:
            details.append(f"{_(str(spec.label))}: {text}")
    return {
        "record": record,
        "detail_url": f"{urls[0]}{record.pk}/",
        "preview_url": f"{urls[0]}{record.pk}/preview/",
        "owner": formatter.text(record, "owner"),
        "details": details,
        "days": days,
        "days_text": ngettext("%(days)d day in stage", "%(days)d days in stage", days) % {"days": days}
        if days is not None
        else "",
        "late": stage.target_days is not None and days is not None and days > stage.target_days,
    }


def _record_urls(board: BoardConfig) -> tuple:
    """The record URLs' common prefix, reversed once (a reverse per card costs more than the SQL)."""
    detail = reverse("record-detail", args=[board.object_type.name, 1])
    return (detail.removesuffix("1/"),)


def _column(stage: Stage, records, totals: dict, formatter, board, registry, *, offset: int = 0, first=None) -> dict:
    page, more = first if first is not None else queries.stage_cards(records, stage, offset=offset)
    row = totals.get(stage.pk, {})
    total = row.get("total")
    weighted = total * stage.probability if total is not None and stage.probability is not None else None
    return {
        "stage": stage,
        "count": row.get("n", 0),
        "total": total,
        "weighted": weighted,
        "cards": [_card(r, formatter, board, registry, stage, _record_urls(board)) for r in page],
        "more": more,
        "next_offset": offset + len(page),
        "late_title": ngettext("Target: %(n)d day", "Target: %(n)d days", stage.target_days or 0)
        % {"n": stage.target_days or 0},
    }


def _records(request, board, state):
    """The records the tab shows for the viewed user, with the current filters."""
    view = viewing(request)
    return queries.board_records(
        actor=view.actor,
        viewed_user=view.user,
        board=board,
        pipeline=state.pipeline,
        body=state.body(),
        extra=state.extra_filters(),
    )


def _columns_context(request, board, registry, state, stage_ids=None) -> dict:
    """Columns of the board (all, or only `stage_ids`), with counts and totals."""
    view = viewing(request)
    registry, records = _records(request, board, state)
    stages = list(state.pipeline.stages.order_by("display_order", "id"))
    totals = queries.stage_totals(records, registry)
    formatter = Formatter(registry)
    chosen = [s for s in stages if stage_ids is None or s.pk in stage_ids]
    pages = queries.first_pages(records, chosen)
    return {
        "board": board,
        "state": state,
        "object_type": board.object_type,
        "has_amount": queries.has_amount(registry),
        "columns": [_column(s, records, totals, formatter, board, registry, first=pages[s.pk]) for s in chosen],
        "total_count": sum(row["n"] for row in totals.values()),
        "query": state.query_string(),
        "can_move": view.can_act and policy.allows(view.actor, policy.Action.EDIT_RECORDS),
    }


# ---- the pages ---------------------------------------------------------------------------------


@workspace_view
@require_GET
def services(request):
    ws = ws_services.workspace_settings()
    board = queries.services_board(ws)
    return _page(request, "services", board, [])


@workspace_view
@require_GET
def revenue(request):
    ws = ws_services.workspace_settings()
    boards = queries.revenue_boards(ws)
    wanted = request.GET.get("object")
    board = next((b for b in boards if b.object_type.name == wanted), boards[0] if boards else None)
    return _page(request, "revenue", board, boards)


def _page(request, tab_name: str, board: BoardConfig | None, boards: list[BoardConfig]):
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    context = {"active_tab": tab_name, "tab_name": tab_name, "board": board, "boards": boards, "viewing": view}
    if board is None:
        return render(request, "boards/board.html", context)
    try:
        board, registry, state = _resolve(request, board.tab, request.GET, board)
    except NotFound:
        messages.error(request, _("That view does not exist or is not shared with you."))
        return redirect(f"{reverse(tab_name)}?object={board.object_type.name}")
    users = _users()
    context.update(
        {
            "state": state,
            "pipelines": state.pipelines,
            "object_type": board.object_type,
            "builtin_views": _builtin_labels(),
            "default_views": list(ws_queries.default_views(actor, board.tab)),
            "all_views": list(ws_queries.views_for(actor, board.tab)),
            "filters_json": json.dumps(state.filters or {}),
            "sorts_json": json.dumps(state.sorts or []),
            "columns_param": ",".join(state.columns),
            "can_share": policy.allows(actor, policy.Action.MANAGE_CS_SETTINGS),
            "saved": state.saved,
            "state_fields": [
                ("object", board.object_type.name),
                ("pipeline", state.pipeline.pk if state.pipeline else ""),
                ("layout", state.layout),
                ("view", state.view_key),
            ],
            "can_edit_saved": bool(state.saved) and policy.allows(actor, policy.Action.EDIT_SAVED_VIEW, state.saved) and view.can_act,
            "modified": bool(state.saved) and any(request.GET.get(k) for k in ("filters", "columns", "sort")),
            "quick_days": QUICK_DAYS,
            "renewal_days": RENEWAL_DAYS,
            "renewal_spec": registry.get(board.renewal_property) if board.renewal_property else None,
            "users": users,
            "builder": builder_schema(registry, users),
        }
    )
    if state.pipeline is None:
        return render(request, "boards/board.html", context)
    error = None
    try:
        if state.layout == "table":
            context.update(_table_context(request, board, registry, state))
        else:
            context.update(_columns_context(request, board, registry, state))
    except ValidationFailed as exc:
        error = exc
    context["error"] = error
    return render(request, "boards/board.html", context, status=422 if error else 200)


def _users():
    from tend.directory.models import User

    return list(User.objects.filter(is_active=True).order_by("full_name", "email").only("pk", "full_name", "email"))


def _table_context(request, board, registry, state) -> dict:
    registry, records = _records(request, board, state)
    if not state.sorts:
        records = records.order_by("-created_at", "-pk")
    page = Paginator(records, TABLE_PAGE_SIZE).get_page(state.params.get("page"))
    formatter = Formatter(registry)
    current = (state.sorts or [{}])[0]
    return {
        "table_columns": [(c, registry.get(c)) for c in state.columns],
        "sortable": {c for c in state.columns if registry.get(c).type in SORTABLE_TYPES},
        "rows": [{"record": r, "cells": [formatter.text(r, c) for c in state.columns]} for r in page.object_list],
        "page": page,
        "current_sort": current.get("propertyName"),
        "current_dir": "desc" if current.get("direction") == "DESCENDING" else "asc",
        "query": state.query_string(),
    }


@workspace_view
@require_GET
def column(request, tab: str, stage_id: int):
    """The next page of one column's cards (loaded when the end of the column scrolls into view)."""
    policy.require(viewing(request).actor, policy.Action.USE_WORK_TABS)
    try:
        board, registry, state = _resolve(request, tab, request.GET)
    except NotFound as exc:
        raise Http404 from exc
    stage = state.pipeline.stages.filter(pk=stage_id).first() if state.pipeline else None
    if stage is None:
        raise Http404
    registry, records = _records(request, board, state)
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
    except ValueError:
        offset = 0
    col = _column(stage, records, {}, Formatter(registry), board, registry, offset=offset)
    context = {"col": col, "board": board, "object_type": board.object_type, "query": state.query_string()}
    return render(request, "boards/_cards.html", context)


# ---- moving a card -----------------------------------------------------------------------------


def _required_fields(exc: ValidationFailed, registry) -> list | None:
    """The properties a failed move asks for, if every error is about a property value."""
    fields = []
    for error in exc.errors:
        name = error.field.removeprefix("properties.")
        spec = registry.get(name) if error.field.startswith("properties.") else None
        if spec is None or spec.name in ("stage", "pipeline"):
            return None
        fields.append((spec, error.message))
    return fields


def _input_type(spec) -> str:
    return {
        PropertyType.DATE: "date",
        PropertyType.DATETIME: "datetime-local",
        PropertyType.NUMBER: "number",
        PropertyType.CURRENCY: "number",
    }.get(spec.type, "text")


@workspace_view
@require_POST
def move(request, tab: str):
    """Move a card to a stage; answer with the affected columns re-rendered (the truth) and, when
    the stage needs values, a dialog that asks for exactly those properties."""
    view = viewing(request)
    policy.require(view.actor, policy.Action.USE_WORK_TABS)
    params = QueryDict(request.POST.get("state", ""))
    try:
        board, registry, state = _resolve(request, tab, params)
    except NotFound as exc:
        raise Http404 from exc
    from tend.crm.queries import records_for

    record = records_for(view.actor, board.object_type).filter(pk=request.POST.get("record", "")[:20] or 0).first()
    stage = None
    if state.pipeline is not None and request.POST.get("stage", "").isdigit():
        stage = state.pipeline.stages.filter(pk=int(request.POST["stage"])).first()
    if record is None or stage is None or record.pipeline_id != stage.pipeline_id:
        raise Http404
    source_stage_id = record.stage_id
    affected = {source_stage_id, stage.pk}
    context = {"stage": stage, "record": record, "board": board, "state_query": request.POST.get("state", "")}
    status = 200
    if not view.can_act:
        context["refused"] = _("You are viewing as another user; cards cannot be moved.")
        status = 403
    elif not policy.allows(view.actor, policy.Action.EDIT_RECORDS):
        context["refused"] = str(_("You need an assigned Service seat to change records."))
        status = 403
    else:
        values = {
            key.removeprefix("properties."): value
            for key, value in request.POST.items()
            if key.startswith("properties.") and value.strip() != ""
        }
        try:
            record_update(
                actor=view.actor, record=record, properties={**values, "stage": stage.pk}, source=ChangeSource.UI
            )
        except ValidationFailed as exc:
            fields = _required_fields(exc, registry)
            if fields is None:
                context["refused"] = exc.errors[0].message if exc.errors else exc.detail
                status = 403
            else:
                context["fields"] = [
                    {
                        "spec": spec,
                        "message": message,
                        "input": _input_type(spec),
                        "value": request.POST.get(f"properties.{spec.name}", ""),
                        "options": _field_options(spec),
                    }
                    for spec, message in fields
                ]
                context["submitted"] = any(k.startswith("properties.") for k in request.POST)
                status = 422
        else:
            context["moved"] = True
    context.update(_columns_context(request, board, registry, state, stage_ids=affected))
    return render(request, "boards/_move.html", context, status=status)


def _field_options(spec) -> list[tuple[str, str]]:
    if spec.type == PropertyType.USER:
        return [(str(u.pk), u.display_name) for u in _users()]
    if spec.type == PropertyType.BOOLEAN:
        return [("true", _("Yes")), ("false", _("No"))]
    return [(str(o["value"]), _(o["label"])) for o in spec.options]


# ---- saved views -------------------------------------------------------------------------------


@workspace_view
@require_POST
def view_create(request, tab: str):
    view = viewing(request)
    ws = ws_services.workspace_settings()
    try:
        board = queries.board_for_tab(ws, tab)
    except NotFound as exc:
        raise Http404 from exc
    page = reverse(board.kind) + (f"?object={board.object_type.name}" if board.kind == "revenue" else "")
    if view.is_view_as:
        messages.error(request, _("You are viewing as another user; views cannot be changed."))
        return redirect(page)
    filters = json_param(request.POST.get("filters"), {})
    sorts = json_param(request.POST.get("sorts"), [])
    columns = [c for c in request.POST.get("columns", "").split(",") if c] or None
    try:
        saved = ws_services.view_create(
            actor=view.actor,
            tab=board.tab,
            object_type=board.object_type,
            name=request.POST.get("name", ""),
            visibility=request.POST.get("visibility", SavedView.Visibility.PRIVATE),
            filters=filters if isinstance(filters, dict) else {"filterGroups": "invalid"},
            columns=columns,
            sorts=sorts if isinstance(sorts, list) else [],
        )
    except ValidationFailed as exc:
        context = {
            "form": request.POST,
            "action": reverse("board-view-create", args=[tab]),
            "errors": {e.field: e.message for e in exc.errors},
            "error_list": exc.errors,
            "can_share": policy.allows(view.actor, policy.Action.MANAGE_CS_SETTINGS),
        }
        return render(request, "workspace/_view_form.html", context, status=422)
    messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
    url = f"{page}{'&' if '?' in page else '?'}view={saved.pk}"
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
