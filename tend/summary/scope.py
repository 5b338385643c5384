"""Whose work the Summary shows: the viewed user's own book, or — for a manager — their team's."""

from dataclasses import dataclass

from django.http import QueryDict
from django.utils.http import urlencode

from tend.core.policy import Actor
from tend.core.web import Viewing
from tend.directory.models import User
from tend.directory.queries import TeamScope, team_scope

ME, TEAM = "me", "team"


@dataclass(frozen=True)
class Scope:
    """The Summary's scope. `team` is the viewed user's team when they manage anyone (shown as
    the "My team" choice); `is_team` says whether the cards cover it now."""

    viewing: Viewing
    team: TeamScope | None
    is_team: bool

    @property
    def user(self) -> User:
        return self.viewing.user  # type: ignore[return-value]  # Viewing.user is typed loosely: core imports no app

    @property
    def actor(self) -> Actor:
        return self.viewing.actor

    @property
    def user_ids(self) -> list[int]:
        return self.team.user_ids if self.is_team and self.team is not None else [self.user.pk]

    @property
    def assignee_ids(self) -> list[int] | None:
        """For the task queries: None means the viewed user's own tasks."""
        return self.user_ids if self.is_team else None

    @property
    def person(self) -> User | None:
        return self.team.person if self.is_team and self.team is not None else None

    def params(self) -> dict[str, str]:
        """The query parameters that carry this scope to the cards and back."""
        if not self.is_team:
            return {"scope": ME} if self.team is not None else {}
        params = {"scope": TEAM}
        if self.person is not None:
            params["person"] = str(self.person.pk)
        return params

    @property
    def query(self) -> str:
        return urlencode(self.params())

    def tab_params(self) -> dict[str, str]:
        """The team view's parameters on the Customers, boards and Tasks tabs (empty for one's own)."""
        if not self.is_team:
            return {}
        return {"person": str(self.person.pk)} if self.person is not None else {}


def scope_of(viewing: Viewing, params: QueryDict) -> Scope:
    """A manager sees their team unless they chose "Me"; everyone else sees their own book."""
    team = team_scope(viewing.user, params.get("person"))  # type: ignore[arg-type]  # see Scope.user
    is_team = team is not None and params.get("scope") != ME
    return Scope(viewing, team, is_team)
