"""The report screens: the library, one report's page, the chart fragment that the page, the
dashboards and the Summary show, the drill from a bar into its records, archive and "Add to my
Summary". The builder is in builder.py, the exports in export.py."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.listkit import MAX_SEARCH, page_of
from tend.core.web import Viewing, viewing, workspace_view
from tend.crm.display import Formatter
from tend.crm.filter_builder import operator_labels

from .. import periods, queries, services
from ..data import ReportData
from ..models import Access, Chart, Report
from ..sources import get_source, source_choices
from .chart import Drill, chart_spec, headline, shows_nothing, table
from .drill import drill_url, tab_url

# The dashboard filters a chart, a page or an export is run with, kept in every link.
FILTER_PARAMS = ("range", "start", "end", "owner", "team", "frequency")
LIBRARY_SHOWS = ("all", "mine", "shared", "builtin")
PER_PAGE = 25
CHART_ICONS = {
    Chart.KPI: "bi-123",
    Chart.BAR: "bi-bar-chart",
    Chart.STACKED_BAR: "bi-bar-chart-steps",
    Chart.LINE: "bi-graph-up",
    Chart.AREA: "bi-graph-up-arrow",
    Chart.DONUT: "bi-pie-chart",
    Chart.TABLE: "bi-table",
}


def get_report(current: Viewing, report_id) -> Report:
    try:
        return queries.get_report_for_user(current.actor, current.user, report_id)
    except NotFound as exc:
        raise Http404 from exc


def filter_params(params) -> dict[str, str]:
    return {k: params[k] for k in FILTER_PARAMS if params.get(k)}


def filter_query(params) -> str:
    """ "?range=…" for the links that keep the filters ("" without any)."""
    kept = filter_params(params)
    return "?" + urlencode(kept) if kept else ""


def filters_of(params) -> queries.Filters:
    """ValidationFailed names the bad parameter."""
    return queries.filters_from(
        params.get("range"),
        params.get("start"),
        params.get("end"),
        params.get("owner"),
        params.get("team"),
        params.get("frequency"),
    )


@dataclass
class Run:
    """A report run for the viewer: its data, or why it cannot run."""

    report: Report
    filters: queries.Filters
    data: ReportData | None = None
    problem: str = ""


def run_report(current: Viewing, report: Report, filters: queries.Filters) -> Run:
    try:
        return Run(report, filters, data=queries.report_data(current.actor, current.user, report, filters))
    except ValidationFailed as exc:  # a property removed since it was saved
        return Run(report, filters, problem=exc.detail)
    except NotFound:  # a built-in KPI that this version no longer computes
        return Run(report, filters, problem=_("This built-in KPI is not available in this version of Tend."))


def drill_base(report: Report, data: ReportData, params) -> str:
    """The drill endpoint with the run's filters, or "" where nothing opens (no tab lists the
    source, an unsaved report)."""
    if report.pk is None:
        return ""
    if not data.drill_url and tab_url(report.source) is None:
        return ""
    return reverse("report-drill", args=[report.pk]) + filter_query(params)


def range_label(filters: queries.Filters, report: Report) -> str:
    """The range a chart shows ("Last 12 months"), and the frequency it was asked at where the
    report has periods ("Last 12 months · Quarterly")."""
    key = filters.date_range or (queries.DEFAULT_KPI_RANGE if report.kpi else "")
    if key == "custom":
        text = f"{filters.start} – {filters.end}"
    else:
        text = str(periods.DATE_RANGES.get(key, "")) if key else ""
    if filters.frequency and queries.report_frequency(report):
        shown = queries.KPI_UNITS[filters.frequency] if report.kpi else filters.frequency
        text = " · ".join(t for t in (text, str(periods.FREQUENCIES[shown])) if t)
    return text


def chart_context(run: Run, params, **extra) -> dict:
    """What reports/_chart.html renders for one run."""
    report, data = run.report, run.data
    context = {
        "report": report,
        "problem": run.problem,
        "data": data,
        "range_label": range_label(run.filters, report),
        "report_url": reverse("report-detail", args=[report.pk]) + filter_query(params) if report.pk else "",
        **extra,
    }
    if data is not None:
        drill = Drill(drill_base(report, data, params) if not extra.get("preview") else "")
        context |= {
            "spec": chart_spec(data, drill),
            "table": table(data, drill),
            "headline": headline(data) if data.chart == Chart.KPI else None,
            "empty": shows_nothing(data),
            "drillable": bool(drill),
        }
    return context


def _refused_filters(request, exc: ValidationFailed, report: Report):
    return render(
        request,
        "reports/_chart.html",
        {"report": report, "problem": exc.detail, "report_url": reverse("report-detail", args=[report.pk])},
        status=422,
    )


# ---- the chart fragment ------------------------------------------------------------------------


@workspace_view
@require_GET
def report_chart(request: HttpRequest, report_id: int):
    """The chart of one report as an HTML fragment, with a dashboard's filters (range, start,
    end, owner or team, frequency)."""
    current = viewing(request)
    report = get_report(current, report_id)
    try:
        filters = filters_of(request.GET)
    except ValidationFailed as exc:
        return _refused_filters(request, exc, report)
    run = run_report(current, report, filters)
    return render(request, "reports/_chart.html", chart_context(run, request.GET))


@workspace_view
@require_GET
def report_drill(request: HttpRequest, report_id: int):
    """A click on a bar, slice or point (or a cell of the table): the tab that lists its records."""
    current = viewing(request)
    report = get_report(current, report_id)
    try:
        filters = filters_of(request.GET)
    except ValidationFailed as exc:
        raise Http404 from exc
    run = run_report(current, report, filters)
    if run.data is None:
        raise Http404
    tz = clock.user_zone(current.user)
    url = drill_url(
        report,
        run.data,
        category=request.GET.get("category", ""),
        series=request.GET.get("series"),
        date_range=None
        if report.kpi
        else periods.date_range(filters.date_range, tz, start=filters.start, end=filters.end),
        owner_ids=filters.owner_ids,
        tz=tz,
    )
    if url is None:
        raise Http404
    return redirect(url)


# ---- the library -------------------------------------------------------------------------------


@workspace_view
@require_GET
def report_library(request: HttpRequest):
    """The reports the viewer may see: theirs, shared with them and the built-in KPIs; search by name."""
    current = viewing(request)
    user = current.user
    visible = queries.reports_for(current.actor, user)
    counts = visible.aggregate(
        all=Count("pk"),
        mine=Count("pk", filter=Q(owner=user, built_in=False)),
        shared=Count("pk", filter=~Q(owner=user) & Q(built_in=False)),
        builtin=Count("pk", filter=Q(built_in=True)),
    )
    show = request.GET.get("show") if request.GET.get("show") in LIBRARY_SHOWS else "all"
    rows = visible
    if show == "mine":
        rows = rows.filter(owner=user, built_in=False)
    elif show == "shared":
        rows = rows.exclude(owner=user).filter(built_in=False)
    elif show == "builtin":
        rows = rows.filter(built_in=True)
    q = (request.GET.get("q") or "").strip()[:MAX_SEARCH]
    if q:
        rows = rows.filter(name__icontains=q)
    page = page_of(rows.order_by("name", "id"), request.GET, per_page=PER_PAGE)
    sources = dict(source_choices())
    page_query = urlencode({k: v for k, v in (("show", show), ("q", q)) if v and (k != "show" or v != "all")})
    context = {
        "active_tab": "dashboards",
        "page": page,
        "reports": [_library_row(r, sources) for r in page.object_list],
        "show": show,
        "q": q,
        "page_query": page_query,
        "shows": [
            (key, label, counts[key])
            for key, label in (
                ("all", _("All reports")),
                ("mine", _("Created by me")),
                ("shared", _("Shared with me")),
                ("builtin", _("Built-in KPIs")),
            )
        ],
        "total": counts["all"],
        "can_create": current.can_act,
    }
    template = "reports/report_library.html#library" if request.htmx else "reports/report_library.html"
    return render(request, template, context)


@dataclass
class LibraryRow:
    report: Report
    source: str
    chart: str
    icon: str
    owner: str
    shared: str


def sharing_text(report: Report) -> str:
    if report.access == Access.TEAMS:
        names = ", ".join(t.name for t in report.teams.all())
        return _("Teams: %(names)s") % {"names": names} if names else str(Access(report.access).label)
    return str(Access(report.access).label)


def _library_row(report: Report, sources: dict[str, str]) -> LibraryRow:
    return LibraryRow(
        report=report,
        source=sources.get(report.source, report.source),
        chart=str(Chart(report.chart).label) if report.chart in Chart.values else report.chart,
        icon=CHART_ICONS.get(report.chart, "bi-bar-chart"),
        owner=report.owner.display_name if report.owner else _("Tend (built in)"),
        shared=sharing_text(report),
    )


# ---- one report --------------------------------------------------------------------------------


@workspace_view
@require_GET
def report_detail(request: HttpRequest, report_id: int):
    """One report: its chart big, the table, what it is about, and what can be done with it."""
    current = viewing(request)
    report = get_report(current, report_id)
    params = request.GET
    try:
        filters = filters_of(params)
        filter_problem = ""
    except ValidationFailed as exc:
        filters, filter_problem = queries.Filters(), exc.detail
        params = {}
    run = run_report(current, report, filters)
    sources = dict(source_choices())
    query = filter_query(params)
    can_edit = current.can_act and policy.allows(current.actor, policy.Action.EDIT_SHARED, report)
    context = chart_context(run, params, page=True, hide_title=True) | {
        "active_tab": "dashboards",
        "filter_problem": filter_problem,
        "source_label": sources.get(report.source, report.source),
        "owner_name": report.owner.display_name if report.owner else _("Tend (built in)"),
        "shared": sharing_text(report),
        "chart_label": str(Chart(report.chart).label) if report.chart in Chart.values else report.chart,
        "filter_summary": _filter_summary(report),
        "date_ranges": [(k, str(v)) for k, v in periods.DATE_RANGES.items()],
        "current_range": filters.date_range or (queries.DEFAULT_KPI_RANGE if report.kpi else "all"),
        "start": filters.start,
        "end": filters.end,
        "frequencies": _frequency_choices(report, filters.frequency),
        "own_frequency": str(periods.FREQUENCIES.get(queries.report_frequency(report), "")),
        "current_frequency": filters.frequency,
        "export_csv": reverse("report-export-csv", args=[report.pk]) + query,
        "export_xlsx": reverse("report-export-xlsx", args=[report.pk]) + query,
        "can_edit": can_edit,
        "can_act": current.can_act,
        "tz": clock.user_zone(current.user),
    }
    template = "reports/report_detail.html#report-body" if request.htmx else "reports/report_detail.html"
    return render(request, template, context)


def _frequency_choices(report: Report, current: str) -> list[tuple[str, str]]:
    """The report page's Frequency choices (none for a report without periods), with the one in
    its address even where the report cannot have it (a KPI shown yearly says how it is shown)."""
    keys = queries.frequencies_of(report)
    if keys and current and current not in keys:
        keys = [k for k in periods.FREQUENCIES if k in {*keys, current}]
    return [(k, str(periods.FREQUENCIES[k])) for k in keys]


def _filter_summary(report: Report) -> list[str]:
    """The report's filter as sentences (one per OR-ed group), for its page."""
    if report.kpi:
        return []
    try:
        registry = get_source(report.source).registry
    except ValidationFailed:
        return []
    return filter_sentences((report.definition or {}).get("filters"), registry)


