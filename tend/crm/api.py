"""/api/v1 endpoints of the record engine: object types, properties, records, associations,
pipelines. Thin: parse, ask the policy through queries/services, render."""

from datetime import UTC
from typing import Any, Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Body, Field, Router, Schema
from ninja.responses import Status

from tend.core.api import parse_after, parse_limit
from tend.core.errors import FieldError, NotFound, ValidationFailed

from . import queries, schema, services
from .filters import compile_search
from .models import ChangeSource, Pipeline, PropertyDefinition, Record, Stage
from .registry import Registry, derived_value, registry_for

router = Router(tags=["records"])
# Registered before `router`, so that /objects/{type}/search is not read as a record id.
collection_router = Router(tags=["records"])
schema_router = Router(tags=["schema"])
pipeline_router = Router(tags=["pipelines"])

ISO = "%Y-%m-%dT%H:%M:%SZ"


def _iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None


# --------------------------------------------------------------------------- serialisers


def object_type_out(ot) -> dict:
    return {
        "name": ot.name,
        "labelSingular": ot.label_singular,
        "labelPlural": ot.label_plural,
        "primaryProperty": ot.primary_property,
        "builtIn": ot.built_in,
    }


def record_properties(record: Record, registry: Registry, names: list[str] | None) -> dict:
    props = {
        "name": record.name or None,
        "owner": record.owner_id,
        "pipeline": record.pipeline_id,
        "stage": record.stage_id,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "last_activity_at": _iso(record.last_activity_at),
    }
    for key, value in record.properties.items():
        spec = registry.specs.get(key)
        if spec is not None and not spec.is_column:
            props[key] = value
    for spec in registry.derived_specs():
        value = derived_value(record, spec.column)
        if value is not None and value != "":
            props[spec.name] = value
    if names is not None:
        return {n: props.get(n) for n in names}
    return props


def record_out(record: Record, registry: Registry, names: list[str] | None = None) -> dict:
    return {
        "id": record.pk,
        "objectType": registry.object_type.name,
        "properties": record_properties(record, registry, names),
        "createdAt": _iso(record.created_at),
        "updatedAt": _iso(record.updated_at),
        "archived": record.archived_at is not None,
        "archivedAt": _iso(record.archived_at),
    }


def stage_out(stage: Stage) -> dict:
    return {
        "id": stage.pk,
        "label": stage.label,
        "displayOrder": stage.display_order,
        "requiredProperties": stage.required_properties,
        "outcome": stage.outcome or "open",
        "probability": stage.probability,
        "targetDays": stage.target_days,
    }


def pipeline_out(pipeline: Pipeline) -> dict:
    return {
        "id": pipeline.pk,
        "label": pipeline.label,
        "displayOrder": pipeline.display_order,
        "archived": pipeline.archived_at is not None,
        "stages": [stage_out(s) for s in pipeline.stages.all()],
    }


def _property_names(registry: Registry, raw: str | list[str] | None) -> list[str] | None:
    if raw in (None, "", []):
        return None
    names = [n.strip() for n in (raw.split(",") if isinstance(raw, str) else raw) if n.strip()]
    unknown = [n for n in names if n not in registry.specs]
    if unknown:
        raise ValidationFailed.single(
            "properties", _("Unknown property %(name)s.") % {"name": unknown[0]}, "unknown_property"
        )
    return names


# --------------------------------------------------------------------------- schemas


class ObjectTypeIn(Schema):
    name: str
    labelSingular: str
    labelPlural: str
    primaryProperty: str = "name"


class PropertyIn(Schema):
    name: str
    label: str
    type: str
    options: list[Any] = Field(default_factory=list)
    required: bool = False
    unique: bool = False
    readOnly: bool = False
    group: str = ""
    description: str = ""


class AssociationIn(Schema):
    toId: int
    label: str = ""


class RecordIn(Schema):
    properties: dict[str, Any] = Field(default_factory=dict)
    associations: list[AssociationIn] = Field(default_factory=list)


class RecordPatch(Schema):
    properties: dict[str, Any]


class SearchIn(Schema):
    filterGroups: list[Any] = Field(default_factory=list)
    sorts: list[Any] = Field(default_factory=list)
    query: str | None = None
    properties: list[str] | None = None
    limit: int = 10
    after: str | None = None


class IdIn(Schema):
    id: int


class BatchReadIn(Schema):
    inputs: list[IdIn]
    properties: list[str] | None = None


class BatchCreateIn(Schema):
    inputs: list[RecordIn]


