"""Writes of the record engine. Every write path (UI, API, import, automation, demo) comes here.

Each service validates everything first and raises ValidationFailed naming every bad field
before it changes anything; writes happen in one transaction together with their history.
"""

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import ManyToManyRel, Max, Q
from django.utils.translation import gettext as _

from tend.core import clock, hooks, policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.core.policy import Actor

from . import values
from .models import (
    Association,
    ChangeSource,
    Follow,
    ObjectType,
    Pipeline,
    PropertyChange,
    PropertyDefinition,
    PropertyType,
    Record,
    Stage,
)
from .registry import (
    COLUMN_NAMES,
    PIPELINE,
    PROPERTY_NAME_RE,
    RESERVED_NAMES,
    STAGE,
    Registry,
    registry_for,
)

if TYPE_CHECKING:
    from tend.directory.models import User

UserCheck = Callable[[Collection[int]], set[int]]

ENUM_TYPES = (PropertyType.ENUMERATION, PropertyType.MULTI_ENUMERATION)
MAX_BATCH = 100
SYSTEM_SOURCES = (ChangeSource.AUTOMATION, ChangeSource.SYSTEM, ChangeSource.MERGE)


def _actor_user(actor: Actor) -> "User | None":
    """The user to name in history rows: none for Tend itself (`policy.SYSTEM`), shown as "Tend"."""
    return actor.user


def _require(actor: Actor, action: policy.Action) -> None:
    policy.require(actor, action)


def _check_label(errors: list[FieldError], field_name: str, value: object, max_length: int) -> None:
    """A required one-line label that fits its column (PostgreSQL refuses longer values)."""
    if value is not None and not isinstance(value, str):
        errors.append(FieldError(field_name, _("Enter text.")))
        return
    text = (value or "").strip()
    if not text:
        errors.append(FieldError(field_name, _("Enter a label."), "required"))
    elif len(text) > max_length:
        errors.append(FieldError(field_name, _("Enter at most %(n)d characters.") % {"n": max_length}))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- object types


def object_type_create(
    *, actor: Actor, name: str, label_singular: str, label_plural: str, primary_property: str = "name"
) -> ObjectType:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors = []
    name = (name or "").strip()
    if not PROPERTY_NAME_RE.match(name) or len(name) > 40:
        errors.append(
            FieldError("name", _("Use lowercase letters, digits and single underscores, starting with a letter."))
        )
    elif ObjectType.objects.filter(name=name).exists():
        errors.append(FieldError("name", _("An object type named %(name)s already exists.") % {"name": name}, "unique"))
    for field_name, label in (("labelSingular", label_singular), ("labelPlural", label_plural)):
        _check_label(errors, field_name, label, 80)
    if primary_property != "name":
        errors.append(FieldError("primaryProperty", _("A new object type starts with name as its primary property.")))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    return ObjectType.objects.create(
        name=name,
        label_singular=label_singular.strip(),
        label_plural=label_plural.strip(),
        primary_property=primary_property,
    )


def object_type_update(*, actor: Actor, object_type: ObjectType, changes: dict) -> ObjectType:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors = []
    allowed = {"labelSingular": "label_singular", "labelPlural": "label_plural", "primaryProperty": "primary_property"}
    for key in changes:
        if key not in allowed:
            errors.append(FieldError(key, _("This field cannot be changed.")))
    if "primaryProperty" in changes:
        primary = changes["primaryProperty"]
        spec = registry_for(object_type).get(primary) if isinstance(primary, str) else None
        if spec is None or spec.type != PropertyType.TEXT:
            errors.append(FieldError("primaryProperty", _("Choose a single-line text property.")))
    for key in ("labelSingular", "labelPlural"):
        if key in changes:
            _check_label(errors, key, changes[key], 80)
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    for key, attr in allowed.items():
        if key in changes:
            setattr(object_type, attr, changes[key].strip())
    object_type.save()
    return object_type


# --------------------------------------------------------------------------- properties


