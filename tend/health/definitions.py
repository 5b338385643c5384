"""What a score profile is made of, and its validation.

A definition (the JSON a profile's draft and each frozen version hold):

    {"groups": [{"key": "usage", "label": "Usage", "max": 20,
                 "criteria": [{"key": "logins", "label": "Logins per week",
                               "measure": {"kind": "event_rate", "events": ["Logged In"],
                                           "window_days": 28, "per": "week"},
                               "bands": [{"min": 3, "points": 20, "label": "≥ 3 / week"},
                                         {"min": 1, "points": 10, "label": "1–2 / week"},
                                         {"min": None, "points": 0, "label": "less"}]}]}],
     "statuses": [{"key": "healthy", "label": "Healthy", "min": 70, "color": "success", "action": "…"}, …],
     "missing_data": "exclude"}

Group maxima total 100; a criterion's points never exceed its group's maximum (and a group's points
are capped at it). Bands are read top-down: the first band whose `min` is at most the value wins
(`"min": null` matches every value); measures whose values are categories (enumerations, booleans,
NPS category) use `"values": [...]` instead of `min`. `validate_definition` names the path of every
bad part, e.g. ``groups[0].criteria[1].bands[0].points``.
"""

import copy
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tend.core.errors import FieldError, ValidationFailed
from tend.crm.models import ObjectType, PropertyType

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_GROUPS = 12
MAX_CRITERIA = 40
MAX_BANDS = 10
MAX_WINDOW_DAYS = 365
MAX_EVENTS = 20
MISSING_DATA = ("exclude", "zero")
COLORS = ("success", "info", "primary", "warning", "orange", "danger", "secondary")

# Every status key a profile may use; the built-in `health_status` property offers exactly these.
STATUS_KEYS = {
    "healthy": gettext_lazy("Healthy"),
    "neutral": gettext_lazy("Neutral"),
    "at_risk": gettext_lazy("At risk"),
    "green": gettext_lazy("Green"),
    "yellow": gettext_lazy("Yellow"),
    "orange": gettext_lazy("Orange"),
    "red": gettext_lazy("Red"),
}

NPS_CATEGORIES = ("promoter", "passive", "detractor")


def nps_category(score: int | float) -> str:
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


# --------------------------------------------------------------------------- measures


@dataclass(frozen=True)
class Param:
    """A parameter of a measure, described so that the UI can build a form for it."""

    name: str
    label: str
    type: str  # "events" (list of event names), "int", "property", "object_type", "choice", "text"
    required: bool = True
    default: object = None
    choices: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    # for "property": the property types accepted; for object_type-scoped properties, see object_type_param
    property_types: tuple = ()
    object_type_param: str = ""  # the param naming the object type the property belongs to ("" = customers)


@dataclass(frozen=True)
class Measure:
    kind: str
    label: str
    description: str
    params: tuple[Param, ...] = ()
    # "number" (bands with min) or "category" (bands with values); "property" kinds depend on the property
    value_kind: str = "number"
    unit: str = ""
    source: str = ""  # where the data comes from: "record", "usage", "meetings", "tickets", "nps", "associated"
    categories: tuple = ()  # the possible values of a fixed category measure


def _window(default: int) -> Param:
    return Param(
        "window_days",
        gettext_noop("Window (days)"),
        "int",
        default=default,
        minimum=1,
        maximum=MAX_WINDOW_DAYS,
    )


_EVENTS = Param("events", gettext_noop("Events"), "events")
_NUMBERISH = (PropertyType.NUMBER, PropertyType.CURRENCY)
_CATEGORISH = (PropertyType.ENUMERATION, PropertyType.BOOLEAN)

