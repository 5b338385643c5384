"""The built-in object types, properties and default pipelines every workspace starts with.

Installed after every `migrate` (idempotent: existing rows are left as the admin changed them).
"""

from django.db import transaction
from django.utils.translation import gettext_noop

from .models import ObjectType, Pipeline, PropertyDefinition, Stage
from .models import PropertyType as T


def _enum(*pairs):
    return [{"value": v, "label": label} for v, label in pairs]


CS_STAGES = _enum(
    ("onboarding", gettext_noop("Onboarding")),
    ("active", gettext_noop("Active")),
    ("at_risk", gettext_noop("At risk")),
    ("churned", gettext_noop("Churned")),
)
PLANS = _enum(
    ("starter", gettext_noop("Starter")), ("growth", gettext_noop("Growth")), ("enterprise", gettext_noop("Enterprise"))
)

HEALTH_STATUSES = _enum(
    ("healthy", gettext_noop("Healthy")),
    ("neutral", gettext_noop("Neutral")),
    ("at_risk", gettext_noop("At risk")),
    ("green", gettext_noop("Green")),
    ("yellow", gettext_noop("Yellow")),
    ("orange", gettext_noop("Orange")),
    ("red", gettext_noop("Red")),
)

OBJECT_TYPES = [
    ("companies", gettext_noop("Company"), gettext_noop("Companies")),
    ("contacts", gettext_noop("Contact"), gettext_noop("Contacts")),
    ("deals", gettext_noop("Deal"), gettext_noop("Deals")),
    ("tickets", gettext_noop("Ticket"), gettext_noop("Tickets")),
    ("services", gettext_noop("Service"), gettext_noop("Services")),
]

