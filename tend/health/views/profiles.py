"""Score profiles: the list, the editor (a draft posted as one JSON document, so every error names
its path), a test on a record, the preview of the distribution, activation and recompute progress."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.core.errors import FieldError, NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.core.web import Viewing, viewing, workspace_view
from tend.crm import queries as crm_queries
from tend.crm.filter_builder import builder_schema, operator_labels
from tend.crm.filters import compile_search
from tend.crm.models import PropertyType
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User
from tend.health import queries, services
from tend.health.definitions.catalogue import measures_schema
from tend.health.definitions.statuses import STATUS_KEYS, status_schemes
from tend.health.definitions.texts import localized

from .shared import INVALID_STATUS, histogram_chart, manage_refusal, profile_view, settings_refusal

SEARCH_LIMIT = 10


def _status_of(profile) -> dict:
    """Draft / active vN / active vN with unpublished changes, for the list and the editor."""
    version = profile.active_version
    if version is None:
        return {"key": "draft", "label": _("Draft"), "color": "secondary", "changed": False}
    changed = version.definition != profile.draft or (version.segment or {}) != (profile.segment or {})
    return {
        "key": "active",
        "label": _("Active v%(n)s") % {"n": version.number},
        "color": "success",
        "changed": changed,
    }


def _segment_summary(segment: dict | None, registry, schema_ops: dict) -> str:
    """A readable line for a segment in the filter language, e.g. "Industry is any of Software"."""
    groups = (segment or {}).get("filterGroups") or []
    if not groups:
        return _("All customers")
    parts = []
    for group in groups:
        items = []
        for f in group.get("filters", []):
            spec = registry.get(f.get("propertyName"))
            label = _(str(spec.label)) if spec else f.get("propertyName", "")
            value = f.get("values") if "values" in f else f.get("value", "")
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            text = f"{label} {schema_ops.get(f.get('operator'), f.get('operator', ''))}"
            items.append(f"{text} {value}".strip() if value not in ("", None) else text)
        parts.append((" " + _("and") + " ").join(items))
    return (" " + _("or") + " ").join(f"({p})" if len(groups) > 1 else p for p in parts)


@workspace_view
@require_http_methods(["GET", "POST"])
def profiles(request):
    """The list of score profiles; POST creates one (from the template or blank)."""
    current = viewing(request)
    refusal = manage_refusal(current)
    if request.method == "POST":
        if refusal:
            messages.error(request, refusal)
            return redirect("health-profiles")
        try:
            profile = services.profile_create(
                actor=current.actor,
                name=request.POST.get("name", "").strip(),
                builtin_name=gettext_noop("Customer health"),
                from_template=request.POST.get("start", "template") != "blank",
                description=request.POST.get("description", ""),
            )
        except ValidationFailed as exc:
            for error in exc.errors:
                messages.error(request, f"{error.field}: {error.message}")
            return redirect("health-profiles")
        return redirect("health-profile", profile.pk)
    ws = workspace_settings()
    registry = registry_for(ws.customer_object_type)
    ops = _operator_labels()
    rows = [
        {"profile": p, "status": _status_of(p), "segment": _segment_summary(p.segment, registry, ops)}
        for p in queries.profiles_for(current.actor).select_related("active_version").order_by("priority", "name")
    ]
    context = {
        "active_tab": "health",
        "rows": rows,
        "run": queries.latest_run(),
        "refusal": refusal,
        "can_manage_signals": not settings_refusal(current),
    }
    return render(request, "health/profiles.html", context)


def _operator_labels() -> dict:
    return operator_labels()


def _property_options(object_type, types: list[str]) -> list[dict]:
    return [
        {
            "value": spec.name,
            "label": str(_(str(spec.label))),
            "category": spec.type in (PropertyType.ENUMERATION, PropertyType.BOOLEAN),
        }
        for spec in registry_for(object_type)
        if not spec.is_column and spec.type in types
    ]


def _measures(actor: Actor, customer_type) -> list[dict]:
    """The measures a criterion can use (`measures_schema()`), with the choices of
    their parameters filled in: properties of the right types, object types, choice labels."""
    others = [o for o in crm_queries.object_types(actor).order_by("pk") if o.pk != customer_type.pk]
    measures = measures_schema()
    for measure in measures:
        for param in measure["params"]:
            kind = param["type"]
            if kind == "property" and param["objectTypeParam"]:
                param["type"] = "choice"
                param["optionsBy"] = {o.name: _property_options(o, param["propertyTypes"]) for o in others}
                param["options"] = []
            elif kind == "property":
                param["type"] = "choice"
                param["options"] = _property_options(customer_type, param["propertyTypes"])
            elif kind == "object_type":
                param["type"] = "choice"
                param["options"] = [{"value": o.name, "label": str(_(o.label_plural))} for o in others]
            elif kind == "choice":
                labels = {"day": _("day"), "week": _("week"), "month": _("month")}
                param["options"] = [{"value": c, "label": str(labels.get(c, c))} for c in param["choices"]]
            elif kind == "events":
                param["type"] = "list"
                param["placeholder"] = str(_("Logged In, Report Created"))
            elif kind == "int":
                param["type"] = "number"
            param["label"] = str(param["label"])
        measure["label"] = str(measure["label"])
        measure["description"] = str(measure["description"])
    return json.loads(json.dumps(measures, default=str))


def _schemes() -> list[dict]:
    labels = {"three": _("Three statuses"), "four": _("Four bands")}
    return [
        {"key": k, "label": str(labels.get(k, k)), "statuses": localized({"statuses": v})["statuses"]}
        for k, v in status_schemes().items()
    ]


def _status_keys() -> list[dict]:
    return [{"key": k, "label": str(v)} for k, v in STATUS_KEYS.items()]


def _editor_context(request, current: Viewing, profile) -> dict:
    ws = workspace_settings()
    registry = registry_for(ws.customer_object_type)
    users = [u for u in User.objects.filter(is_active=True).order_by("full_name", "email")]
    builder = builder_schema(registry, users)
    versions = list(queries.versions_of(profile))
    return {
        "active_tab": "health",
        "profile": profile,
        "status": _status_of(profile),
        "refusal": manage_refusal(current),
        "editor": {
            "name": profile.display_name,
            "description": profile.description,
            "priority": profile.priority,
            "segment": profile.segment or {"filterGroups": []},
            "definition": localized(profile.draft),
        },
        "measures": _measures(current.actor, ws.customer_object_type),
        "schemes": _schemes(),
        "status_keys": _status_keys(),
        "builder": builder,
        "current_filters": profile.segment or {},
        "state_fields": [],
        "columns_param": "",
        "versions": versions,
        "run": queries.latest_run(),
        "save_url": reverse("health-profile", args=[profile.pk]),
    }


def _errors_json(exc: ValidationFailed) -> JsonResponse:
    return JsonResponse(
        {"errors": [e.as_dict() for e in exc.errors], "detail": str(exc.detail)},
        status=INVALID_STATUS,
    )


@profile_view
@require_http_methods(["GET", "POST"])
def profile_editor(request, current: Viewing, profile):
    """The editor. POST takes the whole draft as JSON: name, description, priority, segment and
    definition; it answers the errors with their paths (422) or the saved state."""
    if request.method == "GET":
        return render(request, "health/editor.html", _editor_context(request, current, profile))
    refusal = manage_refusal(current)
    if refusal:
        return JsonResponse({"errors": [], "detail": refusal}, status=403)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _errors_json(ValidationFailed.single("body", _("Send the draft as a JSON object.")))
    changes = {k: body[k] for k in ("name", "description", "priority", "segment", "definition") if k in body}
    if "priority" in changes:
        changes["priority"] = _int_or_error(changes["priority"])
    try:
        if isinstance(changes.get("priority"), FieldError):
            raise ValidationFailed(errors=[changes["priority"]])
        profile = services.profile_update_draft(actor=current.actor, profile=profile, **changes)
    except ValidationFailed as exc:
        return _errors_json(exc)
    status = _status_of(profile)
    return JsonResponse(
        {
            "saved": True,
            "status": {"label": str(status["label"]), "color": status["color"], "changed": status["changed"]},
            "message": _("Draft saved."),
        }
    )


def _int_or_error(raw):
    if isinstance(raw, bool):
        return FieldError("priority", _("Enter a whole number."), "invalid")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        return FieldError("priority", _("Enter a whole number."), "invalid")


def _customer_search(current: Viewing, query: str):
    query = query.strip()[:200]
    if not query:
        return []
    object_type = workspace_settings().customer_object_type
    compiled = compile_search(
        {"query": query, "sorts": [{"propertyName": "name", "direction": "ASCENDING"}]},
        registry_for(object_type),
        user=current.user,
    )
    return list(compiled.apply(crm_queries.records_for(current.actor, object_type))[:SEARCH_LIMIT])


@profile_view
@require_GET
def profile_test_search(request, current: Viewing, profile):
    """Customers whose name matches, to pick one to test the draft on."""
    context = {
        "profile": profile,
        "results": _customer_search(current, request.GET.get("q", "")),
        "q": request.GET.get("q", ""),
    }
    return render(request, "health/_test_results.html", context)


@profile_view
@require_GET
def profile_test(request, current: Viewing, profile):
    """The draft evaluated on one customer: every criterion's value, band, points and no-data
    mark, the group subtotals, coverage, score and status."""
    object_type = workspace_settings().customer_object_type
    try:
        record = crm_queries.get_record_for_user(current.actor, object_type, request.GET.get("record"))
    except NotFound:
        return render(
            request,
            "health/_test.html",
            {"profile": profile, "error": _("Pick a customer to test the draft on.")},
            status=INVALID_STATUS,
        )
    try:
        evaluation = services.profile_test_on_record(actor=current.actor, profile=profile, record=record)
    except ValidationFailed as exc:
        return render(
            request,
            "health/_test.html",
            {"profile": profile, "record": record, "object_type": object_type, "errors": exc.errors},
            status=INVALID_STATUS,
        )
    context = {"profile": profile, "record": record, "object_type": object_type, "evaluation": evaluation}
    return render(request, "health/_test.html", context)


@profile_view
@require_GET
def profile_preview(request, current: Viewing, profile):
    """The draft's distribution over its segment, before activating."""
    try:
        preview = services.profile_preview_distribution(actor=current.actor, profile=profile)
    except ValidationFailed as exc:
        return render(
            request, "health/_preview.html", {"profile": profile, "errors": exc.errors}, status=INVALID_STATUS
        )
    context = {
        "profile": profile,
        "preview": preview,
        "chart_json": json.dumps(histogram_chart(preview.get("histogram") or [])),
        "refusal": manage_refusal(current),
    }
    return render(request, "health/_preview.html", context)


