"""Writes of records: create, update, archive, restore, merge, associations and follow; every write
path (UI, API, import, automation, demo) comes here. The input is checked whole first
(`record_input`); the write and its history go in one transaction."""

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import ManyToManyRel, Q
from django.utils.translation import gettext as _

from tend.core import clock, hooks, policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.core.policy import Actor

from .models import Association, ChangeSource, Follow, ObjectType, PropertyChange, Record
from .record_input import RecordPlan, check_plan, check_unique, clean_record_input, user_checker
from .registry import registry_for

if TYPE_CHECKING:
    from tend.directory.models import User

MAX_BATCH = 100


def _actor_user(actor: Actor) -> "User | None":
    """The user to name in history rows: none for Tend itself (`policy.SYSTEM`), shown as "Tend"."""
    return actor.user


# --------------------------------------------------------------------------- records


def _history_value(name: str, record: Record | None) -> Any:
    if record is None:
        return None
    match name:
        case "name":
            return record.name or None
        case "owner":
            return record.owner_id
        case "pipeline":
            return record.pipeline_id
        case "stage":
            return record.stage_id
    return record.properties.get(name)


def _apply(
    plan: RecordPlan,
    *,
    object_type: ObjectType,
    user: "User | None",
    source: str,
    now: dt.datetime,
    force_save: bool = False,
) -> tuple[Record, list[PropertyChange]]:
    record = plan.record
    created = record is None
    if record is None:
        record = Record(object_type=object_type, created_at=now, updated_at=now, properties={})
    changes = []
    for name, value in plan.columns.items():
        old = _history_value(name, None if created else record)
        if name == "name":
            record.name = value or ""
            value = value or None
        else:
            setattr(record, f"{name}_id", value)
        if name == "stage" and old != value:
            record.stage_entered_at = now
        if old != value:
            changes.append((name, old, value))
    props = dict(record.properties or {})
    for name, value in plan.values.items():
        old = props.get(name)
        if value is None:
            props.pop(name, None)
        else:
            props[name] = value
        if old != value:
            changes.append((name, old, value))
    record.properties = props
    # A write that changes nothing leaves the record alone: a sync that sends the same values
    # again must not move "last modified" (it would see its own write as a new change).
    if created or changes or force_save:
        record.updated_at = now
        record.save()
    history = [
        PropertyChange(
            record=record,
            property_name=name,
            old_value=old,
            new_value=new,
            changed_at=now,
            changed_by=user,
            source=source,
        )
        for name, old, new in changes
    ]
    return record, history


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


def records_write(
    *,
    actor: Actor,
    object_type: ObjectType,
    inputs: list[tuple[Record | None, dict]],
    source: str = ChangeSource.API,
    prefix_inputs: bool = False,
) -> list[Record]:
    """Create (record None) or update records, all or nothing, recording property history."""
    policy.require(actor, policy.Action.EDIT_RECORDS)
    registry = registry_for(object_type)
    user_check = user_checker()
    errors: list[FieldError] = []
    plans, wheres = [], []
    for i, (record, properties) in enumerate(inputs):
        where = f"inputs[{i}]." if prefix_inputs else ""
        if record is not None and record.archived_at is not None:
            errors.append(
                FieldError(f"{where}id", _("Archived records cannot be changed; restore it first."), "archived")
            )
            continue
        plan = clean_record_input(
            registry, properties, record=record, source=source, errors=errors, where=where, user_check=user_check
        )
        check_plan(registry, plan, errors, where)
        plans.append(plan)
        wheres.append(where)
    check_unique(registry, plans, errors, wheres)
    _raise(errors)
    user = _actor_user(actor)
    now = clock.now()
    saved, history = [], []
    with transaction.atomic():
        for plan in plans:
            record, changes = _apply(plan, object_type=object_type, user=user, source=source, now=now)
            saved.append(record)
            history.extend(changes)
        PropertyChange.objects.bulk_create(history)
        hooks.records_changed({change.record_id for change in history}, reason="record")
    return saved