def _clean_options(prop_type: str, options: object, errors: list[FieldError]) -> list[dict[str, str]]:
    if prop_type not in ENUM_TYPES:
        if options:
            errors.append(FieldError("options", _("Only enumeration properties have options.")))
        return []
    if not isinstance(options, list) or not options:
        errors.append(FieldError("options", _("An enumeration needs at least one option."), "required"))
        return []
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, option in enumerate(options):
        if isinstance(option, str):
            option = {"value": option, "label": option}
        value = str(option.get("value", "")) if isinstance(option, dict) else ""
        label = str(option.get("label") or value) if isinstance(option, dict) else ""
        if not values.OPTION_VALUE_RE.match(value):
            errors.append(FieldError(f"options[{i}].value", _("Use letters, digits, '-', '_' or '.' (at most 100).")))
            continue
        if value.lower() in seen:
            errors.append(FieldError(f"options[{i}].value", _("Option %(v)s appears twice.") % {"v": value}, "unique"))
            continue
        seen.add(value.lower())
        cleaned.append({"value": value, "label": label[:200]})
    return cleaned


def property_create(
    *,
    actor: Actor,
    object_type: ObjectType,
    name: str,
    label: str,
    type: str,
    options: list[str | dict[str, Any]] | None = None,
    required: bool = False,
    unique: bool = False,
    read_only: bool = False,
    group: str = "",
    description: str = "",
    built_in: bool = False,
) -> PropertyDefinition:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors: list[FieldError] = []
    name = (name or "").strip()
    if not PROPERTY_NAME_RE.match(name) or len(name) > 64:
        errors.append(
            FieldError("name", _("Use lowercase letters, digits and single underscores, starting with a letter."))
        )
    elif name in RESERVED_NAMES or name in COLUMN_NAMES:
        errors.append(FieldError("name", _("%(name)s is a reserved name.") % {"name": name}, "reserved"))
    elif PropertyDefinition.objects.filter(object_type=object_type, name=name).exists():
        errors.append(
            FieldError(
                "name",
                _("%(type)s already have a property %(name)s.") % {"type": object_type.name, "name": name},
                "unique",
            )
        )
    _check_label(errors, "label", label, 120)
    if group and (not isinstance(group, str) or len(group.strip()) > 80):
        errors.append(FieldError("group", _("Enter at most %(n)d characters.") % {"n": 80}))
    if type not in PropertyType.values:
        errors.append(FieldError("type", _("Choose one of: %(types)s.") % {"types": ", ".join(PropertyType.values)}))
    cleaned_options = _clean_options(type, options, errors) if type in PropertyType.values else []
    if unique and type not in (PropertyType.TEXT, PropertyType.NUMBER):
        errors.append(FieldError("unique", _("Only text and number properties can be unique.")))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    order = PropertyDefinition.objects.filter(object_type=object_type).aggregate(m=Max("display_order"))["m"]
    return PropertyDefinition.objects.create(
        object_type=object_type,
        name=name,
        label=label.strip(),
        type=type,
        options=cleaned_options,
        required=required,
        unique=unique,
        read_only=read_only,
        group=(group or "").strip(),
        description=description or "",
        built_in=built_in,
        display_order=(order or 0) + 1,
    )


PROPERTY_EDITABLE = {
    "label": "label",
    "options": "options",
    "required": "required",
    "unique": "unique",
    "readOnly": "read_only",
    "group": "group",
    "description": "description",
    "displayOrder": "display_order",
}


