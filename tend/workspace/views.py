"""The Customers tab: views (built-in, default, custom), quick and advanced filters, the table."""

import datetime as dt
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.web import viewing, workspace_view
from tend.crm.display import Formatter
from tend.crm.filters import OPERATORS_BY_TYPE, SORTABLE_TYPES
from tend.crm.models import PropertyType
from tend.crm.registry import registry_for

from . import queries, services
from .models import SavedView

TAB = "customers"
PAGE_SIZE = 25
QUICK_DAYS = ("7", "30", "90")


def json_param(raw: str | None, default):
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return None


def localize_datetimes(filters: dict, registry, tz) -> dict:
    """The builder sends datetime-local values (no offset); they mean the viewer's time zone."""
    for group in filters.get("filterGroups", []) if isinstance(filters, dict) else []:
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


def _quick_filters(request) -> list[dict]:
    extra = []
    created = request.GET.get("created", "")
    if created in QUICK_DAYS:
        extra.append({"propertyName": "created_at", "operator": "IN_LAST_DAYS", "value": int(created)})
    activity = request.GET.get("activity", "")
    if activity in QUICK_DAYS:
        extra.append({"propertyName": "last_activity_at", "operator": "IN_LAST_DAYS", "value": int(activity)})
    elif activity == "none":
        extra.append({"propertyName": "last_activity_at", "operator": "NOT_HAS_PROPERTY"})
    return extra


def builder_schema(registry, users) -> dict:
    """What the advanced filter builder needs: properties with their operators and values."""
    properties = []
    for spec in registry:
        options = [{"value": o["value"], "label": _(o["label"])} for o in spec.options]
        if spec.type == PropertyType.USER:
            options = [{"value": u.pk, "label": u.display_name} for u in users]
        properties.append(
            {
                "name": spec.name,
                "label": str(_(spec.label)),
                "type": spec.type,
                "operators": sorted(OPERATORS_BY_TYPE[spec.type]),
                "options": options,
            }
        )
    return {"properties": properties, "operators": OPERATOR_LABELS()}


def OPERATOR_LABELS() -> dict:  # noqa: N802 - a function so that labels follow the active language
    return {
        "EQ": _("is equal to"),
        "NEQ": _("is not equal to"),
        "LT": _("is less than"),
        "LTE": _("is less than or equal to"),
        "GT": _("is greater than"),
        "GTE": _("is greater than or equal to"),
        "BETWEEN": _("is between"),
        "IN": _("is any of"),
        "NOT_IN": _("is none of"),
        "HAS_PROPERTY": _("is known"),
        "NOT_HAS_PROPERTY": _("is unknown"),
        "CONTAINS_TOKEN": _("contains"),
        "NOT_CONTAINS_TOKEN": _("does not contain"),
        "IN_LAST_DAYS": _("is in the last N days"),
        "IN_NEXT_DAYS": _("is in the next N days"),
        "IS_ME": _("is me"),
    }


def _table_spec(request, actor, ws) -> tuple[queries.TableSpec, SavedView | None, str, bool]:
    """The view asked for, with unsaved changes from the URL (filters, columns, sort) on top."""
    view_key = request.GET.get("view") or "owned"
    saved = None
    if view_key in queries.BUILTIN_VIEWS:
        table = queries.TableSpec(columns=queries.default_columns(TAB), builtin=view_key)
    else:
        saved = queries.get_view_for_user(actor, TAB, view_key)
        table = queries.TableSpec(
            filters=saved.filters, sorts=saved.sorts, columns=saved.columns or queries.default_columns(TAB)
        )
    modified = False
    filters = json_param(request.GET.get("filters"), None)
    if request.GET.get("filters") is not None:
        table.filters = filters if isinstance(filters, dict) else {"filterGroups": "invalid"}
        modified = True
    if request.GET.get("columns"):
        table.columns = [c for c in request.GET["columns"].split(",") if c]
        modified = True
    if request.GET.get("sort"):
        direction = "DESCENDING" if request.GET.get("dir") == "desc" else "ASCENDING"
        table.sorts = [{"propertyName": request.GET["sort"], "direction": direction}]
        modified = modified or bool(saved)
    if request.GET.get("q"):
        table.filters = {**(table.filters or {}), "query": request.GET["q"][:200]}
    if saved and not modified:
        modified = False
    return table, saved, view_key, modified


