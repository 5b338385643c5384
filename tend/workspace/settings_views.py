"""The workspace settings behind the gear icon: which objects are customers, services and revenue,
their CSM and renewal date properties, the pipelines shown, and the audit log of changes.

Thin views: they parse the form, call the settings services (which validate and write the audit
log) and render. Each section is one URL; an htmx GET with ``fragment=object-fields`` answers the
part of the same form that depends on the chosen object (its user and date properties and its
pipelines), built by the same code as the full page.
"""

import re
from dataclasses import dataclass, field
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tend.core import policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.core.policy import Actor
from tend.core.web import explain_forbidden, viewing
from tend.crm.models import ObjectType, Pipeline, PropertyDefinition, PropertyType
from tend.crm.registry import RECORD_COLUMN_SPECS, registry_for
from tend.cs_settings import queries, services
from tend.cs_settings.models import SettingsChange, WorkspaceSettings

HISTORY_LIMIT = 20
REVENUE_SLOTS = 2
# Slots a posted revenue form may carry; more than two are refused by the service, with a message.
MAX_POSTED_SLOTS = 10
FRAGMENT = "object-fields"
SLOT_FIELD = re.compile(r"^rev-(\d+)-objectType$")
SERVICE_ITEM_FIELD = re.compile(r"^objects\[(\d+)\]\.(\w+)$")

SECTIONS = {
    "customers": (gettext_lazy("Customers"), "settings"),
    "services": (gettext_lazy("Services"), "settings-services"),
    "revenue": (gettext_lazy("Revenue"), "settings-revenue"),
}
# What each changed value is called in the audit log, in the order the form shows them.
SAVED = {
    "customers": gettext_lazy("The customer settings are saved."),
    "services": gettext_lazy("The services settings are saved."),
    "revenue": gettext_lazy("The revenue settings are saved."),
}
FIELD_TITLES = {
    "objectType": gettext_lazy("Object"),
    "csmProperty": gettext_lazy("CSM property"),
    "renewalProperty": gettext_lazy("Renewal date property"),
    "pipelines": gettext_lazy("Pipelines shown"),
    "defaultPipeline": gettext_lazy("Default pipeline"),
}