def property_update(*, actor: Actor, definition: PropertyDefinition, changes: dict) -> PropertyDefinition:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors: list[FieldError] = []
    for key in changes:
        if key not in PROPERTY_EDITABLE:
            errors.append(FieldError(key, _("This field cannot be changed after creation.")))
    records = Record.objects.filter(object_type=definition.object_type, archived_at__isnull=True)
    new_options = definition.options
    if "options" in changes:
        new_options = _clean_options(definition.type, changes["options"], errors)
        removed = set(values.option_values(definition.options)) - set(values.option_values(new_options))
        for value in sorted(removed):
            lookup = (
                {f"properties__{definition.name}__icontains": f'"{value}"'}
                if definition.type == PropertyType.MULTI_ENUMERATION
                else {f"properties__{definition.name}__exact": value}
            )
            if records.filter(**lookup).exists():
                errors.append(
                    FieldError("options", _("Option %(v)s is in use and cannot be removed.") % {"v": value}, "in_use")
                )
    if "label" in changes:
        _check_label(errors, "label", changes["label"], 120)
    if "group" in changes and changes["group"] is not None:
        if not isinstance(changes["group"], str) or len(changes["group"].strip()) > 80:
            errors.append(FieldError("group", _("Enter at most %(n)d characters.") % {"n": 80}))
    if "description" in changes and changes["description"] is not None and not isinstance(changes["description"], str):
        errors.append(FieldError("description", _("Enter text.")))
    if "displayOrder" in changes and not _is_int(changes["displayOrder"]):
        errors.append(FieldError("displayOrder", _("Enter a whole number.")))
    if changes.get("unique") is True and not definition.unique:
        if definition.type not in (PropertyType.TEXT, PropertyType.NUMBER):
            errors.append(FieldError("unique", _("Only text and number properties can be unique.")))
        elif _has_duplicates(definition):
            errors.append(FieldError("unique", _("Existing records share values of this property."), "duplicates"))
    for key in ("required", "unique", "readOnly"):
        if key in changes and not isinstance(changes[key], bool):
            errors.append(FieldError(key, _("Enter true or false.")))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    for key, attr in PROPERTY_EDITABLE.items():
        if key in changes:
            value = changes[key]
            if key == "options":
                value = new_options
            elif key in ("label", "group", "description"):
                value = (value or "").strip()
            setattr(definition, attr, value)
    definition.save()
    return definition


def _has_duplicates(definition: PropertyDefinition) -> bool:
    seen = set()
    records = Record.objects.filter(
        object_type=definition.object_type, archived_at__isnull=True, properties__has_key=definition.name
    )
    for props in records.values_list("properties", flat=True).iterator(chunk_size=2000):
        value = props.get(definition.name)
        key = value.lower() if isinstance(value, str) else value
        if key in seen:
            return True
        seen.add(key)
    return False


def property_archive(*, actor: Actor, definition: PropertyDefinition) -> PropertyDefinition:
    """Archive (never hard-delete) a custom property; its values stay on the records."""
    _require(actor, policy.Action.MANAGE_SCHEMA)
    if definition.built_in:
        raise ValidationFailed.single("name", _("Built-in properties cannot be deleted."), "built_in")
    definition.archived_at = clock.now()
    definition.save(update_fields=["archived_at"])
    return definition


# --------------------------------------------------------------------------- pipelines


def _clean_stage(data: dict, registry: Registry, errors: list[FieldError], where: str, partial: bool = False) -> dict:
    cleaned = {}
    if "label" in data or not partial:
        label = (data.get("label") or "").strip() if isinstance(data.get("label", ""), str) else ""
        if not label:
            errors.append(FieldError(f"{where}label", _("Enter a label."), "required"))
        cleaned["label"] = label[:120]
    if "requiredProperties" in data:
        required = data.get("requiredProperties") or []
        if not isinstance(required, list):
            errors.append(FieldError(f"{where}requiredProperties", _("Enter a list of property names.")))
            required = []
        for i, name in enumerate(required):
            spec = registry.get(name) if isinstance(name, str) else None
            if spec is None or (spec.is_column and name not in ("name", "owner")):
                errors.append(
                    FieldError(f"{where}requiredProperties[{i}]", _("Unknown property %(name)s.") % {"name": name})
                )
        cleaned["required_properties"] = list(dict.fromkeys(required))
    if "outcome" in data:
        outcome = data.get("outcome") or ""
        if outcome not in Stage.Outcome.values:
            errors.append(FieldError(f"{where}outcome", _("Choose open, won, lost or complete.")))
        cleaned["outcome"] = outcome
    if "probability" in data:
        probability = data.get("probability")
        if probability is not None and (
            isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1
        ):
            errors.append(FieldError(f"{where}probability", _("Enter a probability from 0 to 1.")))
        cleaned["probability"] = probability
    if "targetDays" in data:
        target = data.get("targetDays")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int) or target < 0):
            errors.append(FieldError(f"{where}targetDays", _("Enter a whole number of days.")))
        cleaned["target_days"] = target
    if "displayOrder" in data:
        if not isinstance(data["displayOrder"], int):
            errors.append(FieldError(f"{where}displayOrder", _("Enter a whole number.")))
        cleaned["display_order"] = data["displayOrder"]
    return cleaned