MEASURES: dict[str, Measure] = {
    m.kind: m
    for m in (
        Measure(
            "property",
            gettext_noop("Property value"),
            gettext_noop("The value of a number, pick-one or yes/no property of the customer."),
            (
                Param(
                    "property",
                    gettext_noop("Property"),
                    "property",
                    property_types=(*_NUMBERISH, *_CATEGORISH),
                ),
            ),
            value_kind="property",
            source="record",
        ),
        Measure(
            "days_until",
            gettext_noop("Days until a date"),
            gettext_noop("Days from today until a date property of the customer (negative when past)."),
            (Param("property", gettext_noop("Date property"), "property", property_types=(PropertyType.DATE,)),),
            unit=gettext_noop("days"),
            source="record",
        ),
        Measure(
            "event_count",
            gettext_noop("Event count"),
            gettext_noop("How many of these events the account sent in the window."),
            (_EVENTS, _window(30)),
            source="usage",
        ),
        Measure(
            "event_rate",
            gettext_noop("Event rate"),
            gettext_noop("These events per day, week or month, averaged over the window."),
            (
                _EVENTS,
                _window(28),
                Param("per", gettext_noop("Per"), "choice", default="week", choices=("day", "week", "month")),
            ),
            source="usage",
        ),
        Measure(
            "distinct_features",
            gettext_noop("Features used"),
            gettext_noop("How many different events (features) the account used in the window."),
            (_window(30), Param("events", gettext_noop("Only these events"), "events", required=False, default=[])),
            source="usage",
        ),
        Measure(
            "active_users",
            gettext_noop("Active users"),
            gettext_noop("How many different users of the account were active in the window."),
            (_window(30),),
            unit=gettext_noop("users"),
            source="usage",
        ),
        Measure(
            "event_trend",
            gettext_noop("Trend"),
            gettext_noop("These events in the last N days divided by the N days before (1 = flat, 0.5 = halved)."),
            (_EVENTS, _window(30)),
            source="usage",
        ),
        Measure(
            "meetings_attended",
            gettext_noop("Meetings attended"),
            gettext_noop("Share of the held meetings in the window that the customer attended (0–1; no-shows count)."),
            (_window(90),),
            source="meetings",
        ),
        Measure(
            "ticket_count",
            gettext_noop("Tickets"),
            gettext_noop("How many tickets of the customer were created in the window."),
            (_window(30),),
            unit=gettext_noop("tickets"),
            source="tickets",
        ),
        Measure(
            "open_ticket_age",
            gettext_noop("Oldest open ticket"),
            gettext_noop("Age in days of the customer's oldest open ticket (0 when none is open)."),
            (),
            unit=gettext_noop("days"),
            source="tickets",
        ),
        Measure(
            "ticket_csat",
            gettext_noop("Ticket satisfaction"),
            gettext_noop("Average CSAT (1–5) of the customer's tickets created in the window."),
            (_window(90),),
            source="tickets",
        ),
        Measure(
            "nps_latest",
            gettext_noop("Latest NPS"),
            gettext_noop("The customer's latest survey answer as promoter (9–10), passive (7–8) or detractor (0–6)."),
            (Param("survey", gettext_noop("Survey"), "text", required=False, default="nps"),),
            value_kind="category",
            source="nps",
            categories=NPS_CATEGORIES,
        ),
        Measure(
            "associated_property",
            gettext_noop("Property of the latest associated record"),
            gettext_noop("A property of the customer's most recently created associated record of a type."),
            (
                Param("object_type", gettext_noop("Object type"), "object_type"),
                Param(
                    "property",
                    gettext_noop("Property"),
                    "property",
                    property_types=(*_NUMBERISH, *_CATEGORISH),
                    object_type_param="object_type",
                ),
            ),
            value_kind="property",
            source="associated",
        ),
    )
}

USAGE_KINDS = frozenset(k for k, m in MEASURES.items() if m.source == "usage")


def measures_schema() -> list[dict]:
    """The measures with their parameters, for building forms."""
    return [
        {
            "kind": m.kind,
            "label": _(m.label),
            "description": _(m.description),
            "valueKind": m.value_kind,
            "unit": _(m.unit) if m.unit else "",
            "source": m.source,
            "categories": list(m.categories),
            "params": [
                {
                    "name": p.name,
                    "label": _(p.label),
                    "type": p.type,
                    "required": p.required,
                    "default": p.default,
                    "choices": list(p.choices),
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                    "propertyTypes": list(p.property_types),
                    "objectTypeParam": p.object_type_param,
                }
                for p in m.params
            ],
        }
        for m in MEASURES.values()
    ]


# --------------------------------------------------------------------------- statuses and the template


