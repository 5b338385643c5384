"""Reads of the record engine, always through the permission policy."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from tend.core import policy
from tend.core.errors import NotFound
from tend.core.policy import Actor

from .models import Association, ObjectType, Pipeline, PropertyChange, PropertyDefinition, Record, Stage


def get_object_type_for_user(actor: Actor, name: str) -> ObjectType:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    object_type = ObjectType.objects.filter(name=name).first()
    if object_type is None:
        raise NotFound(f"No object type {name!r}.")
    return object_type


def object_types(actor: Actor) -> QuerySet[ObjectType]:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    return ObjectType.objects.all()


def records_for(actor: Actor, object_type: ObjectType, *, archived: bool = False) -> QuerySet[Record]:
    """Records of one type that the actor may see (everyone with workspace access sees all)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    records = Record.objects.filter(object_type=object_type)
    return records.archived() if archived else records.active()


def records_by_id_for_user(
    actor: Actor, ids: list[int], *, object_type: ObjectType | None = None, include_archived: bool = True
) -> dict[int, Record]:
    """The records among `ids` that the actor may see, by id (missing ids are simply absent)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    records = Record.objects.filter(pk__in=ids)
    if object_type is not None:
        records = records.filter(object_type=object_type)
    if not include_archived:
        records = records.filter(archived_at__isnull=True)
    return {record.pk: record for record in records}


def get_property_for_user(actor: Actor, object_type: ObjectType, name: str) -> PropertyDefinition:
    """A property definition of the type, not archived; NotFound otherwise."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    definition = PropertyDefinition.objects.filter(object_type=object_type, name=name, archived_at__isnull=True).first()
    if definition is None:
        raise NotFound(_("No property %(name)s on %(type)s.") % {"name": name, "type": object_type.name})
    return definition


def resolve_merged(record: Record) -> Record:
    """Follow merges: a merged record's id still answers with the record it was merged into."""
    seen: set[int] = set()
    while record.merged_into_id is not None and record.pk not in seen:
        seen.add(record.pk)
        record = Record.objects.get(pk=record.merged_into_id)
    return record


def get_record_for_user(
    actor: Actor, object_type: ObjectType, record_id: int | str, *, include_archived: bool = True
) -> Record:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    try:
        record_id = int(record_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(f"No {object_type.name} record {record_id!r}.") from exc
    record = Record.objects.filter(pk=record_id, object_type=object_type).first()
    if record is None:
        raise NotFound(f"No {object_type.name} record {record_id}.")
    record = resolve_merged(record)
    if record.archived_at is not None and not include_archived:
        raise NotFound(f"{object_type.name} record {record_id} is archived.")
    return record


def record_history(actor: Actor, record: Record, *, property_name: str | None = None) -> QuerySet[PropertyChange]:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    changes = PropertyChange.objects.filter(record=record).select_related("changed_by")
    if property_name:
        changes = changes.filter(property_name=property_name)
    return changes.order_by("-changed_at", "-id")


def associated_records(actor: Actor, record: Record, to_type: ObjectType) -> QuerySet[Association]:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    return (
        Association.objects.filter(
            from_record=record, to_record__object_type=to_type, to_record__archived_at__isnull=True
        )
        .select_related("to_record")
        .order_by("to_record_id", "label")
    )


def pipelines_for(actor: Actor, object_type: ObjectType, *, include_archived: bool = False) -> QuerySet[Pipeline]:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    pipelines = Pipeline.objects.filter(object_type=object_type)
    if not include_archived:
        pipelines = pipelines.filter(archived_at__isnull=True)
    return pipelines.prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("display_order", "id")))


def get_pipeline_for_user(actor: Actor, object_type: ObjectType, pipeline_id: int | str | None) -> Pipeline:
    pipelines = pipelines_for(actor, object_type, include_archived=True)  # checks the actor first
    pk = _int_or_none(pipeline_id)
    pipeline = pipelines.filter(pk=pk).first() if pk is not None else None
    if pipeline is None:
        raise NotFound(f"No pipeline {pipeline_id} for {object_type.name}.")
    return pipeline


def _int_or_none(value: int | str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