def pipeline_create(
    *, actor: Actor, object_type: ObjectType, label: str, stages: list[dict], display_order: int | None = None
) -> Pipeline:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors: list[FieldError] = []
    _check_label(errors, "label", label, 120)
    if not isinstance(stages, list) or not stages:
        errors.append(FieldError("stages", _("A pipeline needs at least one stage."), "required"))
        stages = []
    registry = registry_for(object_type)
    cleaned_stages = [
        _clean_stage(s if isinstance(s, dict) else {}, registry, errors, f"stages[{i}].") for i, s in enumerate(stages)
    ]
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    with transaction.atomic():
        if display_order is None:
            display_order = (
                Pipeline.objects.filter(object_type=object_type).aggregate(m=Max("display_order"))["m"] or 0
            ) + 1
        pipeline = Pipeline.objects.create(object_type=object_type, label=label.strip(), display_order=display_order)
        for i, stage_data in enumerate(cleaned_stages):
            stage_data.setdefault("display_order", i)
            Stage.objects.create(pipeline=pipeline, **stage_data)
    return pipeline


def pipeline_update(*, actor: Actor, pipeline: Pipeline, changes: dict) -> Pipeline:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors = []
    for key in changes:
        if key not in ("label", "displayOrder", "archived"):
            errors.append(FieldError(key, _("This field cannot be changed here.")))
    if "label" in changes:
        _check_label(errors, "label", changes["label"], 120)
    if "displayOrder" in changes and not _is_int(changes["displayOrder"]):
        errors.append(FieldError("displayOrder", _("Enter a whole number.")))
    if "archived" in changes and not isinstance(changes["archived"], bool):
        errors.append(FieldError("archived", _("Enter true or false.")))
    if changes.get("archived") is True and Record.objects.filter(pipeline=pipeline, archived_at__isnull=True).exists():
        errors.append(FieldError("archived", _("Move the records out of this pipeline before archiving it."), "in_use"))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    if "label" in changes:
        pipeline.label = changes["label"].strip()
    if "displayOrder" in changes:
        pipeline.display_order = int(changes["displayOrder"])
    if "archived" in changes:
        pipeline.archived_at = clock.now() if changes["archived"] else None
    pipeline.save()
    return pipeline


def stage_create(*, actor: Actor, pipeline: Pipeline, data: dict) -> Stage:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors: list[FieldError] = []
    cleaned = _clean_stage(data, registry_for(pipeline.object_type), errors, "")
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    if "display_order" not in cleaned:
        cleaned["display_order"] = (pipeline.stages.aggregate(m=Max("display_order"))["m"] or 0) + 1
    return Stage.objects.create(pipeline=pipeline, **cleaned)


def stage_update(*, actor: Actor, stage: Stage, data: dict) -> Stage:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    errors: list[FieldError] = []
    cleaned = _clean_stage(data, registry_for(stage.pipeline.object_type), errors, "", partial=True)
    for key in data:
        if key not in ("label", "requiredProperties", "outcome", "probability", "targetDays", "displayOrder"):
            errors.append(FieldError(key, _("Unknown field.")))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    for attr, value in cleaned.items():
        setattr(stage, attr, value)
    stage.save()
    return stage


def stage_delete(*, actor: Actor, stage: Stage) -> None:
    _require(actor, policy.Action.MANAGE_SCHEMA)
    if Record.objects.filter(stage=stage).exists():
        raise ValidationFailed.single("stage", _("Records are in this stage; move them first."), "in_use")
    if stage.pipeline.stages.count() == 1:
        raise ValidationFailed.single("stage", _("A pipeline keeps at least one stage."), "last_stage")
    stage.delete()


# --------------------------------------------------------------------------- records


@dataclass
class _Plan:
    """A validated change of one record: what to set, ready to apply."""

    record: Record | None
    columns: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # name → canonical value, None = remove
    associations: list = field(default_factory=list)