class BatchUpdateItem(Schema):
    id: int
    properties: dict[str, Any]


class BatchUpdateIn(Schema):
    inputs: list[BatchUpdateItem]


class BatchArchiveIn(Schema):
    inputs: list[IdIn]


class MergeIn(Schema):
    primaryObjectId: int
    objectIdToMerge: int


class LabelIn(Schema):
    label: str = ""


class StageIn(Schema):
    label: str
    requiredProperties: list[str] = Field(default_factory=list)
    outcome: Literal["", "open", "won", "lost", "complete"] = ""
    probability: float | None = None
    targetDays: int | None = None
    displayOrder: int | None = None


class PipelineIn(Schema):
    label: str
    displayOrder: int | None = None
    stages: list[StageIn]


def _stage_data(data: dict) -> dict:
    if data.get("outcome") == "open":
        data["outcome"] = ""
    if data.get("displayOrder") is None:
        data.pop("displayOrder", None)
    return data


# --------------------------------------------------------------------------- object types & properties


@schema_router.get("/object-types", summary="List object types")
def list_object_types(request):
    return {"results": [object_type_out(o) for o in queries.object_types(request.auth)]}


@schema_router.post("/object-types", response={201: dict}, summary="Create a custom object type")
def create_object_type(request, payload: ObjectTypeIn):
    ot = schema.object_type_create(
        actor=request.auth,
        name=payload.name,
        label_singular=payload.labelSingular,
        label_plural=payload.labelPlural,
        primary_property=payload.primaryProperty,
    )
    return Status(201, object_type_out(ot))


@schema_router.get("/object-types/{object_type}", summary="Get an object type")
def get_object_type(request, object_type: str):
    return object_type_out(queries.get_object_type_for_user(request.auth, object_type))


@schema_router.patch("/object-types/{object_type}", summary="Change labels or the primary display property")
def update_object_type(request, object_type: str, payload: Body[dict[str, Any]]):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    return object_type_out(schema.object_type_update(actor=request.auth, object_type=ot, changes=payload))


@schema_router.get("/properties/{object_type}", summary="List the properties of an object type")
def list_properties(request, object_type: str):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    return {"results": [s.as_api() for s in registry_for(ot)]}


