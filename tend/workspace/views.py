"""The Customers tab (a list screen of the kit) and the saved-view endpoints every list screen shares."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tend.core import policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.listkit import ListScreen, list_template, page_of, parse_json_list, parse_json_object
from tend.core.web import viewing, workspace_view
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User
from tend.directory.queries import team_scope

from . import listing, queries, services
from .models import SavedView
from .tabs import TabTarget, tab_target

TAB = "customers"
QUICK_DAYS = ("7", "30", "90")
QUICK_PARAMS = ("created", "activity", "person")


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


def _empty_text(view_key: str, object_type) -> str:
    if view_key == "team":
        return _("Nobody in your team is the CSM of any %(kind)s yet.") % {"kind": _(object_type.label_plural)}
    if view_key == "owned":
        return _(
            "No %(kind)s are assigned to you yet. Ask your manager to set you as CSM, or try the “All views” menu."
        ) % {"kind": _(object_type.label_plural)}
    return _("Nothing matches these filters. Loosen a filter or clear the search.")


@workspace_view
@require_GET
def customers(request):
    view = viewing(request)
    policy.require(view.actor, policy.Action.USE_WORK_TABS)
    ws = workspace_settings()
    object_type = ws.customer_object_type
    registry = registry_for(object_type)
    # A manager who owns no accounts would open on an empty book: their default is their team's.
    team = team_scope(view.user, request.GET.get("person"))
    try:
        state = listing.table_state(
            request.GET,
            view,
            tab=TAB,
            registry=registry,
            builtin_views=queries.BUILTIN_VIEWS,
            default_view="owned" if team is None else "team",
            default_columns=queries.default_columns(TAB),
            quick=QUICK_PARAMS,
        )
    except NotFound:
        messages.error(request, _("That view does not exist or is not shared with you."))
        return redirect("customers")
    users = list(User.objects.order_by("full_name", "email"))
    if team is None and state.view_key in queries.TEAM_VIEWS:
        return redirect("customers")
    error, screen = None, ListScreen(state, listing.record_headers(state, registry), [], None)
    try:
        registry, records = queries.customer_records(
            actor=view.actor,
            viewed_user=view.user,
            ws=ws,
            table=queries.TableSpec(
                filters=state.search_filters,
                sorts=state.sorts,
                columns=state.columns,
                builtin=state.view_key if state.view_key in queries.BUILTIN_VIEWS else None,
                person=team.person.pk if team and team.person else None,
            ),
            extra_filters=_quick_filters(request),
            registry=registry,
        )
        page = page_of(records, request.GET)
        cells = listing.RecordCells(registry, state.columns, object_type=object_type, users=users)
        screen.rows, screen.page = cells.rows(page.object_list), page
        screen.empty_text = _empty_text(state.view_key, object_type)
    except ValidationFailed as exc:
        error = exc
    builtins = [
        listing.BuiltinView(key, str(label))
        for key, label in queries.BUILTIN_VIEWS.items()
        if team is not None or key not in queries.TEAM_VIEWS
    ]
    context = {
        "active_tab": TAB,
        "team": team if state.view_key in queries.TEAM_VIEWS else None,
        "object_type": object_type,
        "screen": screen,
        "error": error,
        "quick_created": request.GET.get("created", ""),
        "quick_activity": request.GET.get("activity", ""),
        **listing.list_context(
            view,
            tab=TAB,
            state=state,
            registry=registry,
            users=[u for u in users if u.is_active],
            builtins=builtins,
            create_url=reverse("customers-view-create"),
        ),
    }
    template = list_template(request, "workspace/customers.html")
    return render(request, template, context, status=422 if error else 200)


def _view_form_data(request) -> dict:
    """A view's table from a form: filters (the sentinel when they are not JSON), sorts, columns."""
    columns = [c for c in request.POST.get("columns", "").split(",") if c] or None
    return {
        "filters": parse_json_object(request.POST.get("filters")),
        "sorts": parse_json_list(request.POST.get("sorts")),
        "columns": columns,
    }


def _form_errors_response(request, exc: ValidationFailed, template: str, context: dict):
    context = {
        **context,
        "errors": {e.field: e.message for e in exc.errors},
        "error_list": exc.errors,
        "can_share": policy.allows(viewing(request).actor, policy.Action.MANAGE_CS_SETTINGS),
    }
    return render(request, template, context, status=422)


