"""The Services and Revenue tabs as the workspace's saved views see them."""

from django.urls import reverse

from tend.core.errors import NotFound
from tend.cs_settings.models import WorkspaceSettings
from tend.workspace.tabs import TabTarget

from .queries import board_for_tab


def board_page(board) -> str:
    page = reverse(board.kind)
    return f"{page}?object={board.object_type.name}" if board.kind == "revenue" else page


def board_tab(ws: WorkspaceSettings, tab: str) -> TabTarget | None:
    if tab != "services" and not tab.startswith("revenue-"):
        return None
    try:
        board = board_for_tab(ws, tab)
    except NotFound:
        return None
    return TabTarget(board.object_type, board_page(board))
