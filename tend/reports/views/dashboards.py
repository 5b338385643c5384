"""The Dashboards tab, one dashboard (its grid of report tiles, the dashboard-wide filters and the
edit mode) and the dashboard library. Each tile loads its chart on its own from the report's chart
fragment, so the page answers before any report is computed and a slow report never holds it."""

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tend.core import policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.listkit import page_of
from tend.core.web import Viewing, viewing, workspace_view
from tend.directory.models import Team, User

from .. import queries, services
from ..models import Access, Dashboard, DashboardItem, TabDashboard
from ..periods import DATE_RANGES, FREQUENCIES

FILTER_KEYS = ("range", "start", "end", "owner", "team", "frequency")
LIBRARY_PER_PAGE = 25
PICKER_LIMIT = 50
SIZES = {
    "width": [
        (3, pgettext_lazy("tile width", "Quarter")),
        (4, gettext_lazy("Third")),
        (6, gettext_lazy("Half")),
        (8, gettext_lazy("Two thirds")),
        (12, gettext_lazy("Full width")),
    ],
    "height": [(1, gettext_lazy("Short")), (2, gettext_lazy("Tall"))],
}


# ---- the dashboard-wide filters -----------------------------------------------------------------


@dataclass(frozen=True)
class FilterState:
    """The filters a dashboard is shown with: the page's query string when it names any of them
    (so that a link reproduces the view), else the dashboard's saved defaults."""

    values: dict[str, str]  # FILTER_KEYS → value, "" for none
    defaults: dict[str, str]
    error: str = ""

    @property
    def query(self) -> str:
        """What every tile's chart URL carries (the report-chart fragment's parameters)."""
        return urlencode({k: v for k, v in self.values.items() if v})

    @property
    def page_params(self) -> dict[str, str]:
        """The page's own parameters: none for the defaults; `range` always otherwise, since naming
        any filter is what says "not the defaults" (a cleared owner has no value to show)."""
        if self.values == self.defaults:
            return {}
        return {"range": self.values["range"], **{k: v for k, v in self.values.items() if v}}

    @property
    def page_query(self) -> str:
        return urlencode(self.page_params)

    @property
    def is_default(self) -> bool:
        return self.values == self.defaults

    @property
    def as_saved(self) -> dict:
        """The values as Dashboard.filters keeps them."""
        v = self.values
        saved: dict = {"dateRange": v["range"], "start": v["start"], "end": v["end"], "frequency": v["frequency"]}
        saved |= {"owner": int(v["owner"]) if v["owner"] else None, "team": int(v["team"]) if v["team"] else None}
        return {k: value for k, value in saved.items() if value}


def _normal(raw) -> dict[str, str]:
    values = {k: str(raw.get(k) or "").strip() for k in FILTER_KEYS}
    if values["range"] != "custom":
        values["start"] = values["end"] = ""
    if values["owner"]:
        values["team"] = ""  # a person or a team, not both
    return values


def _checked(values: dict[str, str]) -> str:
    """The message of the first bad value, or ""."""
    try:
        queries.filters_from(
            values["range"], values["start"], values["end"], values["owner"], values["team"], values["frequency"]
        )
    except ValidationFailed as exc:
        return exc.errors[0].message
    return ""


def filter_state(dashboard: Dashboard, params: QueryDict) -> FilterState:
    saved = dashboard.filters or {}
    defaults = _normal(
        {
            "range": saved.get("dateRange"),
            "start": saved.get("start"),
            "end": saved.get("end"),
            "owner": saved.get("owner"),
            "team": saved.get("team"),
            "frequency": saved.get("frequency"),
        }
    )
    values, error = defaults, ""
    if any(k in params for k in FILTER_KEYS):
        asked = _normal(params)
        error = _checked(asked)
        if not error:
            values = asked
    if values is defaults and _checked(defaults):  # a saved owner or team since removed
        values = defaults = _normal({})
    return FilterState(values=values, defaults=defaults, error=error)


# ---- shared pieces ------------------------------------------------------------------------------


def _dashboard(current: Viewing, dashboard_id: int) -> Dashboard:
    try:
        return queries.get_dashboard_for_user(current.actor, current.user, dashboard_id)
    except NotFound as exc:
        raise Http404 from exc


