"""The Services and Revenue tabs: pipelines as tables and drag-and-drop boards."""

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.listkit import ListScreen, TableState, list_template, page_of
from tend.core.web import viewing, workspace_view
from tend.crm.display import Formatter
from tend.crm.models import ChangeSource, PropertyType, Stage
from tend.crm.queries import records_for
from tend.crm.registry import Registry, registry_for
from tend.crm.services import record_update
from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User
from tend.directory.queries import TeamScope, team_scope
from tend.workspace import listing

from . import queries
from .queries import BoardConfig

QUICK_DAYS = ("7", "30", "90")
RENEWAL_DAYS = ("30", "60", "90")
BUILTIN_VIEWS = ("all", "mine", "team")
STICKY = ("object", "pipeline", "layout")
QUICK = ("owner", "created", "activity", "renew", "person")


def _builtin_views(team: TeamScope | None) -> list[listing.BuiltinView]:
    views = [listing.BuiltinView("all", _("All")), listing.BuiltinView("mine", _("Assigned to me"))]
    if team is not None:
        views.append(listing.BuiltinView("team", _("Assigned to my team")))
    return views


# ---- the state of a board: everything in the URL ----------------------------------------------


class BoardState:
    """The board or table asked for by a query string: pipeline and layout on top of the kit's
    table state (view, filters, sort, columns, search, quick filters)."""

    def __init__(self, table: TableState, board: BoardConfig, pipelines: list, pipeline, team: TeamScope | None):
        self.table = table
        self.board = board
        self.pipelines = pipelines
        self.pipeline = pipeline
        self.team = team  # the viewed user's team, when they manage anyone
        self.layout = "table" if table.params.get("layout") == "table" else "board"

    @classmethod
    def parse(cls, params: QueryDict, view, board: BoardConfig, registry: Registry) -> "BoardState":
        pipelines = board.pipelines()
        pipeline = board.pipeline(params.get("pipeline"), pipelines)
        if pipeline is not None and params.get("pipeline") != str(pipeline.pk):
            params = params.copy()
            params["pipeline"] = str(pipeline.pk)
        table = listing.table_state(
            params,
            view,
            tab=board.tab,
            registry=registry,
            builtin_views=BUILTIN_VIEWS,
            default_view="all",
            default_columns=default_columns(board, registry),
            sticky=STICKY,
            quick=QUICK,
        )
        team = team_scope(view.user, params.get("person"))
        if team is None and table.view_key == "team":
            raise NotFound("No team.")
        return cls(table, board, pipelines, pipeline, team)

    @property
    def params(self) -> QueryDict:
        return self.table.params

    def extra_filters(self) -> list[dict]:
        extra = []
        p = self.params
        if self.table.view_key == "mine" and self.board.csm_property:
            extra.append({"propertyName": self.board.csm_property, "operator": "IS_ME"})
        if self.table.view_key == "team" and self.team is not None:
            assignee = self.board.csm_property or "owner"
            extra.append({"propertyName": assignee, "operator": "IN_MY_TEAM"})
            if self.team.person is not None:
                extra.append({"propertyName": assignee, "operator": "EQ", "value": self.team.person.pk})
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

    @property
    def filtered(self) -> bool:
        p = self.params
        return bool(self.table.q or self.table.filters.get("filterGroups") or any(p.get(k) for k in QUICK))

    def query_string(self, **overrides) -> str:
        return self.table.query_string(**overrides)


def default_columns(board: BoardConfig, registry: Registry) -> list[str]:
    names = ["name", "owner", "stage", board.csm_property]
    if queries.has_amount(registry):
        names.append(queries.AMOUNT)
    names += [board.renewal_property, "created_at", "last_activity_at"]
    return [n for n in dict.fromkeys(names) if n and registry.get(n)]


def _resolve(request, tab: str, params: QueryDict, board: BoardConfig | None = None):
    if board is None:
        board = queries.board_for_tab(workspace_settings(), tab)
    registry = registry_for(board.object_type)
    return board, registry, BoardState.parse(params, viewing(request), board, registry)


# ---- columns and cards ------------------------------------------------------------------------


class Cards:
    """Cards of a board's columns: what is the same for every card (URL prefix, the detail
    properties and their labels, now, the "N days in stage" phrases) is worked out once."""

    def __init__(self, formatter: Formatter, board: BoardConfig, registry: Registry):
        self.formatter = formatter
        self.prefix = reverse("record-detail", args=[board.object_type.name, 1]).removesuffix("1/")
        names = (board.csm_property, queries.AMOUNT, board.renewal_property)
        self.details = [
            (name, str(_(str(spec.label))))
            for name in names
            if name and name != "owner" and (spec := registry.get(name)) is not None
        ]
        self.now = clock.now()
        self._days_texts: dict[int, str] = {}

    def days_text(self, days: int) -> str:
        if days not in self._days_texts:
            self._days_texts[days] = ngettext("%(days)d day in stage", "%(days)d days in stage", days) % {"days": days}
        return self._days_texts[days]

    def card(self, record, stage: Stage) -> dict:
        days = (self.now - record.stage_entered_at).days if record.stage_entered_at is not None else None
        details = []
        for name, label in self.details:
            text = self.formatter.text(record, name)
            if text:
                details.append(f"{label}: {text}")
        detail_url = f"{self.prefix}{record.pk}/"
        return {
            "record": record,
            "detail_url": detail_url,
            "preview_url": f"{detail_url}preview/",
            "owner": self.formatter.text(record, "owner"),
            "details": details,
            "days": days,
            "days_text": self.days_text(days) if days is not None else "",
            "late": stage.target_days is not None and days is not None and days > stage.target_days,
        }


