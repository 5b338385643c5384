"""Reads of the Customer Success settings: the settings row and the audit log of a section."""

from tend.crm.models import ObjectType

from .models import SettingsChange, WorkspaceSettings


def workspace_settings() -> WorkspaceSettings:
    """The settings row, created with the usual defaults on first use (a fresh workspace has
    none until someone reads it, so every reader gets the same defaults)."""
    current = WorkspaceSettings.objects.select_related("customer_object_type", "services_object_type").first()
    if current is None:
        types = {o.name: o for o in ObjectType.objects.filter(name__in=["companies", "services", "deals"])}
        current = WorkspaceSettings.objects.create(
            customer_object_type=types["companies"],
            services_object_type=types.get("services"),
            revenue_objects=[
                {
                    "objectType": "deals",
                    "csmProperty": "csm",
                    "renewalProperty": "contract_end_date",
                    "pipelines": [],
                    "defaultPipeline": None,
                }
            ]
            if "deals" in types
            else [],
        )
    return current


def settings_changes(section: str, *, limit: int) -> list[SettingsChange]:
    """The latest changes of one settings section, newest first, with who made them."""
    return list(SettingsChange.objects.filter(section=section).select_related("changed_by")[:limit])
