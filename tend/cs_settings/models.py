"""The Customer Success settings: which objects are customers, services and revenue (with their
CSM and renewal properties and pipelines), and the audit log of every settings change."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkspaceSettings(models.Model):
    """The one settings row of the workspace (see `queries.workspace_settings`)."""

    customer_object_type = models.ForeignKey("crm.ObjectType", on_delete=models.PROTECT, related_name="+")
    customer_csm_property = models.CharField(max_length=64, default="csm")
    customer_renewal_property = models.CharField(max_length=64, blank=True, default="renewal_date")
    services_object_type = models.ForeignKey(
        "crm.ObjectType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    services_csm_property = models.CharField(max_length=64, blank=True, default="csm")
    services_renewal_property = models.CharField(max_length=64, blank=True, default="")
    services_pipelines = models.JSONField(default=list, blank=True)  # pipeline ids shown; empty = all
    services_default_pipeline = models.ForeignKey(
        "crm.Pipeline", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Up to two revenue objects, the first shown first:
    # [{"objectType": "deals", "csmProperty": "csm", "renewalProperty": "contract_end_date",
    #   "pipelines": [ids], "defaultPipeline": id}]
    revenue_objects = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "workspace_workspacesettings"  # the table it had in the workspace app
        verbose_name = _("workspace settings")
        verbose_name_plural = _("workspace settings")

    def __str__(self) -> str:
        return str(_("Workspace settings"))


class SettingsChange(models.Model):
    """Audit log of settings changes, one row per saved section (customers, services, revenue,
    and the sections of apps above, such as usage)."""

    section = models.CharField(max_length=32)
    old_value = models.JSONField(default=dict)
    new_value = models.JSONField(default=dict)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "workspace_settingschange"  # the table it had in the workspace app
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.section} @ {self.changed_at:%Y-%m-%d %H:%M}"