# (name, label, type, extra) per object type, in display order.
PROPERTIES = {
    "companies": [
        ("domain", gettext_noop("Company domain"), T.TEXT, {"unique": True, "group": "company"}),
        (
            "external_id",
            gettext_noop("External id"),
            T.TEXT,
            {
                "unique": True,
                "group": "company",
                "description": gettext_noop("The id of this account in your product."),
            },
        ),
        (
            "industry",
            gettext_noop("Industry"),
            T.ENUMERATION,
            {
                "group": "company",
                "options": _enum(
                    ("software", gettext_noop("Software")),
                    ("manufacturing", gettext_noop("Manufacturing")),
                    ("retail", gettext_noop("Retail")),
                    ("healthcare", gettext_noop("Healthcare")),
                    ("finance", gettext_noop("Finance")),
                    ("education", gettext_noop("Education")),
                ),
            },
        ),
        ("country", gettext_noop("Country"), T.TEXT, {"group": "company"}),
        ("city", gettext_noop("City"), T.TEXT, {"group": "company"}),
        ("employees", gettext_noop("Number of employees"), T.NUMBER, {"group": "company"}),
        (
            "contract_plan",
            gettext_noop("Contract plan"),
            T.ENUMERATION,
            {"group": "customer_success", "options": PLANS},
        ),
        ("contract_start_date", gettext_noop("Contract start date"), T.DATE, {"group": "customer_success"}),
        ("renewal_date", gettext_noop("Renewal date"), T.DATE, {"group": "customer_success"}),
        (
            "mrr",
            gettext_noop("MRR"),
            T.CURRENCY,
            {"group": "customer_success", "description": gettext_noop("Monthly recurring revenue.")},
        ),
        ("cs_stage", gettext_noop("CS stage"), T.ENUMERATION, {"group": "customer_success", "options": CS_STAGES}),
        (
            "csm",
            gettext_noop("CSM"),
            T.USER,
            {"group": "customer_success", "description": gettext_noop("The customer success manager of this account.")},
        ),
        (
            "nps",
            gettext_noop("NPS"),
            T.NUMBER,
            {"group": "customer_success", "description": gettext_noop("Latest Net Promoter Score answer (0–10).")},
        ),
        (
            "health_score",
            gettext_noop("Health score"),
            T.NUMBER,
            {
                "group": "customer_success",
                "read_only": True,
                "description": gettext_noop("Written by the health-score engine (0–100)."),
            },
        ),
        (
            "health_status",
            gettext_noop("Health status"),
            T.ENUMERATION,
            {
                "group": "customer_success",
                "read_only": True,
                "options": HEALTH_STATUSES,
                "description": gettext_noop("Written by the health-score engine."),
            },
        ),
    ],
    "contacts": [
        ("email", gettext_noop("Email"), T.TEXT, {"unique": True, "group": "contact"}),
        ("first_name", gettext_noop("First name"), T.TEXT, {"group": "contact"}),
        ("last_name", gettext_noop("Last name"), T.TEXT, {"group": "contact"}),
        ("job_title", gettext_noop("Job title"), T.TEXT, {"group": "contact"}),
        ("phone", gettext_noop("Phone"), T.TEXT, {"group": "contact"}),
        ("key_contact", gettext_noop("Key contact"), T.BOOLEAN, {"group": "customer_success"}),
        ("left_company", gettext_noop("Left the company"), T.BOOLEAN, {"group": "customer_success"}),
        ("nps", gettext_noop("NPS"), T.NUMBER, {"group": "customer_success"}),
    ],
    "deals": [
        ("amount", gettext_noop("Amount"), T.CURRENCY, {"group": "deal"}),
        ("close_date", gettext_noop("Close date"), T.DATE, {"group": "deal"}),
        (
            "deal_type",
            gettext_noop("Deal type"),
            T.ENUMERATION,
            {
                "group": "deal",
                "options": _enum(
                    ("new_business", gettext_noop("New business")),
                    ("renewal", gettext_noop("Renewal")),
                    ("expansion", gettext_noop("Expansion")),
                ),
            },
        ),
        ("contract_end_date", gettext_noop("Contract end date"), T.DATE, {"group": "deal"}),
        ("mrr", gettext_noop("MRR"), T.CURRENCY, {"group": "deal"}),
        ("csm", gettext_noop("CSM"), T.USER, {"group": "customer_success"}),
    ],
    "tickets": [
        ("description", gettext_noop("Description"), T.LONG_TEXT, {"group": "ticket"}),
        (
            "priority",
            gettext_noop("Priority"),
            T.ENUMERATION,
            {
                "group": "ticket",
                "options": _enum(
                    ("low", gettext_noop("Low")),
                    ("medium", gettext_noop("Medium")),
                    ("high", gettext_noop("High")),
                    ("urgent", gettext_noop("Urgent")),
                ),
            },
        ),
        (
            "category",
            gettext_noop("Category"),
            T.ENUMERATION,
            {
                "group": "ticket",
                "options": _enum(
                    ("question", gettext_noop("Question")),
                    ("problem", gettext_noop("Problem")),
                    ("feature_request", gettext_noop("Feature request")),
                    ("billing", gettext_noop("Billing")),
                ),
            },
        ),
        (
            "csat",
            gettext_noop("CSAT"),
            T.NUMBER,
            {"group": "ticket", "description": gettext_noop("Customer satisfaction, 1–5.")},
        ),
        ("closed_at", gettext_noop("Close date"), T.DATETIME, {"group": "ticket"}),
    ],
    "services": [
        (
            "service_type",
            gettext_noop("Service type"),
            T.ENUMERATION,
            {
                "group": "service",
                "options": _enum(
                    ("onboarding", gettext_noop("Onboarding")),
                    ("consulting", gettext_noop("Consulting")),
                    ("maintenance", gettext_noop("Maintenance")),
                    ("training", gettext_noop("Training")),
                ),
            },
        ),
        ("start_date", gettext_noop("Start date"), T.DATE, {"group": "service"}),
        ("target_end_date", gettext_noop("Target end date"), T.DATE, {"group": "service"}),
        ("renewal_date", gettext_noop("Renewal date"), T.DATE, {"group": "service"}),
        ("csm", gettext_noop("CSM"), T.USER, {"group": "customer_success"}),
        (
            "goal_status",
            gettext_noop("Goal status"),
            T.ENUMERATION,
            {
                "group": "customer_success",
                "options": _enum(
                    ("not_started", gettext_noop("Not started")),
                    ("in_progress", gettext_noop("In progress")),
                    ("achieved", gettext_noop("Achieved")),
                ),
            },
        ),
        ("kickoff_date", gettext_noop("Kickoff date"), T.DATE, {"group": "service"}),
    ],
}

