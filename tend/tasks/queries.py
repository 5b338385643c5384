"""Reads of the Tasks tab: the default views, their counts, and the table's queryset."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import F, Func, IntegerField, OrderBy, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from tend.core import clock, policy
from tend.core.errors import NotFound
from tend.core.policy import Actor
from tend.crm.filters import compile_search
from tend.crm.models import Record
from tend.crm.registry import Registry
from tend.directory.models import User
from tend.engagement.kinds import KINDS
from tend.engagement.models import Task, TaskChange, TaskQuerySet

TAB = "tasks"
DEFAULT_VIEWS = {
    "today": _("Due today"),
    "overdue": _("Overdue"),
    "tomorrow": _("Due tomorrow"),
    "upcoming": _("Upcoming"),
    "open": _("All open"),
    "completed": _("All completed"),
}
DEFAULT_VIEW = "today"
# A manager's built-in view: the open tasks of their team (themselves and their reports), which
# the `due` parameter narrows to one of the due views (the Summary's "See more" links).
TEAM_VIEW = "team"
TEAM_VIEW_LABEL = _("Team's tasks")
TEAM_DUE_VIEWS = ("today", "overdue", "tomorrow")
# The order a default view lists its tasks in unless the user sorts by a column.
DEFAULT_SORTS = {
    "completed": [{"propertyName": "completed_at", "direction": "DESCENDING"}],
}
DUE_SORT = [{"propertyName": "due_at", "direction": "ASCENDING"}]


def registry() -> Registry:
    return KINDS["tasks"].registry()


def view_condition(key: str, *, tz: zoneinfo.ZoneInfo, now: dt.datetime) -> Q:
    """The condition of one of the default views (`key` in DEFAULT_VIEWS), from the named
    task states of TaskQuerySet."""
    match key:
        case "today":
            return TaskQuerySet.q_due_on(tz, 0)
        case "overdue":
            return TaskQuerySet.q_overdue(now)
        case "tomorrow":
            return TaskQuerySet.q_due_on(tz, 1)
        case "upcoming":
            return TaskQuerySet.q_upcoming(tz)
        case "open":
            return TaskQuerySet.q_open()
        case "completed":
            return TaskQuerySet.q_completed()
    raise NotFound("No such view.")


def in_view(tasks: TaskQuerySet, key: str, *, tz: zoneinfo.ZoneInfo, now: dt.datetime) -> TaskQuerySet:
    return tasks.filter(view_condition(key, tz=tz, now=now))


def visible_tasks(actor: Actor) -> TaskQuerySet:
    """Every task the actor may see (all workspace users see every active task, as in the API)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    return Task.objects.active()


def assigned(actor: Actor, user: User, assignee_ids: list[int] | None = None) -> TaskQuerySet:
    """`user`'s tasks, or those of the users `assignee_ids` (a manager's team)."""
    tasks = visible_tasks(actor)
    return tasks.assigned_to(user) if assignee_ids is None else tasks.filter(assignee_id__in=assignee_ids)


def view_counts(
    actor: Actor, user: User, *, assignee_ids: list[int] | None = None, keys: tuple[str, ...] = tuple(DEFAULT_VIEWS)
) -> dict[str, int]:
    """How many of `user`'s tasks (or the team's: `assignee_ids`) each default view in `keys`
    holds, days in `user`'s zone, in one query: a count a view, each over its own range of the
    task indexes (one pass with every view's condition on every task cost three times as much for
    a user with 25k tasks)."""
    tz, now = clock.user_zone(user), clock.now()
    tasks = assigned(actor, user, assignee_ids).order_by()
    counts = {
        key: Subquery(
            tasks.filter(view_condition(key, tz=tz, now=now))
            .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
            .values("n")
        )
        for key in keys
    }
    row: dict[str, int | None] = User.objects.filter(pk=user.pk).values(**counts).first() or {}  # type: ignore[assignment]  # values() of subqueries: typed as object
    return {key: row.get(key) or 0 for key in keys}


@dataclass
class TaskTable:
    """What the Tasks table shows: a default view or a saved view, with URL changes on top."""

    view_key: str = DEFAULT_VIEW
    builtin: str | None = DEFAULT_VIEW
    filters: dict = field(default_factory=dict)
    sorts: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    assignee_ids: list[int] | None = None  # the team view: these users' tasks, not the viewed user's


def table_tasks(*, actor: Actor, viewed_user: User, table: TaskTable, reg: Registry | None = None) -> QuerySet[Task]:
    """The table's queryset: `viewed_user`'s tasks in the chosen view, filtered and sorted with
    the one filter language (ValidationFailed names a bad filter)."""
    reg = reg or registry()
    tz = clock.user_zone(viewed_user)
    sorts = table.sorts or (DEFAULT_SORTS.get(table.builtin, DUE_SORT) if table.builtin else DUE_SORT)
    body = {**(table.filters or {}), "sorts": sorts}
    compiled = compile_search(body, reg, user=viewed_user, tz=tz)
    compiled.order_by = _indexed_order(compiled.order_by)
    tasks = assigned(actor, viewed_user, table.assignee_ids)
    if table.builtin:
        tasks = in_view(tasks, table.builtin, tz=tz, now=clock.now())
    return compiled.apply(tasks)


# Task columns that are never NULL: their NULLS LAST says nothing (see _indexed_order).
_NOT_NULL_SORTS = frozenset({"subject", "status", "priority", "type"})


def _indexed_order(order_by: list) -> list:
    """The same order, in the form the task indexes (engagement.Task.Meta) are read in: a user's
    tasks share the assignee (a sort by it is the id order), and a descending sort of a column
    that is never NULL ends with the id descending too, so that one ascending index serves both
    directions (read backwards)."""
    first = order_by[0] if len(order_by) == 2 and order_by[1] == "id" else None
    if not isinstance(first, OrderBy) or not isinstance(first.expression, F):
        return order_by
    name = first.expression.name  # type: ignore[attr-defined]  # F.name exists; django-stubs omit it
    if name == "assignee_id":
        return ["id"]
    if name in _NOT_NULL_SORTS and first.descending:
        return [F(name).desc(), "-id"]
    return order_by


def with_rows(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """What a table row needs beyond the task's columns, loaded once per page."""
    records = Record.objects.filter(archived_at__isnull=True).select_related("object_type").order_by("name", "id")
    return tasks.select_related("assignee").prefetch_related(Prefetch("records", queryset=records))


def get_task_for_user(actor: Actor, task_id: int | str) -> Task:
    try:
        task_id = int(task_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such task.") from exc
    task = with_rows(visible_tasks(actor)).filter(pk=task_id).first()
    if task is None:
        raise NotFound("No such task.")
    return task


def task_history(task: Task, limit: int = 50) -> list[TaskChange]:
    return list(task.changes.select_related("changed_by")[:limit])