def settings_view(view):
    """Signed in with “Manage Customer Success settings”; others get a page that explains why."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            policy.require(viewing(request).actor, policy.Action.MANAGE_CS_SETTINGS)
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            return explain_forbidden(request, str(exc))

    return wrapper


# --------------------------------------------------------------------------- the form's state


@dataclass
class ObjectForm:
    """One object's settings as the form shows them: the chosen object, the properties and
    pipelines it offers, the values (as submitted or saved) and the errors at each field."""

    prefix: str  # of the HTML names: "" for customers and services, "rev-0-" for revenue slots
    object_choices: list[tuple[str, str]]
    object_type: ObjectType | None
    values: dict
    errors: dict = field(default_factory=dict)
    csm_choices: list[tuple[str, str]] = field(default_factory=list)
    renewal_choices: list[tuple[str, str]] = field(default_factory=list)
    pipeline_choices: list[tuple[str, str]] = field(default_factory=list)
    with_pipelines: bool = False
    csm_required: bool = True
    optional: bool = False  # the object may be left empty (the second revenue object)
    slot: int | None = None
    first: bool = False

    @property
    def html_id(self) -> str:
        return f"settings-{self.prefix}"


def _object_types(excluded) -> dict[str, ObjectType]:
    return {o.name: o for o in ObjectType.objects.exclude(name__in=excluded)}


def _object_form(
    *,
    prefix: str,
    types: dict[str, ObjectType],
    values: dict,
    errors: dict | None = None,
    adapt: bool = False,
    **options,
) -> ObjectForm:
    """The form of one object. With `adapt` (the object was just changed) values that the new
    object does not offer are replaced by the closest sensible choice."""
    object_type = types.get(values.get("objectType") or "")
    form = ObjectForm(
        prefix=prefix,
        object_choices=[(name, _(o.label_plural)) for name, o in types.items()],
        object_type=object_type,
        values={
            "objectType": values.get("objectType") or "",
            "csmProperty": values.get("csmProperty") or "",
            "renewalProperty": values.get("renewalProperty") or "",
            "pipelines": [str(p) for p in values.get("pipelines") or []],
            "defaultPipeline": str(values.get("defaultPipeline") or ""),
        },
        errors=errors or {},
        **options,
    )
    if object_type is None:
        return form
    for spec in registry_for(object_type):
        if spec.type == PropertyType.USER:
            form.csm_choices.append((spec.name, _(spec.label)))
        elif spec.type == PropertyType.DATE:
            form.renewal_choices.append((spec.name, _(spec.label)))
    if form.with_pipelines:
        pipelines = Pipeline.objects.filter(object_type=object_type, archived_at__isnull=True)
        form.pipeline_choices = [(str(p.pk), _(p.label)) for p in pipelines]
    if adapt:
        _adapt(form)
    return form


def _adapt(form: ObjectForm) -> None:
    values = form.values
    user_props = {name for name, _label in form.csm_choices}
    if values["csmProperty"] not in user_props:
        values["csmProperty"] = "csm" if "csm" in user_props else ""
    if values["renewalProperty"] not in {name for name, _label in form.renewal_choices}:
        values["renewalProperty"] = ""
    pipelines = {value for value, _label in form.pipeline_choices}
    values["pipelines"] = [p for p in values["pipelines"] if p in pipelines]
    if values["defaultPipeline"] not in (set(values["pipelines"]) or pipelines):
        values["defaultPipeline"] = ""


def _posted(data: QueryDict, prefix: str) -> dict:
    return {
        "objectType": data.get(f"{prefix}objectType", "").strip(),
        "csmProperty": data.get(f"{prefix}csmProperty", "").strip(),
        "renewalProperty": data.get(f"{prefix}renewalProperty", "").strip(),
        "pipelines": [p for p in data.getlist(f"{prefix}pipelines") if p],
        "defaultPipeline": data.get(f"{prefix}defaultPipeline", "").strip(),
    }


def _split_errors(exc: ValidationFailed, known: set[str]) -> tuple[dict, list[FieldError]]:
    """Errors by field name; those the form has no field for are shown above it."""
    by_field: dict[str, str] = {}
    other: list[FieldError] = []
    for error in exc.errors:
        if error.field in known:
            by_field.setdefault(error.field, error.message)
        else:
            other.append(error)
    return by_field, other


# --------------------------------------------------------------------------- the audit log


@dataclass
class _Labels:
    """Names of the objects, properties and pipelines the audit log mentions, loaded at once."""

    objects: dict[str, str]
    properties: dict[tuple[str, str], str]
    pipelines: dict[int, str]
    columns: dict[str, str]

    @classmethod
    def for_changes(cls, changes: list[SettingsChange]) -> "_Labels":
        items = []
        for change in changes:
            for value in (change.old_value, change.new_value):
                items.extend(value if isinstance(value, list) else [value])
        items = [i for i in items if isinstance(i, dict)]
        type_names = {i.get("objectType") for i in items if i.get("objectType")}
        pipeline_ids = set()
        for item in items:
            pipeline_ids.update(p for p in item.get("pipelines") or [] if isinstance(p, int))
            if isinstance(item.get("defaultPipeline"), int):
                pipeline_ids.add(item["defaultPipeline"])
        objects = {o.name: _(o.label_plural) for o in ObjectType.objects.filter(name__in=type_names)}
        definitions = PropertyDefinition.objects.filter(object_type__name__in=type_names).values_list(
            "object_type__name", "name", "label"
        )
        pipelines = Pipeline.objects.filter(pk__in=pipeline_ids).values_list("pk", "label")
        return cls(
            objects=objects,
            properties={(t, n): _(label) for t, n, label in definitions},
            pipelines={pk: _(label) for pk, label in pipelines},
            columns={s.name: _(s.label) for s in RECORD_COLUMN_SPECS},
        )

    def format(self, key: str, item: dict) -> str:
        if not item:
            return "—"
        value = item.get(key)
        if key == "objectType":
            return self.objects.get(value, value) if value else _("None")
        if key in ("csmProperty", "renewalProperty"):
            if not value:
                return _("None")
            return self.properties.get((item.get("objectType"), value)) or self.columns.get(value) or value
        if key == "pipelines":
            if not value:
                return _("All pipelines")
            return ", ".join(self.pipelines.get(p, f"#{p}") for p in value)
        if key == "defaultPipeline":
            return self.pipelines.get(value, f"#{value}") if value else _("None")
        return str(value)


def _diff_lines(old: dict, new: dict, labels: _Labels, title_prefix: str = "") -> list[tuple[str, str, str]]:
    lines = []
    for key, title in FIELD_TITLES.items():
        if key not in old and key not in new:
            continue
        # An object added or removed is named once, with only the values it was given.
        if not (old and new) and key != "objectType" and not (old or new).get(key):
            continue
        if old.get(key) != new.get(key):
            lines.append((f"{title_prefix}{title}", labels.format(key, old), labels.format(key, new)))
    return lines


def describe_change(change: SettingsChange, labels: _Labels) -> list[tuple[str, str, str]]:
    """What changed, as (what, from, to) lines a person can read."""
    old, new = change.old_value, change.new_value
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_lines(old, new, labels)
    old, new = old if isinstance(old, list) else [], new if isinstance(new, list) else []
    lines = []
    for i in range(max(len(old), len(new))):
        before = old[i] if i < len(old) and isinstance(old[i], dict) else {}
        after = new[i] if i < len(new) and isinstance(new[i], dict) else {}
        prefix = _("Revenue object %(n)s") % {"n": i + 1} + " · "
        lines.extend(_diff_lines(before, after, labels, prefix))
    return lines


@dataclass
class HistoryEntry:
    change: SettingsChange
    lines: list[tuple[str, str, str]]


def _history(section: str) -> list[HistoryEntry]:
    changes = queries.settings_changes(section, limit=HISTORY_LIMIT)
    labels = _Labels.for_changes(changes)
    return [HistoryEntry(change=c, lines=describe_change(c, labels)) for c in changes]


# --------------------------------------------------------------------------- rendering


def _render(
    request: HttpRequest,
    section: str,
    forms: list[ObjectForm],
    *,
    other_errors: list[FieldError] = (),
    status: int = 200,
) -> HttpResponse:
    context = {
        "section": section,
        "section_label": SECTIONS[section][0],
        "tabs": [(key, label, reverse(url)) for key, (label, url) in SECTIONS.items()],
        "action": reverse(SECTIONS[section][1]),
        "forms": forms,
        "other_errors": list(other_errors),
        "has_errors": bool(other_errors) or any(f.errors for f in forms),
        "read_only": viewing(request).is_view_as,
        "history": _history(section),
    }
    return render(request, "workspace/settings.html", context, status=status)


def _render_fragment(request: HttpRequest, form: ObjectForm) -> HttpResponse:
    return render(request, "workspace/_settings_object_fields.html", {"form": form, "action": request.path})


def _refuse_view_as(request: HttpRequest, url_name: str):
    if viewing(request).is_view_as:
        messages.error(request, _("You are viewing as another user; settings are read-only."))
        return redirect(url_name)
    return None


def _changed_object(request: HttpRequest, prefix: str) -> str | None:
    """The object chosen in the form before saving (an htmx reload, or a plain GET link)."""
    value = request.GET.get(f"{prefix}objectType")
    return value.strip() if value is not None else None


def _single_object_section(request: HttpRequest, *, section: str, saved: dict, excluded, save, **options):
    """Customers and services: one object, the same flow."""
    types = _object_types(excluded)
    if request.method == "POST":
        if refused := _refuse_view_as(request, SECTIONS[section][1]):
            return refused
        posted = _posted(request.POST, "")
        try:
            save(actor=viewing(request).actor, data=posted)
        except ValidationFailed as exc:
            by_field, other = _split_errors(exc, set(FIELD_TITLES))
            form = _object_form(prefix="", types=types, values=posted, errors=by_field, **options)
            return _render(request, section, [form], other_errors=other, status=422)
        messages.success(request, SAVED[section])
        return redirect(SECTIONS[section][1])
    changed = _changed_object(request, "")
    values = saved if changed is None else {**saved, "objectType": changed}
    form = _object_form(prefix="", types=types, values=values, adapt=changed is not None, **options)
    if request.htmx and request.GET.get("fragment") == FRAGMENT:
        return _render_fragment(request, form)
    return _render(request, section, [form])


# --------------------------------------------------------------------------- the sections


@settings_view
@require_http_methods(["GET", "POST"])
def customers_settings(request: HttpRequest) -> HttpResponse:
    """Which object represents customer accounts, its CSM and renewal date properties."""
    ws = queries.workspace_settings()
    saved = {
        "objectType": ws.customer_object_type.name,
        "csmProperty": ws.customer_csm_property,
        "renewalProperty": ws.customer_renewal_property,
    }

    def save(*, actor: Actor, data):
        services.settings_update_customers(
            actor=actor,
            object_type=data["objectType"],
            csm_property=data["csmProperty"],
            renewal_property=data["renewalProperty"],
        )

    return _single_object_section(
        request, section="customers", saved=saved, excluded=services.CUSTOMER_TYPES_EXCLUDED, save=save
    )


@settings_view
@require_http_methods(["GET", "POST"])
def services_settings(request: HttpRequest) -> HttpResponse:
    """Which object represents services, its CSM and renewal properties, the pipelines shown."""
    ws = queries.workspace_settings()
    saved = {
        "objectType": ws.services_object_type.name if ws.services_object_type else "",
        "csmProperty": ws.services_csm_property,
        "renewalProperty": ws.services_renewal_property,
        "pipelines": ws.services_pipelines,
        "defaultPipeline": ws.services_default_pipeline_id,
    }

    def save(*, actor: Actor, data):
        services.settings_update_services(
            actor=actor,
            object_type=data["objectType"],
            csm_property=data["csmProperty"],
            renewal_property=data["renewalProperty"],
            pipelines=data["pipelines"],
            default_pipeline=data["defaultPipeline"] or None,
        )

    return _single_object_section(
        request,
        section="services",
        saved=saved,
        excluded=services.SERVICE_TYPES_EXCLUDED,
        save=save,
        with_pipelines=True,
    )


def _revenue_forms(types, slots: list[dict], *, first: int = 0, errors=None, adapt_slot=None) -> list[ObjectForm]:
    return [
        _object_form(
            prefix=f"rev-{i}-",
            types=types,
            values=values,
            errors=(errors or {}).get(i),
            adapt=i == adapt_slot,
            with_pipelines=True,
            csm_required=False,
            optional=i > 0,
            slot=i,
            first=i == first,
        )
        for i, values in enumerate(slots)
    ]


def _saved_revenue(ws: WorkspaceSettings) -> list[dict]:
    saved = [dict(item) for item in ws.revenue_objects or [] if isinstance(item, dict)][:REVENUE_SLOTS]
    return saved + [{} for _i in range(REVENUE_SLOTS - len(saved))]


@settings_view
@require_http_methods(["GET", "POST"])
def revenue_settings(request: HttpRequest) -> HttpResponse:
    """Up to two revenue objects, which one is shown first, and each one's properties and pipelines."""
    types = _object_types(services.REVENUE_TYPES_EXCLUDED)
    if request.method == "POST":
        if refused := _refuse_view_as(request, "settings-revenue"):
            return refused
        indexes = sorted({int(m.group(1)) for key in request.POST if (m := SLOT_FIELD.match(key))})
        indexes = indexes[:MAX_POSTED_SLOTS]
        posted = {i: _posted(request.POST, f"rev-{i}-") for i in indexes}
        chosen = [i for i in indexes if posted[i]["objectType"]]
        first = request.POST.get("first", "")
        first = int(first) if first.isdigit() else 0
        if first in chosen:
            chosen.remove(first)
            chosen.insert(0, first)
        objects = [
            {**posted[i], "defaultPipeline": posted[i]["defaultPipeline"] or None, "pipelines": posted[i]["pipelines"]}
            for i in chosen
        ]
        try:
            services.settings_update_revenue(actor=viewing(request).actor, objects=objects)
        except ValidationFailed as exc:
            by_slot: dict[int, dict] = {}
            other = []
            for error in exc.errors:
                m = SERVICE_ITEM_FIELD.match(error.field)
                if m and int(m.group(1)) < len(chosen) and m.group(2) in FIELD_TITLES:
                    by_slot.setdefault(chosen[int(m.group(1))], {}).setdefault(m.group(2), error.message)
                else:
                    other.append(error)
            slots = [posted.get(i, {}) for i in range(REVENUE_SLOTS)]
            forms = _revenue_forms(types, slots, first=first, errors=by_slot)
            # Slots the form does not show (a third object) are named in the message above it.
            other.extend(
                FieldError("objects", msg) for i, errs in by_slot.items() if i >= REVENUE_SLOTS for msg in errs.values()
            )
            return _render(request, "revenue", forms, other_errors=other, status=422)
        messages.success(request, SAVED["revenue"])
        return redirect("settings-revenue")
    slots = _saved_revenue(queries.workspace_settings())
    adapt_slot = None
    for i in range(REVENUE_SLOTS):
        changed = _changed_object(request, f"rev-{i}-")
        if changed is not None:
            slots[i] = {**slots[i], "objectType": changed}
            adapt_slot = i
    forms = _revenue_forms(types, slots, adapt_slot=adapt_slot)
    if request.htmx and request.GET.get("fragment") == FRAGMENT:
        if adapt_slot is None:
            return HttpResponseBadRequest(_("Choose an object."))
        return _render_fragment(request, forms[adapt_slot])
    return _render(request, "revenue", forms)
