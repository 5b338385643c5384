"""A record write's input, checked before anything is stored: each submitted value cleaned
against the registry into a `RecordPlan`, then the rules over the resulting record (required
values, stage requirements, unique values) — every bad field named at once.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from tend.core.errors import FieldError

from . import values
from .models import ChangeSource, Record, Stage
from .registry import PIPELINE, STAGE, Registry

UserCheck = Callable[[Collection[int]], set[int]]

# Sources that may write the read-only custom properties (Tend itself, not a person).
SYSTEM_SOURCES = (ChangeSource.AUTOMATION, ChangeSource.SYSTEM, ChangeSource.MERGE)


@dataclass
class RecordPlan:
    """A validated change of one record: what to set, ready to apply."""

    record: Record | None
    columns: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # name → canonical value, None = remove
    associations: list = field(default_factory=list)


def clean_record_input(
    registry: Registry,
    incoming: object,
    *,
    record: Record | None,
    source: str,
    errors: list[FieldError],
    where: str = "",
    user_check: UserCheck | None = None,
) -> RecordPlan:
    """Each submitted value cleaned against the registry into a plan; every bad one goes to `errors`."""
    plan = RecordPlan(record=record)
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


def _resulting_value(plan: RecordPlan, name: str) -> Any:
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


def check_plan(registry: Registry, plan: RecordPlan, errors: list[FieldError], where: str) -> None:
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


def check_unique(registry: Registry, plans: list[RecordPlan], errors: list[FieldError], wheres: list[str]) -> None:
    """Unique values differ, ignoring case, within the batch and from every other active record."""
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


def user_checker() -> UserCheck:
    """Checks user ids against the directory, caching answers within one write."""
    known: dict[int, bool] = {}

    def check(ids: Collection[int]) -> set[int]:
        missing = [i for i in ids if i not in known]
        if missing:
            active = values.active_user_ids(missing)
            known.update({i: i in active for i in missing})
        return {i for i in ids if known[i]}

    return check
