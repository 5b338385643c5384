"""The customers the KPIs are about (the workspace's customer object type, not archived), the
scope's books of business, and the health profile a KPI reads."""

from django.db.models import Q, QuerySet

from tend.crm.models import Record
from tend.cs_settings.queries import workspace_settings
from tend.health.models import ScoreProfile

from . import KpiScope

STAGE, CHURNED = "cs_stage", "churned"


def customers(scope: KpiScope) -> QuerySet[Record]:
    """The customers as they are now, of the scope's CSMs (their current CSM)."""
    ws = workspace_settings()
    rows = Record.objects.filter(object_type=ws.customer_object_type_id, archived_at__isnull=True)
    if scope.csm_ids is not None:
        rows = rows.filter(csm_q(ws.customer_csm_property, scope.csm_ids))
    return rows


def current_customers(scope: KpiScope) -> QuerySet[Record]:
    """The customers a book holds today: those whose CS stage is not "churned"."""
    return customers(scope).exclude(**{f"properties__{STAGE}": CHURNED})


# The same selection in the filter language, for a drill into the Customers tab.
CURRENT_FILTER = {"propertyName": "cs_stage", "operator": "NEQ", "value": "churned"}


def csm_q(prop: str, csm_ids: tuple[int, ...], prefix: str = "") -> Q:
    """The records whose user property `prop` is one of `csm_ids` (`prefix` reaches the record)."""
    return Q(**{f"{prefix}properties__{prop}__in": list(csm_ids)})


def default_profile() -> ScoreProfile | None:
    """The first active profile: the one the `health_status` column shows."""
    return ScoreProfile.objects.active().select_related("active_version").order_by("priority", "pk").first()


def profile_for(scope: KpiScope) -> ScoreProfile | None:
    """The scope's health profile (not archived), else the default one."""
    if scope.profile_id is not None:
        return ScoreProfile.objects.live().select_related("active_version").filter(pk=scope.profile_id).first()
    return default_profile()


def profile_statuses(profile: ScoreProfile) -> list[dict]:
    """The profile's statuses, best first (by their lower bound)."""
    version = profile.active_version
    statuses = list((version.definition if version is not None else {}).get("statuses") or [])
    return sorted(statuses, key=lambda s: -(s.get("min") or 0))