def _item(dashboard: Dashboard, item_id: int) -> DashboardItem:
    item = DashboardItem.objects.filter(dashboard=dashboard, pk=item_id).select_related("report").first()
    if item is None:
        raise Http404
    item.dashboard = dashboard
    return item


def _refused_while_viewing_as(current: Viewing) -> HttpResponse | None:
    if current.is_view_as:
        return HttpResponse(_("You are viewing as another user; dashboards cannot be changed."), status=403)
    return None


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _next_url(request) -> str:
    """Where a form came from (`next`), when it is a page of this site."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else ""


def _people() -> list[User]:
    return list(
        User.objects.filter(Q(cs_workspace_access=True) | Q(is_superuser=True), is_active=True)
        .order_by("full_name", "email")
        .only("pk", "full_name", "email")
    )


def _frequencies(items: list[DashboardItem], current: str) -> list[tuple[str, str]]:
    """The Frequency filter's choices: months and quarters (what the KPIs have), every unit when a
    report buckets by date; the one chosen now in any case."""
    shown = {unit for item in items for unit in queries.frequencies_of(item.report)} | {"month", "quarter", current}
    return [(key, str(label)) for key, label in FREQUENCIES.items() if key in shown]


def _dashboard_context(request, current: Viewing, dashboard: Dashboard, *, page_url: str, keep=None) -> dict:
    """Everything the dashboard partial shows. `page_url` and `keep` (its other parameters, e.g. the
    tab's selected dashboard) are where the filters bar and the edit links lead."""
    params = request.POST if request.method == "POST" else request.GET
    keep = keep or {}
    can_edit = current.can_act and policy.allows(current.actor, policy.Action.EDIT_SHARED, dashboard)
    editing = can_edit and params.get("edit") == "1"
    state = filter_state(dashboard, params)
    view_query = urlencode({**keep, **state.page_params})
    items = queries.dashboard_items(dashboard)
    return {
        "dashboard": dashboard,
        "items": items,
        "can_edit": can_edit,
        "editing": editing,
        "filters": state,
        "page_url": page_url,
        "keep": keep,
        "view_query": view_query,
        "edit_query": urlencode({**keep, **state.page_params, "edit": "1"}),
        "reset_query": urlencode({**keep, **({"edit": "1"} if editing else {})}),
        "date_ranges": list(DATE_RANGES.items()),
        "frequencies": _frequencies(items, state.values["frequency"]),
        "people": _people(),
        "teams": list(Team.objects.only("pk", "name")),
        "sizes": SIZES,
    }


def _render_dashboard(request, template: str, context: dict, *, page_url: str):
    """The page, or — for the filters bar's htmx request — the dashboard partial, with the clean URL."""
    if request.htmx and request.htmx.target == "dashboard":
        response = render(request, "reports/dashboard.html#dashboard", context)
        response["HX-Push-Url"] = page_url + (f"?{context['view_query']}" if context["view_query"] else "")
        return response
    return render(request, template, context)


def _render_grid(request, current: Viewing, dashboard: Dashboard, *, status: int = 200, error: str = ""):
    context = _dashboard_context(request, current, dashboard, page_url=_page_url(request, dashboard))
    context |= {"grid_error": error, "oob": True}  # the header's count follows the grid
    return render(request, "reports/dashboard.html#grid", context, status=status)


def _page_url(request, dashboard: Dashboard) -> str:
    return reverse("dashboards") if request.POST.get("d") else reverse("dashboard-detail", args=[dashboard.pk])


# ---- the Dashboards tab -------------------------------------------------------------------------


@workspace_view
@require_GET
def tab(request):
    """The dashboards of the tab the viewed user sees, as tabs, the selected one below."""
    current = viewing(request)
    entries = queries.tab_dashboards(current.actor, current.user)
    selected = entries[0] if entries else None
    if request.GET.get("d"):
        selected = next((e for e in entries if str(e.dashboard_id) == request.GET["d"]), None)
        if selected is None:
            raise Http404
    can_manage = current.can_act and policy.allows(current.actor, policy.Action.MANAGE_CS_SETTINGS)
    context = {
        "active_tab": "dashboards",
        "entries": entries,
        "selected": selected,
        "can_manage": can_manage,
    }
    page_url = reverse("dashboards")
    if selected is not None:
        keep = {"d": str(selected.dashboard_id)}
        context |= _dashboard_context(request, current, selected.dashboard, page_url=page_url, keep=keep)
    if can_manage and not (request.htmx and request.htmx.target == "dashboard"):
        context |= _add_form_context(current, teams=context.get("teams"))
    return _render_dashboard(request, "reports/tab.html", context, page_url=page_url)


def _add_form_context(current: Viewing, teams: list[Team] | None = None, **extra) -> dict:
    candidates = (
        queries.dashboards_for(current.actor, current.user)
        .filter(tab_entry__isnull=True)
        .prefetch_related(None)
        .order_by("name", "id")
    )
    return {
        "candidates": list(candidates.only("pk", "name", "access", "owner__full_name", "owner__email")),
        "all_teams": teams if teams is not None else list(Team.objects.only("pk", "name")),
        "form": {"access": Access.EVERYONE, "teams": []},
        **extra,
    }


@workspace_view
@require_POST
def tab_add(request):
    """Add a dashboard to the tab for everyone or chosen teams (a settings manager, confirming the
    view access this gives); field errors come back in the dialog, and nothing is added."""
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    # The service decides too; asking first answers 403 before any lookup says what exists.
    policy.require(current.actor, policy.Action.MANAGE_CS_SETTINGS)
    form = {
        "dashboard": request.POST.get("dashboard", ""),
        "access": request.POST.get("access", ""),
        "teams": request.POST.getlist("teams"),
        "confirm": request.POST.get("confirm") == "1",
    }
    try:
        try:
            dashboard = queries.get_dashboard_for_user(current.actor, current.user, form["dashboard"])
        except NotFound as exc:
            raise ValidationFailed.single("dashboard", _("Choose a dashboard."), "required") from exc
        entry = services.tab_dashboard_add(
            actor=current.actor,
            dashboard=dashboard,
            access=form["access"],
            team_ids=form["teams"],
            confirmed=form["confirm"],
        )
    except ValidationFailed as exc:
        context = _add_form_context(current, form=form, errors={e.field: e.message for e in exc.errors})
        return render(request, "reports/tab.html#add-form", context, status=422)
    messages.success(request, _("“%(name)s” was added to the Dashboards tab.") % {"name": entry.dashboard.name})
    return _redirect(request, reverse("dashboards") + f"?d={entry.dashboard_id}")


@workspace_view
@require_POST
def tab_remove(request, entry_id: int):
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    policy.require(current.actor, policy.Action.MANAGE_CS_SETTINGS)
    entry = TabDashboard.objects.filter(pk=entry_id).select_related("dashboard").first()
    if entry is None:
        raise Http404
    services.tab_dashboard_remove(actor=current.actor, entry=entry)
    messages.success(
        request,
        _("“%(name)s” was removed from the Dashboards tab. The dashboard itself stays in the library.")
        % {"name": entry.dashboard.name},
    )
    return _redirect(request, reverse("dashboards"))


@workspace_view
@require_POST
def tab_order(request):
    """The tab's dashboards in the dragged order: 204, or 422 when the list is not the tab's."""
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    ids = [int(v) for v in request.POST.getlist("entry") if v.isdigit()]
    try:
        services.tab_dashboards_reorder(actor=current.actor, entry_ids=ids)
    except ValidationFailed as exc:
        return HttpResponse(exc.detail, status=422)
    return HttpResponse(status=204)


# ---- one dashboard -------------------------------------------------------------------------------


@workspace_view
@require_GET
def dashboard_detail(request, dashboard_id: int):
    current = viewing(request)
    dashboard = _dashboard(current, dashboard_id)
    page_url = reverse("dashboard-detail", args=[dashboard.pk])
    context = _dashboard_context(request, current, dashboard, page_url=page_url)
    entry = TabDashboard.objects.filter(dashboard=dashboard).only("pk").first()
    context |= {"active_tab": "dashboards", "on_tab": entry is not None}
    return _render_dashboard(request, "reports/dashboard.html", context, page_url=page_url)


@workspace_view
@require_GET
def report_picker(request, dashboard_id: int):
    """The reports the viewed user may put on the dashboard, searched by name."""
    current = viewing(request)
    dashboard = _dashboard(current, dashboard_id)
    policy.require(current.actor, policy.Action.EDIT_SHARED, dashboard)
    q = request.GET.get("q", "").strip()
    reports = queries.reports_for(current.actor, current.user).prefetch_related(None)
    if q:
        reports = reports.filter(Q(name__icontains=q) | Q(description__icontains=q))
    on_dashboard = set(dashboard.items.values_list("report_id", flat=True))
    return render(
        request,
        "reports/dashboard.html#picker-results",
        {
            "dashboard": dashboard,
            "reports": list(reports.order_by("name", "id")[:PICKER_LIMIT]),
            "on_dashboard": on_dashboard,
            "q": q,
            "sizes": SIZES,
        },
    )


@workspace_view
@require_POST
def item_add(request, dashboard_id: int):
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    dashboard = _dashboard(current, dashboard_id)
    try:
        report = queries.get_report_for_user(current.actor, current.user, request.POST.get("report", ""))
    except NotFound as exc:
        raise Http404 from exc
    try:
        services.dashboard_add_report(
            actor=current.actor,
            dashboard=dashboard,
            report=report,
            width=request.POST.get("width", 6),
            height=request.POST.get("height", 1),
        )
    except ValidationFailed as exc:
        return _render_grid(request, current, dashboard, status=422, error=exc.detail)
    return _render_grid(request, current, dashboard)


@workspace_view
@require_POST
def item_remove(request, dashboard_id: int, item_id: int):
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    dashboard = _dashboard(current, dashboard_id)
    services.dashboard_remove_item(actor=current.actor, item=_item(dashboard, item_id))
    return _render_grid(request, current, dashboard)


@workspace_view
@require_POST
def item_resize(request, dashboard_id: int, item_id: int):
    """A tile's new width and height: the tile again (its chart redrawn at its new size)."""
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    dashboard = _dashboard(current, dashboard_id)
    item = _item(dashboard, item_id)
    try:
        services.dashboard_resize_item(
            actor=current.actor, item=item, width=request.POST.get("width"), height=request.POST.get("height")
        )
    except ValidationFailed as exc:
        return _render_grid(request, current, dashboard, status=422, error=exc.detail)
    context = _dashboard_context(request, current, dashboard, page_url=_page_url(request, dashboard))
    return render(request, "reports/dashboard.html#tile", {**context, "item": item})


@workspace_view
@require_POST
def items_order(request, dashboard_id: int):
    """The tiles in the dragged order: 204 (the page already shows it), or the grid as it is."""
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    dashboard = _dashboard(current, dashboard_id)
    ids = [int(v) for v in request.POST.getlist("item") if v.isdigit()]
    try:
        services.dashboard_reorder(actor=current.actor, dashboard=dashboard, item_ids=ids)
    except ValidationFailed as exc:
        return _render_grid(request, current, dashboard, status=422, error=exc.detail)
    return HttpResponse(status=204)


@workspace_view
@require_POST
def dashboard_save_filters(request, dashboard_id: int):
    """Make the filters shown now the dashboard's defaults (what opens for everyone)."""
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    dashboard = _dashboard(current, dashboard_id)
    state = filter_state(dashboard, request.POST)
    services.dashboard_update(actor=current.actor, dashboard=dashboard, changes={"filters": state.as_saved})
    messages.success(request, _("These filters are now the dashboard's defaults."))
    page_url = _page_url(request, dashboard)
    keep = {"d": str(dashboard.pk)} if request.POST.get("d") else {}
    return _redirect(request, page_url + (f"?{urlencode(keep)}" if keep else ""))


# ---- the library, and a dashboard's settings ----------------------------------------------------


@workspace_view
@require_GET
def library(request):
    """Every dashboard the viewed user may open, with its owner, sharing and number of reports."""
    current = viewing(request)
    q = request.GET.get("q", "").strip()
    rows = (
        queries.dashboards_for(current.actor, current.user)
        .select_related("tab_entry")
        .annotate(n_reports=Count("items", filter=Q(items__report__archived_at__isnull=True)))
        .order_by("name", "id")
    )
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(description__icontains=q))
    page = page_of(rows, request.GET, per_page=LIBRARY_PER_PAGE)
    dashboards = list(page.object_list)
    for dashboard in dashboards:
        dashboard.can_edit = current.can_act and policy.allows(current.actor, policy.Action.EDIT_SHARED, dashboard)
    return render(
        request,
        "reports/dashboard_library.html",
        {
            "active_tab": "dashboards",
            "page": page,
            "dashboards": dashboards,
            "q": q,
            "page_query": urlencode({"q": q} if q else {}),
            "can_create": current.can_act,
        },
    )