def _status(key: str, label: str, minimum: float, color: str, action: str) -> dict:
    return {"key": key, "label": label, "min": minimum, "color": color, "action": action}


def status_schemes() -> dict[str, list[dict]]:
    """The two status schemes users know: three bands (as in HubSpot) or four colour bands."""
    return {
        "three": [
            _status("healthy", _("Healthy"), 70, "success", _("Look for expansion and ask for a reference.")),
            _status("neutral", _("Neutral"), 40, "warning", _("Review usage and plan a check-in.")),
            _status("at_risk", _("At risk"), 0, "danger", _("Call the customer and agree on a recovery plan.")),
        ],
        "four": [
            _status("green", _("Green"), 80, "success", _("Look for expansion and ask for a reference.")),
            _status("yellow", _("Yellow"), 60, "warning", _("Keep the cadence; check adoption of new features.")),
            _status("orange", _("Orange"), 40, "orange", _("Plan a check-in and review usage with the customer.")),
            _status("red", _("Red"), 0, "danger", _("Escalate: call the customer and agree on a recovery plan.")),
        ],
    }


def _band(points: int, label: str, minimum=None, values=None) -> dict:
    band = {"points": points, "label": label}
    if values is not None:
        band["values"] = values
    else:
        band["min"] = minimum
    return band


def template(renewal_property: str = "renewal_date") -> dict:
    """The template profile (from our users' practice), labels in the active language."""
    return {
        "groups": [
            {
                "key": "usage",
                "label": _("Usage"),
                "max": 20,
                "criteria": [
                    {
                        "key": "logins",
                        "label": _("Logins per week"),
                        "measure": {"kind": "event_rate", "events": ["Logged In"], "window_days": 28, "per": "week"},
                        "bands": [
                            _band(20, _("3 or more a week"), 3),
                            _band(10, _("1–2 a week"), 1),
                            _band(0, _("less than weekly"), None),
                        ],
                    }
                ],
            },
            {
                "key": "depth",
                "label": _("Depth"),
                "max": 15,
                "criteria": [
                    {
                        "key": "features",
                        "label": _("Features used (30 days)"),
                        "measure": {"kind": "distinct_features", "window_days": 30, "events": []},
                        "bands": [
                            _band(15, _("5 or more"), 5),
                            _band(10, _("3–4"), 3),
                            _band(5, _("1–2"), 1),
                            _band(0, _("none"), None),
                        ],
                    }
                ],
            },
            {
                "key": "engagement",
                "label": _("Engagement"),
                "max": 15,
                "criteria": [
                    {
                        "key": "meetings",
                        "label": _("Meeting attendance (90 days)"),
                        "measure": {"kind": "meetings_attended", "window_days": 90},
                        "bands": [
                            _band(15, _("always"), 1),
                            _band(10, _("sometimes"), 0.01),
                            _band(0, _("never"), None),
                        ],
                    }
                ],
            },
            {
                "key": "support",
                "label": _("Support"),
                "max": 15,
                "criteria": [
                    {
                        "key": "csat",
                        "label": _("Ticket satisfaction (90 days)"),
                        "measure": {"kind": "ticket_csat", "window_days": 90},
                        "bands": [
                            _band(15, _("satisfied (4–5)"), 4),
                            _band(10, _("neutral (3)"), 3),
                            _band(0, _("unsatisfied"), None),
                        ],
                    }
                ],
            },
            {
                "key": "nps",
                "label": _("NPS"),
                "max": 15,
                "criteria": [
                    {
                        "key": "nps",
                        "label": _("Latest NPS"),
                        "measure": {"kind": "nps_latest", "survey": "nps"},
                        "bands": [
                            _band(15, _("promoter"), values=["promoter"]),
                            _band(10, _("passive"), values=["passive"]),
                            _band(0, _("detractor"), values=["detractor"]),
                        ],
                    }
                ],
            },
            {
                "key": "contract",
                "label": _("Contract"),
                "max": 10,
                "criteria": [
                    {
                        "key": "renewal",
                        "label": _("Time to renewal"),
                        "measure": {"kind": "days_until", "property": renewal_property},
                        "bands": [
                            _band(10, _("6 months or more"), 180),
                            _band(5, _("3–6 months"), 90),
                            _band(0, _("less than 3 months"), None),
                        ],
                    }
                ],
            },
            {
                "key": "outcomes",
                "label": _("Outcomes"),
                "max": 10,
                "criteria": [
                    {
                        "key": "goal",
                        "label": _("Onboarding goal"),
                        "measure": {
                            "kind": "associated_property",
                            "object_type": "services",
                            "property": "goal_status",
                        },
                        "bands": [
                            _band(10, _("achieved"), values=["achieved"]),
                            _band(5, _("in progress"), values=["in_progress"]),
                            _band(0, _("not started"), values=["not_started"]),
                        ],
                    }
                ],
            },
        ],
        "statuses": status_schemes()["three"],
        "missing_data": "exclude",
    }