@workspace_view
@require_GET
def customers(request):
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    ws = services.workspace_settings()
    try:
        table, saved, view_key, modified = _table_spec(request, actor, ws)
    except NotFound:
        messages.error(request, _("That view does not exist or is not shared with you."))
        return redirect("customers")
    registry = registry_for(ws.customer_object_type)
    table.filters = localize_datetimes(table.filters, registry, clock.user_zone(view.user))
    columns = [c for c in table.columns if registry.get(c)] or ["name"]
    from tend.directory.models import User

    users = list(User.objects.order_by("full_name", "email"))
    error = None
    rows, page = [], None
    try:
        registry, records = queries.customer_records(
            actor=actor,
            viewed_user=view.user,
            ws=ws,
            table=table,
            extra_filters=_quick_filters(request),
            registry=registry,
        )
        paginator = Paginator(records, PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        formatter = Formatter(registry, users=users)
        rows = [{"record": r, "cells": [formatter.text(r, c) for c in columns]} for r in page.object_list]
    except ValidationFailed as exc:
        error = exc
    all_views = list(queries.views_for(actor, TAB).select_related("owner"))
    current_sort = (table.sorts or [{}])[0]
    context = {
        "active_tab": TAB,
        "ws": ws,
        "object_type": ws.customer_object_type,
        "builtin_views": queries.BUILTIN_VIEWS,
        "default_views": sorted(
            (v for v in all_views if v.is_default and v.visibility == SavedView.Visibility.EVERYONE),
            key=lambda v: (v.default_position, v.pk),
        ),
        "all_views": all_views,
        "view_key": view_key,
        "state_fields": [("view", view_key)],
        "saved": saved,
        "modified": modified,
        "can_edit_saved": bool(saved) and policy.allows(actor, policy.Action.EDIT_SAVED_VIEW, saved) and view.can_act,
        "can_share": policy.allows(actor, policy.Action.MANAGE_CS_SETTINGS),
        "columns": [(c, registry.get(c)) for c in columns],
        "sortable": {c for c in columns if registry.get(c).type in SORTABLE_TYPES},
        "current_sort": current_sort.get("propertyName"),
        "current_dir": "desc" if current_sort.get("direction") == "DESCENDING" else "asc",
        "rows": rows,
        "page": page,
        "error": error,
        "table": table,
        "filters_json": json.dumps(table.filters or {}),
        "sorts_json": json.dumps(table.sorts or []),
        "columns_param": ",".join(columns),
        "all_properties": [s for s in registry],
        "builder": builder_schema(registry, [u for u in users if u.is_active]),
        "quick_created": request.GET.get("created", ""),
        "quick_activity": request.GET.get("activity", ""),
        "q": request.GET.get("q", ""),
        "base_query": _base_query(request),
        "viewing": view,
    }
    return render(request, "workspace/customers.html", context, status=422 if error else 200)


def _base_query(request) -> str:
    """The current URL's parameters without page and sort, for sort and page links."""
    keep = {k: v for k, v in request.GET.items() if k not in ("page", "sort", "dir")}
    return urlencode(keep)


def _tab_target(view: SavedView, ws) -> tuple:
    """The object type a saved view filters and the page it belongs to."""
    if view.tab == TAB:
        return ws.customer_object_type, reverse("customers")
    if view.tab == services.TASKS_TAB:
        return None, reverse("tasks")
    from tend.boards.queries import board_for_tab

    board = board_for_tab(ws, view.tab)
    page = reverse("services") if board.kind == "services" else f"{reverse('revenue')}?object={board.object_type.name}"
    return board.object_type, page


def _view_page(view: SavedView, ws) -> str:
    page = _tab_target(view, ws)[1]
    return f"{page}{'&' if '?' in page else '?'}view={view.pk}"


def _view_form_data(request) -> dict:
    filters = json_param(request.POST.get("filters"), {})
    sorts = json_param(request.POST.get("sorts"), [])
    columns = [c for c in request.POST.get("columns", "").split(",") if c] or None
    return {"filters": filters, "sorts": sorts, "columns": columns}


def _form_errors_response(request, exc: ValidationFailed, template: str, context: dict):
    context = {
        **context,
        "errors": {e.field: e.message for e in exc.errors},
        "error_list": exc.errors,
        "can_share": policy.allows(viewing(request).actor, policy.Action.MANAGE_CS_SETTINGS),
    }
    return render(request, template, context, status=422)


def _refuse_view_as(request):
    if viewing(request).is_view_as:
        messages.error(request, _("You are viewing as another user; views cannot be changed."))
        return redirect("customers")
    return None


@workspace_view
@require_POST
def view_create(request):
    if refused := _refuse_view_as(request):
        return refused
    actor = viewing(request).actor
    ws = services.workspace_settings()
    data = _view_form_data(request)
    try:
        view = services.view_create(
            actor=actor,
            tab=TAB,
            object_type=ws.customer_object_type,
            name=request.POST.get("name", ""),
            visibility=request.POST.get("visibility", SavedView.Visibility.PRIVATE),
            filters=data["filters"] if isinstance(data["filters"], dict) else {"filterGroups": "invalid"},
            columns=data["columns"],
            sorts=data["sorts"] if isinstance(data["sorts"], list) else [],
        )
    except ValidationFailed as exc:
        return _form_errors_response(
            request,
            exc,
            "workspace/_view_form.html",
            {"form": request.POST, "action": reverse("customers-view-create")},
        )
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _redirect(request, f"{reverse('customers')}?view={view.pk}")


def _redirect(request, url: str):
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@workspace_view
@require_POST
def view_update(request, view_id: int):
    if refused := _refuse_view_as(request):
        return refused
    actor = viewing(request).actor
    ws = services.workspace_settings()
    view = queries.get_view_for_user(actor, None, view_id)
    object_type, _page = _tab_target(view, ws)
    changes = {}
    if "name" in request.POST:
        changes["name"] = request.POST["name"]
    if "visibility" in request.POST:
        changes["visibility"] = request.POST["visibility"]
    if "filters" in request.POST:
        data = _view_form_data(request)
        changes["filters"] = data["filters"] if isinstance(data["filters"], dict) else {"filterGroups": "invalid"}
        changes["sorts"] = data["sorts"] if isinstance(data["sorts"], list) else []
        if data["columns"]:
            changes["columns"] = data["columns"]
    try:
        services.view_update(actor=actor, view=view, object_type=object_type, **changes)
    except ValidationFailed as exc:
        return _form_errors_response(
            request,
            exc,
            "workspace/_view_form.html",
            {"form": request.POST, "action": reverse("customers-view-update", args=[view.pk]), "view": view},
        )
    messages.success(request, _("View “%(name)s” updated.") % {"name": view.name})
    return _redirect(request, _view_page(view, ws))


@workspace_view
@require_POST
def view_delete(request, view_id: int):
    if refused := _refuse_view_as(request):
        return refused
    actor = viewing(request).actor
    view = queries.get_view_for_user(actor, None, view_id)
    page = _tab_target(view, services.workspace_settings())[1]
    try:
        services.view_delete(actor=actor, view=view, confirmed=request.POST.get("confirm") == "on")
    except ValidationFailed as exc:
        return _form_errors_response(request, exc, "workspace/_view_delete.html", {"view": view})
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return _redirect(request, page)


@workspace_view
@require_POST
def view_default(request, view_id: int):
    if refused := _refuse_view_as(request):
        return refused
    actor = viewing(request).actor
    view = queries.get_view_for_user(actor, None, view_id)
    make_default = request.POST.get("is_default") == "on"
    try:
        services.view_set_default(
            actor=actor, view=view, is_default=make_default, description=request.POST.get("description", "")
        )
    except ValidationFailed as exc:
        return _form_errors_response(request, exc, "workspace/_view_default.html", {"view": view, "form": request.POST})
    if make_default:
        messages.success(request, _("“%(name)s” is now a default view.") % {"name": view.name})
    else:
        messages.success(request, _("“%(name)s” is no longer a default view; the view is kept.") % {"name": view.name})
    return _redirect(request, _view_page(view, services.workspace_settings()))


@workspace_view
@require_POST
def views_reorder(request):
    if refused := _refuse_view_as(request):
        return refused
    actor = viewing(request).actor
    try:
        ids = [int(i) for i in request.POST.getlist("order")]
        services.views_reorder_defaults(actor=actor, tab=TAB, view_ids=ids)
    except (ValueError, ValidationFailed):
        messages.error(request, _("The default views could not be reordered; reload and try again."))
    else:
        messages.success(request, _("Default views reordered."))
    return _redirect(request, reverse("customers"))
