"""Saved views of the workspace tabs (the settings live in tend.cs_settings)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
