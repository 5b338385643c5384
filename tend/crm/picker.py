"""The record picker: one searchable "associated records" field for every engagement form
(tasks, meetings, …). Forms include `crm/_record_picker.html` and receive `records` as repeated ids."""

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.core import policy
from tend.core.policy import Actor
from tend.core.web import viewing, workspace_view

from .models import Record

PICKER_LIMIT = 10
PICKER_TYPES = ("companies", "contacts", "deals", "tickets", "services")


def picker_search(actor: Actor, query: str, *, types: tuple[str, ...] = PICKER_TYPES, exclude: set[int] = frozenset()):
    """Active records of the given types whose name contains `query`, names starting with it
    first; at most PICKER_LIMIT, in one query."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    query = query.strip()[:200]
    if not query:
        return None
    records = (
        Record.objects.filter(archived_at__isnull=True, object_type__name__in=types, name__icontains=query)
        .exclude(pk__in=exclude)
        .select_related("object_type")
        .order_by("name", "id")[: PICKER_LIMIT * 5]
    )
    lowered = query.lower()
    found = sorted(records, key=lambda r: (not r.name.lower().startswith(lowered), r.name.lower(), r.pk))
    return found[:PICKER_LIMIT]


def records_by_ids(actor: Actor, ids) -> list[Record]:
    """The active records among `ids` (ignoring what is not an id), in the given order — for
    re-rendering a picker after a form error or prefilling it from a record."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    wanted = []
    for raw in ids:
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            continue
    found = Record.objects.filter(pk__in=wanted, archived_at__isnull=True).select_related("object_type").in_bulk()
    return [found[i] for i in dict.fromkeys(wanted) if i in found]


@workspace_view
@require_GET
def record_picker_search(request: HttpRequest):
    # Records already chosen (the picker's hidden inputs) are not offered again.
    exclude = {int(v) for key, values in request.GET.lists() if key != "q" for v in values if v.isdigit()}
    query = request.GET.get("q", "")
    results = picker_search(viewing(request).actor, query, exclude=exclude)
    return render(request, "crm/_record_picker_results.html", {"results": results, "q": query})
