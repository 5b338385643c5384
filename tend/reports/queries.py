"""Reads of reports and dashboards, scoped to the user by the one policy (VIEW_SHARED), and
running a report into its data."""

import dataclasses
import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.directory.models import Team, User

from . import periods
from .data import ReportData
from .definition import plan_for
from .engine import RunContext, run
from .kpis import KPIS, KpiScope
from .models import Access, Dashboard, DashboardItem, Report, SummaryReport, TabDashboard

MAX_SUMMARY_REPORTS = 5
DEFAULT_KPI_RANGE = "last_12_months"
# The units a periodic KPI is computed in (kpis/calendar.py): a finer frequency shows its months,
# a coarser one its quarters, the nearest it has.
KPI_UNITS = {"day": "month", "week": "month", "month": "month", "quarter": "quarter", "year": "quarter"}


def _shared_q(user: User) -> Q:
    """What VIEW_SHARED allows, as a filter (tests/reports/test_policy.py holds the two equal)."""
    q = Q(owner=user) | Q(access=Access.EVERYONE)
    if policy.allows(user, policy.Action.MANAGE_CS_SETTINGS):
        return q | Q(access=Access.TEAMS)
    return q | Q(access=Access.TEAMS, teams__members=user)


def _tab_q(user: User) -> Q:
    if policy.allows(user, policy.Action.MANAGE_CS_SETTINGS):
        return Q(tab_entry__isnull=False)
    return Q(tab_entry__access=Access.EVERYONE) | Q(tab_entry__access=Access.TEAMS, tab_entry__teams__members=user)


def reports_for(actor: Actor, user: User) -> QuerySet[Report]:
    """The live reports `user` may see (the actor, or whom they view as)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    visible = Report.objects.filter(archived_at__isnull=True).filter(_shared_q(user)).values("pk")
    return Report.objects.filter(pk__in=visible).select_related("owner").prefetch_related("teams")


def get_report_for_user(actor: Actor, user: User, report_id: int | str) -> Report:
    try:
        return reports_for(actor, user).get(pk=int(report_id))
    except (Report.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def dashboards_for(actor: Actor, user: User) -> QuerySet[Dashboard]:
    """The live dashboards `user` may open: shared with them, or on the Dashboards tab for them."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    visible = Dashboard.objects.filter(archived_at__isnull=True).filter(_shared_q(user) | _tab_q(user)).values("pk")
    return Dashboard.objects.filter(pk__in=visible).select_related("owner").prefetch_related("teams")