class _TemplateProxy:
    """`definitions.TEMPLATE` reads as the template dict (a fresh copy, translated when read)."""

    def __getitem__(self, key):
        return template()[key]

    def get(self, key, default=None):
        return template().get(key, default)

    def copy(self) -> dict:
        return template()

    def __iter__(self):
        return iter(template())

    def keys(self):
        return template().keys()


TEMPLATE = _TemplateProxy()


def empty_definition() -> dict:
    return {"groups": [], "statuses": status_schemes()["three"], "missing_data": "exclude"}


# --------------------------------------------------------------------------- churn signals


SIGNAL_LABELS = {
    "logins_drop": gettext_lazy("Logins dropped"),
    "tickets_spike": gettext_lazy("Ticket spike"),
    "nps_drop": gettext_lazy("NPS dropped"),
    "meetings_missed": gettext_lazy("Meetings missed"),
    "key_contact_left": gettext_lazy("Key contact left"),
    "renewal_soon": gettext_lazy("Renewal coming up"),
}

SIGNAL_DESCRIPTIONS = {
    "logins_drop": gettext_lazy(
        "Logins in the last N days are at most a share (e.g. 50%) of the N days before "
        "(when the earlier period had at least a minimum number of logins)."
    ),
    "tickets_spike": gettext_lazy(
        "Tickets created this calendar month are at least a factor (e.g. 2×) of last month's, and at least a minimum."
    ),
    "nps_drop": gettext_lazy("The latest survey answer is at least N points below the one before it."),
    "meetings_missed": gettext_lazy("The last N held meetings were all no-shows."),
    "key_contact_left": gettext_lazy("An associated key contact is flagged “Left the company”."),
    "renewal_soon": gettext_lazy("The renewal date is within the next N days (informational)."),
}

# key → (priority, default params, param specs)
SIGNAL_DEFAULTS: dict[str, tuple[str, dict, tuple[Param, ...]]] = {
    "logins_drop": (
        "high",
        {"events": ["Logged In"], "window_days": 30, "max_ratio": 0.5, "min_previous": 4},
        (
            _EVENTS,
            Param("window_days", gettext_noop("Window (days)"), "int", default=30, minimum=1, maximum=180),
            Param("max_ratio", gettext_noop("At most this share of the period before"), "number", default=0.5),
            Param(
                "min_previous",
                gettext_noop("Minimum logins in the period before"),
                "int",
                default=4,
                minimum=1,
                maximum=1_000_000,
            ),
        ),
    ),
    "tickets_spike": (
        "medium",
        {"factor": 2, "min_tickets": 2},
        (
            Param("factor", gettext_noop("At least this many times last month"), "number", default=2),
            Param(
                "min_tickets",
                gettext_noop("At least this many tickets this month"),
                "int",
                default=2,
                minimum=1,
                maximum=100_000,
            ),
        ),
    ),
    "nps_drop": (
        "high",
        {"points": 3, "survey": "nps"},
        (
            Param("points", gettext_noop("Drop of at least (points)"), "int", default=3, minimum=1, maximum=10),
            Param("survey", gettext_noop("Survey"), "text", required=False, default="nps"),
        ),
    ),
    "meetings_missed": (
        "medium",
        {"count": 2},
        (Param("count", gettext_noop("Consecutive no-shows"), "int", default=2, minimum=1, maximum=10),),
    ),
    "key_contact_left": ("high", {}, ()),
    "renewal_soon": (
        "info",
        {"days": 90},
        (Param("days", gettext_noop("Within (days)"), "int", default=90, minimum=1, maximum=730),),
    ),
}


