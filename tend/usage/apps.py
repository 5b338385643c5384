from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsageConfig(AppConfig):
    """What customers do and say: product-usage events with their daily rollups, and survey (NPS)
    answers. The label stays "signals", the app's first name, so its tables and migrations keep theirs."""

    name = "tend.usage"
    label = "signals"
    verbose_name = _("Product usage and surveys")
    default_auto_field = "django.db.models.BigAutoField"