def _refuse_view_as(request, page: str):
    if viewing(request).is_view_as:
        messages.error(request, _("You are viewing as another user; views cannot be changed."))
        return _redirect(request, page)
    return None


def _redirect(request, url: str):
    """After a change: a full page load, so that the messages and every part of the tab are fresh."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _target(tab: str) -> TabTarget:
    try:
        return tab_target(workspace_settings(), tab)
    except NotFound as exc:
        raise Http404 from exc


def _view_target(request, view_id: int) -> tuple[SavedView, TabTarget]:
    try:
        view = queries.get_view_for_user(viewing(request).actor, None, view_id)
    except NotFound as exc:
        raise Http404 from exc
    return view, _target(view.tab)


@workspace_view
@require_POST
def view_create(request, tab: str = TAB):
    """Save the table of any list screen as a new view of its tab."""
    target = _target(tab)
    if refused := _refuse_view_as(request, target.page_url):
        return refused
    data = _view_form_data(request)
    try:
        view = services.view_create(
            actor=viewing(request).actor,
            tab=tab,
            object_type=target.object_type,
            name=request.POST.get("name", ""),
            visibility=request.POST.get("visibility", SavedView.Visibility.PRIVATE),
            **data,
        )
    except ValidationFailed as exc:
        return _form_errors_response(
            request,
            exc,
            "workspace/_view_form.html",
            {"form": request.POST, "action": request.path},
        )
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _redirect(request, target.view_url(view.pk))


@workspace_view
@require_POST
def view_update(request, view_id: int):
    view, target = _view_target(request, view_id)
    if refused := _refuse_view_as(request, target.page_url):
        return refused
    changes = {}
    if "name" in request.POST:
        changes["name"] = request.POST["name"]
    if "visibility" in request.POST:
        changes["visibility"] = request.POST["visibility"]
    if "filters" in request.POST:
        data = _view_form_data(request)
        changes["filters"], changes["sorts"] = data["filters"], data["sorts"]
        if data["columns"]:
            changes["columns"] = data["columns"]
    try:
        services.view_update(actor=viewing(request).actor, view=view, object_type=target.object_type, **changes)
    except ValidationFailed as exc:
        return _form_errors_response(
            request,
            exc,
            "workspace/_view_form.html",
            {"form": request.POST, "action": reverse("customers-view-update", args=[view.pk]), "view": view},
        )
    messages.success(request, _("View “%(name)s” updated.") % {"name": view.name})
    return _redirect(request, target.view_url(view.pk))


@workspace_view
@require_POST
def view_delete(request, view_id: int):
    view, target = _view_target(request, view_id)
    if refused := _refuse_view_as(request, target.page_url):
        return refused
    try:
        services.view_delete(actor=viewing(request).actor, view=view, confirmed=request.POST.get("confirm") == "on")
    except ValidationFailed as exc:
        return _form_errors_response(request, exc, "workspace/_view_delete.html", {"view": view})
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return _redirect(request, target.page_url)


@workspace_view
@require_POST
def view_default(request, view_id: int):
    view, target = _view_target(request, view_id)
    if refused := _refuse_view_as(request, target.page_url):
        return refused
    make_default = request.POST.get("is_default") == "on"
    try:
        services.view_set_default(
            actor=viewing(request).actor,
            view=view,
            is_default=make_default,
            description=request.POST.get("description", ""),
        )
    except ValidationFailed as exc:
        return _form_errors_response(request, exc, "workspace/_view_default.html", {"view": view, "form": request.POST})
    if make_default:
        messages.success(request, _("“%(name)s” is now a default view.") % {"name": view.name})
    else:
        messages.success(request, _("“%(name)s” is no longer a default view; the view is kept.") % {"name": view.name})
    return _redirect(request, target.view_url(view.pk))


@workspace_view
@require_POST
def views_reorder(request):
    tab = request.POST.get("tab") or TAB
    target = _target(tab)
    if refused := _refuse_view_as(request, target.page_url):
        return refused
    try:
        ids = [int(i) for i in request.POST.getlist("order")]
        services.views_reorder_defaults(actor=viewing(request).actor, tab=tab, view_ids=ids)
    except (ValueError, ValidationFailed):
        messages.error(request, _("The default views could not be reordered; reload and try again."))
    else:
        messages.success(request, _("Default views reordered."))
    return _redirect(request, target.page_url)
