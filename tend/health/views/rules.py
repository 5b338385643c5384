"""The churn-signal rules: listing and editing them (a CS settings section)."""

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.core.errors import FieldError, ValidationFailed
from tend.core.web import Viewing, viewing, workspace_view
from tend.health import queries, services
from tend.health.definitions.churn_rules import SIGNAL_LABELS
from tend.health.models import ChurnSignalRule, HealthAlert

from .shared import INVALID_STATUS, settings_refusal


def _rule_label(rule) -> str:
    return str(SIGNAL_LABELS.get(rule.key, rule.key))


@workspace_view
@require_GET
def signal_rules(request):
    current = viewing(request)
    rules = list(queries.signal_rules())
    context = {
        "active_tab": "health",
        "rules": [{"rule": r, "label": _rule_label(r), "params_json": json.dumps(r.params or {})} for r in rules],
        "refusal": settings_refusal(current),
        "priorities": HealthAlert.Priority.choices,
    }
    return render(request, "health/signals.html", context)


@workspace_view
@require_POST
def signal_rule_update(request, rule_id: int):
    current = viewing(request)
    rule = ChurnSignalRule.objects.filter(pk=rule_id).first()
    if rule is None:
        messages.error(request, _("That churn-signal rule does not exist."))
        return redirect("health-signal-rules")
    refusal = settings_refusal(current)
    if refusal:
        messages.error(request, refusal)
        return redirect("health-signal-rules")
    errors: list[FieldError] = []
    try:
        params = json.loads(request.POST.get("params") or "{}")
    except ValueError:
        params = None
    if not isinstance(params, dict):
        errors.append(FieldError("params", _("Enter the parameters as a JSON object."), "invalid"))
    if errors:
        return _rules_error(request, current, rule, errors)
    try:
        services.signal_rule_update(
            actor=current.actor,
            rule=rule,
            enabled=request.POST.get("enabled") == "on",
            priority=request.POST.get("priority", rule.priority),
            params=params,
        )
    except ValidationFailed as exc:
        return _rules_error(request, current, rule, exc.errors)
    messages.success(request, _("Rule “%(name)s” saved.") % {"name": _rule_label(rule)})
    return redirect("health-signal-rules")


def _rules_error(request, current: Viewing, rule, errors):
    rules = list(queries.signal_rules())
    context = {
        "active_tab": "health",
        "rules": [
            {
                "rule": r,
                "label": _rule_label(r),
                "params_json": request.POST.get("params", "") if r.pk == rule.pk else json.dumps(r.params or {}),
                "errors": {e.field: e.message for e in errors} if r.pk == rule.pk else {},
            }
            for r in rules
        ],
        "refusal": settings_refusal(current),
        "priorities": HealthAlert.Priority.choices,
    }
    return render(request, "health/signals.html", context, status=INVALID_STATUS)
