"""The usage settings: which customer property the groupId of usage events names, and how track and
page calls become contact activity."""

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from tend.activity.models import ActivityType
from tend.activity.services import TYPE_KEY
from tend.core import policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import ObjectType, PropertyType
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


CONTACT_MATCHES = ("email", "property")
MAX_EVENT_MAPPINGS = 100


def contact_property_choices() -> list[tuple[str, str]]:
    """(name, label) of the contact properties a userId may name as an external id: the
    single-line text properties of contacts (not the email: that is the other choice)."""
    contacts = ObjectType.objects.filter(name="contacts").first()
    if contacts is None:
        return []
    return [
        (s.name, str(s.label))
        for s in registry_for(contacts).value_specs()
        if s.type == PropertyType.TEXT and not s.is_column and s.name != "email"
    ]


def activity_mapping(current: UsageSettings) -> dict:
    """The contact-activity part of the settings, as audit-logged and shown."""
    return {
        "activityContactMatch": current.activity_contact_match,
        "activityContactProperty": current.activity_contact_property,
        "activityEvents": dict(current.activity_events or {}),
        "activityPageViews": current.activity_page_views,
    }


def settings_update_activity(
    *,
    actor: Actor,
    contact_match: str,
    contact_property: str = "",
    events: list[tuple[str, str]],
    page_views: bool,
) -> UsageSettings:
    """How Segment calls become contact activity: the userId is the contact's email or an
    external-id property of contacts; which track events are which activity type (a built-in
    type, or a custom key whose label is the event name); whether page calls are page views."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    errors: list[FieldError] = []
    if contact_match not in CONTACT_MATCHES:
        errors.append(FieldError("activityContactMatch", _("Choose the email or an external-id property.")))
    prop = (contact_property or "").strip() if contact_match == "property" else ""
    if contact_match == "property" and prop not in dict(contact_property_choices()):
        errors.append(
            FieldError("activityContactProperty", _("Choose a single-line text property of contacts."), "required")
        )
    mapping: dict[str, str] = {}
    for i, (raw_name, raw_type) in enumerate(events):
        name, kind = (raw_name or "").strip(), (raw_type or "").strip()
        if not name and not kind:
            continue
        where = f"activityEvents[{i}]"
        if not name or len(name) > 200:
            errors.append(FieldError(f"{where}.event", _("Enter the event name (at most 200 characters).")))
        elif name in mapping:
            errors.append(FieldError(f"{where}.event", _("This event is mapped twice.")))
        if kind not in ActivityType.values and not TYPE_KEY.match(kind):
            errors.append(
                FieldError(f"{where}.type", _("Choose an activity type or enter a custom key (a-z, 0-9, _).")),
            )
        mapping.setdefault(name, kind)
    if len(mapping) > MAX_EVENT_MAPPINGS:
        errors.append(FieldError("activityEvents", _("Map at most %(n)d events.") % {"n": MAX_EVENT_MAPPINGS}))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    with transaction.atomic():
        current = UsageSettings.objects.select_for_update().filter(pk=usage_settings().pk).get()
        before = activity_mapping(current)
        current.activity_contact_match = contact_match
        current.activity_contact_property = prop
        current.activity_events = mapping
        current.activity_page_views = bool(page_views)
        after = activity_mapping(current)
        if after != before:
            current.save()
            settings_change_log(actor=actor, section="usage", old_value=before, new_value=after)
    return current
