"""Reads of the directory: who reports to whom."""

from collections import defaultdict
from dataclasses import dataclass

from .models import User


def report_ids(user: User) -> list[int]:
    """The ids of the active users who report to `user`, directly or through others, in the order
    of the tree (breadth first). One query: the manager relation of a workspace is a few hundred
    rows at most, and a cycle (A manages B manages A) ends at the users already seen."""
    children: dict[int, list[int]] = defaultdict(list)
    for pk, manager_id in User.objects.filter(is_active=True, manager__isnull=False).values_list("pk", "manager_id"):
        children[manager_id].append(pk)
    seen, queue, out = {user.pk}, [user.pk], []
    while queue:
        for child in children.get(queue.pop(0), ()):
            if child not in seen:
                seen.add(child)
                out.append(child)
                queue.append(child)
    return out


def team_ids(user: User) -> list[int]:
    """A manager's team: themselves and everyone who reports to them (recursively)."""
    return [user.pk, *report_ids(user)]


def team_of(user: User) -> list[User]:
    """The users of `user`'s team (themselves first, then their reports by name)."""
    ids = report_ids(user)
    return [user, *User.objects.filter(pk__in=ids).order_by("full_name", "email")]


def manages_anyone(user: User) -> bool:
    return User.objects.filter(manager=user, is_active=True).exists()


@dataclass(frozen=True)
class TeamScope:
    """Whose books a manager's "My team" screens cover: the team (the manager first), or the one
    member chosen in the person filter."""

    manager: User
    members: list[User]
    person: User | None = None

    @property
    def user_ids(self) -> list[int]:
        return [self.person.pk] if self.person is not None else [m.pk for m in self.members]

    @property
    def users(self) -> list[User]:
        return [self.person] if self.person is not None else list(self.members)


def team_scope(user: User, person: str | int | None = None) -> TeamScope | None:
    """The team scope of `user` narrowed to `person` (an id from a query string; ignored unless
    it is a member of the team), or None when `user` manages nobody."""
    members = team_of(user)
    if len(members) == 1:
        return None
    chosen = None
    if person not in (None, ""):
        try:
            person_id = int(person)
        except (TypeError, ValueError):
            person_id = None
        chosen = next((m for m in members if m.pk == person_id), None)
    return TeamScope(user, members, chosen)
