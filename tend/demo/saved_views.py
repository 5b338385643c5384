"""The demo's default views: what a CS manager shares with the team on the Customers tab, so
that the tab's views bar and the Summary's customer-view cards show real work on day one."""

from tend.core.policy import Actor
from tend.crm.models import ObjectType
from tend.directory.models import User
from tend.workspace import services as views

COLUMNS = ["name", "csm", "health_score", "mrr", "renewal_date", "cs_stage"]

# name, description, filter groups (the one filter language), sorts — written by the manager
# in English, as a person types them.
DEFAULT_VIEWS = [
    (
        "At-risk accounts",
        "Customers whose health is At risk: call them this week.",
        [{"filters": [{"propertyName": "health_status", "operator": "EQ", "value": "at_risk"}]}],
        [{"propertyName": "health_score", "direction": "ASCENDING"}],
    ),
    (
        "Renewing in 90 days",
        "Renewals coming up: start the 90-60-30 day plan.",
        [{"filters": [{"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": 90}]}],
        [{"propertyName": "renewal_date", "direction": "ASCENDING"}],
    ),
    (
        "Onboarding",
        "Customers still onboarding.",
        [{"filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "onboarding"}]}],
        [{"propertyName": "created_at", "direction": "DESCENDING"}],
    ),
    (
        "Enterprise book",
        "Enterprise plans, largest MRR first.",
        [{"filters": [{"propertyName": "contract_plan", "operator": "EQ", "value": "enterprise"}]}],
        [{"propertyName": "mrr", "direction": "DESCENDING"}],
    ),
]


def write_default_views(manager: User, customers: ObjectType) -> int:
    """Create the manager's shared default views of the Customers tab (through the services, so
    that they are validated as a user's would be); the number written."""
    actor = Actor(manager)
    for name, description, groups, sorts in DEFAULT_VIEWS:
        view = views.view_create(
            actor=actor,
            tab="customers",
            object_type=customers,
            name=name,
            filters={"filterGroups": groups},
            columns=COLUMNS,
            sorts=sorts,
            visibility="everyone",
        )
        views.view_set_default(actor=actor, view=view, is_default=True, description=description)
    return len(DEFAULT_VIEWS)
