from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tend.core"
    label = "core"
