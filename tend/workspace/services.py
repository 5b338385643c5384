"""Workspace settings and saved views: every write of the workspace app."""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.core.policy import Actor
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Pipeline, PropertyType
from tend.crm.registry import Registry, registry_for
from tend.engagement.kinds import KINDS

from .models import SavedView, SettingsChange, WorkspaceSettings

if TYPE_CHECKING:
    from tend.directory.models import User

MAX_DEFAULT_VIEWS = 6
MAX_COLUMNS = 20
CUSTOMER_TYPES_EXCLUDED = ("deals", "tickets", "services")
SERVICE_TYPES_EXCLUDED = ("companies", "contacts", "deals", "tickets")
REVENUE_TYPES_EXCLUDED = ("companies", "contacts", "tickets", "services")
DEFAULT_COLUMNS = {
    "customers": ["name", "csm", "cs_stage", "health_score", "mrr", "renewal_date", "last_activity_at"],
    "tasks": ["subject", "status", "due_at", "priority", "type", "assignee"],
}
TASKS_TAB = "tasks"


def view_registry(tab: str, object_type: ObjectType | None) -> Registry:
    """The property registry a tab's saved views are validated against: the task registry for
    the Tasks tab, the object type's registry for the record tabs."""
    if tab == TASKS_TAB:
        return KINDS["tasks"].registry()
    if object_type is None:
        raise ValueError(f"The {tab} tab's views need their object type.")
    return registry_for(object_type)


def workspace_settings() -> WorkspaceSettings:
    """The settings row, created with the usual defaults on first use."""
    current = WorkspaceSettings.objects.select_related("customer_object_type", "services_object_type").first()
    if current is None:
        types = {o.name: o for o in ObjectType.objects.filter(name__in=["companies", "services", "deals"])}
        current = WorkspaceSettings.objects.create(
            customer_object_type=types["companies"],
            services_object_type=types.get("services"),
            revenue_objects=[
                {
                    "objectType": "deals",
                    "csmProperty": "csm",
                    "renewalProperty": "contract_end_date",
                    "pipelines": [],
                    "defaultPipeline": None,
                }
            ]
            if "deals" in types
            else [],
        )
    return current


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
        bad_default = default_id is not None and (default_id not in valid or (bool(chosen) and default_id not in chosen))
    if bad_default:
        errors.append(
            FieldError(f"{field}defaultPipeline", _("The default pipeline must be one of the pipelines shown."))
        )
    return chosen, default_id


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


def _record_change(ws: WorkspaceSettings, section: str, before: dict[str, Any], user: "User | None") -> None:
    after = _snapshot(ws)
    if before[section] != after[section]:
        SettingsChange.objects.create(
            section=section,
            old_value=before[section],
            new_value=after[section],
            changed_by=user,
            changed_at=clock.now(),
        )


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
        _record_change(ws, "customers", before, actor.user)
        if before["customers"]["csmProperty"] != csm_property:
            transaction.on_commit(_sync_book_indexes_later)
    return ws


def _sync_book_indexes_later() -> None:
    """The book indexes follow the CSM property (workspace.indexes); built in the background."""
    from .tasks import sync_book_indexes_task  # tasks → indexes → this module

    sync_book_indexes_task.enqueue()


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
        _record_change(ws, "services", before, actor.user)
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
        _record_change(ws, "revenue", before, actor.user)
    return ws


# --------------------------------------------------------------------------- saved views


def _clean_view(
    *,
    actor: Actor,
    tab: str,
    object_type: ObjectType | None,
    name: str | None,
    filters: dict[str, Any] | None,
    columns: object,
    sorts: object,
    errors: list[FieldError],
) -> None:
    registry = view_registry(tab, object_type)
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", _("Give the view a name."), "required"))
    elif len(name) > 120:
        errors.append(FieldError("name", _("Enter at most 120 characters.")))
    try:
        compile_search({**(filters or {}), "sorts": sorts or []}, registry, user=actor.user)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if columns is not None:
        if not isinstance(columns, list) or len(columns) > MAX_COLUMNS:
            errors.append(FieldError("columns", _("Choose at most %(n)d columns.") % {"n": MAX_COLUMNS}))
        else:
            for i, column in enumerate(columns):
                if registry.get(column) is None:
                    errors.append(FieldError(f"columns[{i}]", _("Unknown property %(name)s.") % {"name": column}))


def _require_edit(actor: Actor, view: SavedView) -> None:
    if not policy.allows(actor, policy.Action.EDIT_SAVED_VIEW, view):
        raise Forbidden(_("You cannot change this view."))


