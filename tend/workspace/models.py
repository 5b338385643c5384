"""Workspace settings (which objects are customers, services and revenue) and saved views."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkspaceSettings(models.Model):
    """The one settings row of the workspace (see `services.workspace_settings`)."""

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
        verbose_name = _("workspace settings")
        verbose_name_plural = _("workspace settings")

    def __str__(self) -> str:
        return str(_("Workspace settings"))


class SettingsChange(models.Model):
    """Audit log of workspace settings changes."""

    section = models.CharField(max_length=32)
    old_value = models.JSONField(default=dict)
    new_value = models.JSONField(default=dict)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.section} @ {self.changed_at:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    """A named table view of a tab: filters (the one filter language), columns, sort, sharing."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private")
        EVERYONE = "everyone", _("Everyone")

    tab = models.CharField(max_length=32, default="customers")
    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    visibility = models.CharField(
        _("shared with"), max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    filters = models.JSONField(default=dict, blank=True)  # {"filterGroups": [...], "query": "..."}
    columns = models.JSONField(default=list, blank=True)  # ordered property names
    sorts = models.JSONField(default=list, blank=True)  # [{"propertyName", "direction"}]
    is_default = models.BooleanField(_("default view"), default=False)
    default_position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["tab", "visibility", "owner"], name="view_tab_visibility")]

    def __str__(self) -> str:
        return self.name

