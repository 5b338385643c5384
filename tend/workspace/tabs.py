"""Which page a saved view's tab is, and which object type it filters.

The Customers tab is the workspace's own; the tabs of other apps (Tasks, Services, Revenue) register
a resolver when they load, so that the shared saved-view endpoints need not import them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from tend.core.errors import NotFound
from tend.crm.models import ObjectType
from tend.cs_settings.models import WorkspaceSettings


@dataclass(frozen=True)
class TabTarget:
    """The object type a tab's views filter (None: the tab lists engagements) and its page."""

    object_type: ObjectType | None
    page_url: str

    def view_url(self, view_id: int) -> str:
        return f"{self.page_url}{'&' if '?' in self.page_url else '?'}view={view_id}"


TabResolver = Callable[[WorkspaceSettings, str], TabTarget | None]
_resolvers: list[TabResolver] = []


def register(resolver: TabResolver) -> None:
    """Called from an AppConfig.ready(): `resolver` answers for the tab keys its app owns."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def tab_target(ws: WorkspaceSettings, tab: str) -> TabTarget:
    """NotFound for a tab no app answers for (a stale view after the settings changed)."""
    for resolver in _resolvers:
        target = resolver(ws, tab)
        if target is not None:
            return target
    raise NotFound("No such tab.")


def customers_tab(ws: WorkspaceSettings, tab: str) -> TabTarget | None:
    if tab != "customers":
        return None
    return TabTarget(ws.customer_object_type, reverse("customers"))