def _form_context(
    current: Viewing, dashboard: Dashboard | None, form: dict, errors: dict | None = None, next_url: str = ""
) -> dict:
    return {
        "dashboard": dashboard,
        "form": form,
        "errors": errors or {},
        "all_teams": list(Team.objects.only("pk", "name")),
        "can_share": policy.allows(current.actor, policy.Action.MANAGE_CS_SETTINGS),
        "action": reverse("dashboard-settings", args=[dashboard.pk]) if dashboard else reverse("dashboard-create"),
        "next": next_url,
        "active_tab": "dashboards",
    }


def _posted_form(request) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "access": request.POST.get("access", Access.PRIVATE),
        "teams": request.POST.getlist("teams"),
    }


def _render_form(request, context: dict, status: int = 200):
    template = "reports/dashboard_form.html#form" if request.htmx else "reports/dashboard_form.html"
    return render(request, template, context, status=status)


@workspace_view
@require_http_methods(["GET", "POST"])
def dashboard_new(request):
    current = viewing(request)
    if request.method == "GET":
        form = {"name": "", "description": "", "access": Access.PRIVATE, "teams": []}
        return _render_form(request, _form_context(current, None, form))
    if refused := _refused_while_viewing_as(current):
        return refused
    form = _posted_form(request)
    try:
        dashboard = services.dashboard_create(
            actor=current.actor,
            name=form["name"],
            description=form["description"],
            access=form["access"],
            team_ids=form["teams"],
        )
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _render_form(request, _form_context(current, None, form, errors), status=422)
    messages.success(request, _("Dashboard “%(name)s” created. Add its first reports.") % {"name": dashboard.name})
    return _redirect(request, reverse("dashboard-detail", args=[dashboard.pk]) + "?edit=1")


