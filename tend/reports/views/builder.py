"""The report builder: choose a data source, then the measure, the group, the date bucket, the
breakdown, the chart, the filter, the name and the sharing. Every change posts the form to the
preview, which validates it as the save would (definition.plan_for) and draws the same chart, or
puts each error next to its field; saving goes through report_create / report_update."""

import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tend.core import policy
from tend.core.errors import FieldError, NotFound, ValidationFailed
from tend.core.listkit import parse_json_object
from tend.core.web import Viewing, viewing, workspace_view
from tend.crm.filter_builder import builder_schema
from tend.crm.registry import Registry
from tend.directory.models import Team, User

from .. import queries, services
from ..definition import DATE_TYPES, DISTINCT_TYPES, GROUP_TYPES, NUMERIC_MEASURES, NUMERIC_TYPES, UNITS
from ..models import Access, Chart, Report
from ..services import KPI_CHARTS
from ..sources import Source, get_source, source_choices
from .reports import CHART_ICONS, Run, chart_context, filter_sentences, get_report

MEASURES = (
    ("count", gettext_lazy("Count of records")),
    ("sum", gettext_lazy("Sum")),
    ("avg", gettext_lazy("Average")),
    ("min", gettext_lazy("Minimum")),
    ("max", gettext_lazy("Maximum")),
    ("distinct", gettext_lazy("Distinct count")),
)
UNIT_LABELS = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
    "quarter": gettext_lazy("Quarter"),
    "year": gettext_lazy("Year"),
}
SOURCE_HINTS = {
    "tasks": gettext_lazy("Open and completed tasks, by assignee, due date or type."),
    "meetings": gettext_lazy("Meetings with customers, by organiser, date or outcome."),
    "nps": gettext_lazy("NPS survey answers: scores, surveys and the account's CSM."),
}
# Where each error of a save or a preview is shown: the builder's fields by slot.
SLOTS = ("name", "description", "source", "measure", "measure_property", "group_by", "date_property")
SLOTS += ("date_unit", "breakdown", "chart", "filters", "access", "teams", "form")


def slot_of(field_name: str) -> str:
    match field_name:
        case "definition.measure.type":
            return "measure"
        case "definition.measure.property" | "definition.measure":
            return "measure_property"
        case "definition.groupBy":
            return "group_by"
        case "definition.dateBucket.property" | "definition.dateBucket":
            return "date_property"
        case "definition.dateBucket.unit":
            return "date_unit"
        case "definition.breakdown":
            return "breakdown"
    if field_name.startswith("definition.filters"):
        return "filters"
    return field_name if field_name in SLOTS else "form"


