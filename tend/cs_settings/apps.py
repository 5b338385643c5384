from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CsSettingsConfig(AppConfig):
    name = "tend.cs_settings"
    label = "cs_settings"
    verbose_name = _("Customer Success settings")
    default_auto_field = "django.db.models.BigAutoField"
