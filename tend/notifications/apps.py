from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tend.notifications"
    label = "notifications"

    def ready(self) -> None:
        from tend.core import hooks

        from . import services

        hooks.on_notices(services.notices_received)
