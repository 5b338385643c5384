"""Health alerts (a CSM's book) and the health summary card."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.core.errors import Forbidden
from tend.core.web import Viewing, viewing, workspace_view
from tend.directory.queries import team_ids
from tend.health import queries, services

from .shared import histogram_chart, refuse

ALERTS_LIMIT = 200


def _active_alerts(current: Viewing):
    return queries.book_alerts(current.user)


PRIORITY_COLORS = {"high": "danger", "medium": "warning", "low": "info", "info": "secondary"}


@workspace_view
@require_GET
def alerts(request):
    """Active alerts (status changes and churn signals) on the viewed user's accounts."""
    current = viewing(request)
    kind = request.GET.get("kind", "")
    items = _active_alerts(current)
    if kind in ("status_change", "churn_signal"):
        items = items.filter(kind=kind)
    context = {
        "active_tab": "health",
        "alerts": list(items[:ALERTS_LIMIT]),
        "kind": kind,
        "limit": ALERTS_LIMIT,
        "can_dismiss": current.can_act,
        "priority_colors": PRIORITY_COLORS,
    }
    return render(request, "health/alerts.html", context)


@workspace_view
@require_POST
def alert_dismiss(request, alert_id: int):
    current = viewing(request)
    # A manager dismisses the alerts of their team's accounts too (the Summary's team scope).
    alert = queries.book_alerts(current.user, user_ids=team_ids(current.user)).filter(pk=alert_id).first()
    if alert is None:
        if request.htmx:
            return HttpResponse("")
        messages.error(request, _("That alert is no longer active."))
        return redirect("health-alerts")
    if not current.can_act:
        reason = _("You are viewing Tend as %(name)s, so changes are turned off. Stop viewing as to make changes.") % {
            "name": current.user.display_name
        }
        if refused := refuse(request, reason):
            return refused
        return redirect("health-alerts")
    try:
        services.alert_dismiss(actor=current.actor, alert=alert)
    except Forbidden as exc:
        if refused := refuse(request, str(exc)):
            return refused
        return redirect("health-alerts")
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("Alert dismissed."))
    return redirect("health-alerts")


@workspace_view
@require_GET
def summary(request):
    """The health summary of the viewed user's book, as the Summary tab will embed it."""
    current = viewing(request)
    data = queries.health_summary(actor=current.actor, user=current.user)
    distribution = histogram_chart(data.get("distribution") or [])
    over_time = {
        "kind": "line",
        "labels": [str(day) for day, _avg in data.get("over_time") or []],
        "values": [None if avg is None else round(float(avg), 1) for _day, avg in data.get("over_time") or []],
        "name": str(_("Average score")),
    }
    context = {
        "active_tab": "health",
        "summary": data,
        "distribution_json": json.dumps(distribution),
        "over_time_json": json.dumps(over_time),
    }
    template = "health/_summary_card.html" if request.htmx else "health/summary.html"
    return render(request, template, context)