def _require_visibility(actor: Actor, visibility: str) -> None:
    if visibility not in SavedView.Visibility.values:
        raise ValidationFailed.single("visibility", _("Choose private or everyone."))
    if visibility == SavedView.Visibility.EVERYONE and not policy.allows(actor, policy.Action.MANAGE_CS_SETTINGS):
        raise ValidationFailed.single(
            "visibility",
            _("Sharing with everyone needs the “Manage Customer Success settings” permission."),
            "forbidden",
        )


def view_create(
    *,
    actor: Actor,
    tab: str,
    object_type: ObjectType | None,
    name: str,
    filters: dict[str, Any] | None = None,
    columns: list[str] | None = None,
    sorts: list[dict[str, Any]] | None = None,
    visibility: str = "private",
) -> SavedView:
    """`object_type` is the record type the view filters (None for the Tasks tab)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    errors: list[FieldError] = []
    _clean_view(
        actor=actor,
        tab=tab,
        object_type=object_type,
        name=name,
        filters=filters,
        columns=columns,
        sorts=sorts,
        errors=errors,
    )
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    _require_visibility(actor, visibility)
    if actor.user is None:
        raise Forbidden(_("A saved view belongs to a person."))
    return SavedView.objects.create(
        tab=tab,
        name=name.strip(),
        owner=actor.user,
        visibility=visibility,
        filters=filters or {},
        columns=columns or list(DEFAULT_COLUMNS.get(tab, ["name"])),
        sorts=sorts or [],
    )


def view_update(*, actor: Actor, view: SavedView, object_type: ObjectType | None, **changes: Any) -> SavedView:
    """Change name, filters, columns, sorts or visibility of a view the actor may edit."""
    _require_edit(actor, view)
    allowed = {"name", "filters", "columns", "sorts", "visibility"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed.single(sorted(unknown)[0], _("This field cannot be changed."))
    errors: list[FieldError] = []
    _clean_view(
        actor=actor,
        tab=view.tab,
        object_type=object_type,
        name=changes.get("name", view.name),
        filters=changes.get("filters", view.filters),
        columns=changes.get("columns", view.columns),
        sorts=changes.get("sorts", view.sorts),
        errors=errors,
    )
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    if "visibility" in changes:
        _require_visibility(actor, changes["visibility"])
        if changes["visibility"] == SavedView.Visibility.PRIVATE and view.is_default:
            raise ValidationFailed.single(
                "visibility", _("A default view must stay shared with everyone."), "default_view"
            )
    for key, value in changes.items():
        setattr(view, key, value.strip() if key == "name" else value)
    view.save()
    return view


def view_delete(*, actor: Actor, view: SavedView, confirmed: bool) -> None:
    _require_edit(actor, view)
    if not confirmed:
        raise ValidationFailed.single("confirm", _("Tick “I understand” to delete this view."), "required")
    view.delete()


def view_set_default(*, actor: Actor, view: SavedView, is_default: bool, description: str = "") -> SavedView:
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    if is_default:
        if view.visibility != SavedView.Visibility.EVERYONE:
            raise ValidationFailed.single("is_default", _("Share the view with everyone before making it a default."))
        if len(description) > 300:
            raise ValidationFailed.single("description", _("Enter at most 300 characters."))
        with transaction.atomic():
            defaults = SavedView.objects.select_for_update().filter(tab=view.tab, is_default=True).exclude(pk=view.pk)
            if not view.is_default and defaults.count() >= MAX_DEFAULT_VIEWS:
                raise ValidationFailed.single(
                    "is_default",
                    _("There are already %(n)d default views; remove one first.") % {"n": MAX_DEFAULT_VIEWS},
                    "too_many_defaults",
                )
            if not view.is_default:
                view.default_position = (defaults.aggregate(m=Max("default_position"))["m"] or 0) + 1
            view.is_default = True
            view.description = description.strip()
            view.save()
        return view
    view.is_default = False
    view.save(update_fields=["is_default", "updated_at"])
    return view


def views_reorder_defaults(*, actor: Actor, tab: str, view_ids: list[int]) -> None:
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    defaults = {v.pk: v for v in SavedView.objects.filter(tab=tab, is_default=True)}
    if sorted(view_ids) != sorted(defaults):
        raise ValidationFailed.single("order", _("List every default view exactly once."))
    with transaction.atomic():
        for position, view_id in enumerate(view_ids, start=1):
            SavedView.objects.filter(pk=view_id).update(default_position=position)