def errors_by_slot(errors: list[FieldError]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(slot_of(error.field), []).append(error.message)
    return {slot: " ".join(dict.fromkeys(messages_)) for slot, messages_ in out.items()}


@dataclass
class BuilderForm:
    """The builder's fields, as posted (or read from a saved report)."""

    source: str
    name: str = ""
    description: str = ""
    measure: str = "count"
    number_property: str = ""
    distinct_property: str = ""
    group_by: str = ""
    date_property: str = ""
    date_unit: str = "month"
    breakdown: str = ""
    chart: str = Chart.BAR
    filters: dict = field(default_factory=dict)
    access: str = Access.PRIVATE
    teams: list[int] = field(default_factory=list)

    @classmethod
    def blank(cls, source: Source) -> "BuilderForm":
        """A new report's start: records counted by their create date, month by month."""
        date = source.registry.get(source.date_property)
        return cls(source=source.key, date_property=date.name if date else "", chart=Chart.BAR)

    @classmethod
    def of_report(cls, report: Report) -> "BuilderForm":
        d = report.definition or {}
        measure = d.get("measure") or {}
        kind = measure.get("type") or "count"
        bucket = d.get("dateBucket") or {}
        return cls(
            source=report.source,
            name=report.name,
            description=report.description,
            measure=kind,
            number_property=(measure.get("property") or "") if kind not in ("count", "distinct") else "",
            distinct_property=(measure.get("property") or "") if kind == "distinct" else "",
            group_by=d.get("groupBy") or "",
            date_property=bucket.get("property") or "",
            date_unit=bucket.get("unit") or "month",
            breakdown=d.get("breakdown") or "",
            chart=report.chart,
            filters=d.get("filters") or {},
            access=report.access,
            teams=report.team_ids,
        )

    @classmethod
    def of_post(cls, post) -> "BuilderForm":
        return cls(
            source=post.get("source") or "",
            name=post.get("name") or "",
            description=post.get("description") or "",
            measure=post.get("measure") or "count",
            number_property=post.get("measure_number_property") or "",
            distinct_property=post.get("measure_distinct_property") or "",
            group_by=post.get("group_by") or "",
            date_property=post.get("date_property") or "",
            date_unit=post.get("date_unit") or "month",
            breakdown=post.get("breakdown") or "",
            chart=post.get("chart") or Chart.BAR,
            filters=parse_json_object(post.get("filters")),
            access=post.get("access") or Access.PRIVATE,
            teams=[int(t) for t in post.getlist("teams") if str(t).isdigit()],
        )

    def definition(self) -> dict[str, Any]:
        measure: dict[str, Any] = {"type": self.measure}
        if self.measure == "distinct":
            measure["property"] = self.distinct_property or None
        elif self.measure != "count":
            measure["property"] = self.number_property or None
        return {
            "filters": self.filters,
            "measure": measure,
            "groupBy": self.group_by or None,
            "dateBucket": {"property": self.date_property, "unit": self.date_unit} if self.date_property else None,
            "breakdown": self.breakdown or None,
        }


def _options(registry: Registry, types: frozenset) -> list[tuple[str, str]]:
    specs = [s for s in registry if s.type in types]
    return sorted(((s.name, str(_(s.label))) for s in specs), key=lambda o: o[1].lower())


def _charts(kpi_report: Report | None) -> list[tuple[str, str, str]]:
    allowed = list(Chart.values)
    if kpi_report is not None:  # a built-in KPI: its own chart, the number, the table
        allowed = [c for c in Chart.values if c in KPI_CHARTS or c == kpi_report.chart]
    return [(c, str(Chart(c).label), CHART_ICONS[c]) for c in allowed]


def _source_or_404(key: str) -> Source:
    try:
        return get_source(key)
    except ValidationFailed as exc:
        raise Http404 from exc


def _unsaved(form: BuilderForm, report: Report | None) -> Report:
    """The report as the form describes it, never saved: what the preview runs (a built-in KPI
    keeps its computation and takes the form's name and chart)."""
    if report is not None and report.kpi:
        return Report(
            name=form.name or report.name,
            source=report.source,
            kpi=report.kpi,
            definition=report.definition,
            chart=form.chart,
        )
    return Report(name=form.name, source=form.source, definition=form.definition(), chart=form.chart)


def _preview(
    request: HttpRequest, current: Viewing, form: BuilderForm, report: Report | None
) -> tuple[str, dict[str, str]]:
    """The preview's chart (HTML) and the errors by slot: the chart is drawn only when valid."""
    unsaved = _unsaved(form, report)
    filters = queries.Filters()
    try:
        data = queries.report_data(current.actor, current.user, unsaved, filters)
    except ValidationFailed as exc:
        return "", errors_by_slot(exc.errors)
    except NotFound:  # a built-in KPI this version does not compute
        return "", {"form": _("This built-in KPI is not available in this version of Tend.")}
    context = chart_context(Run(unsaved, filters, data=data), {}, preview=True)
    return render_to_string("reports/_chart.html", context, request), {}


def _context(
    request: HttpRequest,
    current: Viewing,
    form: BuilderForm,
    report: Report | None,
    errors: dict[str, str] | None = None,
) -> dict:
    source = _source_or_404(form.source)
    registry = source.registry
    users = list(User.objects.filter(is_active=True).order_by("full_name", "email").only("pk", "full_name", "email"))
    preview, preview_errors = _preview(request, current, form, report)
    errors = errors if errors is not None else preview_errors
    kpi_report = report if report is not None and report.kpi else None
    number_options = _options(registry, NUMERIC_TYPES)
    group_options = _options(registry, GROUP_TYPES)
    return {
        "active_tab": "dashboards",
        "form": form,
        "report": report,
        "kpi_report": kpi_report,
        "source": source,
        "sources": source_choices(),
        "measures": [(k, str(v)) for k, v in MEASURES],
        "number_options": number_options,
        "number_names": {name for name, _label in number_options},
        "distinct_options": _options(registry, DISTINCT_TYPES),
        "group_options": group_options,
        "group_names": {name for name, _label in group_options},
        "measure_is_number": form.measure in NUMERIC_MEASURES,
        "date_options": _options(registry, DATE_TYPES),
        "units": [(u, str(UNIT_LABELS[u])) for u in UNITS],
        "charts": _charts(kpi_report),
        "accesses": Access.choices,
        "teams": list(Team.objects.order_by("name")),
        "can_share": policy.allows(current.actor, policy.Action.MANAGE_CS_SETTINGS),
        "errors": {slot: errors.get(slot, "") for slot in SLOTS},
        "error_slots": [(slot, errors.get(slot, "")) for slot in SLOTS],
        "error_list": [],
        "preview": preview,
        "filter_lines": filter_sentences(form.filters, registry),
        "builder": builder_schema(registry, users),
        "current_filters": form.filters,
        "current_filters_json": json.dumps(form.filters) if form.filters else "",
        "filter_fields": [],
        "columns_param": "",
        "action": reverse("report-edit", args=[report.pk]) if report is not None else reverse("report-new"),
        "cancel_url": reverse("report-detail", args=[report.pk]) if report is not None else reverse("reports"),
    }


def _refuse_view_as(request: HttpRequest, current: Viewing):
    if not current.can_act:
        messages.error(request, _("You are viewing as another user; reports cannot be changed."))
        return redirect("reports")
    return None


# ---- new and edit ------------------------------------------------------------------------------


@workspace_view
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest):
    """Without a source: choose one. With one: the builder. POST: create the report."""
    current = viewing(request)
    refused = _refuse_view_as(request, current)
    if refused:
        return refused
    if request.method == "POST":
        form = BuilderForm.of_post(request.POST)
        try:
            report = services.report_create(
                actor=current.actor,
                name=form.name,
                source=form.source,
                definition=form.definition(),
                chart=form.chart,
                description=form.description,
                access=form.access,
                team_ids=form.teams if form.access == Access.TEAMS else None,
            )
        except ValidationFailed as exc:
            return _invalid(request, current, form, None, exc)
        messages.success(request, _("“%(name)s” was saved.") % {"name": report.name})
        return redirect("report-detail", report.pk)
    key = request.GET.get("source")
    if not key:
        return render(request, "reports/report_sources.html", _sources_context())
    return render(
        request, "reports/report_builder.html", _context(request, current, BuilderForm.blank(_source_or_404(key)), None)
    )