def record_create(*, actor: Actor, object_type: ObjectType, properties: dict, source: str = ChangeSource.API) -> Record:
    return records_write(actor=actor, object_type=object_type, inputs=[(None, properties)], source=source)[0]


def record_update(*, actor: Actor, record: Record, properties: dict, source: str = ChangeSource.API) -> Record:
    return records_write(actor=actor, object_type=record.object_type, inputs=[(record, properties)], source=source)[0]


def record_archive(*, actor: Actor, record: Record) -> Record:
    policy.require(actor, policy.Action.EDIT_RECORDS)
    if record.archived_at is None:
        record.archived_at = clock.now()
        with transaction.atomic():
            record.save(update_fields=["archived_at"])
            hooks.records_changed([record.pk], reason="archive")
    return record


def records_archive(*, actor: Actor, records: list[Record]) -> int:
    policy.require(actor, policy.Action.EDIT_RECORDS)
    ids = [r.pk for r in records]
    with transaction.atomic():
        live = list(Record.objects.filter(pk__in=ids, archived_at__isnull=True).values_list("pk", flat=True))
        archived = Record.objects.filter(pk__in=live).update(archived_at=clock.now())
        hooks.records_changed(live, reason="archive")
    return archived


def record_restore(*, actor: Actor, record: Record) -> Record:
    policy.require(actor, policy.Action.EDIT_RECORDS)
    if record.merged_into_id is not None:
        raise ValidationFailed.single("id", _("A merged record cannot be restored."), "merged")
    if record.archived_at is None:
        return record
    registry = registry_for(record.object_type)
    errors: list[FieldError] = []
    plan = RecordPlan(
        record=record, values={s.name: record.properties.get(s.name) for s in registry.value_specs() if s.unique}
    )
    check_unique(registry, [plan], errors, [""])
    _raise(errors)
    record.archived_at = None
    with transaction.atomic():
        record.save(update_fields=["archived_at"])
        hooks.records_changed([record.pk], reason="restore")
    return record


# --------------------------------------------------------------------------- merge


def record_merge(*, actor: Actor, primary: Record, secondary: Record) -> Record:
    """Merge `secondary` into `primary`: empty values are filled from the secondary; its
    associations, engagements and history move to the primary; the secondary is archived and
    its id resolves to the primary from then on."""
    policy.require(actor, policy.Action.EDIT_RECORDS)
    errors = []
    if primary.pk == secondary.pk:
        errors.append(FieldError("objectIdToMerge", _("A record cannot be merged with itself.")))
    if primary.object_type_id != secondary.object_type_id:
        errors.append(FieldError("objectIdToMerge", _("Only records of the same object type can be merged.")))
    for field_name, record in (("primaryObjectId", primary), ("objectIdToMerge", secondary)):
        if record.archived_at is not None:
            errors.append(FieldError(field_name, _("Archived records cannot be merged."), "archived"))
    _raise(errors)
    user = _actor_user(actor)
    now = clock.now()
    with transaction.atomic():
        fill = {k: v for k, v in secondary.properties.items() if k not in primary.properties}
        # Unique values move with the fill: archive the secondary first so they do not clash.
        secondary.archived_at = now
        secondary.merged_into = primary
        secondary.save(update_fields=["archived_at", "merged_into"])
        plan = RecordPlan(record=primary, values=fill)
        for name in ("owner", "pipeline", "stage"):
            if getattr(primary, f"{name}_id") is None and getattr(secondary, f"{name}_id") is not None:
                plan.columns[name] = getattr(secondary, f"{name}_id")
        if primary.last_activity_at is None or (
            secondary.last_activity_at and secondary.last_activity_at > primary.last_activity_at
        ):
            primary.last_activity_at = secondary.last_activity_at
        PropertyChange.objects.filter(record=secondary).update(record=primary)
        record, history = _apply(
            plan, object_type=primary.object_type, user=user, source=ChangeSource.MERGE, now=now, force_save=True
        )
        PropertyChange.objects.bulk_create(history)
        _move_associations(primary, secondary)
        _move_engagements(primary, secondary)
        Record.objects.filter(merged_into=secondary).update(merged_into=primary)
        hooks.records_changed([primary.pk, secondary.pk], reason="merge")
    return record


