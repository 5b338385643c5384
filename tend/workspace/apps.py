from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tend.core import hooks


class WorkspaceConfig(AppConfig):
    name = "tend.workspace"
    label = "workspace"
    verbose_name = _("Workspace")

    def ready(self) -> None:
        from . import tabs, tasks  # models are ready only now

        tabs.register(tabs.customers_tab)
        hooks.on_settings_changed(tasks.sync_book_indexes_when_the_csm_changes)
