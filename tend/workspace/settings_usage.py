"""The usage and NPS settings page, /settings/usage/, a section of the settings shell: which
customer property the groupId of usage events names (audit-logged like the other settings), how to
send events, and a CSV upload of survey responses with its row errors. Thin: parse, call the
usage services, render."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tend.activity.models import ActivityType
from tend.core.errors import Forbidden, ValidationFailed
from tend.core.web import viewing
from tend.crm.models import PropertyDefinition
from tend.cs_settings.queries import settings_changes, workspace_settings
from tend.usage import csv_import
from tend.usage.settings import (
    contact_property_choices,
    key_property_choices,
    settings_update_activity,
    settings_update_usage,
    usage_settings,
)

from .settings_views import HISTORY_LIMIT, SECTIONS, HistoryEntry, settings_view

MAX_UPLOAD = csv_import.MAX_BYTES


def _history() -> list[HistoryEntry]:
    changes = settings_changes("usage", limit=HISTORY_LIMIT)
    names = set()
    for change in changes:
        for value in (change.old_value, change.new_value):
            if isinstance(value, dict) and value.get("accountKeyProperty"):
                names.add(value["accountKeyProperty"])
    labels = dict(
        PropertyDefinition.objects.filter(
            object_type_id=workspace_settings().customer_object_type_id, name__in=names
        ).values_list("name", "label")
    )
    entries = []
    for change in changes:
        before, after = change.old_value or {}, change.new_value or {}
        if "activityEvents" in after:
            entries.append(HistoryEntry(change=change, lines=_activity_lines(before, after)))
            continue
        old, new = before.get("accountKeyProperty"), after.get("accountKeyProperty")
        entries.append(
            HistoryEntry(
                change=change,
                lines=[(_("Account key property"), _(labels.get(old, old or "—")), _(labels.get(new, new or "—")))],
            )
        )
    return entries


def _match_text(value: dict) -> str:
    if value.get("activityContactMatch") == "property":
        return _("External id (%(name)s)") % {"name": value.get("activityContactProperty") or "—"}
    return _("Email")


def _events_text(events: dict) -> str:
    labels = dict(ActivityType.choices)
    return "; ".join(f"{name} → {labels.get(kind, kind)}" for name, kind in sorted(events.items())) or "—"


def _activity_lines(before: dict, after: dict) -> list[tuple[str, str, str]]:
    lines = []
    if _match_text(before) != _match_text(after):
        lines.append((_("A userId names the contact by"), _match_text(before), _match_text(after)))
    if before.get("activityEvents") != after.get("activityEvents"):
        lines.append(
            (
                _("Events as contact activity"),
                _events_text(before.get("activityEvents") or {}),
                _events_text(after["activityEvents"]),
            )
        )
    if before.get("activityPageViews") != after.get("activityPageViews"):
        yes, no = _("Yes"), _("No")
        lines.append(
            (
                _("Page calls are page views"),
                yes if before.get("activityPageViews") else no,
                yes if after.get("activityPageViews") else no,
            )
        )
    return lines


EMPTY_EVENT_ROWS = 3


def _event_rows(request: HttpRequest | None, current) -> list[tuple[str, str]]:
    if request is not None and request.method == "POST" and request.POST.get("action") == "activity":
        return list(zip(request.POST.getlist("event_name"), request.POST.getlist("event_type"), strict=False))
    rows = sorted((current.activity_events or {}).items())
    return rows + [("", "")] * EMPTY_EVENT_ROWS


def _render(request: HttpRequest, *, errors=None, import_outcome=None, status: int = 200) -> HttpResponse:
    current = usage_settings()
    context = {
        "section": "usage",
        "tabs": [(key, label, reverse(url)) for key, (label, url) in SECTIONS.items()],
        "choices": [(name, _(label)) for name, label in key_property_choices()],
        "current": current.account_key_property,
        "errors": errors or {},
        "import_outcome": import_outcome,
        "read_only": viewing(request).is_view_as,
        "history": _history(),
        "ingest_url": request.build_absolute_uri("/api/v1/ingest"),
        "activity": current,
        "activity_errors": [m for f, m in (errors or {}).items() if f.startswith("activity")],
        "event_rows": _event_rows(request, current),
        "activity_types": ActivityType.choices,
        "contact_properties": contact_property_choices(),
    }
    return render(request, "usage/settings.html", context, status=status)


@settings_view
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    view = viewing(request)
    if request.method == "GET":
        return _render(request)
    if view.is_view_as:
        raise Forbidden(_("Stop viewing as another user to change settings."))
    if request.POST.get("action") == "import":
        return _import(request, view)
    if request.POST.get("action") == "activity":
        return _activity(request, view)
    try:
        settings_update_usage(actor=view.actor, account_key_property=request.POST.get("accountKeyProperty", ""))
    except ValidationFailed as exc:
        return _render(request, errors={e.field: e.message for e in exc.errors}, status=422)
    messages.success(request, _("The usage settings are saved."))
    return redirect("settings-usage")


def _import(request: HttpRequest, view) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return _render(request, errors={"file": _("Choose a CSV file.")}, status=422)
    if upload.size > MAX_UPLOAD:
        return _render(
            request, errors={"file": _("A CSV file may be at most %(n)d MB.") % {"n": MAX_UPLOAD >> 20}}, status=422
        )
    dry_run = request.POST.get("dry_run") == "1"
    outcome = csv_import.import_csv(actor=view.actor, data=upload.read(), dry_run=dry_run)
    return _render(request, import_outcome=outcome, status=422 if outcome.errors else 200)


def _activity(request: HttpRequest, view) -> HttpResponse:
    events = list(zip(request.POST.getlist("event_name"), request.POST.getlist("event_type"), strict=False))
    try:
        settings_update_activity(
            actor=view.actor,
            contact_match=request.POST.get("activityContactMatch", ""),
            contact_property=request.POST.get("activityContactProperty", ""),
            events=events,
            page_views=request.POST.get("activityPageViews") == "1",
        )
    except ValidationFailed as exc:
        return _render(request, errors={e.field: e.message for e in exc.errors}, status=422)
    messages.success(request, _("The contact activity settings are saved."))
    return redirect("settings-usage")