def _column(stage: Stage, records, totals: dict, cards: Cards, *, offset: int = 0, first=None) -> dict:
    page, more = first if first is not None else queries.stage_cards(records, stage, offset=offset)
    row = totals.get(stage.pk, {})
    total = row.get("total")
    weighted = total * stage.probability if total is not None and stage.probability is not None else None
    return {
        "stage": stage,
        "count": row.get("n", 0),
        "total": total,
        "weighted": weighted,
        "cards": [cards.card(r, stage) for r in page],
        "more": more,
        "next_offset": offset + len(page),
        "late_title": ngettext("Target: %(n)d day", "Target: %(n)d days", stage.target_days or 0)
        % {"n": stage.target_days or 0},
    }


def _records(request, board, state: BoardState):
    """The records the tab shows for the viewed user, with the current filters."""
    view = viewing(request)
    return queries.board_records(
        actor=view.actor,
        viewed_user=view.user,
        board=board,
        pipeline=state.pipeline,
        body=state.table.body(),
        extra=state.extra_filters(),
    )


def _columns_context(request, board, registry, state: BoardState, stage_ids=None) -> dict:
    """Columns of the board (all, or only `stage_ids`), with counts and totals."""
    view = viewing(request)
    registry, records = _records(request, board, state)
    stages = list(state.pipeline.stages.order_by("display_order", "id"))
    totals = queries.stage_totals(records, registry)
    cards = Cards(Formatter(registry), board, registry)
    chosen = [s for s in stages if stage_ids is None or s.pk in stage_ids]
    pages = queries.first_pages(records, chosen)
    return {
        "board": board,
        "object_type": board.object_type,
        "has_amount": queries.has_amount(registry),
        "columns": [_column(s, records, totals, cards, first=pages[s.pk]) for s in chosen],
        "total_count": sum(row["n"] for row in totals.values()),
        "query": state.query_string(),
        "can_move": view.can_act and policy.allows(view.actor, policy.Action.EDIT_RECORDS),
    }


# ---- the pages ---------------------------------------------------------------------------------


@workspace_view
@require_GET
def services(request):
    ws = workspace_settings()
    board = queries.services_board(ws)
    return _page(request, "services", board, [])


@workspace_view
@require_GET
def revenue(request):
    ws = workspace_settings()
    boards = queries.revenue_boards(ws)
    wanted = request.GET.get("object")
    board = next((b for b in boards if b.object_type.name == wanted), boards[0] if boards else None)
    return _page(request, "revenue", board, boards)


def _page(request, tab_name: str, board: BoardConfig | None, boards: list[BoardConfig]):
    view = viewing(request)
    policy.require(view.actor, policy.Action.USE_WORK_TABS)
    context = {"active_tab": tab_name, "tab_name": tab_name, "board": board, "boards": boards}
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
            "board_state": state,
            "team": state.team if state.table.view_key == "team" else None,
            "pipelines": state.pipelines,
            "object_type": board.object_type,
            "quick_days": QUICK_DAYS,
            "renewal_days": RENEWAL_DAYS,
            "renewal_spec": registry.get(board.renewal_property) if board.renewal_property else None,
            "users": users,
            "hide_columns": state.layout != "table",
            "layout_links": {
                "board": state.query_string(layout="board", page=None),
                "table": state.query_string(layout="table", page=None),
            },
            **listing.list_context(
                view,
                tab=board.tab,
                state=state.table,
                registry=registry,
                users=users,
                builtins=_builtin_views(state.team),
                create_url=reverse("board-view-create", args=[board.tab]),
            ),
        }
    )
    error = None
    if state.pipeline is not None:
        try:
            if state.layout == "table":
                context["screen"] = _table_screen(request, board, registry, state)
            else:
                context.update(_columns_context(request, board, registry, state))
        except ValidationFailed as exc:
            error = exc
    context["error"] = error
    return render(request, list_template(request, "boards/board.html"), context, status=422 if error else 200)


def _users() -> list[User]:
    return list(User.objects.filter(is_active=True).order_by("full_name", "email").only("pk", "full_name", "email"))


def _table_screen(request, board, registry, state: BoardState) -> ListScreen:
    registry, records = _records(request, board, state)
    if not state.table.sorts:
        records = records.order_by("-created_at", "-pk")
    page = page_of(records, state.params)
    cells = listing.RecordCells(registry, state.table.columns, object_type=board.object_type)
    return ListScreen(
        state.table,
        listing.record_headers(state.table, registry),
        cells.rows(page.object_list),
        page,
        empty_text=_("Nothing matches these filters. Loosen a filter, clear the search or pick another pipeline."),
    )


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
    col = _column(stage, records, {}, Cards(Formatter(registry), board, registry), offset=offset)
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
