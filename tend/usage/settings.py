"""The usage settings: which customer property the groupId of usage events names."""

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from tend.core import policy
from tend.core.errors import ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import PropertyType
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.cs_settings.services import settings_change_log
from tend.usage.models import UsageSettings

if TYPE_CHECKING:
    from tend.directory.models import User


def usage_settings() -> UsageSettings:
    """The settings row, created with the defaults on first use."""
    current = UsageSettings.objects.first()
    if current is None:
        current = UsageSettings.objects.create()
    return current


def key_property_choices() -> list[tuple[str, str]]:
    """(name, label) of the properties that may identify an account in usage events: the unique
    single-line text properties of the customer object."""
    registry = registry_for(workspace_settings().customer_object_type)
    return [
        (s.name, str(s.label))
        for s in registry.value_specs()
        if s.unique and s.type == PropertyType.TEXT and not s.is_column
    ]


def settings_update_usage(*, actor: Actor, account_key_property: str) -> UsageSettings:
    """Which customer property the groupId of usage events names (e.g. the company domain)."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    name = (account_key_property or "").strip() if isinstance(account_key_property, str) else ""
    if name not in dict(key_property_choices()):
        raise ValidationFailed.single(
            "accountKeyProperty",
            _("Choose a unique single-line text property of the customer object."),
        )
    with transaction.atomic():
        current = UsageSettings.objects.select_for_update().filter(pk=usage_settings().pk).get()
        before = current.account_key_property
        if before != name:
            current.account_key_property = name
            current.save()
            settings_change_log(
                actor=actor,
                section="usage",
                old_value={"accountKeyProperty": before},
                new_value={"accountKeyProperty": name},
            )
    return current


def actor_user(actor: Actor) -> "User | None":
    return actor.user
