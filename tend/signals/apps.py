from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "tend.signals"
    label = "signals"
    default_auto_field = "django.db.models.BigAutoField"
