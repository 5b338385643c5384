"""Merging a record with another of its type: search, confirm which one to keep, merge."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from tend.core.errors import NotFound, ValidationFailed
from tend.crm import queries, services
from tend.crm.models import Record

from .shared import INVALID_STATUS, RecordAccess, not_found, record_view, require_edit, search_records


def _merge_summary(access: RecordAccess, record: Record) -> str:
    """Enough to tell two look-alike records apart: owner and creation date."""
    created = _("created %(when)s") % {"when": access.formatter.text(record, "created_at")}
    owner = access.formatter.text(record, "owner")
    return f"{owner} · {created}" if owner else created


def _merge_confirm(request, access: RecordAccess, other: Record, *, errors=(), keep: str = "this", status=200):
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "other": other,
        "record_summary": _merge_summary(access, access.record),
        "other_summary": _merge_summary(access, other),
        "keep": keep,
        "errors": [e.message for e in errors],
    }
    return render(request, "crm/_merge_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
@record_view
def record_merge(request, access: RecordAccess):
    """GET: search the record to merge with (or, with ?with=<id>, confirm); POST: merge."""
    require_edit(access)
    other_id = request.POST.get("other") if request.method == "POST" else request.GET.get("with")
    if other_id is None:
        return render(
            request, "crm/_merge.html", {"access": access, "record": access.record, "object_type": access.object_type}
        )
    try:
        other = queries.get_record_for_user(access.actor, access.object_type, other_id, include_archived=False)
    except NotFound:
        return not_found(request)
    if request.method == "GET":
        return _merge_confirm(request, access, other)
    keep = "other" if request.POST.get("keep") == "other" else "this"
    primary, secondary = (access.record, other) if keep == "this" else (other, access.record)
    try:
        survivor = services.record_merge(actor=access.actor, primary=primary, secondary=secondary)
    except ValidationFailed as exc:
        return _merge_confirm(request, access, other, errors=exc.errors, keep=keep, status=INVALID_STATUS)
    messages.success(
        request, _("%(merged)s was merged into %(survivor)s.") % {"merged": secondary, "survivor": survivor}
    )
    url = reverse("record-detail", args=[access.object_type.name, survivor.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@record_view
def record_merge_search(request, access: RecordAccess):
    require_edit(access)
    query = request.GET.get("q", "")
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "q": query,
        "results": search_records(access, access.object_type, query, exclude=access.record.pk),
    }
    return render(request, "crm/_merge_results.html", context)
