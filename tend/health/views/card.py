"""The health card of a customer record, and recomputing it now."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.core import clock
from tend.core.errors import NotFound
from tend.core.web import Viewing, viewing, workspace_view
from tend.crm import queries as crm_queries
from tend.cs_settings.queries import workspace_settings
from tend.health import queries, services

from .shared import manage_refusal

SPARK_WIDTH, SPARK_HEIGHT = 160, 36


def _sparkline(history) -> dict | None:
    """Points of an inline SVG line for the score over the last 90 days."""
    points = [(day, score) for day, score in history if score is not None]
    if len(points) < 2:
        return None
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    coords = []
    for day, score in points:
        x = (day - first).days / span * SPARK_WIDTH
        y = SPARK_HEIGHT - (max(0.0, min(100.0, float(score))) / 100 * SPARK_HEIGHT)
        coords.append(f"{x:.1f},{y:.1f}")
    return {
        "points": " ".join(coords),
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "first": first,
        "last": last,
        "min": min(s for _d, s in points),
        "max": max(s for _d, s in points),
    }


def _card_response(request, current: Viewing, record, *, compact: bool, status: int = 200, note: str = ""):
    health = queries.record_health(record, tz=clock.user_zone(current.user))
    refusal = manage_refusal(current)
    context = {
        "record": record,
        "health": health,
        "compact": compact,
        "spark": _sparkline(health["history"]) if health else None,
        "can_recompute": not refusal,
        "can_manage": not refusal,
        "note": note,
    }
    return render(request, "health/_record_card.html", context, status=status)


def _customer(current: Viewing, record_id: int):
    return crm_queries.get_record_for_user(current.actor, workspace_settings().customer_object_type, record_id)


@workspace_view
@require_GET
def record_card(request, record_id: int):
    """The health card of a customer, loaded into the record page and the preview panel. Records
    of other object types have no health score: the answer is empty."""
    current = viewing(request)
    try:
        record = _customer(current, record_id)
    except NotFound:
        return HttpResponse("")
    return _card_response(request, current, record, compact=request.GET.get("compact") == "1")


@workspace_view
@require_POST
def record_recompute(request, record_id: int):
    """Recompute this customer's scores now and answer the refreshed card."""
    current = viewing(request)
    try:
        record = _customer(current, record_id)
    except NotFound:
        return HttpResponse(status=404)
    compact = request.POST.get("compact") == "1"
    refusal = manage_refusal(current)
    if refusal:
        return _card_response(request, current, record, compact=compact, status=403, note=refusal)
    services.record_recompute(actor=current.actor, record=record)
    return _card_response(request, current, record, compact=compact, note=_("Recomputed just now."))
