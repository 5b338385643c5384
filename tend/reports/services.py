"""Writes of reports, dashboards, the Dashboards tab and the Summary's reports. Sharing follows
saved views: anyone keeps private reports and dashboards; sharing with everyone or with teams, and
the Dashboards tab, need "Manage Customer Success settings"."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.directory.models import Team, User

from .definition import plan_for
from .models import Access, Dashboard, DashboardItem, Report, SummaryReport, TabDashboard
from .periods import DATE_RANGES, FREQUENCIES
from .queries import MAX_SUMMARY_REPORTS

WIDTHS = (3, 4, 6, 8, 12)
HEIGHTS = (1, 2)
KPI_CHARTS = {  # the charts a built-in KPI can be shown as besides its own
    "table",
    "kpi",
}


def _user(actor: Actor) -> User:
    if actor.user is None:
        raise TypeError("Reports and dashboards belong to people; background work has none.")
    return actor.user


def _name(name: Any, errors: list[FieldError]) -> str:
    text = (name or "").strip() if isinstance(name, str) else ""
    if not text:
        errors.append(FieldError("name", _("Enter a name."), "required"))
    elif len(text) > 120:
        errors.append(FieldError("name", _("Use at most 120 characters.")))
    return text


def _sharing(actor: Actor, access: Any, team_ids: Any, errors: list[FieldError]) -> tuple[str, list[Team]]:
    if access not in Access.values:
        errors.append(FieldError("access", _("Choose private, everyone or chosen teams.")))
        return Access.PRIVATE, []
    if access != Access.PRIVATE and not policy.allows(actor, policy.Action.MANAGE_CS_SETTINGS):
        errors.append(
            FieldError(
                "access",
                _("Sharing with everyone or with teams needs the “Manage Customer Success settings” permission."),
                "forbidden",
            )
        )
    teams: list[Team] = []
    if access == Access.TEAMS:
        ids = [int(t) for t in team_ids or [] if str(t).isdigit()]
        teams = list(Team.objects.filter(pk__in=ids))
        if not teams or len(teams) != len(set(ids)) or len(ids) != len(team_ids or []):
            errors.append(FieldError("teams", _("Choose at least one existing team."), "required"))
    return access, teams


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


# ---- reports ------------------------------------------------------------------------------


@transaction.atomic
def report_create(
    *,
    actor: Actor,
    name: str,
    source: str,
    definition: dict,
    chart: str,
    description: str = "",
    access: str = Access.PRIVATE,
    team_ids: list[int] | None = None,
) -> Report:
    """A custom report, validated whole (definition, chart, sharing) before anything is saved."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    user = _user(actor)
    errors: list[FieldError] = []
    text = _name(name, errors)
    plan = None
    try:
        plan = plan_for(source, definition, chart, user=user)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    access, teams = _sharing(actor, access, team_ids, errors)
    _raise(errors)
    assert plan is not None
    now = clock.now()
    report = Report.objects.create(
        name=text,
        description=(description or "")[:300],
        source=plan.source.key,
        definition=plan.as_definition(),
        chart=chart,
        owner=user,
        access=access,
        created_at=now,
        updated_at=now,
    )
    report.teams.set(teams)
    return report


@transaction.atomic
def report_update(*, actor: Actor, report: Report, changes: dict[str, Any]) -> Report:
    """Change a report's name, description, definition, chart or sharing (a built-in KPI keeps
    its computation: name, description, chart among its own and the table, sharing)."""
    policy.require(actor, policy.Action.EDIT_SHARED, report)
    allowed = {"name", "description", "source", "definition", "chart", "access", "teams"}
    errors = [FieldError(k, _("Unknown field."), "unknown_field") for k in changes if k not in allowed]
    text = _name(changes.get("name", report.name), errors)
    chart = changes.get("chart", report.chart)
    source = changes.get("source", report.source)
    definition = changes.get("definition", report.definition)
    plan = None
    if report.kpi:
        if "source" in changes or "definition" in changes:
            errors.append(FieldError("definition", _("A built-in KPI's computation cannot be changed."), "built_in"))
        from .kpis import KPIS, registry  # noqa: F401

        kpi = KPIS.get(report.kpi)
        if chart not in KPI_CHARTS | {kpi.chart if kpi else report.chart}:
            errors.append(FieldError("chart", _("Show this KPI as its own chart, a KPI number or a table.")))
    else:
        try:
            plan = plan_for(source, definition, chart, user=_user(actor))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    access, teams = report.access, None
    if "access" in changes or "teams" in changes:
        access, teams = _sharing(actor, changes.get("access", report.access), changes.get("teams"), errors)
    _raise(errors)
    report.name = text
    report.description = (changes.get("description", report.description) or "")[:300]
    report.chart = chart
    if plan is not None:
        report.source, report.definition = plan.source.key, plan.as_definition()
    report.access = access
    report.updated_at = clock.now()
    report.save()
    if teams is not None:
        report.teams.set(teams)
    return report


