"""Writes for engagements. Values are validated by the same registry and validator as records."""

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from tend.core import clock, hooks, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.crm import values
from tend.crm.models import PropertyType, Record
from tend.crm.registry import PropSpec
from tend.crm.services import record_touch_activity

from .kinds import KINDS, AnyEngagement, Kind
from .mentions import mentioned_user_ids
from .models import Call, Email, Meeting, MeetingAttendee, Note, Task, TaskChange

if TYPE_CHECKING:
    from tend.directory.models import User

MAX_LIST_ITEMS = 200

E = TypeVar("E", Task, Meeting, Note, Call, Email)


def _require(actor: Actor, action: policy.Action) -> None:
    policy.require(actor, action)


# What a person logs is theirs: only they (or a settings manager) change or delete it. Tasks and
# meetings are shared work, assigned and reassigned, so writing records is enough for those.
LOGGED = (Note, Call, Email)


def _require_change(actor: Actor, engagement: AnyEngagement) -> None:
    _require(actor, policy.Action.EDIT_RECORDS)
    if isinstance(engagement, LOGGED):
        policy.require(actor, policy.Action.EDIT_ENGAGEMENT, engagement)


def _clean(kind: Kind, incoming: object, *, creating: bool, errors: list[FieldError]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if not isinstance(incoming, dict):
        errors.append(FieldError("properties", _("properties must be an object.")))
        return cleaned
    registry = kind.registry()
    user_ids = values.active_user_ids
    for name, raw in incoming.items():
        at = f"properties.{name}"
        if name in kind.list_properties:
            cleaned[name] = _clean_email_list(raw, at, errors)
            continue
        spec = registry.get(name)
        if spec is None:
            errors.append(FieldError(at, _("Unknown property %(name)s.") % {"name": name}, "unknown_property"))
            continue
        if spec.read_only:
            errors.append(FieldError(at, _("%(name)s is read-only.") % {"name": name}, "read_only"))
            continue
        try:
            value = values.clean_value(spec.type, raw, options=list(spec.options), user_ids=user_ids)
        except values.InvalidValue as exc:
            errors.append(FieldError(at, str(exc)))
            continue
        if value is None and spec.required:
            errors.append(FieldError(at, _("%(name)s is required.") % {"name": name}, "required"))
            continue
        if spec.type == PropertyType.DATETIME and value is not None:
            value = values.parse_datetime(value)
        if (problem := _column_problem(kind, spec, value, creating=creating)) is not None:
            errors.append(FieldError(at, *problem))
            continue
        cleaned[name] = value
    if creating:
        for spec in registry:
            if spec.required and spec.name not in incoming:
                errors.append(
                    FieldError(f"properties.{spec.name}", _("%(name)s is required.") % {"name": spec.name}, "required")
                )
    if cleaned.get("meeting_url"):
        try:
            URLValidator(schemes=["http", "https"])(cleaned["meeting_url"])
        except DjangoValidationError:
            errors.append(FieldError("properties.meeting_url", _("Enter a full http(s) URL.")))
    return cleaned


def _column_problem(kind: Kind, spec: PropSpec, value: object, *, creating: bool) -> tuple[str, str] | None:
    """What the model's column would refuse (length, whole number, range, NOT NULL), as a
    (message, code) pair, so that such input is a validation error and not a database error."""
    field = kind.model._meta.get_field(spec.column or spec.name)
    if field.is_relation or not isinstance(field, models.Field):
        return None
    if value is None:
        # On create an empty time falls back to "now"; on update the column cannot be emptied.
        if not creating and not field.null and not field.has_default():
            return _("%(name)s is required.") % {"name": spec.name}, "required"
        return None
    if isinstance(field, models.IntegerField) and not isinstance(value, int):
        return _("Enter a whole number."), "invalid"
    try:
        field.run_validators(value)
    except DjangoValidationError as exc:
        return " ".join(exc.messages), "invalid"
    return None


def _clean_email_list(raw: object, at: str, errors: list[FieldError]) -> list[str]:
    items = [i.strip() for i in raw.split(",")] if isinstance(raw, str) else raw
    if items is None:
        return []
    if not isinstance(items, list) or len(items) > MAX_LIST_ITEMS:
        errors.append(FieldError(at, _("Enter a list of email addresses.")))
        return []
    result = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            errors.append(FieldError(f"{at}[{i}]", _("Enter a valid email address.")))
            continue
        item = item.strip()
        if not item:
            continue
        try:
            validate_email(item)
        except DjangoValidationError:
            errors.append(FieldError(f"{at}[{i}]", _("Enter a valid email address.")))
            continue
        result.append(item.lower())
    return list(dict.fromkeys(result))


def _set_attributes(kind: Kind, engagement: AnyEngagement, cleaned: dict[str, Any]) -> None:
    registry = kind.registry()
    for name, value in cleaned.items():
        spec = registry.get(name)
        if spec is None:  # a list property
            setattr(engagement, name, value)
            continue
        column = spec.column or spec.name
        attr = column.removesuffix("_id") if spec.type == PropertyType.USER else column
        if spec.type == PropertyType.USER:
            setattr(engagement, f"{attr}_id", value)
        elif value is None:
            field = cast(models.Field, engagement._meta.get_field(attr))  # a column, not a reverse relation
            setattr(
                engagement,
                attr,
                None if field.null else (field.default if not callable(field.default) else field.default()),
            )
        else:
            setattr(engagement, attr, value)


def _check_whole(kind: Kind, engagement: AnyEngagement, errors: list[FieldError]) -> None:
    if isinstance(engagement, Meeting) and engagement.start_at and engagement.end_at:
        if engagement.end_at < engagement.start_at:
            errors.append(FieldError("properties.end_at", _("The meeting cannot end before it starts.")))


def _records(record_ids: object, errors: list[FieldError]) -> list[Record]:
    if record_ids is None:
        return []
    if not isinstance(record_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in record_ids):
        errors.append(FieldError("associations", _("Enter a list of record ids.")))
        return []
    found = {r.pk: r for r in Record.objects.filter(pk__in=record_ids, archived_at__isnull=True)}
    for i, record_id in enumerate(record_ids):
        if record_id not in found:
            errors.append(FieldError(f"associations[{i}]", _("No record %(id)s.") % {"id": record_id}, "not_found"))
    return list(found.values())


def _activity_time(kind: Kind, engagement: AnyEngagement) -> dt.datetime | None:
    if kind.name == "tasks":
        return None
    at = getattr(engagement, kind.time_property)
    return at if at and at <= clock.now() else None


def task_history_value(spec: PropSpec, value: Any) -> Any:
    """The canonical (JSON) form of a task column value, as stored in TaskChange."""
    if value is None or value == "":
        return None
    if spec.type == PropertyType.DATETIME:
        return values.format_datetime(value)
    return value


def _task_snapshot(task: Task) -> dict[str, Any]:
    return {
        spec.name: task_history_value(spec, getattr(task, spec.column or spec.name))
        for spec in KINDS["tasks"].specs
        if spec.name not in ("created_at", "updated_at")
    }


def _task_history(
    task: Task, before: dict[str, Any] | None, *, user: "User | None", source: str, at: dt.datetime
) -> None:
    """History rows for what changed on a task since `before` (None: the task was just created)."""
    after = _task_snapshot(task)
    if before is None:
        rows = [TaskChange(task=task, property="created", new_value=after.get("subject"))]
    else:
        rows = [
            TaskChange(task=task, property=name, old_value=before.get(name), new_value=value)
            for name, value in after.items()
            if before.get(name) != value
        ]
    for row in rows:
        row.changed_by, row.changed_at, row.source = user, at, source
    TaskChange.objects.bulk_create(rows)


def _write_attendees(meeting: Meeting, *, replace: bool) -> None:
    """The meeting's attendee rows: one per distinct email of `attendees` (stored lower-cased)."""
    if replace:
        MeetingAttendee.objects.filter(meeting=meeting).delete()
    emails = dict.fromkeys(e.lower() for e in meeting.attendees or [] if e)
    MeetingAttendee.objects.bulk_create([MeetingAttendee(meeting=meeting, email=e) for e in emails])


def _notices(engagement: AnyEngagement, *, actor: Actor, record_id: int | None, assignee_before: int | None) -> None:
    """Tell people (through tend.core.hooks, to the notifications above): the assignee of a task
    newly assigned to them, the people a note mentions. Each event is named, so telling twice is once."""
    notices = []
    actor_id = actor.user.pk if actor.user is not None else None
    if isinstance(engagement, Task) and engagement.assignee_id and engagement.assignee_id != assignee_before:
        notices.append(
            hooks.Notice(
                kind="task_assigned",
                event=f"task:{engagement.pk}:assignee:{engagement.assignee_id}:{engagement.updated_at.timestamp()}",
                user_ids=(engagement.assignee_id,),
                actor_id=actor_id,
                record_id=record_id,
                url="" if record_id else reverse("tasks"),
                params={"subject": engagement.subject},
            )
        )
    if isinstance(engagement, Note) and (mentioned := mentioned_user_ids(engagement.body)):
        excerpt = " ".join(engagement.body.split())
        notices.append(
            hooks.Notice(
                kind="mention",
                event=f"note:{engagement.pk}:mention",
                user_ids=tuple(mentioned),
                actor_id=actor_id,
                record_id=record_id,
                params={"excerpt": excerpt[:140] + ("…" if len(excerpt) > 140 else "")},
            )
        )
    hooks.notices(notices)


def engagement_create(
    *,
    actor: Actor,
    kind: Kind,
    properties: dict[str, Any],
    associations: list[int] | None = None,
    source: str = TaskChange.Source.UI,
) -> AnyEngagement:
    """Create a task, meeting, note, call or email; tasks get a "created" history row (`source`)."""
    _require(actor, policy.Action.EDIT_RECORDS)
    errors: list[FieldError] = []
    cleaned = _clean(kind, properties, creating=True, errors=errors)
    records = _records(associations, errors)
    now = clock.now()
    engagement = kind.model(created_at=now, updated_at=now)
    user = actor.user
    if kind.owner_property not in cleaned and user is not None:
        cleaned[kind.owner_property] = user.pk
    for time_field in ("occurred_at",):
        if hasattr(engagement, time_field) and not cleaned.get(time_field):
            cleaned[time_field] = now
    _set_attributes(kind, engagement, cleaned)
    _check_whole(kind, engagement, errors)
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    if isinstance(engagement, Task) and engagement.status == Task.Status.COMPLETED:
        engagement.completed_at = now
    with transaction.atomic():
        engagement.save()
        engagement.records.set(records)
        if isinstance(engagement, Task):
            _task_history(engagement, None, user=user, source=source, at=now)
        if isinstance(engagement, Meeting):
            _write_attendees(engagement, replace=False)
        if (at := _activity_time(kind, engagement)) is not None:
            record_touch_activity(record_ids=[r.pk for r in records], at=at)
        hooks.records_changed([r.pk for r in records], reason="engagement")
        _notices(engagement, actor=actor, record_id=records[0].pk if records else None, assignee_before=None)
    return engagement


def engagement_update(
    *,
    actor: Actor,
    kind: Kind,
    engagement: E,
    properties: dict[str, Any],
    associations: list[int] | None = None,
    source: str = TaskChange.Source.UI,
) -> E:
    """Change an engagement; for a task every changed property gets a history row (`source`)."""
    _require_change(actor, engagement)
    errors: list[FieldError] = []
    if engagement.archived_at is not None:
        raise ValidationFailed.single("id", _("Deleted engagements cannot be changed."), "archived")
    before = _task_snapshot(engagement) if isinstance(engagement, Task) else None
    assignee_before = engagement.assignee_id if isinstance(engagement, Task) else None
    was_completed = isinstance(engagement, Task) and engagement.status == Task.Status.COMPLETED
    cleaned = _clean(kind, properties, creating=False, errors=errors)
    records = _records(associations, errors) if associations is not None else None
    _set_attributes(kind, engagement, cleaned)
    _check_whole(kind, engagement, errors)
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    now = clock.now()
    if isinstance(engagement, Task):
        if engagement.status == Task.Status.COMPLETED and not was_completed:
            engagement.completed_at = now
        elif engagement.status != Task.Status.COMPLETED:
            engagement.completed_at = None
    engagement.updated_at = now
    with transaction.atomic():
        engagement.save()
        if records is not None:
            engagement.records.set(records)
        if isinstance(engagement, Meeting) and "attendees" in cleaned:
            _write_attendees(engagement, replace=True)
        if before is not None and isinstance(engagement, Task):
            user = actor.user
            _task_history(engagement, before, user=user, source=source, at=now)
        if (at := _activity_time(kind, engagement)) is not None:
            record_touch_activity(record_ids=engagement.records.values_list("pk", flat=True), at=at)
        hooks.records_changed(engagement.records.values_list("pk", flat=True), reason="engagement")
        first = None
        if isinstance(engagement, Task | Note):
            first = records[0].pk if records else engagement.records.order_by("pk").values_list("pk", flat=True).first()
        _notices(engagement, actor=actor, record_id=first, assignee_before=assignee_before)
    return engagement


def engagement_archive(*, actor: Actor, engagement: AnyEngagement, source: str = TaskChange.Source.UI) -> None:
    """Delete (archive) an engagement: it leaves timelines and lists, and stays in the database."""
    _require_change(actor, engagement)
    if engagement.archived_at is None:
        engagement.archived_at = clock.now()
        with transaction.atomic():
            engagement.save(update_fields=["archived_at"])
            if isinstance(engagement, Task):
                TaskChange.objects.create(
                    task=engagement,
                    property="archived",
                    old_value=False,
                    new_value=True,
                    changed_by=actor.user,
                    changed_at=engagement.archived_at,
                    source=source,
                )
