"""What the record forms of engagements share: where a saved form goes back to, errors by field."""

import datetime as dt
import zoneinfo

from django.http import HttpResponse
from django_htmx.http import trigger_client_event

from tend.core.errors import FieldError
from tend.crm.views.record import preview_response
from tend.crm.views.shared import RecordAccess

INVALID_STATUS = 422
ACTIVITY_CHANGED = "tend:activity-changed"  # the record page's timeline reloads on it


def from_panel(request) -> bool:
    """Whether the form was opened from the record's preview panel (else from its page)."""
    return (request.POST.get("context") or request.GET.get("context")) == "panel"


def done(request, access: RecordAccess, message: str = ""):
    """After a save: the preview again (from the panel), or close the panel and reload the
    page's timeline."""
    if from_panel(request):
        response = preview_response(request, access, flash=message)
    else:
        response = HttpResponse(status=204)
        trigger_client_event(response, "tend:close-panel")
    trigger_client_event(response, ACTIVITY_CHANGED, {"message": message})
    return response


def field_errors(errors: list[FieldError], names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Messages by form field; `names` maps service field names (properties.body) to the form's."""
    found: dict[str, list[str]] = {}
    for error in errors:
        name = error.field.removeprefix("properties.").split("[", 1)[0]
        if name.startswith("associations"):
            name = "records"
        name = (names or {}).get(name, name)
        found.setdefault(name, []).append(error.message)
    return found


def local_input(value: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