# (object type, pipeline label, [(stage label, outcome, probability, target days, required properties)])
PIPELINES = [
    (
        "deals",
        gettext_noop("Sales pipeline"),
        [
            (gettext_noop("Appointment scheduled"), "", 0.2, None, []),
            (gettext_noop("Qualified to buy"), "", 0.4, None, []),
            (gettext_noop("Contract sent"), "", 0.8, None, ["amount"]),
            (gettext_noop("Closed won"), "won", 1.0, None, ["amount", "close_date"]),
            (gettext_noop("Closed lost"), "lost", 0.0, None, []),
        ],
    ),
    (
        "tickets",
        gettext_noop("Support pipeline"),
        [
            (gettext_noop("New"), "", None, 1, []),
            (gettext_noop("Waiting on contact"), "", None, None, []),
            (gettext_noop("Waiting on us"), "", None, 2, []),
            (gettext_noop("Closed"), "complete", None, None, []),
        ],
    ),
    (
        "services",
        gettext_noop("Onboarding"),
        [
            (gettext_noop("Kickoff prep"), "", None, 3, []),
            (gettext_noop("Kickoff done"), "", None, 7, ["kickoff_date"]),
            (gettext_noop("Initial setup done"), "", None, 21, []),
            (gettext_noop("Training done"), "", None, 14, []),
            (gettext_noop("First value review"), "", None, 14, []),
            (gettext_noop("Onboarding complete"), "complete", None, None, ["goal_status"]),
        ],
    ),
    (
        "services",
        gettext_noop("Maintenance"),
        [
            (gettext_noop("Scheduled"), "", None, None, []),
            (gettext_noop("In progress"), "", None, 5, []),
            (gettext_noop("Waiting on customer"), "", None, None, []),
            (gettext_noop("Done"), "complete", None, None, []),
        ],
    ),
]


@transaction.atomic
def install() -> None:
    types = {}
    for name, singular, plural in OBJECT_TYPES:
        types[name], _created = ObjectType.objects.get_or_create(
            name=name, defaults={"label_singular": singular, "label_plural": plural, "built_in": True}
        )
    for type_name, props in PROPERTIES.items():
        existing = set(PropertyDefinition.objects.filter(object_type=types[type_name]).values_list("name", flat=True))
        for order, (name, label, prop_type, extra) in enumerate(props, start=1):
            if name in existing:
                continue
            PropertyDefinition.objects.create(
                object_type=types[type_name],
                name=name,
                label=label,
                type=prop_type,
                built_in=True,
                display_order=order,
                options=extra.get("options", []),
                unique=extra.get("unique", False),
                read_only=extra.get("read_only", False),
                group=extra.get("group", ""),
                description=extra.get("description", ""),
            )
    with_pipelines = set(Pipeline.objects.values_list("object_type__name", flat=True))
    for order, (type_name, label, stages) in enumerate(PIPELINES):
        if type_name in with_pipelines:
            continue
        pipeline = Pipeline.objects.create(object_type=types[type_name], label=label, display_order=order)
        for i, (stage_label, outcome, probability, target_days, required) in enumerate(stages):
            Stage.objects.create(
                pipeline=pipeline,
                label=stage_label,
                display_order=i,
                outcome=outcome,
                probability=probability,
                target_days=target_days,
                required_properties=required,
            )


def on_post_migrate(sender, **kwargs) -> None:
    install()
