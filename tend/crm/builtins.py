"""The built-in object types, properties and default pipelines every workspace starts with.

Installed after every `migrate` (idempotent: existing rows are left as the admin changed them).
"""

from django.db import transaction
from django.utils.translation import gettext_noop as N_

from .models import ObjectType, Pipeline, PropertyDefinition, Stage
from .models import PropertyType as T


def _enum(*pairs):
    return [{"value": v, "label": label} for v, label in pairs]


CS_STAGES = _enum(
    ("onboarding", N_("Onboarding")), ("active", N_("Active")), ("at_risk", N_("At risk")), ("churned", N_("Churned"))
)
PLANS = _enum(("starter", N_("Starter")), ("growth", N_("Growth")), ("enterprise", N_("Enterprise")))

OBJECT_TYPES = [
    ("companies", N_("Company"), N_("Companies")),
    ("contacts", N_("Contact"), N_("Contacts")),
    ("deals", N_("Deal"), N_("Deals")),
    ("tickets", N_("Ticket"), N_("Tickets")),
    ("services", N_("Service"), N_("Services")),
]

# (name, label, type, extra) per object type, in display order.
PROPERTIES = {
    "companies": [
        ("domain", N_("Company domain"), T.TEXT, {"unique": True, "group": "company"}),
        (
            "external_id",
            N_("External id"),
            T.TEXT,
            {"unique": True, "group": "company", "description": N_("The id of this account in your product.")},
        ),
        (
            "industry",
            N_("Industry"),
            T.ENUMERATION,
            {
                "group": "company",
                "options": _enum(
                    ("software", N_("Software")),
                    ("manufacturing", N_("Manufacturing")),
                    ("retail", N_("Retail")),
                    ("healthcare", N_("Healthcare")),
                    ("finance", N_("Finance")),
                    ("education", N_("Education")),
                ),
            },
        ),
        ("country", N_("Country"), T.TEXT, {"group": "company"}),
        ("city", N_("City"), T.TEXT, {"group": "company"}),
        ("employees", N_("Number of employees"), T.NUMBER, {"group": "company"}),
        ("contract_plan", N_("Contract plan"), T.ENUMERATION, {"group": "customer_success", "options": PLANS}),
        ("contract_start_date", N_("Contract start date"), T.DATE, {"group": "customer_success"}),
        ("renewal_date", N_("Renewal date"), T.DATE, {"group": "customer_success"}),
        ("mrr", N_("MRR"), T.CURRENCY, {"group": "customer_success", "description": N_("Monthly recurring revenue.")}),
        ("cs_stage", N_("CS stage"), T.ENUMERATION, {"group": "customer_success", "options": CS_STAGES}),
        (
            "csm",
            N_("CSM"),
            T.USER,
            {"group": "customer_success", "description": N_("The customer success manager of this account.")},
        ),
        (
            "nps",
            N_("NPS"),
            T.NUMBER,
            {"group": "customer_success", "description": N_("Latest Net Promoter Score answer (0–10).")},
        ),
    ],
    "contacts": [
        ("email", N_("Email"), T.TEXT, {"unique": True, "group": "contact"}),
        ("first_name", N_("First name"), T.TEXT, {"group": "contact"}),
        ("last_name", N_("Last name"), T.TEXT, {"group": "contact"}),
        ("job_title", N_("Job title"), T.TEXT, {"group": "contact"}),
        ("phone", N_("Phone"), T.TEXT, {"group": "contact"}),
        ("key_contact", N_("Key contact"), T.BOOLEAN, {"group": "customer_success"}),
        ("left_company", N_("Left the company"), T.BOOLEAN, {"group": "customer_success"}),
        ("nps", N_("NPS"), T.NUMBER, {"group": "customer_success"}),
    ],
    "deals": [
        ("amount", N_("Amount"), T.CURRENCY, {"group": "deal"}),
        ("close_date", N_("Close date"), T.DATE, {"group": "deal"}),
        (
            "deal_type",
            N_("Deal type"),
            T.ENUMERATION,
            {
                "group": "deal",
                "options": _enum(
                    ("new_business", N_("New business")), ("renewal", N_("Renewal")), ("expansion", N_("Expansion"))
                ),
            },
        ),
        ("contract_end_date", N_("Contract end date"), T.DATE, {"group": "deal"}),
        ("mrr", N_("MRR"), T.CURRENCY, {"group": "deal"}),
        ("csm", N_("CSM"), T.USER, {"group": "customer_success"}),
    ],
    "tickets": [
        ("description", N_("Description"), T.LONG_TEXT, {"group": "ticket"}),
        (
            "priority",
            N_("Priority"),
            T.ENUMERATION,
            {
                "group": "ticket",
                "options": _enum(
                    ("low", N_("Low")), ("medium", N_("Medium")), ("high", N_("High")), ("urgent", N_("Urgent"))
                ),
            },
        ),
        (
            "category",
            N_("Category"),
            T.ENUMERATION,
            {
                "group": "ticket",
                "options": _enum(
                    ("question", N_("Question")),
                    ("problem", N_("Problem")),
                    ("feature_request", N_("Feature request")),
                    ("billing", N_("Billing")),
                ),
            },
        ),
        ("csat", N_("CSAT"), T.NUMBER, {"group": "ticket", "description": N_("Customer satisfaction, 1–5.")}),
        ("closed_at", N_("Close date"), T.DATETIME, {"group": "ticket"}),
    ],
    "services": [
        (
            "service_type",
            N_("Service type"),
            T.ENUMERATION,
            {
                "group": "service",
                "options": _enum(
                    ("onboarding", N_("Onboarding")),
                    ("consulting", N_("Consulting")),
                    ("maintenance", N_("Maintenance")),
                    ("training", N_("Training")),
                ),
            },
        ),
        ("start_date", N_("Start date"), T.DATE, {"group": "service"}),
        ("target_end_date", N_("Target end date"), T.DATE, {"group": "service"}),
        ("renewal_date", N_("Renewal date"), T.DATE, {"group": "service"}),
        ("csm", N_("CSM"), T.USER, {"group": "customer_success"}),
        (
            "goal_status",
            N_("Goal status"),
            T.ENUMERATION,
            {
                "group": "customer_success",
                "options": _enum(
                    ("not_started", N_("Not started")), ("in_progress", N_("In progress")), ("achieved", N_("Achieved"))
                ),
            },
        ),
        ("kickoff_date", N_("Kickoff date"), T.DATE, {"group": "service"}),
    ],
}

