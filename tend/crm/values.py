"""Validation and canonical forms of property values, one function per type.

Canonical (stored / returned) forms: text → str; number, currency → int or float; date →
"YYYY-MM-DD"; datetime → "YYYY-MM-DDTHH:MM:SSZ" in UTC; boolean → bool; enumeration → the
option value; multi_enumeration → list of option values in option order; user → user id (int).
An empty value (None, "", []) means "no value" and is never stored.
"""

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from tend.directory.models import User

from .models import PropertyType

MAX_TEXT = 1000
MAX_LONG_TEXT = 65_536
MAX_NUMBER = 10**15  # whole numbers stay below 2**53, exact for JSON clients that read floats
MAX_ID = 2**63 - 1  # a bigint primary key
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
OPTION_VALUE_RE = re.compile(r"^[A-Za-z0-9_\-.]{1,100}$")


class InvalidValue(ValueError):
    pass


def is_empty(value) -> bool:
    """None, blank text and empty lists all mean "no value"."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _number(raw, *, decimals: int | None = None):
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise InvalidValue(_("Enter a number."))
    if isinstance(raw, float) and not math.isfinite(raw):
        raise InvalidValue(_("Enter a finite number."))
    try:
        # A float goes through its shortest repr so that 0.125 rounds as written, not as the
        # binary fraction stored; an int directly, so that no digit limit applies.
        parsed = Decimal(raw) if isinstance(raw, int) else Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise InvalidValue(_("Enter a number.")) from exc
    if not parsed.is_finite():
        raise InvalidValue(_("Enter a finite number."))
    if decimals is not None and abs(parsed) < MAX_NUMBER:
        parsed = parsed.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if abs(parsed) >= MAX_NUMBER:
        raise InvalidValue(_("Enter a number below one quadrillion."))
    if parsed == parsed.to_integral_value():
        return int(parsed)
    value = float(parsed)
    return int(value) if value.is_integer() else value


def parse_date(raw) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    if isinstance(raw, str) and DATE_RE.fullmatch(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise InvalidValue(_("Enter a date as YYYY-MM-DD."))


def parse_datetime(raw) -> dt.datetime:
    """An aware datetime from an ISO 8601 string with an offset (or Z) or a datetime."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.strip())
        except ValueError as exc:
            raise InvalidValue(_("Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z.")) from exc
    else:
        raise InvalidValue(_("Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."))
    if value.tzinfo is None:
        raise InvalidValue(_("Include a time zone offset, e.g. 2026-05-01T09:30:00+02:00 or …Z."))
    try:
        return value.astimezone(dt.UTC).replace(microsecond=0)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise InvalidValue(_("Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z.")) from exc


def format_datetime(value: dt.datetime) -> str:
    # isoformat, not strftime("%Y"): glibc does not zero-pad years before 1000.
    return value.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def option_values(options: list[dict]) -> list[str]:
    return [str(o["value"]) for o in options or []]


def clean_value(prop_type: str, raw, *, options: list[dict] | None = None, user_ids=None):
    """The canonical form of `raw` for a property of `prop_type`, or InvalidValue with the reason.

    Returns None for an empty value. `user_ids` is a callable answering which of the given ids
    are active users (so that a batch can check many at once).
    """
    if is_empty(raw):
        return None
    match prop_type:
        case PropertyType.TEXT:
            if not isinstance(raw, str):
                raise InvalidValue(_("Enter text."))
            if len(raw) > MAX_TEXT:
                raise InvalidValue(_("Enter at most %(n)d characters.") % {"n": MAX_TEXT})
            if "\n" in raw or "\r" in raw:
                raise InvalidValue(_("Enter a single line of text."))
            return raw
        case PropertyType.LONG_TEXT:
            if not isinstance(raw, str):
                raise InvalidValue(_("Enter text."))
            if len(raw) > MAX_LONG_TEXT:
                raise InvalidValue(_("Enter at most %(n)d characters.") % {"n": MAX_LONG_TEXT})
            return raw
        case PropertyType.NUMBER:
            return _number(raw)
        case PropertyType.CURRENCY:
            return _number(raw, decimals=2)
        case PropertyType.DATE:
            return parse_date(raw).isoformat()
        case PropertyType.DATETIME:
            return format_datetime(parse_datetime(raw))
        case PropertyType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
                return raw.strip().lower() == "true"
            raise InvalidValue(_("Enter true or false."))
        case PropertyType.ENUMERATION:
            allowed = option_values(options)
            if not isinstance(raw, str) or raw not in allowed:
                raise InvalidValue(_("Choose one of: %(options)s.") % {"options": ", ".join(allowed) or "—"})
            return raw
        case PropertyType.MULTI_ENUMERATION:
            allowed = option_values(options)
            items = [i.strip() for i in raw.split(";") if i.strip()] if isinstance(raw, str) else raw
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise InvalidValue(_("Enter a list of options."))
            unknown = [i for i in items if i not in allowed]
            if unknown:
                raise InvalidValue(
                    _("Unknown option %(value)s; choose from: %(options)s.")
                    % {"value": unknown[0], "options": ", ".join(allowed) or "—"}
                )
            chosen = set(items)
            return [v for v in allowed if v in chosen] or None
        case PropertyType.USER:
            # int() would silently turn 3.7 into user 3.
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise InvalidValue(_("Enter a user id."))
            try:
                user_id = int(raw)
            except (TypeError, ValueError) as exc:
                raise InvalidValue(_("Enter a user id.")) from exc
            if not 0 < user_id <= MAX_ID:
                raise InvalidValue(_("Enter a user id."))
            if user_ids is not None and user_id not in user_ids([user_id]):
                raise InvalidValue(_("No active user has id %(id)s.") % {"id": user_id})
            return user_id
    raise InvalidValue(_("Unknown property type %(type)s.") % {"type": prop_type})


def active_user_ids(ids) -> set[int]:
    return set(User.objects.filter(pk__in=list(ids), is_active=True).values_list("pk", flat=True))
