"""Property history: the changes of one property, and every change of a record by property."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tend.crm import queries
from tend.crm.models import PropertyType
from tend.crm.registry import PropSpec

from .shared import RecordAccess, record_view

PROPERTY_HISTORY_LIMIT = 50
HISTORY_PAGE = 50
_DATETIME = PropSpec("when", "", PropertyType.DATETIME)


def when_text(access: RecordAccess, value) -> str:
    return access.formatter.format(_DATETIME, value)


def change_row(access: RecordAccess, change) -> dict:
    spec = access.registry.get(change.property_name)
    fmt = access.formatter
    return {
        "label": _(str(spec.label)) if spec else change.property_name,
        "old": fmt.format(spec, change.old_value) if spec else _raw_text(change.old_value),
        "new": fmt.format(spec, change.new_value) if spec else _raw_text(change.new_value),
        "when": when_text(access, change.changed_at),
        "who": who(change),
        "source": change.get_source_display(),
        "source_code": change.source,
    }


def who(change) -> str:
    # No user: Tend itself wrote it (policy.SYSTEM: automation, imports, survey answers, the demo).
    return change.changed_by.display_name if change.changed_by else _("Tend")


def _raw_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@require_GET
@record_view
def property_history(request, access: RecordAccess, name: str):
    """The changes of one property, newest first (shown under the property)."""
    spec = access.registry.get(name)
    changes = queries.record_history(access.actor, access.record, property_name=name)[: PROPERTY_HISTORY_LIMIT + 1]
    rows = [change_row(access, c) for c in changes]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "name": name,
        "label": _(str(spec.label)) if spec else name,
        "changes": rows[:PROPERTY_HISTORY_LIMIT],
        "more": len(rows) > PROPERTY_HISTORY_LIMIT,
    }
    return render(request, "crm/_property_history.html", context)


@require_GET
@record_view
def record_history(request, access: RecordAccess):
    """Every property change of the record, filterable by property: in the side panel for
    htmx, as a page otherwise."""
    name = request.GET.get("property") or None
    changes = queries.record_history(access.actor, access.record, property_name=name)
    page = Paginator(changes, HISTORY_PAGE).get_page(request.GET.get("page"))
    rows = [change_row(access, c) for c in page.object_list]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "rows": rows,
        "page": page,
        "property": name,
        "properties": [(s.name, _(str(s.label))) for s in access.registry],
    }
    template = "crm/_history.html" if request.htmx else "crm/history.html"
    return render(request, template, context)
