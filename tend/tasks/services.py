"""Bulk actions on tasks, done in the database: whatever the size of the selection, one UPDATE
over the selected rows and one INSERT … SELECT per history property, never a loop per task."""

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, JSONField, Q, QuerySet, Value
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.crm import values
from tend.crm.filters import compile_search
from tend.crm.models import PropertyType
from tend.crm.registry import PropSpec
from tend.directory.models import User
from tend.engagement import services as engagement_services
from tend.engagement.kinds import KINDS
from tend.engagement.models import Task, TaskChange

from . import queries

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType  # a django-stubs name only

MAX_IDS = 10_000
SOURCE = TaskChange.Source.BULK


@dataclass(frozen=True)
class Selection:
    """Which tasks a bulk action applies to: explicit `ids`, or every task matching a filter —
    `filters` in the one filter language, optionally narrowed to a default `view` of `user`'s
    tasks (the Tasks tab). Either way only tasks the actor may see are touched."""

    ids: list[int] | None = None
    filters: dict[str, Any] | None = None
    view: str | None = None
    user: User | None = None
    assignee_ids: list[int] | None = None  # the team view: these users' tasks instead of `user`'s

    @property
    def all_matching(self) -> bool:
        return self.ids is None


def selection_tasks(*, actor: Actor, selection: Selection) -> QuerySet[Task]:
    """The queryset of the selected tasks; ValidationFailed names a bad id or filter."""
    tasks = queries.visible_tasks(actor)
    if not selection.all_matching:
        ids = selection.ids
        if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
            raise ValidationFailed.single(
                "ids", _("Choose from 1 to %(n)d tasks.") % {"n": MAX_IDS}, "required" if not ids else "invalid"
            )
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= values.MAX_ID for i in ids):
            raise ValidationFailed.single("ids", _("Enter a list of task ids."))
        found = set(tasks.filter(pk__in=ids).values_list("pk", flat=True))
        errors = [
            FieldError(f"ids[{i}]", _("No task %(id)s.") % {"id": task_id}, "not_found")
            for i, task_id in enumerate(ids)
            if task_id not in found
        ]
        if errors:
            raise ValidationFailed(errors=errors, detail=errors[0].message)
        return tasks.filter(pk__in=ids)
    user = selection.user or getattr(actor, "user", None)
    tz = clock.user_zone(user)
    compiled = compile_search(
        {k: v for k, v in (selection.filters or {}).items() if k in ("filterGroups", "query")},
        queries.registry(),
        user=user,
        tz=tz,
    )
    tasks = tasks.filter(compiled.where)
    if selection.assignee_ids is not None:
        tasks = tasks.filter(assignee_id__in=selection.assignee_ids)
    elif selection.user is not None:
        tasks = tasks.assigned_to(selection.user)
    if selection.view:
        if selection.view not in queries.DEFAULT_VIEWS:
            raise ValidationFailed.single("view", _("Unknown view %(view)s.") % {"view": selection.view})
        tasks = queries.in_view(tasks, selection.view, tz=tz, now=clock.now())
    return tasks


# ---- history rows, set-based ------------------------------------------------------------------


