"""The associations card of a record: its associated records by object type; associate and remove."""

from dataclasses import dataclass

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.core.errors import FieldError, NotFound, ValidationFailed
from tend.crm import queries, services
from tend.crm.models import ObjectType, Record

from .shared import INVALID_STATUS, RecordAccess, not_found, record_view, require_edit, search_records


@dataclass(frozen=True)
class AssociationGroup:
    object_type: ObjectType
    links: list  # Association rows with to_record loaded

    @property
    def label(self) -> str:
        return _(self.object_type.label_plural)


def _association_groups(access: RecordAccess, object_types: list[ObjectType]) -> list[AssociationGroup]:
    groups = []
    for object_type in object_types:
        links = list(queries.associated_records(access.actor, access.record, object_type))
        if links:
            groups.append(AssociationGroup(object_type, links))
    return groups


def associations_context(access: RecordAccess, *, manage: bool, **extra) -> dict:
    object_types = list(queries.object_types(access.actor))
    return {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "association_groups": _association_groups(access, object_types),
        "object_types": object_types,
        "manage": manage and access.can_edit,
        **extra,
    }


def _associations_response(request, access: RecordAccess, *, status=200, **extra):
    context = associations_context(access, manage=True, **extra)
    return render(request, "crm/_associations.html", context, status=status)


def _other_record(access: RecordAccess, type_name: str, record_id, *, include_archived: bool) -> Record:
    other_type = queries.get_object_type_for_user(access.actor, type_name or "")
    return queries.get_record_for_user(access.actor, other_type, record_id, include_archived=include_archived)


@require_http_methods(["GET", "POST"])
@record_view
def record_associations(request, access: RecordAccess):
    """GET: the associations card (with ?add=1, its add form open); POST: associate a record."""
    if request.method == "GET":
        adding = request.GET.get("add") == "1" and access.can_edit
        return _associations_response(request, access, adding=adding, add_type=access.object_type.name)
    require_edit(access)
    label = request.POST.get("label", "")
    try:
        other = _other_record(access, request.POST.get("type"), request.POST.get("to"), include_archived=False)
        services.association_create(actor=access.actor, from_record=access.record, to_record=other, label=label)
    except NotFound:
        errors = [FieldError("toId", _("That record no longer exists. Search again."))]
        return _associations_response(request, access, adding=True, errors=errors, status=INVALID_STATUS)
    except ValidationFailed as exc:
        return _associations_response(request, access, adding=True, errors=exc.errors, status=INVALID_STATUS)
    return _associations_response(request, access)


@require_GET
@record_view
def association_search(request, access: RecordAccess):
    require_edit(access)
    type_name = request.GET.get("type") or access.object_type.name
    try:
        other_type = queries.get_object_type_for_user(access.actor, type_name)
    except NotFound:
        return not_found(request)
    query = request.GET.get("q", "")
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "other_type": other_type,
        "q": query,
        "results": search_records(access, other_type, query, exclude=access.record.pk),
    }
    return render(request, "crm/_association_results.html", context)


@require_POST
@record_view
def association_remove(request, access: RecordAccess):
    require_edit(access)
    try:
        other = _other_record(access, request.POST.get("type"), request.POST.get("to"), include_archived=True)
    except NotFound:
        return _associations_response(request, access)
    label = request.POST.get("label")
    services.association_delete(actor=access.actor, from_record=access.record, to_record=other, label=label)
    return _associations_response(request, access)
