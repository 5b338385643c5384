"""The built-in KPIs together: the registry in the dashboard's order, the dashboard `migrate`
installs, every KPI on an empty workspace, and labels in the viewer's language."""

import pytest
from django.utils import translation

from tend.reports.kpis import KPIS, registry  # noqa: F401  (fills KPIS)
from tend.reports.models import Dashboard

from .conftest import scope

pytestmark = pytest.mark.django_db
ORDER = [
    "churn_rate",
    "nrr",
    "onboarding_completion",
    "onboarding_days",
    "health_distribution",
    "nps_trend",
    "ticket_resolution",
    "customers_per_csm",
]


def test_the_registry_holds_the_eight_kpis_in_the_dashboards_order():
    assert list(KPIS) == ORDER
    assert [KPIS[k].chart for k in ORDER] == ["line", "line", "bar", "bar", "donut", "line", "line", "table"]


def test_migrate_installs_them_on_the_kpi_dashboard():
    dashboard = Dashboard.objects.get(built_in="cs_kpis")

    items = list(dashboard.items.select_related("report"))

    assert [(i.report.kpi, i.report.name, i.width) for i in items] == [
        (k, str(KPIS[k].name), 12 if k == "customers_per_csm" else 6) for k in ORDER
    ]
    assert items[0].report.definition == {"unit": "month"}


def test_every_kpi_answers_on_an_empty_workspace(now):
    for key in ORDER:
        data = KPIS[key].compute(scope("2026-01-01", "2026-06-15"))

        assert (key, data.chart, data.is_empty) == (key, KPIS[key].chart, True)


def test_months_read_in_the_viewers_language(now):
    labels = {}
    for language in ("en", "de", "ja", "it"):
        with translation.override(language):
            labels[language] = [
                c.label for c in KPIS["churn_rate"].compute(scope("2026-02-01", "2026-03-31")).categories
            ]

    assert labels == {
        "en": ["Feb 2026", "Mar 2026"],
        "de": ["Feb. 2026", "März 2026"],
        "ja": ["2026年2月", "2026年3月"],
        "it": ["feb 2026", "mar 2026"],
    }
