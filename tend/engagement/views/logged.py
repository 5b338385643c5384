"""Logging a note or a call from a record (its page or its preview panel), and changing or
deleting one from the timeline. The engagement services write; the policy decides who may."""

import datetime as dt

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tend.core import clock, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.crm.picker import records_by_ids
from tend.crm.views.shared import RecordAccess, not_found, record_view, require_edit

from .. import services
from ..kinds import KINDS
from ..models import Call, Note
from .shared import INVALID_STATUS, done, field_errors, from_panel, local_input

FORMS = {"notes": "engagement/_note_form.html", "calls": "engagement/_call_form.html"}
_CALL_FIELDS = {"duration_seconds": "duration", "occurred_at": "occurred_at"}


def _item(access: RecordAccess, kind: str, item_id: int, kinds=FORMS) -> Note | Call | None:
    """A live note or call (or email) linked to this record, or None."""
    if kind not in kinds:
        return None
    return getattr(access.record, kind).active().filter(pk=item_id).first()


def _form(request, access: RecordAccess, kind: str, *, item=None, values: dict, records, errors=None, status=200):
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "kind": kind,
        "item": item,
        "values": values,
        "records": records,
        "errors": errors or {},
        "context": "panel" if from_panel(request) else "page",
        "tz": clock.user_zone(access.viewing.user).key,
        "outcomes": Call.Outcome.choices,
        "directions": Call.Direction.choices,
    }
    return render(request, FORMS[kind], context, status=status)


def _initial(access: RecordAccess, kind: str, item) -> dict:
    tz = clock.user_zone(access.viewing.user)
    if item is None:
        values = {"body": ""}
        if kind == "calls":
            now = clock.now()
            values |= {"title": "", "direction": Call.Direction.OUTBOUND, "outcome": Call.Outcome.CONNECTED}
            values |= {"duration": "", "occurred_at": local_input(now, tz)}
        return values
    if kind == "notes":
        return {"body": item.body}
    minutes = "" if item.duration_seconds is None else f"{item.duration_seconds / 60:g}"
    return {
        "title": item.title,
        "body": item.body,
        "direction": item.direction,
        "outcome": item.outcome,
        "duration": minutes,
        "occurred_at": local_input(item.occurred_at, tz),
    }


def _properties(request, access: RecordAccess, kind: str) -> tuple[dict, list[FieldError]]:
    """The form's values as engagement properties: a call's minutes as seconds, its local time
    (in the user's zone) as an aware moment."""
    post = request.POST
    if kind == "notes":
        return {"body": post.get("body", "")}, []
    errors = []
    properties: dict = {name: post.get(name, "") for name in ("title", "body", "direction", "outcome")}
    raw_minutes = post.get("duration", "").strip().replace(",", ".")
    properties["duration_seconds"] = None
    if raw_minutes:
        try:
            minutes = float(raw_minutes)
            if not 0 <= minutes <= 24 * 60:
                raise ValueError
            properties["duration_seconds"] = round(minutes * 60)
        except ValueError:
            errors.append(FieldError("duration", _("Enter the minutes the call took, e.g. 15.")))
    raw_time = post.get("occurred_at", "").strip()
    try:
        moment = dt.datetime.fromisoformat(raw_time)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=clock.user_zone(access.viewing.user))
        if moment > clock.now() + dt.timedelta(minutes=5):
            errors.append(FieldError("occurred_at", _("A logged call cannot be in the future.")))
        properties["occurred_at"] = moment.astimezone(dt.UTC).isoformat()
    except ValueError:
        errors.append(FieldError("occurred_at", _("Enter the date and time of the call.")))
    return properties, errors


@require_http_methods(["GET", "POST"])
@record_view
def engagement_new(request, access: RecordAccess, kind: str):
    """GET: the form to log a note or a call on the record, the record (and whatever else the
    user picks) associated; POST: log it."""
    if kind not in FORMS:
        return not_found(request)
    require_edit(access)
    if request.method == "GET":
        # ?records= adds records to the picker beside this one (the Feed passes the contact's company)
        records = records_by_ids(access.actor, [access.record.pk, *request.GET.getlist("records")])
        return _form(request, access, kind, values=_initial(access, kind, None), records=records)
    record_ids = request.POST.getlist("records")
    records = records_by_ids(access.actor, record_ids)
    properties, errors = _properties(request, access, kind)
    try:
        if errors:
            raise ValidationFailed(errors=errors)
        services.engagement_create(
            actor=access.actor,
            kind=KINDS[kind],
            properties=properties,
            associations=[r.pk for r in records] or [access.record.pk],
        )
    except ValidationFailed as exc:
        return _form(
            request,
            access,
            kind,
            values=request.POST.dict(),
            records=records,
            errors=field_errors(exc.errors, _CALL_FIELDS),
            status=INVALID_STATUS,
        )
    return done(request, access, _("Note saved.") if kind == "notes" else _("Call logged."))


def _require_change(access: RecordAccess, item) -> None:
    require_edit(access)
    policy.require(access.actor, policy.Action.EDIT_ENGAGEMENT, item)


@require_http_methods(["GET", "POST"])
@record_view
def engagement_edit(request, access: RecordAccess, kind: str, item_id: int):
    item = _item(access, kind, item_id)
    if item is None:
        return not_found(request)
    _require_change(access, item)
    if request.method == "GET":
        records = list(item.records.filter(archived_at__isnull=True).select_related("object_type"))
        return _form(request, access, kind, item=item, values=_initial(access, kind, item), records=records)
    records = records_by_ids(access.actor, request.POST.getlist("records"))
    properties, errors = _properties(request, access, kind)
    try:
        if errors:
            raise ValidationFailed(errors=errors)
        services.engagement_update(
            actor=access.actor,
            kind=KINDS[kind],
            engagement=item,
            properties=properties,
            associations=[r.pk for r in records] or [access.record.pk],
        )
    except ValidationFailed as exc:
        return _form(
            request,
            access,
            kind,
            item=item,
            values=request.POST.dict(),
            records=records,
            errors=field_errors(exc.errors, _CALL_FIELDS),
            status=INVALID_STATUS,
        )
    return done(request, access, _("Saved."))


@require_POST
@record_view
def engagement_delete(request, access: RecordAccess, kind: str, item_id: int):
    """Delete (archive) a note, call or email of the record from its timeline."""
    item = _item(access, kind, item_id, kinds=(*FORMS, "emails"))
    if item is None:
        return not_found(request)
    _require_change(access, item)
    services.engagement_archive(actor=access.actor, engagement=item)
    return done(request, access, _("Deleted."))
