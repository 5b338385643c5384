from django.apps import AppConfig

from tend.core import hooks


class HealthConfig(AppConfig):
    name = "tend.health"
    label = "health"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import alert_notices, books, tasks  # noqa: F401 - alert_notices registers its text
        from .dirty import mark_accounts_dirty, mark_related_accounts  # models are ready only now

        hooks.on_records_changed(mark_related_accounts)
        hooks.on_records_changed(books.records_moved)
        hooks.on_accounts_changed(mark_accounts_dirty)
        hooks.on_settings_changed(tasks.rebuild_books_when_the_csm_changes)
