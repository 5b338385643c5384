from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardsConfig(AppConfig):
    name = "tend.boards"
    label = "boards"
    verbose_name = _("Boards")

    def ready(self) -> None:
        from tend.workspace import tabs  # models are ready only now

        from .tabs import board_tab

        tabs.register(board_tab)