class JsonOf(Func):
    """A column's value as the JSON that TaskChange stores (the canonical form of the value:
    text and options as strings, users as ids, datetimes as ISO 8601 in UTC; empty → null)."""

    output_field = JSONField()

    def __init__(self, column: str, prop_type: str) -> None:
        super().__init__(F(column))
        self.prop_type = prop_type

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> "_AsSqlType":
        sql, params = compiler.compile(self.source_expressions[0])
        if self.prop_type == PropertyType.DATETIME:
            sql = f"strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', {sql})"
        elif self.prop_type in (PropertyType.TEXT, PropertyType.LONG_TEXT, PropertyType.ENUMERATION):
            sql = f"NULLIF({sql}, '')"
        return f"json_quote({sql})", params

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> "_AsSqlType":
        sql, params = compiler.compile(self.source_expressions[0])
        if self.prop_type == PropertyType.DATETIME:
            sql = f"""to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        elif self.prop_type in (PropertyType.TEXT, PropertyType.LONG_TEXT, PropertyType.ENUMERATION):
            sql = f"NULLIF({sql}, '')"
        return f"to_jsonb({sql})", params

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, *args: Any, **extra: Any
    ) -> "_AsSqlType":  # pragma: no cover - SQLite and PostgreSQL only
        raise NotImplementedError(f"JsonOf is not available on {connection.vendor}")


@dataclass(frozen=True)
class _History:
    """One history property written for every changed task: old value from the column (or a
    literal), the new value as a literal, optionally only where `only` holds."""

    property: str
    new_value: object
    old: models.Expression
    only: Q | None = None


def _insert_history(target: QuerySet[Task], entry: _History, *, user: object, now: dt.datetime) -> None:
    rows = target.filter(entry.only) if entry.only is not None else target
    rows = rows.order_by().annotate(
        h_task=F("pk"),
        h_property=Value(entry.property, output_field=models.CharField()),
        h_old=entry.old,
        h_new=Value(entry.new_value, output_field=JSONField()),
        h_by=Value(getattr(user, "pk", None), output_field=models.BigIntegerField()),
        h_at=Value(now, output_field=models.DateTimeField()),
        h_source=Value(SOURCE, output_field=models.CharField()),
    )
    columns = ("h_task", "h_property", "h_old", "h_new", "h_by", "h_at", "h_source")
    rows = rows.values_list(*columns)
    select_sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    table = connections[rows.db].ops.quote_name(TaskChange._meta.db_table)
    fields = ", ".join(
        # A concrete field always has a column; django-stubs types it optional (for unbound fields).
        connections[rows.db].ops.quote_name(cast(models.Field, TaskChange._meta.get_field(name)).column)  # type: ignore[arg-type]
        for name in ("task", "property", "old_value", "new_value", "changed_by", "changed_at", "source")
    )
    with connections[rows.db].cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({fields}) {select_sql}", params)


def _apply(*, actor: Actor, tasks: QuerySet[Task], changed: Q, updates: dict[str, Any], history: list[_History]) -> int:
    """Write history for, then update, the selected tasks that `changed` says really change."""
    now = clock.now()
    user = getattr(actor, "user", None)
    with transaction.atomic():
        # The history rows and the UPDATE use the same condition, so only real changes are
        # recorded and counted (a task already completed is not "changed" by completing it).
        target = Task.objects.filter(pk__in=tasks.order_by().values("pk")).filter(changed)
        for entry in history:
            _insert_history(target, entry, user=user, now=now)
        resolved = {key: (value(now) if callable(value) else value) for key, value in updates.items()}
        return target.update(**resolved, updated_at=now)


def _require(actor: Actor) -> None:
    policy.require(actor, policy.Action.EDIT_RECORDS)


# ---- the actions -------------------------------------------------------------------------------


def _completion_history(new_status: str, new_completed: str | None) -> list[_History]:
    return [
        _History("status", new_status, JsonOf("status", PropertyType.ENUMERATION)),
        _History(
            "completed_at",
            new_completed,
            JsonOf("completed_at", PropertyType.DATETIME),
            only=None if new_completed is not None else Q(completed_at__isnull=False),
        ),
    ]


def tasks_bulk_complete(*, actor: Actor, selection: Selection) -> int:
    """Mark the selected open tasks completed (now); returns how many changed."""
    _require(actor)
    tasks = selection_tasks(actor=actor, selection=selection)
    now_text = values.format_datetime(clock.now())
    return _apply(
        actor=actor,
        tasks=tasks,
        changed=~Q(status=Task.Status.COMPLETED),
        updates={"status": Task.Status.COMPLETED, "completed_at": lambda now: now},
        history=_completion_history(Task.Status.COMPLETED, now_text),
    )


def tasks_bulk_reopen(*, actor: Actor, selection: Selection) -> int:
    """Mark the selected completed tasks not started again; returns how many changed."""
    _require(actor)
    tasks = selection_tasks(actor=actor, selection=selection)
    return _apply(
        actor=actor,
        tasks=tasks,
        changed=Q(status=Task.Status.COMPLETED),
        updates={"status": Task.Status.NOT_STARTED, "completed_at": None},
        history=_completion_history(Task.Status.NOT_STARTED, None),
    )


def tasks_bulk_assign(*, actor: Actor, selection: Selection, assignee: object) -> int:
    """Assign the selected tasks to an active user (an id); returns how many changed."""
    _require(actor)
    try:
        user_id = values.clean_value(PropertyType.USER, assignee, user_ids=values.active_user_ids)
    except values.InvalidValue as exc:
        raise ValidationFailed.single("value", str(exc)) from exc
    if user_id is None:
        raise ValidationFailed.single("value", _("Choose a user to assign the tasks to."), "required")
    tasks = selection_tasks(actor=actor, selection=selection)
    return _apply(
        actor=actor,
        tasks=tasks,
        changed=~Q(assignee_id=user_id),
        updates={"assignee_id": user_id},
        history=[_History("assignee", user_id, JsonOf("assignee_id", PropertyType.USER))],
    )


def writable_properties() -> list[PropSpec]:
    """The task properties a bulk edit may set (the registry's writable ones)."""
    return [spec for spec in queries.registry() if not spec.read_only]


def tasks_bulk_set_property(*, actor: Actor, selection: Selection, property_name: str | None, value: object) -> int:
    """Set one writable task property to one valid value on the selected tasks."""
    _require(actor)
    spec = queries.registry().get(property_name) if isinstance(property_name, str) else None
    if spec is None or spec.read_only or spec.column is None:  # bulk writes set columns
        raise ValidationFailed.single(
            "property", _("Choose a property that can be changed: %(names)s.") % {"names": _writable_names()}
        )
    try:
        cleaned = values.clean_value(spec.type, value, options=list(spec.options), user_ids=values.active_user_ids)
    except values.InvalidValue as exc:
        raise ValidationFailed.single("value", str(exc)) from exc
    if cleaned is None and (spec.required or spec.type in (PropertyType.ENUMERATION, PropertyType.USER)):
        # Type, priority and status always have a value; "assign to nobody" is not a bulk edit.
        raise ValidationFailed.single("value", _("Enter a value for %(name)s.") % {"name": _(spec.label)}, "required")
    if spec.name == "status":
        if cleaned == Task.Status.COMPLETED:
            return tasks_bulk_complete(actor=actor, selection=selection)
        tasks = selection_tasks(actor=actor, selection=selection)
        return _apply(
            actor=actor,
            tasks=tasks,
            changed=~Q(status=cleaned),
            updates={"status": cleaned, "completed_at": None},
            history=_completion_history(cleaned, None),
        )
    field = cast(models.Field, Task._meta.get_field(spec.column))  # a column: a concrete field
    if spec.type == PropertyType.DATETIME:
        db_value = values.parse_datetime(cleaned) if cleaned is not None else None
    elif cleaned is None:
        db_value = None if field.null else field.default
    else:
        db_value = cleaned
    if db_value is not None and not field.is_relation:
        try:
            field.run_validators(db_value)
        except Exception as exc:  # noqa: BLE001 - Django's ValidationError carries the message
            raise ValidationFailed.single("value", " ".join(getattr(exc, "messages", [str(exc)]))) from exc
    tasks = selection_tasks(actor=actor, selection=selection)
    changed = Q(**{f"{spec.column}__isnull": False}) if db_value is None else ~Q(**{spec.column: db_value})
    return _apply(
        actor=actor,
        tasks=tasks,
        changed=changed,
        updates={spec.column: db_value},
        history=[_History(spec.name, cleaned, JsonOf(spec.column, spec.type))],
    )


def _writable_names() -> str:
    return ", ".join(spec.name for spec in writable_properties())


def tasks_bulk_archive(*, actor: Actor, selection: Selection) -> int:
    """Delete (archive) the selected tasks; they leave every view and list."""
    _require(actor)
    tasks = selection_tasks(actor=actor, selection=selection)
    return _apply(
        actor=actor,
        tasks=tasks,
        changed=Q(archived_at__isnull=True),
        updates={"archived_at": lambda now: now},
        history=[_History("archived", True, Value(False, output_field=JSONField()))],
    )


ACTIONS = ("complete", "reopen", "assign", "set_property", "archive")


def tasks_bulk(
    *, actor: Actor, action: str, selection: Selection, value: object = None, property_name: str | None = None
) -> int:
    """One entry point for the API and the Tasks tab: run `action` on the selection."""
    match action:
        case "complete":
            return tasks_bulk_complete(actor=actor, selection=selection)
        case "reopen":
            return tasks_bulk_reopen(actor=actor, selection=selection)
        case "assign":
            return tasks_bulk_assign(actor=actor, selection=selection, assignee=value)
        case "set_property":
            return tasks_bulk_set_property(actor=actor, selection=selection, property_name=property_name, value=value)
        case "archive":
            return tasks_bulk_archive(actor=actor, selection=selection)
    raise ValidationFailed.single("action", _("Choose one of: %(actions)s.") % {"actions": ", ".join(ACTIONS)})


def task_set_completed(*, actor: Actor, task: Task, done: bool) -> Task:
    """Complete a task (or, with done=False, reopen it) as one click in the UI does: the Tasks
    table's check mark and the Summary's task card. Nothing happens when it is already so."""
    if task.is_completed != done:
        status = Task.Status.COMPLETED if done else Task.Status.NOT_STARTED
        engagement_services.engagement_update(
            actor=actor,
            kind=KINDS["tasks"],
            engagement=task,
            properties={"status": status},
            source=TaskChange.Source.UI,
        )
    return task
