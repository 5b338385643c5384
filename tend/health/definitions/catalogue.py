"""The measure catalogue: every kind of measure a criterion may use, its parameters and the kind of
values it yields."""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tend.crm.models import ObjectType, PropertyType
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings

from .params import EVENTS, Param, window

NPS_CATEGORIES = ("promoter", "passive", "detractor")


def nps_category(score: int | float) -> str:
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


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


NUMBERISH = (PropertyType.NUMBER, PropertyType.CURRENCY)
CATEGORISH = (PropertyType.ENUMERATION, PropertyType.BOOLEAN)

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
                    property_types=(*NUMBERISH, *CATEGORISH),
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
            (EVENTS, window(30)),
            source="usage",
        ),
        Measure(
            "event_rate",
            gettext_noop("Event rate"),
            gettext_noop("These events per day, week or month, averaged over the window."),
            (
                EVENTS,
                window(28),
                Param("per", gettext_noop("Per"), "choice", default="week", choices=("day", "week", "month")),
            ),
            source="usage",
        ),
        Measure(
            "distinct_features",
            gettext_noop("Features used"),
            gettext_noop("How many different events (features) the account used in the window."),
            (window(30), Param("events", gettext_noop("Only these events"), "events", required=False, default=[])),
            source="usage",
        ),
        Measure(
            "active_users",
            gettext_noop("Active users"),
            gettext_noop("How many different users of the account were active in the window."),
            (window(30),),
            unit=gettext_noop("users"),
            source="usage",
        ),
        Measure(
            "event_trend",
            gettext_noop("Trend"),
            gettext_noop("These events in the last N days divided by the N days before (1 = flat, 0.5 = halved)."),
            (EVENTS, window(30)),
            source="usage",
        ),
        Measure(
            "meetings_attended",
            gettext_noop("Meetings attended"),
            gettext_noop("Share of the held meetings in the window that the customer attended (0–1; no-shows count)."),
            (window(90),),
            source="meetings",
        ),
        Measure(
            "ticket_count",
            gettext_noop("Tickets"),
            gettext_noop("How many tickets of the customer were created in the window."),
            (window(30),),
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
            (window(90),),
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
                    property_types=(*NUMBERISH, *CATEGORISH),
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


def measure_value_kind(measure: dict, *, customer_type: ObjectType | None = None) -> tuple[str, tuple]:
    """("number" | "category", the allowed category values or ()) of a valid measure."""
    spec = MEASURES[measure["kind"]]
    if spec.value_kind != "property":
        return spec.value_kind, spec.categories
    if spec.kind == "associated_property":
        object_type = ObjectType.objects.filter(name=measure.get("object_type")).first()
    else:
        object_type = customer_type or workspace_customer_type()
    prop = registry_for(object_type).get(measure.get("property")) if object_type else None
    if prop is None:
        return "category", ()
    return kind_of_property(prop)


def kind_of_property(prop) -> tuple[str, tuple]:
    if prop.type in NUMBERISH:
        return "number", ()
    if prop.type == PropertyType.BOOLEAN:
        return "category", ("true", "false")
    return "category", tuple(o["value"] for o in prop.options)


def workspace_customer_type() -> ObjectType:
    # workspace is a layer above health: imported when needed, not at module level
    return workspace_settings().customer_object_type
