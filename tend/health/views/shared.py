"""Who may use the health screens, and the pieces they share."""

from functools import wraps

from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _

from tend.core import policy
from tend.core.errors import Forbidden, NotFound
from tend.core.web import Viewing, viewing, workspace_view
from tend.health import queries

INVALID_STATUS = 422


def manage_refusal(view: Viewing) -> str:
    """Why this viewer may not create or change score profiles, or "" when they may."""
    if view.is_view_as:
        return _("You are viewing Tend as %(name)s, so changes are turned off. Stop viewing as to make changes.") % {
            "name": view.user.display_name
        }
    try:
        policy.require(view.actor, policy.Action.MANAGE_HEALTH_PROFILES)
    except Forbidden as exc:
        return str(exc)
    return ""


def settings_refusal(view: Viewing) -> str:
    """Why this viewer may not change churn-signal rules, or "" when they may."""
    if view.is_view_as:
        return _("You are viewing Tend as %(name)s, so changes are turned off. Stop viewing as to make changes.") % {
            "name": view.user.display_name
        }
    try:
        policy.require(view.actor, policy.Action.MANAGE_CS_SETTINGS)
    except Forbidden as exc:
        return str(exc)
    return ""


def refuse(request, reason: str):
    if request.htmx or request.content_type == "application/json":
        return render(request, "core/_forbidden.html", {"reason": reason}, status=403)
    messages.error(request, reason)
    return None


def profile_view(view_func):
    """Load the profile named by the URL through `queries` (404 page when unknown)."""

    @workspace_view
    @wraps(view_func)
    def wrapper(request, profile_id: int, **kwargs):
        current = viewing(request)
        try:
            profile = queries.get_profile_for_user(current.actor, profile_id)
        except NotFound:
            template = "health/_not_found.html" if request.htmx else "health/not_found.html"
            return render(request, template, {}, status=404)
        return view_func(request, current, profile, **kwargs)

    return wrapper


def histogram_chart(histogram: list[dict]) -> dict:
    return {
        "kind": "bar",
        "labels": [f"{_fmt(b['from'])}–{_fmt(b['to'])}" for b in histogram],
        "values": [b["count"] for b in histogram],
        "name": str(_("Customers")),
    }


def _fmt(value) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:.1f}"
