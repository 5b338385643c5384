"""The Tasks tab as the workspace's saved views see it."""

from django.urls import reverse

from tend.cs_settings.models import WorkspaceSettings
from tend.workspace.tabs import TabTarget

from .queries import TAB


def tasks_tab(ws: WorkspaceSettings, tab: str) -> TabTarget | None:
    return TabTarget(None, reverse("tasks")) if tab == TAB else None