@workspace_view
@require_http_methods(["GET", "POST"])
def dashboard_settings(request, dashboard_id: int):
    current = viewing(request)
    dashboard = _dashboard(current, dashboard_id)
    policy.require(current.actor, policy.Action.EDIT_SHARED, dashboard)
    if request.method == "GET":
        form = {
            "name": dashboard.name,
            "description": dashboard.description,
            "access": dashboard.access,
            "teams": [str(t) for t in dashboard.team_ids],
        }
        return _render_form(request, _form_context(current, dashboard, form, next_url=_next_url(request)))
    if refused := _refused_while_viewing_as(current):
        return refused
    form = _posted_form(request)
    changes = {"name": form["name"], "description": form["description"], "access": form["access"]}
    changes["teams"] = form["teams"]
    try:
        services.dashboard_update(actor=current.actor, dashboard=dashboard, changes=changes)
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        context = _form_context(current, dashboard, form, errors, next_url=_next_url(request))
        return _render_form(request, context, status=422)
    messages.success(request, _("Dashboard “%(name)s” saved.") % {"name": dashboard.name})
    return _redirect(request, _next_url(request) or reverse("dashboard-library"))


@workspace_view
@require_POST
def dashboard_archive(request, dashboard_id: int):
    current = viewing(request)
    if refused := _refused_while_viewing_as(current):
        return refused
    dashboard = _dashboard(current, dashboard_id)
    services.dashboard_archive(actor=current.actor, dashboard=dashboard)
    messages.success(request, _("Dashboard “%(name)s” archived.") % {"name": dashboard.name})
    return _redirect(request, reverse("dashboard-library"))
