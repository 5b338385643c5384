"""Customers per CSM: each CSM's book of business as it is now (its customers not churned) —
customers, MRR, average health score and customers at risk (docs/kpis.md)."""

from django.conf import settings
from django.db.models import Avg, Count, F, FilteredRelation, FloatField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User

from ..data import Category, ReportData, Series
from . import KpiScope
from .customers import CURRENT_FILTER, current_customers, profile_for, profile_statuses
from .urls import tab_url

AT_RISK = "at_risk"


def compute(scope: KpiScope) -> ReportData:
    prop = workspace_settings().customer_csm_property
    profile = profile_for(scope)
    # "At risk" is the profile's lowest band (at_risk in three bands, red in four).
    statuses = profile_statuses(profile) if profile is not None else []
    lowest = statuses[-1]["key"] if statuses else AT_RISK
    rows = (
        current_customers(scope)
        .alias(scored=FilteredRelation("health_scores", condition=Q(health_scores__profile=profile)))
        .values(csm=F(f"properties__{prop}"))
        .annotate(
            customers=Count("pk"),
            mrr=Sum(Cast(KeyTextTransform("mrr", "properties"), FloatField())),
            health=Avg("scored__score"),
            at_risk=Count("scored", filter=Q(scored__status=lowest)),
        )
        .order_by()
    )
    rows = list(rows)
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=[r["csm"] for r in rows if r["csm"] is not None])}
    # Biggest book first; the customers without a CSM last.
    rows.sort(key=lambda r: (r["csm"] is None, -r["customers"], names.get(r["csm"], "")))
    categories = [
        Category(
            key=str(r["csm"] or ""),
            label=names.get(r["csm"], f"#{r['csm']}") if r["csm"] is not None else _("No CSM"),
            drill=[
                {"propertyName": prop, "operator": "EQ", "value": r["csm"]}
                if r["csm"] is not None
                else {"propertyName": prop, "operator": "NOT_HAS_PROPERTY"},
                CURRENT_FILTER,
            ],
        )
        for r in rows
    ]
    return ReportData(
        categories=categories,
        series=[
            Series("customers", _("Customers"), [r["customers"] for r in rows]),
            Series("mrr", _("MRR"), [r["mrr"] or 0 for r in rows], format="currency"),
            Series("health", _("Average health score"), [_round(r["health"]) for r in rows]),
            Series("at_risk", _("At risk"), [r["at_risk"] if profile else None for r in rows]),
        ],
        chart="table",
        value=sum(r["customers"] for r in rows),
        currency=settings.TEND_CURRENCY,
        category_title=_("CSM"),
        drill_url=tab_url("customers"),
    )


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