@profile_view
@require_POST
def profile_activate(request, current: Viewing, profile):
    refusal = manage_refusal(current)
    if refusal:
        messages.error(request, refusal)
        return redirect("health-profile", profile.pk)
    if request.POST.get("confirm") != "on":
        messages.error(request, _("Tick the confirmation to activate this profile."))
        return redirect("health-profile", profile.pk)
    try:
        version = services.profile_activate(actor=current.actor, profile=profile)
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, f"{error.field}: {error.message}")
        return redirect("health-profile", profile.pk)
    messages.success(
        request,
        _("Version %(n)s is active; scores are being recomputed.") % {"n": version.number},
    )
    return redirect("health-profile", profile.pk)


@profile_view
@require_POST
def profile_deactivate(request, current: Viewing, profile):
    refusal = manage_refusal(current)
    if refusal:
        messages.error(request, refusal)
        return redirect("health-profile", profile.pk)
    services.profile_deactivate(actor=current.actor, profile=profile)
    messages.success(
        request, _("“%(name)s” is no longer active; its versions are kept.") % {"name": profile.display_name}
    )
    return redirect("health-profile", profile.pk)


@profile_view
@require_POST
def profile_archive(request, current: Viewing, profile):
    refusal = manage_refusal(current)
    if refusal:
        messages.error(request, refusal)
        return redirect("health-profile", profile.pk)
    services.profile_archive(actor=current.actor, profile=profile)
    messages.success(request, _("“%(name)s” is archived.") % {"name": profile.display_name})
    return redirect("health-profiles")


@workspace_view
@require_GET
def run_progress(request):
    """The latest recompute run, polled by htmx while it runs."""
    return render(request, "health/_run.html", {"run": queries.latest_run()})
