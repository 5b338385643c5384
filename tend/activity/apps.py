from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    """Contact activity: what a customer's contacts do (emails opened, pages viewed, forms
    submitted, meetings booked, sequences), the rows the Feed tab reads."""

    name = "tend.activity"
    label = "activity"
    verbose_name = _("Contact activity")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.engagement.mail.events import on_email_event

        from .email_tracking import email_event_store

        on_email_event(email_event_store)