def _sources_context() -> dict:
    cards = []
    for key, label in source_choices():
        # The card shows the type's name; a sentence built around it would not read in every language.
        hint = SOURCE_HINTS.get(key) or _("Count these records, or sum or average any of their number properties.")
        cards.append({"key": key, "label": label, "hint": hint, "url": reverse("report-new") + f"?source={key}"})
    return {"active_tab": "dashboards", "cards": cards}


def _invalid(request: HttpRequest, current: Viewing, form: BuilderForm, report: Report | None, exc: ValidationFailed):
    """The builder again with every error by its field; nothing was saved."""
    if form.source and not _known_source(form.source):
        form = replace(form, source=source_choices()[0][0])
    context = _context(request, current, form, report, errors=errors_by_slot(exc.errors))
    context["error_list"] = [(e.field, e.message) for e in exc.errors]
    return render(request, "reports/report_builder.html", context, status=422)


def _known_source(key: str) -> bool:
    return key in dict(source_choices())


@workspace_view
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, report_id: int):
    current = viewing(request)
    report = get_report(current, report_id)
    refused = _refuse_view_as(request, current)
    if refused:
        return refused
    policy.require(current.actor, policy.Action.EDIT_SHARED, report)
    if request.method == "POST":
        form = BuilderForm.of_post(request.POST)
        changes: dict[str, Any] = {"name": form.name, "description": form.description, "chart": form.chart}
        if not report.kpi:
            changes |= {"source": form.source, "definition": form.definition()}
        if form.access != report.access or sorted(form.teams) != sorted(report.team_ids):
            changes |= {"access": form.access, "teams": form.teams if form.access == Access.TEAMS else []}
        try:
            services.report_update(actor=current.actor, report=report, changes=changes)
        except ValidationFailed as exc:
            report.refresh_from_db()
            return _invalid(request, current, form, report, exc)
        messages.success(request, _("“%(name)s” was saved.") % {"name": form.name.strip()})
        return redirect("report-detail", report.pk)
    form = BuilderForm.of_report(report)
    key = request.GET.get("source")
    if key and key != report.source and not report.kpi:  # another source: its own fields from scratch
        form = replace(
            BuilderForm.blank(_source_or_404(key)),
            name=form.name,
            description=form.description,
            access=form.access,
            teams=form.teams,
        )
    return render(request, "reports/report_builder.html", _context(request, current, form, report))


# ---- the live preview --------------------------------------------------------------------------


@workspace_view
@require_POST
def report_preview(request: HttpRequest):
    """The builder's form, validated and drawn (nothing is saved): the chart, or the errors
    next to their fields (swapped out of band, with the filter's summary)."""
    current = viewing(request)
    form = BuilderForm.of_post(request.POST)
    report = None
    if request.POST.get("report"):
        report = get_report(current, request.POST["report"])
    if not _known_source(form.source):
        errors = {"source": _("Choose a data source.")}
        context = {"preview": "", "error_slots": [(slot, errors.get(slot, "")) for slot in SLOTS]}
        return render(request, "reports/report_builder.html#preview-response", context)
    source = get_source(form.source)
    preview, errors = _preview(request, current, form, report)
    context = {
        "preview": preview,
        "error_slots": [(slot, errors.get(slot, "")) for slot in SLOTS],
        "filter_lines": filter_sentences(form.filters, source.registry),
    }
    return render(request, "reports/report_builder.html#preview-response", context)
