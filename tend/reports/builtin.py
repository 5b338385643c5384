"""The built-in KPI reports and the "Customer success KPIs" dashboard, installed after every
`migrate` (idempotent: what an admin changed or removed since is left as it is)."""

from django.db import transaction
from django.utils.translation import gettext_noop

from tend.core import clock

from .kpis import KPIS
from .models import Access, Dashboard, DashboardItem, Report, TabDashboard

KPI_DASHBOARD = "cs_kpis"
KPI_DASHBOARD_NAME = gettext_noop("Customer success KPIs")
KPI_DASHBOARD_DESCRIPTION = gettext_noop("Churn, net revenue retention, onboarding, health, NPS, support and books.")
# The widths of the KPI dashboard's reports in the 12-column grid, by KPI (the rest: 6).
WIDTHS = {"customers_per_csm": 12}


@transaction.atomic
def install() -> None:
    from .kpis import registry  # noqa: F401  (fills KPIS)

    now = clock.now()
    reports = {}
    for kpi in KPIS.values():
        report = Report.objects.filter(built_in=True, kpi=kpi.key).first()
        if report is None:
            report = Report.objects.create(
                name=str(kpi.name),
                description=str(kpi.description),
                source=kpi.source,
                kpi=kpi.key,
                definition=dict(kpi.options),
                chart=kpi.chart,
                access=Access.EVERYONE,
                built_in=True,
                created_at=now,
                updated_at=now,
            )
        reports[kpi.key] = report
    if Dashboard.objects.filter(built_in=KPI_DASHBOARD).exists() or not reports:
        return
    dashboard = Dashboard.objects.create(
        name=KPI_DASHBOARD_NAME,
        description=KPI_DASHBOARD_DESCRIPTION,
        access=Access.EVERYONE,
        filters={"dateRange": "last_12_months"},
        built_in=KPI_DASHBOARD,
        created_at=now,
        updated_at=now,
    )
    DashboardItem.objects.bulk_create(
        DashboardItem(dashboard=dashboard, report=report, position=i, width=WIDTHS.get(key, 6))
        for i, (key, report) in enumerate(reports.items())
    )
    # On the Dashboards tab for everyone from day one (a settings manager may remove it).
    TabDashboard.objects.create(dashboard=dashboard, access=Access.EVERYONE, position=0, added_at=now)


def on_post_migrate(sender, **kwargs) -> None:
    install()