def _clean_record_input(
    registry: Registry,
    incoming: object,
    *,
    record: Record | None,
    source: str,
    errors: list[FieldError],
    where: str = "",
    user_check: UserCheck | None = None,
) -> _Plan:
    plan = _Plan(record=record)
    if not isinstance(incoming, dict):
        errors.append(FieldError(f"{where}properties", _("properties must be an object.")))
        return plan
    for name, raw in incoming.items():
        at = f"{where}properties.{name}"
        spec = registry.get(name)
        if spec is None:
            errors.append(FieldError(at, _("Unknown property %(name)s.") % {"name": name}, "unknown_property"))
            continue
        # Read-only columns (created/updated/last activity) are kept by Tend itself, for every source.
        if spec.read_only and (spec.is_column or source not in SYSTEM_SOURCES):
            errors.append(FieldError(at, _("%(name)s is read-only.") % {"name": name}, "read_only"))
            continue
        try:
            if spec.type in (PIPELINE, STAGE):
                cleaned = None if values.is_empty(raw) else int(raw)
                # int() would take true as 1 and 2.5 as stage 2.
                if cleaned is not None and (isinstance(raw, bool) or (isinstance(raw, float) and cleaned != raw)):
                    raise ValueError
                valid = registry.pipeline_ids() if spec.type == PIPELINE else registry.stage_ids()
                if cleaned is not None and cleaned not in valid:
                    raise values.InvalidValue(
                        _("No %(what)s %(id)s for %(type)s.")
                        % {"what": spec.type, "id": cleaned, "type": getattr(registry.object_type, "name", "")}
                    )
            else:
                cleaned = values.clean_value(spec.type, raw, options=list(spec.options), user_ids=user_check)
        except values.InvalidValue as exc:
            errors.append(FieldError(at, str(exc)))
            continue
        except (TypeError, ValueError):
            errors.append(FieldError(at, _("Enter an id.")))
            continue
        if cleaned is None and spec.required:
            errors.append(FieldError(at, _("%(name)s is required.") % {"name": name}, "required"))
            continue
        if spec.is_column:
            plan.columns[spec.name] = cleaned if cleaned is not None else ("" if spec.name == "name" else None)
        else:
            plan.values[name] = cleaned
    # Pipeline and stage agree: a stage implies its pipeline; a new pipeline starts at its first stage.
    cols = plan.columns
    if "stage" in cols and cols["stage"] is not None:
        stage = Stage.objects.get(pk=cols["stage"])  # one of the registry's stages (checked above)
        if cols.get("pipeline") is not None and stage.pipeline_id != cols["pipeline"]:
            errors.append(FieldError(f"{where}properties.stage", _("This stage belongs to another pipeline.")))
        else:
            cols["pipeline"] = stage.pipeline_id
    elif "stage" in cols:
        if cols.get("pipeline", record.pipeline_id if record else None) is not None:
            errors.append(
                FieldError(f"{where}properties.stage", _("A record in a pipeline needs a stage."), "required")
            )
    elif "pipeline" in cols:
        if cols["pipeline"] is None:
            cols["stage"] = None
        elif record is None or cols["pipeline"] != record.pipeline_id:
            first = Stage.objects.filter(pipeline_id=cols["pipeline"]).order_by("display_order", "id").first()
            cols["stage"] = first.pk if first else None
    return plan


def _resulting_value(plan: _Plan, name: str) -> Any:
    if name in plan.values:
        return plan.values[name]
    if name in plan.columns:
        return plan.columns[name] or None
    if plan.record is None:
        return None
    if name == "name":
        return plan.record.name or None
    if name == "owner":
        return plan.record.owner_id
    return plan.record.properties.get(name)


def _check_plan(registry: Registry, plan: _Plan, errors: list[FieldError], where: str) -> None:
    """Rules over the whole resulting record: required values, stage requirements."""
    if plan.record is None:
        for spec in registry:
            if spec.required and _resulting_value(plan, spec.name) is None:
                at = f"{where}properties.{spec.name}"
                if not any(e.field == at for e in errors):
                    errors.append(FieldError(at, _("%(name)s is required.") % {"name": spec.name}, "required"))
    primary = registry.object_type.primary_property if registry.object_type else "name"
    if primary != "name" and primary in plan.values:
        plan.columns["name"] = str(plan.values[primary] or "")[:255]
    if _resulting_value(plan, "name") is None:
        at = f"{where}properties.{primary}"
        if not any(e.field == at for e in errors):
            errors.append(FieldError(at, _("A record needs a %(name)s.") % {"name": primary}, "required"))
    new_stage = plan.columns.get("stage")
    if new_stage and (plan.record is None or new_stage != plan.record.stage_id):
        stage = Stage.objects.filter(pk=new_stage).first()
        stage_label = stage.label if stage else ""
        for name in stage.required_properties if stage else []:
            if _resulting_value(plan, name) is None:
                errors.append(
                    FieldError(
                        f"{where}properties.{name}",
                        _("%(name)s is required to enter the stage %(stage)s.") % {"name": name, "stage": stage_label},
                        "required_for_stage",
                    )
                )


