"""Health distribution: the current customers (not churned) per status of a health profile, those
it has not scored as "No score" (docs/kpis.md)."""

from django.db.models import Count, FilteredRelation, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from tend.health.definitions.statuses import STATUS_KEYS
from tend.health.definitions.texts import text

from ..data import Category, ReportData, Series
from . import KpiScope
from .customers import CURRENT_FILTER, current_customers, default_profile, profile_for, profile_statuses
from .urls import tab_url

STATUS_PROPERTY = "health_status"


def compute(scope: KpiScope) -> ReportData:
    profile = profile_for(scope)
    if profile is None:
        return ReportData(
            categories=[],
            series=[Series("customers", _("Customers"), [])],
            chart="donut",
            category_title=_("Health status"),
            notes=[_("No health profile is active.")],
        )
    # The customers the profile has not scored yet are "No score" too, as the slice's drill lists them.
    counts = dict(
        current_customers(scope)
        .alias(scored=FilteredRelation("health_scores", condition=Q(health_scores__profile=profile)))
        .values_list(Coalesce("scored__status", Value("")))
        .annotate(n=Count("pk"))
        .order_by()
    )
    statuses = {s["key"]: s for s in profile_statuses(profile)}
    keys = [k for k in statuses if k in counts] + sorted(k for k in counts if k not in statuses and k)
    if "" in counts:
        keys.append("")
    # The `health_status` column holds the first active profile's status: another profile's
    # slices cannot be opened as a filter of the Customers tab.
    drillable = scope.profile_id is None or getattr(default_profile(), "pk", None) == profile.pk
    categories = [
        Category(key=k, label=_label(k, statuses.get(k)), drill=_drill(k) if drillable else None) for k in keys
    ]
    return ReportData(
        categories=categories,
        series=[Series("customers", _("Customers"), [counts[k] for k in keys])],
        chart="donut",
        value=sum(counts.values()),
        category_title=_("Health status"),
        drill_url=tab_url("customers") if drillable else "",
        extra={"profile_id": profile.pk},
    )


def _label(key: str, status: dict | None) -> str:
    if not key:
        return _("No score")
    return text(status) if status else str(STATUS_KEYS.get(key, key))


def _drill(key: str) -> list[dict]:
    if not key:
        return [{"propertyName": STATUS_PROPERTY, "operator": "NOT_HAS_PROPERTY"}, CURRENT_FILTER]
    return [{"propertyName": STATUS_PROPERTY, "operator": "EQ", "value": key}, CURRENT_FILTER]
