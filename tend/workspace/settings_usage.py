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

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.web import viewing
from tend.crm.models import PropertyDefinition
from tend.cs_settings.queries import settings_changes, workspace_settings
from tend.usage import csv_import
from tend.usage.settings import key_property_choices, settings_update_usage, usage_settings

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
        old = (change.old_value or {}).get("accountKeyProperty")
        new = (change.new_value or {}).get("accountKeyProperty")
        entries.append(
            HistoryEntry(
                change=change,
                lines=[(_("Account key property"), _(labels.get(old, old or "—")), _(labels.get(new, new or "—")))],
            )
        )
    return entries


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