def get_dashboard_for_user(actor: Actor, user: User, dashboard_id: int | str) -> Dashboard:
    try:
        return dashboards_for(actor, user).get(pk=int(dashboard_id))
    except (Dashboard.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def tab_dashboards(actor: Actor, user: User) -> list[TabDashboard]:
    """The Dashboards tab's dashboards that `user` sees there, in the tab's order."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    entries = TabDashboard.objects.filter(dashboard__archived_at__isnull=True)
    if not policy.allows(user, policy.Action.MANAGE_CS_SETTINGS):
        visible = entries.filter(Q(access=Access.EVERYONE) | Q(access=Access.TEAMS, teams__members=user)).values("pk")
        entries = entries.filter(pk__in=visible)
    return list(entries.select_related("dashboard").prefetch_related("teams").order_by("position", "id"))


def dashboard_items(dashboard: Dashboard) -> list[DashboardItem]:
    """A dashboard's reports in order. Opening a dashboard shows all of them: access to the
    dashboard is access to what it shows."""
    return list(
        dashboard.items.filter(report__archived_at__isnull=True).select_related("report").order_by("position", "id")
    )


def summary_reports(user: User) -> list[Report]:
    """The reports `user` chose for their Summary that they may still see, in their order."""
    visible = set(reports_for(Actor(user), user).values_list("pk", flat=True))
    rows = SummaryReport.objects.filter(user=user).select_related("report").order_by("position", "id")
    return [row.report for row in rows if row.report_id in visible]


# ---- running a report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """A dashboard's filters on the reports it shows, as the viewer asks for them."""

    date_range: str = ""  # a periods.DATE_RANGES key ("" = the report's own: all time, KPIs 12 months)
    start: str = ""  # custom range, ISO dates
    end: str = ""
    owner_ids: tuple[int, ...] | None = None  # the CSMs / owners (a person, or a team's members)
    # a periods.FREQUENCIES key: the unit of the date buckets and of the periodic KPIs' periods
    # ("" = each report's own); reports without periods ignore it
    frequency: str = ""


def filters_from(
    date_range: str | None,
    start: str | None,
    end: str | None,
    owner: int | str | None,
    team: int | str | None,
    frequency: str | None = None,
) -> Filters:
    """A dashboard's filters as a request gives them (a team means its members); ValidationFailed
    names the bad parameter."""
    if date_range and date_range not in periods.DATE_RANGES:
        raise ValidationFailed.single(
            "range", _("Choose a date range: %(choices)s.") % {"choices": ", ".join(periods.DATE_RANGES)}
        )
    if frequency and frequency not in periods.FREQUENCIES:
        raise ValidationFailed.single(
            "frequency", _("Choose a frequency: %(choices)s.") % {"choices": ", ".join(periods.FREQUENCIES)}
        )
    if date_range == "custom":
        for name, value in (("start", start), ("end", end)):
            try:
                dt.date.fromisoformat(value or "")
            except ValueError as exc:
                raise ValidationFailed.single(name, _("Enter a date as YYYY-MM-DD."), "invalid_date") from exc
    owner_ids: tuple[int, ...] | None = None
    if owner not in (None, ""):
        if not str(owner).isdigit() or not User.objects.filter(pk=int(owner)).exists():
            raise ValidationFailed.single("owner", _("No user with this id."), "unknown")
        owner_ids = (int(owner),)
    elif team not in (None, ""):
        found = Team.objects.filter(pk=int(team)).first() if str(team).isdigit() else None
        if found is None:
            raise ValidationFailed.single("team", _("No team with this id."), "unknown")
        owner_ids = tuple(found.members.values_list("pk", flat=True))
    return Filters(
        date_range=date_range or "", start=start or "", end=end or "", owner_ids=owner_ids, frequency=frequency or ""
    )


def report_frequency(report: Report) -> str:
    """The unit of a report's periods as it is saved ("month", "quarter"…), or "" for a report
    without periods (no date bucket; a KPI of the state now): what a frequency changes."""
    definition = report.definition if isinstance(report.definition, dict) else {}
    if report.kpi:
        from .kpis import registry  # noqa: F401  (fills KPIS)

        kpi = KPIS.get(report.kpi)
        return str({**(kpi.options if kpi else {}), **definition}.get("unit") or "")
    bucket = definition.get("dateBucket")
    if not isinstance(bucket, dict) or not bucket.get("property"):
        return ""
    return str(bucket.get("unit") or "month")


def frequencies_of(report: Report) -> list[str]:
    """The frequencies a report can be shown at: a date bucket's every unit, a periodic KPI's
    months and quarters, none for a report without periods."""
    if not report_frequency(report):
        return []
    if report.kpi:
        return [unit for unit in periods.FREQUENCIES if unit in KPI_UNITS.values()]
    return list(periods.FREQUENCIES)


def report_data(actor: Actor, user: User, report: Report, filters: Filters | None = None) -> ReportData:
    """Compute a report for `user` in their zone and language (the caller activates it)."""
    filters = filters or Filters()
    tz = clock.user_zone(user)
    if report.kpi:
        return _kpi_data(report, filters, tz)
    plan = plan_for(report.source, report.definition, report.chart, user=user)
    if filters.frequency and plan.bucket is not None:  # the saved definition keeps its own unit
        plan = dataclasses.replace(plan, unit=filters.frequency)
    span = periods.date_range(filters.date_range, tz, start=filters.start, end=filters.end)
    return run(plan, RunContext(actor=actor, user=user, tz=tz, date_range=span, owner_ids=filters.owner_ids))


def _kpi_data(report: Report, filters: Filters, tz: zoneinfo.ZoneInfo) -> ReportData:
    from .kpis import registry  # noqa: F401  (fills KPIS)

    kpi = KPIS.get(report.kpi)
    if kpi is None:
        raise NotFound()
    span = periods.date_range(filters.date_range or DEFAULT_KPI_RANGE, tz, start=filters.start, end=filters.end)
    if span is None:  # all time: the KPIs' history starts with the data; 10 years is plenty
        today = clock.today(tz)
        span = (dt.date(today.year - 10, 1, 1), today)
    options = {**kpi.options, **(report.definition or {})}
    unit, note = options.get("unit", "month"), ""
    if filters.frequency and "unit" in options:  # a periodic KPI; the state-now ones have no periods
        unit = KPI_UNITS[filters.frequency]
        if filters.frequency in ("day", "week"):
            note = _("This KPI has no daily or weekly figures: it is shown by month.")
        elif filters.frequency == "year":
            note = _("This KPI has no yearly figures: it is shown by quarter.")
    scope = KpiScope(
        start=span[0],
        end=span[1],
        tz=tz,
        csm_ids=filters.owner_ids,
        unit=unit,
        profile_id=options.get("profile_id"),
    )
    data = kpi.compute(scope)
    data.chart = report.chart or data.chart
    if note:
        data.notes = [*data.notes, note]
    return data