def signal_params_schema(key: str) -> list[dict]:
    return [
        {"name": p.name, "label": _(p.label), "type": p.type, "default": p.default, "minimum": p.minimum}
        for p in SIGNAL_DEFAULTS[key][2]
    ]


def validate_signal_params(key: str, params) -> dict:
    """Check a churn-signal rule's params; returns them completed with defaults."""
    errors: list[FieldError] = []
    if not isinstance(params, dict):
        raise ValidationFailed.single("params", _("params must be an object."))
    _priority, defaults, specs = SIGNAL_DEFAULTS[key]
    known = {p.name for p in specs}
    for name in params:
        if name not in known:
            errors.append(FieldError(f"params.{name}", _("Unknown parameter %(name)s.") % {"name": name}, "unknown"))
    cleaned = dict(defaults)
    for spec in specs:
        if spec.name in params:
            cleaned[spec.name] = _clean_param(spec, params[spec.name], f"params.{spec.name}", errors)
    _raise(errors)
    return cleaned


# --------------------------------------------------------------------------- validation


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value, where: str, errors: list[FieldError], *, required: bool = True, max_length: int = 120) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(FieldError(where, _("Enter a text."), "required"))
        return ""
    if len(value) > max_length:
        errors.append(FieldError(where, _("Enter at most %(n)d characters.") % {"n": max_length}))
    return value.strip()


def _clean_param(spec: Param, value, where: str, errors: list[FieldError]):
    if spec.type == "events":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            errors.append(FieldError(where, _("Enter a list of event names.")))
            return []
        if spec.required and not value:
            errors.append(FieldError(where, _("Name at least one event."), "required"))
        if len(value) > MAX_EVENTS:
            errors.append(FieldError(where, _("Name at most %(n)d events.") % {"n": MAX_EVENTS}))
        if any(len(v) > 200 for v in value):
            errors.append(FieldError(where, _("Event names have at most 200 characters.")))
        return [v.strip() for v in value]
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(where, _("Enter a whole number.")))
            return spec.default
        low = spec.minimum if spec.minimum is not None else 0
        high = spec.maximum if spec.maximum is not None else 1_000_000
        if not low <= value <= high:
            errors.append(FieldError(where, _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}))
        return value
    if spec.type == "number":
        if not _is_number(value) or value < 0 or value > 1_000_000:
            errors.append(FieldError(where, _("Enter a number of at least 0.")))
            return spec.default
        return value
    if spec.type == "choice":
        if value not in spec.choices:
            errors.append(FieldError(where, _("Choose one of: %(choices)s.") % {"choices": ", ".join(spec.choices)}))
        return value
    if spec.type == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            errors.append(FieldError(where, _("Enter a name of at most 64 characters.")))
            return spec.default
        return value.strip()
    return value


@dataclass
class _Context:
    """What validation looks properties up in (loaded once per validation)."""

    customer_type: ObjectType
    registries: dict = field(default_factory=dict)

    def registry(self, object_type: ObjectType):
        from tend.crm.registry import registry_for

        if object_type.pk not in self.registries:
            self.registries[object_type.pk] = registry_for(object_type)
        return self.registries[object_type.pk]


def measure_value_kind(measure: dict, *, customer_type: ObjectType | None = None) -> tuple[str, tuple]:
    """("number" | "category", the allowed category values or ()) of a valid measure."""
    spec = MEASURES[measure["kind"]]
    if spec.value_kind != "property":
        return spec.value_kind, spec.categories
    from tend.crm.registry import registry_for

    if spec.kind == "associated_property":
        object_type = ObjectType.objects.filter(name=measure.get("object_type")).first()
    else:
        object_type = customer_type or _customer_type()
    prop = registry_for(object_type).get(measure.get("property")) if object_type else None
    if prop is None:
        return "category", ()
    return _kind_of_property(prop)