@schema_router.post("/properties/{object_type}", response={201: dict}, summary="Create a property")
def create_property(request, object_type: str, payload: PropertyIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    definition = schema.property_create(
        actor=request.auth,
        object_type=ot,
        name=payload.name,
        label=payload.label,
        type=payload.type,
        options=payload.options,
        required=payload.required,
        unique=payload.unique,
        read_only=payload.readOnly,
        group=payload.group,
        description=payload.description,
    )
    return Status(201, registry_for(ot).get(definition.name).as_api())


def _definition(request, object_type: str, name: str) -> PropertyDefinition:
    ot = queries.get_object_type_for_user(request.auth, object_type)
    return queries.get_property_for_user(request.auth, ot, name)


@schema_router.get("/properties/{object_type}/{name}", summary="Get a property")
def get_property(request, object_type: str, name: str):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    spec = registry_for(ot).get(name)
    if spec is None:
        raise NotFound(_("No property %(name)s on %(type)s.") % {"name": name, "type": object_type})
    return spec.as_api()


@schema_router.patch("/properties/{object_type}/{name}", summary="Change a property")
def update_property(request, object_type: str, name: str, payload: Body[dict[str, Any]]):
    definition = _definition(request, object_type, name)
    definition = schema.property_update(actor=request.auth, definition=definition, changes=payload)
    return registry_for(definition.object_type).get(definition.name).as_api()


@schema_router.delete("/properties/{object_type}/{name}", response={204: None}, summary="Archive a property")
def archive_property(request, object_type: str, name: str):
    schema.property_archive(actor=request.auth, definition=_definition(request, object_type, name))
    return Status(204, None)


# --------------------------------------------------------------------------- records


@router.get("/objects/{object_type}", summary="List records (cursor paging)")
def list_records(
    request,
    object_type: str,
    limit: int | None = None,
    after: str | None = None,
    properties: str | None = None,
    archived: bool = False,
):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    registry = registry_for(ot)
    names = _property_names(registry, properties)
    limit = parse_limit(limit, default=20, maximum=100)
    cursor = parse_after(after)
    page = list(
        registry.prefetch(queries.records_for(request.auth, ot, archived=archived))
        .filter(pk__gt=cursor)
        .order_by("pk")[: limit + 1]
    )
    result = {"results": [record_out(r, registry, names) for r in page[:limit]]}
    if len(page) > limit:
        result["paging"] = {"next": {"after": str(page[limit - 1].pk)}}
    return result


@router.post("/objects/{object_type}", response={201: dict}, summary="Create a record")
def create_record(request, object_type: str, payload: RecordIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    targets = _association_targets(request, payload.associations, "associations")
    record = services.record_create_with_associations(
        actor=request.auth, object_type=ot, properties=payload.properties, associations=targets, source=ChangeSource.API
    )
    return Status(201, record_out(record, registry_for(ot)))


def _association_targets(request, associations: list[AssociationIn], where: str) -> list[tuple[Record, str]]:
    targets, errors = [], []
    found = queries.records_by_id_for_user(request.auth, [a.toId for a in associations], include_archived=False)
    for i, assoc in enumerate(associations):
        record = found.get(assoc.toId)
        if record is None:
            errors.append(FieldError(f"{where}[{i}].toId", _("No record %(id)s.") % {"id": assoc.toId}, "not_found"))
        else:
            targets.append((record, assoc.label))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    return targets


@router.get("/objects/{object_type}/{record_id}", summary="Get a record (a merged id answers with its survivor)")
def get_record(request, object_type: str, record_id: str, properties: str | None = None):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    registry = registry_for(ot)
    record = queries.get_record_for_user(request.auth, ot, record_id)
    return record_out(record, registry, _property_names(registry, properties))


@router.patch("/objects/{object_type}/{record_id}", summary="Update a record's properties")
def update_record(request, object_type: str, record_id: str, payload: RecordPatch):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    record = queries.get_record_for_user(request.auth, ot, record_id)
    record = services.record_update(actor=request.auth, record=record, properties=payload.properties)
    return record_out(record, registry_for(ot))


@router.delete("/objects/{object_type}/{record_id}", response={204: None}, summary="Archive a record")
def archive_record(request, object_type: str, record_id: str):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    services.record_archive(actor=request.auth, record=queries.get_record_for_user(request.auth, ot, record_id))
    return Status(204, None)


@router.post("/objects/{object_type}/{record_id}/restore", summary="Restore an archived record")
def restore_record(request, object_type: str, record_id: str):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    record = services.record_restore(
        actor=request.auth, record=queries.get_record_for_user(request.auth, ot, record_id)
    )
    return record_out(record, registry_for(ot))


@router.get("/objects/{object_type}/{record_id}/history", summary="Property history of a record")
def record_history(
    request,
    object_type: str,
    record_id: str,
    property: str | None = None,
    limit: int | None = None,
    after: str | None = None,
):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    record = queries.get_record_for_user(request.auth, ot, record_id)
    limit = parse_limit(limit, default=50, maximum=200)
    offset = parse_after(after)
    changes = list(queries.record_history(request.auth, record, property_name=property)[offset : offset + limit + 1])
    result = {
        "results": [
            {
                "property": c.property_name,
                "oldValue": c.old_value,
                "newValue": c.new_value,
                "changedAt": _iso(c.changed_at),
                "changedBy": c.changed_by_id,
                "source": c.source,
            }
            for c in changes[:limit]
        ]
    }
    if len(changes) > limit:
        result["paging"] = {"next": {"after": str(offset + limit)}}
    return result


@collection_router.post("/objects/{object_type}/search", summary="Search records with the filter language")
def search_records(request, object_type: str, payload: SearchIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    registry = registry_for(ot)
    names = _property_names(registry, payload.properties)
    limit = parse_limit(payload.limit, default=10, maximum=200)
    offset = parse_after(payload.after)
    compiled = compile_search(payload.dict(), registry, user=request.auth.user)
    records = compiled.apply(queries.records_for(request.auth, ot))
    page = list(records[offset : offset + limit + 1])
    result = {"total": records.count(), "results": [record_out(r, registry, names) for r in page[:limit]]}
    if len(page) > limit:
        result["paging"] = {"next": {"after": str(offset + limit)}}
    return result


def _batch_size(inputs) -> None:
    if not inputs:
        raise ValidationFailed.single("inputs", _("Send at least one input."), "required")
    if len(inputs) > services.MAX_BATCH:
        raise ValidationFailed.single("inputs", _("Send at most %(n)d inputs.") % {"n": services.MAX_BATCH})


def _records_by_id(request, ot, ids: list[int], *, allow_archived: bool = True) -> dict[int, Record]:
    found = queries.records_by_id_for_user(request.auth, ids, object_type=ot)
    errors = [
        FieldError(f"inputs[{i}].id", _("No %(type)s record %(id)s.") % {"type": ot.name, "id": record_id}, "not_found")
        for i, record_id in enumerate(ids)
        if record_id not in found
    ]
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    return found


@collection_router.post("/objects/{object_type}/batch/read", summary="Read up to 100 records")
def batch_read(request, object_type: str, payload: BatchReadIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    registry = registry_for(ot)
    _batch_size(payload.inputs)
    names = _property_names(registry, payload.properties)
    found = _records_by_id(request, ot, [i.id for i in payload.inputs])
    return {"status": "COMPLETE", "results": [record_out(found[i.id], registry, names) for i in payload.inputs]}


@collection_router.post(
    "/objects/{object_type}/batch/create", response={201: dict, 207: dict}, summary="Create up to 100 records"
)
def batch_create(request, object_type: str, payload: BatchCreateIn, atomic: bool = True):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    _batch_size(payload.inputs)
    inputs = [(None, item.properties) for item in payload.inputs]
    return _batch_write(request, ot, inputs, atomic, created=True)


@collection_router.post(
    "/objects/{object_type}/batch/update", response={200: dict, 207: dict}, summary="Update up to 100 records"
)
def batch_update(request, object_type: str, payload: BatchUpdateIn, atomic: bool = True):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    _batch_size(payload.inputs)
    found = _records_by_id(request, ot, [i.id for i in payload.inputs])
    inputs = [(found[item.id], item.properties) for item in payload.inputs]
    return _batch_write(request, ot, inputs, atomic, created=False)


def _batch_write(request, ot, inputs, atomic: bool, *, created: bool):
    registry = registry_for(ot)
    ok_status = 201 if created else 200
    if atomic:
        records = services.records_write(actor=request.auth, object_type=ot, inputs=inputs, prefix_inputs=True)
        return Status(ok_status, {"status": "COMPLETE", "results": [record_out(r, registry) for r in records]})
    results, errors = [], []
    for i, item in enumerate(inputs):
        try:
            record = services.records_write(actor=request.auth, object_type=ot, inputs=[item])[0]
            results.append(record_out(record, registry))
        except ValidationFailed as exc:
            errors.extend(FieldError(f"inputs[{i}].{e.field}", e.message, e.code).as_dict() for e in exc.errors)
    if errors:
        return Status(207, {"status": "COMPLETE", "results": results, "numErrors": len(errors), "errors": errors})
    return Status(ok_status, {"status": "COMPLETE", "results": results})


@collection_router.post(
    "/objects/{object_type}/batch/archive", response={204: None}, summary="Archive up to 100 records"
)
def batch_archive(request, object_type: str, payload: BatchArchiveIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    _batch_size(payload.inputs)
    found = _records_by_id(request, ot, [i.id for i in payload.inputs])
    services.records_archive(actor=request.auth, records=list(found.values()))
    return Status(204, None)


@collection_router.post("/objects/{object_type}/merge", summary="Merge two records")
def merge_records(request, object_type: str, payload: MergeIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    primary = queries.get_record_for_user(request.auth, ot, payload.primaryObjectId)
    secondary = queries.get_record_for_user(request.auth, ot, payload.objectIdToMerge)
    record = services.record_merge(actor=request.auth, primary=primary, secondary=secondary)
    return record_out(record, registry_for(ot))


# --------------------------------------------------------------------------- associations


@router.get("/objects/{from_type}/{record_id}/associations/{to_type}", summary="List associated records")
def list_associations(request, from_type: str, record_id: str, to_type: str):
    from_ot = queries.get_object_type_for_user(request.auth, from_type)
    to_ot = queries.get_object_type_for_user(request.auth, to_type)
    record = queries.get_record_for_user(request.auth, from_ot, record_id)
    grouped: dict[int, list[str]] = {}
    for assoc in queries.associated_records(request.auth, record, to_ot):
        grouped.setdefault(assoc.to_record_id, [])
        if assoc.label:
            grouped[assoc.to_record_id].append(assoc.label)
    return {"results": [{"toObjectId": pk, "labels": labels} for pk, labels in grouped.items()]}


@router.put("/objects/{from_type}/{record_id}/associations/{to_type}/{to_id}", summary="Associate two records")
def put_association(request, from_type: str, record_id: str, to_type: str, to_id: str, payload: LabelIn | None = None):
    from_ot = queries.get_object_type_for_user(request.auth, from_type)
    to_ot = queries.get_object_type_for_user(request.auth, to_type)
    record = queries.get_record_for_user(request.auth, from_ot, record_id)
    other = queries.get_record_for_user(request.auth, to_ot, to_id)
    label = payload.label if payload else ""
    services.association_create(actor=request.auth, from_record=record, to_record=other, label=label)
    return {"fromObjectId": record.pk, "toObjectId": other.pk, "label": label}


@router.delete(
    "/objects/{from_type}/{record_id}/associations/{to_type}/{to_id}",
    response={204: None},
    summary="Remove an association",
)
def delete_association(request, from_type: str, record_id: str, to_type: str, to_id: str, label: str | None = None):
    from_ot = queries.get_object_type_for_user(request.auth, from_type)
    to_ot = queries.get_object_type_for_user(request.auth, to_type)
    record = queries.get_record_for_user(request.auth, from_ot, record_id)
    other = queries.get_record_for_user(request.auth, to_ot, to_id)
    services.association_delete(actor=request.auth, from_record=record, to_record=other, label=label)
    return Status(204, None)


# --------------------------------------------------------------------------- pipelines


@pipeline_router.get("/pipelines/{object_type}", summary="List pipelines with their stages")
def list_pipelines(request, object_type: str):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    return {"results": [pipeline_out(p) for p in queries.pipelines_for(request.auth, ot)]}


@pipeline_router.post("/pipelines/{object_type}", response={201: dict}, summary="Create a pipeline")
def create_pipeline(request, object_type: str, payload: PipelineIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    stages = [_stage_data(s.dict()) for s in payload.stages]
    pipeline = schema.pipeline_create(
        actor=request.auth, object_type=ot, label=payload.label, stages=stages, display_order=payload.displayOrder
    )
    return Status(201, pipeline_out(queries.get_pipeline_for_user(request.auth, ot, pipeline.pk)))


@pipeline_router.get("/pipelines/{object_type}/{pipeline_id}", summary="Get a pipeline")
def get_pipeline(request, object_type: str, pipeline_id: str):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    return pipeline_out(queries.get_pipeline_for_user(request.auth, ot, pipeline_id))


@pipeline_router.patch("/pipelines/{object_type}/{pipeline_id}", summary="Rename, reorder or archive a pipeline")
def update_pipeline(request, object_type: str, pipeline_id: str, payload: Body[dict[str, Any]]):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    pipeline = schema.pipeline_update(
        actor=request.auth, pipeline=queries.get_pipeline_for_user(request.auth, ot, pipeline_id), changes=payload
    )
    return pipeline_out(queries.get_pipeline_for_user(request.auth, ot, pipeline.pk))


def _stage(request, object_type: str, pipeline_id: str, stage_id: str) -> Stage:
    ot = queries.get_object_type_for_user(request.auth, object_type)
    pipeline = queries.get_pipeline_for_user(request.auth, ot, pipeline_id)
    stage = next((s for s in pipeline.stages.all() if str(s.pk) == str(stage_id)), None)
    if stage is None:
        raise NotFound(_("No stage %(id)s in this pipeline.") % {"id": stage_id})
    return stage


@pipeline_router.post("/pipelines/{object_type}/{pipeline_id}/stages", response={201: dict}, summary="Add a stage")
def create_stage(request, object_type: str, pipeline_id: str, payload: StageIn):
    ot = queries.get_object_type_for_user(request.auth, object_type)
    pipeline = queries.get_pipeline_for_user(request.auth, ot, pipeline_id)
    stage = schema.stage_create(actor=request.auth, pipeline=pipeline, data=_stage_data(payload.dict()))
    return Status(201, stage_out(stage))


@pipeline_router.patch("/pipelines/{object_type}/{pipeline_id}/stages/{stage_id}", summary="Change a stage")
def update_stage(request, object_type: str, pipeline_id: str, stage_id: str, payload: Body[dict[str, Any]]):
    stage = _stage(request, object_type, pipeline_id, stage_id)
    return stage_out(schema.stage_update(actor=request.auth, stage=stage, data=_stage_data(dict(payload))))


@pipeline_router.delete(
    "/pipelines/{object_type}/{pipeline_id}/stages/{stage_id}", response={204: None}, summary="Delete an empty stage"
)
def delete_stage(request, object_type: str, pipeline_id: str, stage_id: str):
    schema.stage_delete(actor=request.auth, stage=_stage(request, object_type, pipeline_id, stage_id))
    return HttpResponse(status=204)