def report_archive(*, actor: Actor, report: Report) -> None:
    """Archive a report: it leaves every dashboard and Summary (restorable by an admin)."""
    policy.require(actor, policy.Action.EDIT_SHARED, report)
    report.archived_at = clock.now()
    report.save(update_fields=["archived_at"])


# ---- dashboards --------------------------------------------------------------------------


def _dashboard_filters(raw: Any, errors: list[FieldError]) -> dict:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        errors.append(FieldError("filters", _("filters must be a JSON object.")))
        return {}
    out: dict[str, Any] = {}
    date_range = raw.get("dateRange") or ""
    if date_range and date_range not in DATE_RANGES:
        errors.append(FieldError("filters.dateRange", _("Choose one of the date ranges.")))
    elif date_range:
        out["dateRange"] = date_range
    for key in ("start", "end"):
        if raw.get(key):
            out[key] = str(raw[key])[:10]
    frequency = raw.get("frequency") or ""
    if frequency and frequency not in FREQUENCIES:
        choices = ", ".join(FREQUENCIES)
        errors.append(FieldError("filters.frequency", _("Choose a frequency: %(choices)s.") % {"choices": choices}))
    elif frequency:
        out["frequency"] = frequency
    for key, model in (("owner", User), ("team", Team)):
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not str(value).isdigit() or not model.objects.filter(pk=int(value)).exists():
            errors.append(FieldError(f"filters.{key}", _("Choose an existing user or team.")))
        else:
            out[key] = int(value)
    return out


@transaction.atomic
def dashboard_create(
    *,
    actor: Actor,
    name: str,
    description: str = "",
    access: str = Access.PRIVATE,
    team_ids: list[int] | None = None,
    filters: dict | None = None,
) -> Dashboard:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    errors: list[FieldError] = []
    text = _name(name, errors)
    access, teams = _sharing(actor, access, team_ids, errors)
    cleaned = _dashboard_filters(filters, errors)
    _raise(errors)
    now = clock.now()
    dashboard = Dashboard.objects.create(
        name=text,
        description=(description or "")[:300],
        owner=_user(actor),
        access=access,
        filters=cleaned,
        created_at=now,
        updated_at=now,
    )
    dashboard.teams.set(teams)
    return dashboard


@transaction.atomic
def dashboard_update(*, actor: Actor, dashboard: Dashboard, changes: dict[str, Any]) -> Dashboard:
    policy.require(actor, policy.Action.EDIT_SHARED, dashboard)
    allowed = {"name", "description", "access", "teams", "filters"}
    errors = [FieldError(k, _("Unknown field."), "unknown_field") for k in changes if k not in allowed]
    text = _name(changes.get("name", dashboard.name), errors)
    filters = _dashboard_filters(changes["filters"], errors) if "filters" in changes else dashboard.filters
    access, teams = dashboard.access, None
    if "access" in changes or "teams" in changes:
        access, teams = _sharing(actor, changes.get("access", dashboard.access), changes.get("teams"), errors)
    _raise(errors)
    dashboard.name, dashboard.filters, dashboard.access = text, filters, access
    dashboard.description = (changes.get("description", dashboard.description) or "")[:300]
    dashboard.updated_at = clock.now()
    dashboard.save()
    if teams is not None:
        dashboard.teams.set(teams)
    return dashboard


def dashboard_archive(*, actor: Actor, dashboard: Dashboard) -> None:
    policy.require(actor, policy.Action.EDIT_SHARED, dashboard)
    dashboard.archived_at = clock.now()
    dashboard.save(update_fields=["archived_at"])


def _size(width: Any, height: Any, errors: list[FieldError]) -> tuple[int, int]:
    try:
        w, h = int(width), int(height)
    except (TypeError, ValueError):
        w, h = 0, 0
    if w not in WIDTHS:
        errors.append(FieldError("width", _("Choose a width of 3, 4, 6, 8 or 12 columns.")))
    if h not in HEIGHTS:
        errors.append(FieldError("height", _("Choose a height of 1 or 2 rows.")))
    return w, h


@transaction.atomic
def dashboard_add_report(
    *, actor: Actor, dashboard: Dashboard, report: Report, width: int = 6, height: int = 1
) -> DashboardItem:
    """Put a report (one the actor may see) at the end of a dashboard."""
    policy.require(actor, policy.Action.EDIT_SHARED, dashboard)
    policy.require(actor, policy.Action.VIEW_SHARED, report)
    errors: list[FieldError] = []
    w, h = _size(width, height, errors)
    _raise(errors)
    last = dashboard.items.aggregate(m=Max("position"))["m"]
    return DashboardItem.objects.create(
        dashboard=dashboard, report=report, position=0 if last is None else last + 1, width=w, height=h
    )


