"""Writes of the Customer Success settings: which objects are customers, services and revenue,
their properties and pipelines. Each save is validated, audit-logged in the same transaction and
announced through `tend.core.hooks.settings_changed`."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tend.core import clock, hooks, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import ObjectType, Pipeline, PropertyType
from tend.crm.registry import registry_for

from .models import SettingsChange, WorkspaceSettings
from .queries import workspace_settings

CUSTOMER_TYPES_EXCLUDED = ("deals", "tickets", "services")
SERVICE_TYPES_EXCLUDED = ("companies", "contacts", "deals", "tickets")
REVENUE_TYPES_EXCLUDED = ("companies", "contacts", "tickets", "services")


def _locked_settings() -> WorkspaceSettings:
    """The settings row, locked until the end of the caller's transaction (so that concurrent
    saves cannot interleave and the audit log's old values are the ones really replaced)."""
    pk = workspace_settings().pk
    return (
        WorkspaceSettings.objects.select_for_update(of=("self",))
        .select_related("customer_object_type", "services_object_type")
        .get(pk=pk)
    )


def _snapshot(ws: WorkspaceSettings) -> dict[str, Any]:
    return {
        "customers": {
            "objectType": ws.customer_object_type.name,
            "csmProperty": ws.customer_csm_property,
            "renewalProperty": ws.customer_renewal_property,
        },
        "services": {
            "objectType": ws.services_object_type.name if ws.services_object_type else None,
            "csmProperty": ws.services_csm_property,
            "renewalProperty": ws.services_renewal_property,
            "pipelines": ws.services_pipelines,
            "defaultPipeline": ws.services_default_pipeline_id,
        },
        "revenue": ws.revenue_objects,
    }


def _check_property(
    object_type: ObjectType, name: object, prop_type: str, field: str, errors: list[FieldError], *, optional: bool
) -> None:
    if not name:
        if not optional:
            errors.append(FieldError(field, _("Choose a property."), "required"))
        return
    spec = registry_for(object_type).get(name) if isinstance(name, str) else None
    if spec is None or spec.type != prop_type:
        kind = _("user") if prop_type == PropertyType.USER else _("date")
        errors.append(
            FieldError(
                field,
                _("Choose a %(kind)s property of %(type)s.") % {"kind": kind, "type": _(object_type.label_plural)},
            )
        )


def _object_type(name: object, excluded: Iterable[str], field: str, errors: list[FieldError]) -> ObjectType | None:
    object_type = None
    if isinstance(name, str) and name:
        object_type = ObjectType.objects.filter(name=name).exclude(name__in=excluded).first()
    if object_type is None:
        errors.append(FieldError(field, _("This object cannot be chosen here."), "invalid"))
    return object_type


def _objects_in_use(ws: WorkspaceSettings, *, except_section: str) -> dict[str, str]:
    """Object type name → the message saying which other part of the workspace it represents."""
    used: dict[str, str] = {}
    if except_section != "customers":
        used[ws.customer_object_type.name] = _("This object already represents customers.")
    if except_section != "services" and ws.services_object_type is not None:
        used[ws.services_object_type.name] = _("This object already represents services.")
    if except_section != "revenue":
        for item in ws.revenue_objects or []:
            used[item.get("objectType")] = _("This object already represents revenue.")
    return used


def _check_not_in_use(chosen: ObjectType | None, in_use: dict[str, str], field: str, errors: list[FieldError]) -> None:
    # A custom object may stand for customers, services or revenue, but for one of them only:
    # the same records cannot be accounts and the services or deals of those accounts.
    if chosen is not None and chosen.name in in_use:
        errors.append(FieldError(field, in_use[chosen.name], "in_use"))


def _as_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    return int(value)


def _check_pipelines(
    object_type: ObjectType, pipelines: object, default: object, field: str, errors: list[FieldError]
) -> tuple[list[int], int | None]:
    valid = set(Pipeline.objects.filter(object_type=object_type, archived_at__isnull=True).values_list("pk", flat=True))
    chosen: list[int] = []
    try:
        if pipelines in (None, ""):
            pipelines = []
        if not isinstance(pipelines, list | tuple):
            raise TypeError(pipelines)
        for p in pipelines:
            pipeline_id = _as_id(p)
            if pipeline_id not in chosen:
                chosen.append(pipeline_id)
        bad_pipelines = any(p not in valid for p in chosen)
    except (TypeError, ValueError):
        bad_pipelines = True
    if bad_pipelines:
        errors.append(FieldError(f"{field}pipelines", _("Choose pipelines of this object.")))
    try:
        default_id = _as_id(default) if default not in (None, "") else None
    except (TypeError, ValueError):
        default_id, bad_default = None, True
    else:
        bad_default = default_id is not None and (
            default_id not in valid or (bool(chosen) and default_id not in chosen)
        )
    if bad_default:
        errors.append(
            FieldError(f"{field}defaultPipeline", _("The default pipeline must be one of the pipelines shown."))
        )
    return chosen, default_id


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