def _kind_of_property(prop) -> tuple[str, tuple]:
    if prop.type in _NUMBERISH:
        return "number", ()
    if prop.type == PropertyType.BOOLEAN:
        return "category", ("true", "false")
    return "category", tuple(o["value"] for o in prop.options)


def _customer_type() -> ObjectType:
    from tend.workspace.services import workspace_settings

    return workspace_settings().customer_object_type


def _clean_measure(raw, where: str, errors: list[FieldError], ctx: _Context) -> tuple[dict, str, tuple]:
    if not isinstance(raw, dict):
        errors.append(FieldError(where, _("Choose what this criterion measures."), "required"))
        return {}, "number", ()
    kind = raw.get("kind")
    spec = MEASURES.get(kind) if isinstance(kind, str) else None
    if spec is None:
        errors.append(FieldError(f"{where}.kind", _("Unknown measure %(kind)s.") % {"kind": kind}, "unknown_measure"))
        return {}, "number", ()
    cleaned: dict = {"kind": kind}
    known = {p.name for p in spec.params} | {"kind"}
    for name in raw:
        if name not in known:
            errors.append(FieldError(f"{where}.{name}", _("Unknown parameter %(name)s.") % {"name": name}, "unknown"))
    object_type = ctx.customer_type
    value_kind, categories = spec.value_kind, spec.categories
    for param in spec.params:
        at = f"{where}.{param.name}"
        value = raw.get(param.name)
        if value is None:
            if param.required:
                errors.append(FieldError(at, _("This parameter is required."), "required"))
            else:
                cleaned[param.name] = copy.deepcopy(param.default)
            continue
        if param.type == "object_type":
            found = ObjectType.objects.filter(name=value).first() if isinstance(value, str) else None
            if found is None or found.pk == ctx.customer_type.pk:
                errors.append(FieldError(at, _("Choose an object type other than the customers'.")))
            else:
                object_type = found
            cleaned[param.name] = value
        elif param.type == "property":
            scope = object_type if param.object_type_param else ctx.customer_type
            if scope is None:
                continue
            prop = ctx.registry(scope).get(value) if isinstance(value, str) else None
            if prop is None or prop.is_column:
                errors.append(FieldError(at, _("Unknown property %(name)s.") % {"name": value}, "unknown_property"))
            elif prop.type not in param.property_types:
                errors.append(
                    FieldError(
                        at,
                        _("%(name)s is a %(type)s property; this measure needs one of: %(types)s.")
                        % {"name": value, "type": prop.type, "types": ", ".join(param.property_types)},
                        "invalid_property",
                    )
                )
            elif spec.value_kind == "property":
                value_kind, categories = _kind_of_property(prop)
            cleaned[param.name] = value
        else:
            cleaned[param.name] = _clean_param(param, value, at, errors)
    if spec.value_kind == "property" and value_kind == "property":
        value_kind = "number"
    return cleaned, value_kind, categories