def dashboard_remove_item(*, actor: Actor, item: DashboardItem) -> None:
    policy.require(actor, policy.Action.EDIT_SHARED, item.dashboard)
    item.delete()


def dashboard_resize_item(*, actor: Actor, item: DashboardItem, width: int, height: int) -> DashboardItem:
    policy.require(actor, policy.Action.EDIT_SHARED, item.dashboard)
    errors: list[FieldError] = []
    item.width, item.height = _size(width, height, errors)
    _raise(errors)
    item.save(update_fields=["width", "height"])
    return item


@transaction.atomic
def dashboard_reorder(*, actor: Actor, dashboard: Dashboard, item_ids: list[int]) -> None:
    """Put the dashboard's reports in the order of `item_ids` (all of them, each once)."""
    policy.require(actor, policy.Action.EDIT_SHARED, dashboard)
    items = {i.pk: i for i in dashboard.items.all()}
    if sorted(item_ids) != sorted(items):
        raise ValidationFailed.single("items", _("List every report of the dashboard once."))
    for position, pk in enumerate(item_ids):
        DashboardItem.objects.filter(pk=pk).update(position=position)


# ---- the Dashboards tab ------------------------------------------------------------------


@transaction.atomic
def tab_dashboard_add(
    *, actor: Actor, dashboard: Dashboard, access: str, team_ids: list[int] | None = None, confirmed: bool = False
) -> TabDashboard:
    """Add a dashboard to the Dashboards tab for everyone or chosen teams, which gives them view
    access to it: the actor confirms that first."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    policy.require(actor, policy.Action.VIEW_SHARED, dashboard)
    errors: list[FieldError] = []
    if TabDashboard.objects.filter(dashboard=dashboard).exists():
        errors.append(FieldError("dashboard", _("This dashboard is already in the tab."), "duplicate"))
    if access not in (Access.EVERYONE, Access.TEAMS):
        errors.append(FieldError("access", _("Choose everyone or assign to teams.")))
    access, teams = _sharing(actor, access if access in Access.values else Access.PRIVATE, team_ids, errors)
    if not confirmed:
        errors.append(
            FieldError(
                "confirm", _("Confirm that these users will be given view access to this dashboard."), "required"
            )
        )
    _raise(errors)
    last = TabDashboard.objects.aggregate(m=Max("position"))["m"]
    entry = TabDashboard.objects.create(
        dashboard=dashboard,
        access=access,
        position=0 if last is None else last + 1,
        added_by=_user(actor),
        added_at=clock.now(),
    )
    entry.teams.set(teams)
    return entry


def tab_dashboard_remove(*, actor: Actor, entry: TabDashboard) -> None:
    """Take a dashboard off the tab (the dashboard itself stays)."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    entry.delete()


@transaction.atomic
def tab_dashboards_reorder(*, actor: Actor, entry_ids: list[int]) -> None:
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    existing = set(TabDashboard.objects.values_list("pk", flat=True))
    if sorted(entry_ids) != sorted(existing):
        raise ValidationFailed.single("dashboards", _("List every dashboard of the tab once."))
    for position, pk in enumerate(entry_ids):
        TabDashboard.objects.filter(pk=pk).update(position=position)


# ---- the Summary's reports ---------------------------------------------------------------


@transaction.atomic
def summary_report_add(*, actor: Actor, report: Report) -> SummaryReport:
    """Show a report (one the actor may see) at the end of their Summary's Reports card: at most five."""
    policy.require(actor, policy.Action.VIEW_SHARED, report)
    user = _user(actor)
    mine = SummaryReport.objects.filter(user=user)
    if mine.filter(report=report).exists():
        raise ValidationFailed.single("report", _("This report is already on your Summary."), "duplicate")
    if mine.count() >= MAX_SUMMARY_REPORTS:
        raise ValidationFailed.single(
            "report",
            _("Your Summary shows at most %(n)d reports; remove one first.") % {"n": MAX_SUMMARY_REPORTS},
            "too_many",
        )
    last = mine.aggregate(m=Max("position"))["m"]
    return SummaryReport.objects.create(user=user, report=report, position=0 if last is None else last + 1)


def summary_report_remove(*, actor: Actor, report: Report) -> None:
    SummaryReport.objects.filter(user=_user(actor), report=report).delete()


@transaction.atomic
def summary_reports_reorder(*, actor: Actor, report_ids: list[int]) -> None:
    user = _user(actor)
    rows = {r.report_id: r for r in SummaryReport.objects.filter(user=user)}
    if sorted(report_ids) != sorted(rows):
        raise ValidationFailed.single("reports", _("List every report of your Summary once."))
    for position, pk in enumerate(report_ids):
        SummaryReport.objects.filter(pk=rows[pk].pk).update(position=position)
