"""Saved views: every write of the workspace app (the settings' writes are in tend.cs_settings)."""

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tend.core import policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.core.policy import Actor
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType
from tend.crm.registry import Registry, registry_for
from tend.engagement.kinds import KINDS

from .models import SavedView

if TYPE_CHECKING:
    pass

MAX_DEFAULT_VIEWS = 6
MAX_COLUMNS = 20
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
    reindex = view.is_default and view.tab == "customers" and bool({"filters", "sorts"} & set(changes))
    for key, value in changes.items():
        setattr(view, key, value.strip() if key == "name" else value)
    view.save()
    if reindex:
        _sync_view_indexes()
    return view


def view_delete(*, actor: Actor, view: SavedView, confirmed: bool) -> None:
    _require_edit(actor, view)
    if not confirmed:
        raise ValidationFailed.single("confirm", _("Tick “I understand” to delete this view."), "required")
    reindex = view.is_default and view.tab == "customers"
    view.delete()
    if reindex:
        _sync_view_indexes()


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
            reindex = not view.is_default and view.tab == "customers"
            view.is_default = True
            view.description = description.strip()
            view.save()
            if reindex:
                _sync_view_indexes()
        return view
    reindex = view.is_default and view.tab == "customers"
    view.is_default = False
    view.save(update_fields=["is_default", "updated_at"])
    if reindex:
        _sync_view_indexes()
    return view


def _sync_view_indexes() -> None:
    from .tasks import sync_view_indexes_on_commit  # tasks → indexes → this module

    sync_view_indexes_on_commit()


def views_reorder_defaults(*, actor: Actor, tab: str, view_ids: list[int]) -> None:
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    defaults = {v.pk: v for v in SavedView.objects.filter(tab=tab, is_default=True)}
    if sorted(view_ids) != sorted(defaults):
        raise ValidationFailed.single("order", _("List every default view exactly once."))
    with transaction.atomic():
        for position, view_id in enumerate(view_ids, start=1):
            SavedView.objects.filter(pk=view_id).update(default_position=position)