def settings_change_log(*, actor: Actor, section: str, old_value: Any, new_value: Any) -> SettingsChange | None:
    """Audit-log a saved settings section (of this app or one above, e.g. usage) and announce it;
    nothing when the value did not change. Call it inside the transaction of the save."""
    if old_value == new_value:
        return None
    change = SettingsChange.objects.create(
        section=section, old_value=old_value, new_value=new_value, changed_by=actor.user, changed_at=clock.now()
    )
    hooks.settings_changed(section, before=old_value, after=new_value)
    return change


def _record_change(ws: WorkspaceSettings, section: str, before: dict[str, Any], actor: Actor) -> None:
    settings_change_log(actor=actor, section=section, old_value=before[section], new_value=_snapshot(ws)[section])


def settings_update_customers(
    *, actor: Actor, object_type: str, csm_property: str, renewal_property: str = ""
) -> WorkspaceSettings:
    """Which object represents customer accounts, its CSM (user) and renewal date properties."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    with transaction.atomic():
        ws = _locked_settings()
        errors: list[FieldError] = []
        chosen = _object_type(object_type, CUSTOMER_TYPES_EXCLUDED, "objectType", errors)
        _check_not_in_use(chosen, _objects_in_use(ws, except_section="customers"), "objectType", errors)
        if chosen:
            _check_property(chosen, csm_property, PropertyType.USER, "csmProperty", errors, optional=False)
            _check_property(chosen, renewal_property, PropertyType.DATE, "renewalProperty", errors, optional=True)
        _raise_if(errors)
        assert chosen is not None  # else _object_type reported an error
        before = _snapshot(ws)
        ws.customer_object_type = chosen
        ws.customer_csm_property = csm_property
        ws.customer_renewal_property = renewal_property or ""
        ws.save()
        _record_change(ws, "customers", before, actor)
    return ws


def settings_update_services(
    *,
    actor: Actor,
    object_type: str,
    csm_property: str,
    renewal_property: str = "",
    pipelines: Sequence[int | str] = (),
    default_pipeline: int | str | None = None,
) -> WorkspaceSettings:
    """Which object represents services, its CSM and renewal properties, the pipelines shown."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    with transaction.atomic():
        ws = _locked_settings()
        errors: list[FieldError] = []
        chosen = _object_type(object_type, SERVICE_TYPES_EXCLUDED, "objectType", errors)
        _check_not_in_use(chosen, _objects_in_use(ws, except_section="services"), "objectType", errors)
        pipeline_ids: list[int] = []
        default_id: int | None = None
        if chosen:
            _check_property(chosen, csm_property, PropertyType.USER, "csmProperty", errors, optional=False)
            _check_property(chosen, renewal_property, PropertyType.DATE, "renewalProperty", errors, optional=True)
            pipeline_ids, default_id = _check_pipelines(chosen, pipelines, default_pipeline, "", errors)
        _raise_if(errors)
        before = _snapshot(ws)
        ws.services_object_type = chosen
        ws.services_csm_property = csm_property
        ws.services_renewal_property = renewal_property or ""
        ws.services_pipelines = pipeline_ids
        ws.services_default_pipeline_id = default_id
        ws.save()
        _record_change(ws, "services", before, actor)
    return ws


def settings_update_revenue(*, actor: Actor, objects: list[dict[str, Any]]) -> WorkspaceSettings:
    """Up to two revenue objects, in the order shown (the first is the default)."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    if not isinstance(objects, list) or not 1 <= len(objects) <= 2:
        raise ValidationFailed.single("objects", _("Choose one or two revenue objects."))
    with transaction.atomic():
        ws = _locked_settings()
        in_use = _objects_in_use(ws, except_section="revenue")
        errors: list[FieldError] = []
        cleaned: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, item in enumerate(objects):
            where = f"objects[{i}]."
            if not isinstance(item, dict):
                errors.append(FieldError(f"objects[{i}]", _("Describe each revenue object with its settings.")))
                continue
            chosen = _object_type(item.get("objectType"), REVENUE_TYPES_EXCLUDED, f"{where}objectType", errors)
            if chosen is None:
                continue
            if chosen.name in seen:
                errors.append(FieldError(f"{where}objectType", _("Choose two different objects.")))
                continue
            seen.add(chosen.name)
            _check_not_in_use(chosen, in_use, f"{where}objectType", errors)
            _check_property(
                chosen, item.get("csmProperty"), PropertyType.USER, f"{where}csmProperty", errors, optional=True
            )
            _check_property(
                chosen, item.get("renewalProperty"), PropertyType.DATE, f"{where}renewalProperty", errors, optional=True
            )
            pipeline_ids, default_id = _check_pipelines(
                chosen, item.get("pipelines"), item.get("defaultPipeline"), where, errors
            )
            cleaned.append(
                {
                    "objectType": chosen.name,
                    "csmProperty": item.get("csmProperty") or "",
                    "renewalProperty": item.get("renewalProperty") or "",
                    "pipelines": pipeline_ids,
                    "defaultPipeline": default_id,
                }
            )
        _raise_if(errors)
        before = _snapshot(ws)
        ws.revenue_objects = cleaned
        ws.save()
        _record_change(ws, "revenue", before, actor)
    return ws