def _check_unique(registry: Registry, plans: list[_Plan], errors: list[FieldError], wheres: list[str]) -> None:
    unique_specs = [s for s in registry.value_specs() if s.unique]
    for spec in unique_specs:
        seen: dict = {}
        for plan, where in zip(plans, wheres, strict=True):
            value = plan.values.get(spec.name)
            if value is None:
                continue
            key = value.lower() if isinstance(value, str) else value
            at = f"{where}properties.{spec.name}"
            if key in seen:
                errors.append(FieldError(at, _("Another input has the same %(name)s.") % {"name": spec.name}, "unique"))
                continue
            seen[key] = plan
            lookup = "iexact" if isinstance(value, str) else "exact"
            clash = Record.objects.filter(
                object_type=registry.object_type,
                archived_at__isnull=True,
                **{f"properties__{spec.name}__{lookup}": value},
            )
            if plan.record is not None:
                clash = clash.exclude(pk=plan.record.pk)
            if clash.exists():
                errors.append(
                    FieldError(at, _("Another record already has this %(name)s.") % {"name": spec.name}, "unique")
                )


def _user_checker() -> UserCheck:
    """Checks user ids against the directory, caching answers within one write."""
    known: dict[int, bool] = {}

    def check(ids: Collection[int]) -> set[int]:
        missing = [i for i in ids if i not in known]
        if missing:
            active = values.active_user_ids(missing)
            known.update({i: i in active for i in missing})
        return {i for i in ids if known[i]}

    return check


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
    plan: _Plan, *, object_type: ObjectType, user: "User | None", source: str, now: dt.datetime, force_save: bool = False
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
    _require(actor, policy.Action.EDIT_RECORDS)
    registry = registry_for(object_type)
    user_check = _user_checker()
    errors: list[FieldError] = []
    plans, wheres = [], []
    for i, (record, properties) in enumerate(inputs):
        where = f"inputs[{i}]." if prefix_inputs else ""
        if record is not None and record.archived_at is not None:
            errors.append(
                FieldError(f"{where}id", _("Archived records cannot be changed; restore it first."), "archived")
            )
            continue
        plan = _clean_record_input(
            registry, properties, record=record, source=source, errors=errors, where=where, user_check=user_check
        )
        _check_plan(registry, plan, errors, where)
        plans.append(plan)
        wheres.append(where)
    _check_unique(registry, plans, errors, wheres)
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
    _require(actor, policy.Action.EDIT_RECORDS)
    if record.archived_at is None:
        record.archived_at = clock.now()
        record.save(update_fields=["archived_at"])
    return record


def records_archive(*, actor: Actor, records: list[Record]) -> int:
    _require(actor, policy.Action.EDIT_RECORDS)
    ids = [r.pk for r in records]
    return Record.objects.filter(pk__in=ids, archived_at__isnull=True).update(archived_at=clock.now())


def record_restore(*, actor: Actor, record: Record) -> Record:
    _require(actor, policy.Action.EDIT_RECORDS)
    if record.merged_into_id is not None:
        raise ValidationFailed.single("id", _("A merged record cannot be restored."), "merged")
    if record.archived_at is None:
        return record
    registry = registry_for(record.object_type)
    errors: list[FieldError] = []
    plan = _Plan(
        record=record, values={s.name: record.properties.get(s.name) for s in registry.value_specs() if s.unique}
    )
    _check_unique(registry, [plan], errors, [""])
    _raise(errors)
    record.archived_at = None
    record.save(update_fields=["archived_at"])
    return record


def record_merge(*, actor: Actor, primary: Record, secondary: Record) -> Record:
    """Merge `secondary` into `primary`: empty values are filled from the secondary; its
    associations, engagements and history move to the primary; the secondary is archived and
    its id resolves to the primary from then on."""
    _require(actor, policy.Action.EDIT_RECORDS)
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
        plan = _Plan(record=primary, values=fill)
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
    _require(actor, policy.Action.EDIT_RECORDS)
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
    _require(actor, policy.Action.EDIT_RECORDS)
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
