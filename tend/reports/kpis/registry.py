"""Fills KPIS in the dashboard's order."""

from django.utils.translation import gettext_lazy as _

from . import KPIS, Kpi, books, churn, health, nps, onboarding, revenue, tickets

MONTHLY = {"unit": "month"}

# key, name, description, chart, source, compute, installed with
TABLE = [
    (
        "churn_rate",
        _("Churn rate"),
        _("Share of the customers active at the start of each month who churned during it."),
        "line", "companies", churn.compute, MONTHLY,
    ),
    (
        "nrr",
        _("Net revenue retention"),
        _("MRR kept from the customers active at the start of each month, with expansion (NRR) and without (GRR)."),
        "line", "companies", revenue.compute, MONTHLY,
    ),
    (
        "onboarding_completion",
        _("Onboarding completion rate"),
        _("Share of the onboardings started each month that were completed within their target."),
        "bar", "services", onboarding.completion, MONTHLY,
    ),
    (
        "onboarding_days",
        _("Average onboarding days"),
        _("Days from the start of an onboarding to its completion, by month of completion."),
        "bar", "services", onboarding.duration, MONTHLY,
    ),
    (
        "health_distribution",
        _("Health distribution"),
        _("Customers per health status."),
        "donut", "companies", health.compute, {},
    ),
    (
        "nps_trend",
        _("NPS trend"),
        _("Net Promoter Score and average answer about your customers, by month."),
        "line", "nps", nps.compute, MONTHLY,
    ),
    (
        "ticket_resolution",
        _("Ticket resolution time"),
        _("Average and median hours from a ticket's creation to its close, by month of closing."),
        "line", "tickets", tickets.compute, MONTHLY,
    ),
    (
        "customers_per_csm",
        _("Customers per CSM"),
        _("Each CSM's customers, MRR, average health score and customers at risk."),
        "table", "companies", books.compute, {},
    ),
]  # fmt: skip

for key, name, description, chart, source, compute, options in TABLE:
    KPIS[key] = Kpi(key, name, description, chart, source, compute, dict(options))