def filter_sentences(filters: dict | None, registry) -> list[str]:
    """A filter of the filter language as sentences, one per OR-ed group ("Stage is any of Active")."""
    groups = (filters or {}).get("filterGroups") or []
    if not isinstance(groups, list):
        return []
    formatter = Formatter(registry)
    ops = operator_labels()

    def shown(spec, value) -> str:
        try:
            return (formatter.format(spec, value) if spec else "") or str(value)
        except (TypeError, ValueError, ArithmeticError):  # a value the filter language refuses
            return str(value)

    lines = []
    for group in groups:
        parts = []
        for f in (group.get("filters") or []) if isinstance(group, dict) else []:
            if not isinstance(f, dict):
                continue
            spec = registry.get(f.get("propertyName", ""))
            words = [str(spec.label) if spec else f.get("propertyName", ""), ops.get(f.get("operator"), "")]
            if "values" in f:
                words.append(", ".join(shown(spec, v) for v in f["values"] or []))
            elif "value" in f:
                words.append(shown(spec, f["value"]))
            if "highValue" in f:
                words += [_("and"), shown(spec, f["highValue"])]
            parts.append(" ".join(w for w in words if w))
        lines.append(f" {_('and')} ".join(parts))
    return lines


@workspace_view
@require_POST
def report_archive(request: HttpRequest, report_id: int):
    current = viewing(request)
    report = get_report(current, report_id)
    if not current.can_act:
        messages.error(request, _("You are viewing as another user; reports cannot be changed."))
        return redirect("report-detail", report.pk)
    services.report_archive(actor=current.actor, report=report)
    messages.success(request, _("“%(name)s” was archived.") % {"name": report.name})
    return redirect("reports")


@workspace_view
@require_POST
def report_summary_add(request: HttpRequest, report_id: int):
    """Show the report on the viewer's Summary (at most five)."""
    current = viewing(request)
    report = get_report(current, report_id)
    if not current.can_act:
        messages.error(request, _("You are viewing as another user; their Summary cannot be changed."))
    else:
        try:
            services.summary_report_add(actor=current.actor, report=report)
            messages.success(request, _("“%(name)s” is now on your Summary.") % {"name": report.name})
        except ValidationFailed as exc:
            messages.error(request, exc.detail)
    return redirect("report-detail", report.pk)
