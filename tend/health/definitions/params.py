"""Parameters of measures and churn-signal rules: how they are described to the UI and checked."""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tend.core.errors import FieldError, ValidationFailed

MAX_WINDOW_DAYS = 365
MAX_EVENTS = 20


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


EVENTS = Param("events", gettext_noop("Events"), "events")


def window(default: int) -> Param:
    return Param(
        "window_days",
        gettext_noop("Window (days)"),
        "int",
        default=default,
        minimum=1,
        maximum=MAX_WINDOW_DAYS,
    )


def raise_errors(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def clean_text(value, where: str, errors: list[FieldError], *, required: bool = True, max_length: int = 120) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(FieldError(where, _("Enter a text."), "required"))
        return ""
    if len(value) > max_length:
        errors.append(FieldError(where, _("Enter at most %(n)d characters.") % {"n": max_length}))
    return value.strip()


def clean_param(spec: Param, value, where: str, errors: list[FieldError]):
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
        if not is_number(value) or value < 0 or value > 1_000_000:
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
