"""Writes of the record schema: object types, property definitions, pipelines and stages. Each
needs MANAGE_SCHEMA and raises ValidationFailed naming every bad field before it changes anything."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor

from . import values
from .models import ObjectType, Pipeline, PropertyDefinition, PropertyType, Record, Stage
from .registry import COLUMN_NAMES, PROPERTY_NAME_RE, RESERVED_NAMES, Registry, registry_for

ENUM_TYPES = (PropertyType.ENUMERATION, PropertyType.MULTI_ENUMERATION)


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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
    errors: list[FieldError] = []
    cleaned = _clean_stage(data, registry_for(pipeline.object_type), errors, "")
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    if "display_order" not in cleaned:
        cleaned["display_order"] = (pipeline.stages.aggregate(m=Max("display_order"))["m"] or 0) + 1
    return Stage.objects.create(pipeline=pipeline, **cleaned)


def stage_update(*, actor: Actor, stage: Stage, data: dict) -> Stage:
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
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
    policy.require(actor, policy.Action.MANAGE_SCHEMA)
    if Record.objects.filter(stage=stage).exists():
        raise ValidationFailed.single("stage", _("Records are in this stage; move them first."), "in_use")
    if stage.pipeline.stages.count() == 1:
        raise ValidationFailed.single("stage", _("A pipeline keeps at least one stage."), "last_stage")
    stage.delete()
