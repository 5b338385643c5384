from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "tend.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from .builtin import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self)