def _clean_bands(raw, where: str, errors: list[FieldError], *, value_kind: str, categories: tuple, cap) -> list:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError(where, _("Add at least one band."), "required"))
        return []
    if len(raw) > MAX_BANDS:
        errors.append(FieldError(where, _("Use at most %(n)d bands.") % {"n": MAX_BANDS}))
    bands = []
    previous_min = None
    seen_values: set = set()
    for bi, band in enumerate(raw[:MAX_BANDS]):
        at = f"{where}[{bi}]"
        if not isinstance(band, dict):
            errors.append(FieldError(at, _("Each band is an object with points.")))
            continue
        points = band.get("points")
        if not _is_number(points) or points < 0:
            errors.append(FieldError(f"{at}.points", _("Enter points of at least 0."), "invalid"))
            points = 0
        elif cap is not None and points > cap:
            errors.append(
                FieldError(
                    f"{at}.points",
                    _("A criterion cannot score more than its group's maximum of %(max)s points.") % {"max": _fmt(cap)},
                    "above_group_max",
                )
            )
        label = _text(band.get("label"), f"{at}.label", errors, required=False, max_length=120)
        cleaned = {"points": points, "label": label}
        if value_kind == "category":
            values = band.get("values")
            if not isinstance(values, list) or not values:
                errors.append(FieldError(f"{at}.values", _("Choose at least one value."), "required"))
                values = []
            for vi, v in enumerate(values):
                v = "true" if v is True else "false" if v is False else v
                if not isinstance(v, str) or (categories and v not in categories):
                    errors.append(
                        FieldError(
                            f"{at}.values[{vi}]",
                            _("%(value)s is not one of: %(choices)s.") % {"value": v, "choices": ", ".join(categories)},
                        )
                    )
                elif v in seen_values:
                    errors.append(FieldError(f"{at}.values[{vi}]", _("This value is already in a band above.")))
                seen_values.add(v)
            cleaned["values"] = ["true" if v is True else "false" if v is False else v for v in values]
        else:
            minimum = band.get("min")
            if minimum is not None and not _is_number(minimum):
                errors.append(FieldError(f"{at}.min", _("Enter a number, or nothing for “any value”.")))
                minimum = None
            if bi > 0 and previous_min is None:
                errors.append(
                    FieldError(f"{at}.min", _("A band after an “any value” band would never be reached."), "order")
                )
            elif minimum is not None and previous_min is not None and minimum >= previous_min:
                errors.append(
                    FieldError(
                        f"{at}.min",
                        _("Bands are read top-down: each minimum must be below the one above (%(above)s).")
                        % {"above": _fmt(previous_min)},
                        "order",
                    )
                )
            cleaned["min"] = minimum
            previous_min = minimum if minimum is not None else None
            if minimum is None:
                previous_min = None
        if not cleaned["label"]:
            cleaned["label"] = _auto_label(cleaned)
        bands.append(cleaned)
    return bands


def _auto_label(band: dict) -> str:
    if "values" in band:
        return ", ".join(str(v) for v in band["values"])
    if band.get("min") is None:
        return _("any other value")
    return "≥ " + _fmt(band["min"])


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _clean_statuses(raw, errors: list[FieldError]) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("statuses", _("Add at least one status."), "required"))
        return []
    if len(raw) > len(STATUS_KEYS):
        errors.append(FieldError("statuses", _("Use at most %(n)d statuses.") % {"n": len(STATUS_KEYS)}))
    statuses, keys = [], set()
    previous = None
    for si, status in enumerate(raw[: len(STATUS_KEYS)]):
        at = f"statuses[{si}]"
        if not isinstance(status, dict):
            errors.append(FieldError(at, _("Each status is an object.")))
            continue
        key = status.get("key")
        if key not in STATUS_KEYS:
            errors.append(
                FieldError(
                    f"{at}.key", _("Choose one of: %(keys)s.") % {"keys": ", ".join(STATUS_KEYS)}, "unknown_status"
                )
            )
        elif key in keys:
            errors.append(FieldError(f"{at}.key", _("Each status appears once."), "duplicate"))
        keys.add(key)
        minimum = status.get("min")
        if not _is_number(minimum) or not 0 <= minimum <= 100:
            errors.append(FieldError(f"{at}.min", _("Enter a score from 0 to 100.")))
            minimum = 0
        elif previous is not None and minimum >= previous:
            errors.append(
                FieldError(
                    f"{at}.min",
                    _("Statuses go from the best down: each minimum must be below the one above (%(above)s).")
                    % {"above": _fmt(previous)},
                    "order",
                )
            )
        previous = minimum
        color = status.get("color", "secondary")
        if color not in COLORS:
            errors.append(FieldError(f"{at}.color", _("Choose one of: %(c)s.") % {"c": ", ".join(COLORS)}))
        statuses.append(
            {
                "key": key,
                "label": _text(status.get("label"), f"{at}.label", errors, max_length=60),
                "min": minimum,
                "color": color,
                "action": _text(status.get("action"), f"{at}.action", errors, required=False, max_length=500),
            }
        )
    if statuses and statuses[-1]["min"] != 0 and not any(e.field.startswith("statuses") for e in errors):
        errors.append(
            FieldError(
                f"statuses[{len(statuses) - 1}].min",
                _("The last status must start at 0 so that every score has a status."),
                "uncovered",
            )
        )
    return statuses