# (object type, pipeline label, [(stage label, outcome, probability, target days, required properties)])
PIPELINES = [
    (
        "deals",
        N_("Sales pipeline"),
        [
            (N_("Appointment scheduled"), "", 0.2, None, []),
            (N_("Qualified to buy"), "", 0.4, None, []),
            (N_("Contract sent"), "", 0.8, None, ["amount"]),
            (N_("Closed won"), "won", 1.0, None, ["amount", "close_date"]),
            (N_("Closed lost"), "lost", 0.0, None, []),
        ],
    ),
    (
        "tickets",
        N_("Support pipeline"),
        [
            (N_("New"), "", None, 1, []),
            (N_("Waiting on contact"), "", None, None, []),
            (N_("Waiting on us"), "", None, 2, []),
            (N_("Closed"), "complete", None, None, []),
        ],
    ),
    (
        "services",
        N_("Onboarding"),
        [
            (N_("Kickoff prep"), "", None, 3, []),
            (N_("Kickoff done"), "", None, 7, ["kickoff_date"]),
            (N_("Initial setup done"), "", None, 21, []),
            (N_("Training done"), "", None, 14, []),
            (N_("First value review"), "", None, 14, []),
            (N_("Onboarding complete"), "complete", None, None, ["goal_status"]),
        ],
    ),
    (
        "services",
        N_("Maintenance"),
        [
            (N_("Scheduled"), "", None, None, []),
            (N_("In progress"), "", None, 5, []),
            (N_("Waiting on customer"), "", None, None, []),
            (N_("Done"), "complete", None, None, []),
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
