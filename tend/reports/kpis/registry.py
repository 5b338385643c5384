"""Fills KPIS in the dashboard's order (each KPI module registers its own)."""

from django.utils.translation import gettext_lazy as _

from . import KPIS, Kpi, books, churn, health, nps, onboarding, revenue, tickets

PERIODIC = {"unit": "month"}

for kpi in (
    Kpi(
        key="churn_rate",
        name=_("Churn rate"),
        description=_("Share of the customers active at the start of each month who churned during it."),
        chart="line",
        source="companies",
        compute=churn.compute,
        options=PERIODIC,
    ),
    Kpi(
        key="nrr",
        name=_("Net revenue retention"),
        description=_(
            "MRR kept from the customers active at the start of each month, with expansion (NRR) and without (GRR)."
        ),
        chart="line",
        source="companies",
        compute=revenue.compute,
        options=PERIODIC,
    ),
    Kpi(
        key="onboarding_completion",
        name=_("Onboarding completion rate"),
        description=_("Share of the onboardings started each month that were completed within their target."),
        chart="bar",
        source="services",
        compute=onboarding.completion,
        options=PERIODIC,
    ),
    Kpi(
        key="onboarding_days",
        name=_("Average onboarding days"),
        description=_("Days from the start of an onboarding to its completion, by month of completion."),
        chart="bar",
        source="services",
        compute=onboarding.duration,
        options=PERIODIC,
    ),
    Kpi(
        key="health_distribution",
        name=_("Health distribution"),
        description=_("Customers per health status."),
        chart="donut",
        source="companies",
        compute=health.compute,
    ),
    Kpi(
        key="nps_trend",
        name=_("NPS trend"),
        description=_("Net Promoter Score and average answer about your customers, by month."),
        chart="line",
        source="nps",
        compute=nps.compute,
        options=PERIODIC,
    ),
    Kpi(
        key="ticket_resolution",
        name=_("Ticket resolution time"),
        description=_("Average and median hours from a ticket's creation to its close, by month of closing."),
        chart="line",
        source="tickets",
        compute=tickets.compute,
        options=PERIODIC,
    ),
    Kpi(
        key="customers_per_csm",
        name=_("Customers per CSM"),
        description=_("Each CSM's customers, MRR, average health score and customers at risk."),
        chart="table",
        source="companies",
        compute=books.compute,
    ),
):
    KPIS[kpi.key] = kpi
