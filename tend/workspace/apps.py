from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "tend.workspace"
    label = "workspace"
    verbose_name = _("Workspace")

    def ready(self) -> None:
        from . import tabs  # models are ready only now

        tabs.register(tabs.customers_tab)