def _move_associations(primary: Record, secondary: Record) -> None:
    existing = set(Association.objects.filter(from_record=primary).values_list("to_record_id", "label"))
    for assoc in Association.objects.filter(from_record=secondary):
        if assoc.to_record_id != primary.pk and (assoc.to_record_id, assoc.label) not in existing:
            association_link(primary, assoc.to_record, assoc.label)
            existing.add((assoc.to_record_id, assoc.label))
    Association.objects.filter(from_record=secondary).delete()
    Association.objects.filter(to_record=secondary).delete()


def _move_engagements(primary: Record, secondary: Record) -> None:
    """Repoint every many-to-many link to records (tasks, meetings, notes, …) at the primary."""
    for relation in Record._meta.related_objects:
        if not isinstance(relation, ManyToManyRel) or relation.through is None:
            continue
        through = relation.through
        owner_fk = relation.field.m2m_field_name()
        record_fk = relation.field.m2m_reverse_field_name()
        already = through._default_manager.filter(**{record_fk: primary}).values_list(f"{owner_fk}_id", flat=True)
        through._default_manager.filter(**{record_fk: secondary, f"{owner_fk}_id__in": list(already)}).delete()
        through._default_manager.filter(**{record_fk: secondary}).update(**{record_fk: primary})


# --------------------------------------------------------------------------- activity


def record_touch_activity(*, record_ids: Collection[int], at: dt.datetime) -> int:
    """Move records' last activity date forward to `at` (never backwards)."""
    return Record.objects.filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at), pk__in=list(record_ids)
    ).update(last_activity_at=at)


# --------------------------------------------------------------------------- associations


def association_link(from_record: Record, to_record: Record, label: str = "") -> None:
    for a, b in ((from_record, to_record), (to_record, from_record)):
        Association.objects.get_or_create(from_record=a, to_record=b, label=label)


def association_create(*, actor: Actor, from_record: Record, to_record: Record, label: str = "") -> None:
    policy.require(actor, policy.Action.EDIT_RECORDS)
    label = (label or "").strip()
    errors = []
    if from_record.pk == to_record.pk:
        errors.append(FieldError("toId", _("A record cannot be associated with itself.")))
    if len(label) > 64:
        errors.append(FieldError("label", _("Enter at most 64 characters.")))
    for field_name, record in (("id", from_record), ("toId", to_record)):
        if record.archived_at is not None:
            errors.append(FieldError(field_name, _("Archived records cannot be associated."), "archived"))
    _raise(errors)
    with transaction.atomic():
        association_link(from_record, to_record, label)
        hooks.records_changed([from_record.pk, to_record.pk], reason="association")


def association_delete(*, actor: Actor, from_record: Record, to_record: Record, label: str | None = None) -> int:
    policy.require(actor, policy.Action.EDIT_RECORDS)
    pair = Q(from_record=from_record, to_record=to_record) | Q(from_record=to_record, to_record=from_record)
    links = Association.objects.filter(pair)
    if label is not None:
        links = links.filter(label=label)
    deleted, _details = links.delete()
    return deleted


def record_create_with_associations(
    *,
    actor: Actor,
    object_type: ObjectType,
    properties: dict,
    associations: list[tuple[Record, str]],
    source: str = ChangeSource.API,
) -> Record:
    """Create a record and its associations together: if any part is invalid, nothing is created."""
    with transaction.atomic():
        record = record_create(actor=actor, object_type=object_type, properties=properties, source=source)
        for other, label in associations:
            association_create(actor=actor, from_record=record, to_record=other, label=label)
    return record


# --------------------------------------------------------------------------- follow


def follow_set(*, actor: Actor, record: Record, following: bool) -> bool:
    """Follow or unfollow a record as the acting user (following twice is following once)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    if actor.user is None:  # only policy.SYSTEM; no person sees this, so not translated
        raise Forbidden("Tend itself follows no records.")
    if following:
        Follow.objects.get_or_create(user=actor.user, record=record)
    else:
        Follow.objects.filter(user=actor.user, record=record).delete()
    return following