def validate_definition(definition, *, customer_type: ObjectType | None = None) -> dict:
    """Check a whole definition; return it cleaned (defaults filled, labels trimmed) or raise
    ValidationFailed naming every bad part by its path."""
    errors: list[FieldError] = []
    if not isinstance(definition, dict):
        raise ValidationFailed.single("definition", _("The definition must be a JSON object."))
    ctx = _Context(customer_type=customer_type or _customer_type())
    for name in definition:
        if name not in ("groups", "statuses", "missing_data"):
            errors.append(FieldError(name, _("Unknown field %(name)s.") % {"name": name}, "unknown"))
    raw_groups = definition.get("groups")
    groups = []
    if not isinstance(raw_groups, list) or not raw_groups:
        errors.append(FieldError("groups", _("Add at least one group of criteria."), "required"))
        raw_groups = []
    if len(raw_groups) > MAX_GROUPS:
        errors.append(FieldError("groups", _("Use at most %(n)d groups.") % {"n": MAX_GROUPS}))
    group_keys: set = set()
    criterion_keys: set = set()
    total = 0
    criteria_count = 0
    for gi, group in enumerate(raw_groups[:MAX_GROUPS]):
        at = f"groups[{gi}]"
        if not isinstance(group, dict):
            errors.append(FieldError(at, _("Each group is an object.")))
            continue
        key = group.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            errors.append(FieldError(f"{at}.key", _("Use lower-case letters, digits and _ (starting with a letter).")))
        elif key in group_keys:
            errors.append(FieldError(f"{at}.key", _("Each group key appears once."), "duplicate"))
        group_keys.add(key)
        label = _text(group.get("label"), f"{at}.label", errors)
        maximum = group.get("max")
        if not _is_number(maximum) or not 0 < maximum <= 100:
            errors.append(FieldError(f"{at}.max", _("Enter a maximum from 1 to 100 points.")))
            maximum = None
        else:
            total += maximum
        raw_criteria = group.get("criteria")
        if not isinstance(raw_criteria, list) or not raw_criteria:
            errors.append(FieldError(f"{at}.criteria", _("Add at least one criterion."), "required"))
            raw_criteria = []
        criteria = []
        for ci, criterion in enumerate(raw_criteria):
            cat = f"{at}.criteria[{ci}]"
            criteria_count += 1
            if not isinstance(criterion, dict):
                errors.append(FieldError(cat, _("Each criterion is an object.")))
                continue
            ckey = criterion.get("key")
            if not isinstance(ckey, str) or not KEY_RE.match(ckey):
                errors.append(
                    FieldError(f"{cat}.key", _("Use lower-case letters, digits and _ (starting with a letter).")),
                )
            elif ckey in criterion_keys:
                errors.append(FieldError(f"{cat}.key", _("Each criterion key appears once."), "duplicate"))
            criterion_keys.add(ckey)
            clabel = _text(criterion.get("label"), f"{cat}.label", errors)
            measure, value_kind, categories = _clean_measure(criterion.get("measure"), f"{cat}.measure", errors, ctx)
            bands = _clean_bands(
                criterion.get("bands"),
                f"{cat}.bands",
                errors,
                value_kind=value_kind,
                categories=categories,
                cap=maximum,
            )
            criteria.append({"key": ckey, "label": clabel, "measure": measure, "bands": bands})
        groups.append({"key": key, "label": label, "max": maximum, "criteria": criteria})
    if criteria_count > MAX_CRITERIA:
        errors.append(FieldError("groups", _("Use at most %(n)d criteria.") % {"n": MAX_CRITERIA}))
    if raw_groups and not any(e.field.endswith(".max") for e in errors) and abs(total - 100) > 1e-9:
        errors.append(
            FieldError(
                "groups",
                _("The groups' maxima must total 100 points (they total %(total)s).") % {"total": _fmt(total)},
                "total",
            )
        )
    statuses = _clean_statuses(definition.get("statuses"), errors)
    missing = definition.get("missing_data", "exclude")
    if missing not in MISSING_DATA:
        errors.append(FieldError("missing_data", _("Choose exclude or zero.")))
    _raise(errors)
    return {"groups": groups, "statuses": statuses, "missing_data": missing}
