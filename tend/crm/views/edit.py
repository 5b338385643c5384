"""Inline edit of one property: its input, saving it through `record_update`, and the row it goes back to."""

import datetime as dt

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from tend.core.errors import ValidationFailed
from tend.crm import queries, services
from tend.crm.models import ChangeSource, PropertyType
from tend.crm.registry import PIPELINE, STAGE, PropSpec
from tend.directory.models import User

from .record import property_row_of
from .shared import INVALID_STATUS, RecordAccess, not_found, record_view, require_edit


def _input_kind(spec: PropSpec) -> str:
    return {
        PropertyType.TEXT: "text",
        PropertyType.LONG_TEXT: "textarea",
        PropertyType.NUMBER: "number",
        PropertyType.CURRENCY: "number",
        PropertyType.DATE: "date",
        PropertyType.DATETIME: "datetime",
        PropertyType.BOOLEAN: "boolean",
        PropertyType.ENUMERATION: "select",
        PropertyType.MULTI_ENUMERATION: "multi",
        PropertyType.USER: "user",
        PIPELINE: "pipeline",
        STAGE: "stage",
    }.get(spec.type, "text")


def _input_value(access: RecordAccess, spec: PropSpec):
    """The stored value in the form an HTML input expects."""
    value = access.formatter.raw(access.record, spec.name)
    if value is None or value == "":
        return [] if spec.type == PropertyType.MULTI_ENUMERATION else ""
    match spec.type:
        case PropertyType.DATETIME:
            moment = (
                value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            )
            return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")
        case PropertyType.BOOLEAN:
            return "true" if value else "false"
        case PropertyType.MULTI_ENUMERATION:
            return list(value)
    return str(value)


def _submitted(spec: PropSpec, post) -> object:
    """The raw value posted by the edit form, as the form would show it again."""
    if spec.type == PropertyType.MULTI_ENUMERATION:
        return post.getlist("value")
    value = post.get("value", "")
    if spec.type == PropertyType.LONG_TEXT:
        return value.replace("\r\n", "\n")
    return value


def _to_properties(spec: PropSpec, submitted) -> dict:
    """What the service receives for the posted value; an input the browser should never send
    (a malformed date and time) raises ValidationFailed at the field."""
    at = f"properties.{spec.name}"
    if spec.type == PropertyType.DATETIME and submitted:
        try:
            local = dt.datetime.fromisoformat(submitted)
        except ValueError as exc:
            raise ValidationFailed.single(at, _("Enter a date and time.")) from exc
        if local.tzinfo is None:
            local = timezone.make_aware(local, timezone.get_current_timezone())
        return {spec.name: local.isoformat()}
    if spec.type == STAGE and not submitted:
        return {"stage": None, "pipeline": None}
    return {spec.name: submitted}


def _choices(access: RecordAccess, spec: PropSpec):
    match spec.type:
        case PropertyType.ENUMERATION | PropertyType.MULTI_ENUMERATION:
            return [(str(o["value"]), _(o["label"])) for o in spec.options]
        case PropertyType.USER:
            users = User.objects.filter(is_active=True).order_by("full_name", "email")
            return [(str(u.pk), u.display_name) for u in users]
        case PropertyType.BOOLEAN:
            return [("true", _("Yes")), ("false", _("No"))]
        case _ if spec.type == PIPELINE:
            return [(str(p.pk), _(p.label)) for p in queries.pipelines_for(access.actor, access.object_type)]
        case _ if spec.type == STAGE:
            return [
                (_(p.label), [(str(s.pk), _(s.label)) for s in p.stages.all()])
                for p in queries.pipelines_for(access.actor, access.object_type)
            ]
    return []


def _edit_response(request, access: RecordAccess, spec: PropSpec, *, value=None, errors=(), status=200):
    at = f"properties.{spec.name}"
    field_errors = [e.message for e in errors if e.field in (at, spec.name)]
    other_errors = [e.message for e in errors if e.field not in (at, spec.name)]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "spec": spec,
        "label": _(str(spec.label)),
        "kind": _input_kind(spec),
        "value": _input_value(access, spec) if value is None else value,
        "choices": _choices(access, spec),
        "field_errors": field_errors,
        "other_errors": other_errors,
        "step": "0.01" if spec.type == PropertyType.CURRENCY else "any",
    }
    return render(request, "crm/_property_edit.html", context, status=status)


def _row_response(request, access: RecordAccess, spec: PropSpec, *, saved: bool = False):
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "row": property_row_of(access, spec),
    }
    # Focus goes back to the value after a save or a cancel, for keyboard users.
    context.update(saved=saved, focus=True)
    response = render(request, "crm/_property_row.html", context)
    if saved:
        trigger_client_event(response, "tend:record-changed", {"id": access.record.pk})
    return response


def _editable_spec(access: RecordAccess, name: str) -> PropSpec | None:
    spec = access.registry.get(name)
    if spec is None or spec.read_only:
        return None
    return spec


@require_GET
@record_view
def property_row(request, access: RecordAccess, name: str):
    """One property shown (not edited): what Cancel and Escape go back to."""
    spec = access.registry.get(name)
    if spec is None:
        return not_found(request)
    return _row_response(request, access, spec)


@require_http_methods(["GET", "POST"])
@record_view
def property_edit(request, access: RecordAccess, name: str):
    """GET: the input for one property; POST: save it (422 with the message at the field)."""
    spec = _editable_spec(access, name)
    if spec is None:
        return not_found(request)
    require_edit(access)
    if request.method == "GET":
        return _edit_response(request, access, spec)
    submitted = _submitted(spec, request.POST)
    try:
        services.record_update(
            actor=access.actor, record=access.record, properties=_to_properties(spec, submitted), source=ChangeSource.UI
        )
    except ValidationFailed as exc:
        # Values the service may have set on the instance before failing are not kept.
        access.record.refresh_from_db()
        return _edit_response(request, access, spec, value=submitted, errors=exc.errors, status=INVALID_STATUS)
    return _row_response(request, access, spec, saved=True)
