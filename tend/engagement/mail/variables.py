"""Variables of email subjects and bodies: `{{ contact.first_name }}`, `{{ company.name }}`,
`{{ company.renewal_date }}`, `{{ csm.name }}`… (docs/email.md has the list).

Templates are user input, so they are not Django templates: only `{{ object.property }}` is
replaced, by plain text, and a name Tend does not know is an error before anything is sent."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.core import clock
from tend.core.errors import FieldError
from tend.crm.display import Formatter
from tend.crm.models import Record
from tend.crm.registry import Registry

VARIABLE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_NAME = re.compile(r"^(contact|company|csm|sender)\.([a-z_][a-z0-9_]*)$")
USER_FIELDS = ("name", "first_name", "email")
RENEWAL_DATE = "renewal_date"  # company.renewal_date: whichever property the workspace renews on

# The variables the composer lists; any other property of contacts or companies works too.
DOCUMENTED = (
    ("contact.first_name", gettext_lazy("The contact's first name")),
    ("contact.last_name", gettext_lazy("The contact's last name")),
    ("contact.email", gettext_lazy("The contact's email")),
    ("company.name", gettext_lazy("The company's name")),
    ("company.domain", gettext_lazy("The company's domain")),
    ("company.renewal_date", gettext_lazy("The company's renewal date")),
    ("csm.name", gettext_lazy("The company's CSM")),
    ("csm.first_name", gettext_lazy("The CSM's first name")),
    ("csm.email", gettext_lazy("The CSM's email")),
    ("sender.name", gettext_lazy("Your name")),
    ("sender.first_name", gettext_lazy("Your first name")),
    ("sender.email", gettext_lazy("Your email")),
)


@dataclass
class Variables:
    """What a message's variables stand for: the contact it is addressed to, its company, the
    company's CSM and the sender, with the registries that name the records' properties."""

    sender: object
    contact_registry: Registry
    company_registry: Registry
    renewal_property: str = ""
    contact: Record | None = None
    company: Record | None = None
    csm: object = None
    _formatters: dict = field(default_factory=dict)

    def _formatter(self, registry: Registry) -> Formatter:
        key = id(registry)
        if key not in self._formatters:
            self._formatters[key] = Formatter(registry)
        return self._formatters[key]

    def _property_name(self, obj: str, name: str) -> str:
        if obj == "company" and name == RENEWAL_DATE and self.renewal_property:
            return self.renewal_property
        return name

    def problem(self, variable: str) -> str | None:
        """Why `variable` cannot be filled in, or None."""
        match = _NAME.match(variable)
        if match is None:
            return _("Unknown variable {{ %(name)s }}.") % {"name": variable}
        obj, name = match.groups()
        if obj in ("csm", "sender"):
            if name not in USER_FIELDS:
                return _("Unknown variable {{ %(name)s }}.") % {"name": variable}
            return None
        registry = self.contact_registry if obj == "contact" else self.company_registry
        if registry.get(self._property_name(obj, name)) is None:
            return _("Unknown variable {{ %(name)s }}.") % {"name": variable}
        if obj == "contact" and self.contact is None:
            return _("{{ %(name)s }} needs a contact among the To recipients.") % {"name": variable}
        if obj == "company" and self.company is None:
            return _("{{ %(name)s }} needs a company associated with this record.") % {"name": variable}
        return None

    def value(self, variable: str) -> str:
        obj, name = variable.split(".", 1)
        if obj in ("csm", "sender"):
            user = self.csm if obj == "csm" else self.sender
            if user is None:
                return ""
            full = getattr(user, "full_name", "") or ""
            return {
                "name": full or user.email,
                "first_name": full.split(" ", 1)[0] if full else "",
                "email": user.email,
            }[name]
        record = self.contact if obj == "contact" else self.company
        registry = self.contact_registry if obj == "contact" else self.company_registry
        return str(self._formatter(registry).text(record, self._property_name(obj, name)))


def variables_in(text: str) -> Iterator[str]:
    for match in VARIABLE.finditer(text or ""):
        yield match.group(1)


def check(variables: Variables, texts: dict[str, str]) -> list[FieldError]:
    """An error at each field (subject, body) for each variable that cannot be filled in."""
    errors = []
    for field_name, text in texts.items():
        problems = dict.fromkeys(p for v in variables_in(text) if (p := variables.problem(v)) is not None)
        errors.extend(FieldError(field_name, message, "unknown_variable") for message in problems)
    return errors


def check_names(texts: dict[str, str], *, contact_registry: Registry, company_registry: Registry) -> list[FieldError]:
    """Unknown variable names only (a template has no recipients yet)."""
    errors = []
    for field_name, text in texts.items():
        for variable in dict.fromkeys(variables_in(text)):
            match = _NAME.match(variable)
            obj, name = match.groups() if match else ("", "")
            known = bool(match) and (
                name in USER_FIELDS
                if obj in ("csm", "sender")
                else (
                    (contact_registry if obj == "contact" else company_registry).get(name) is not None
                    or (obj == "company" and name == RENEWAL_DATE)
                )
            )
            if not known:
                message = _("Unknown variable {{ %(name)s }}.") % {"name": variable}
                errors.append(FieldError(field_name, message, "unknown_variable"))
    return errors


def render(variables: Variables, text: str) -> str:
    """`text` with its variables filled in, in the sender's language and time zone (the language
    the sender writes to the customer in). Call `check` first: unknown names raise KeyError."""
    sender = variables.sender
    with translation.override(getattr(sender, "language", None) or "en"), timezone.override(clock.user_zone(sender)):
        return VARIABLE.sub(lambda m: variables.value(m.group(1)), text or "")
