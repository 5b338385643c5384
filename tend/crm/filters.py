"""The one filter language, validated against the property registry and compiled to the ORM.

The body is shaped like HubSpot's CRM search request:

    {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "IN",
                                    "values": ["onboarding", "at_risk"]}]}],
     "sorts": [{"propertyName": "renewal_date", "direction": "ASCENDING"}],
     "query": "acme"}

Filter groups are OR-ed, the filters of a group AND-ed. Negative operators (NEQ, NOT_IN,
NOT_CONTAINS_TOKEN) also match records without a value, as "is not" does in a CRM's UI. Text
comparisons ignore case. Relative dates (IN_LAST_DAYS, IN_NEXT_DAYS) count calendar days in the
requesting user's time zone, today included. Saved views, reports, health-score segments and
workflow triggers all store this same structure. Nothing else in Tend builds queries from user
input.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db.models import F, Q
from django.utils.translation import gettext as _

from tend.core import clock
from tend.core.errors import FieldError, ValidationFailed
from tend.directory.queries import team_ids

from . import values
from .models import PropertyKey, PropertyType
from .registry import PIPELINE, STAGE, PropSpec, Registry

MAX_GROUPS = 10
MAX_FILTERS_PER_GROUP = 25
MAX_SORTS = 3
MAX_IN_VALUES = 500
MAX_RELATIVE_DAYS = 36_500

_BASIC = {"EQ", "NEQ", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}
_ORDERED = {"LT", "LTE", "GT", "GTE", "BETWEEN"}
_SETS = {"IN", "NOT_IN"}
_TOKENS = {"CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
_RELATIVE = {"IN_LAST_DAYS", "IN_NEXT_DAYS"}

OPERATORS_BY_TYPE: dict[str, frozenset[str]] = {
    PropertyType.TEXT: frozenset(_BASIC | _SETS | _TOKENS),
    PropertyType.LONG_TEXT: frozenset(_BASIC | _TOKENS),
    PropertyType.NUMBER: frozenset(_BASIC | _ORDERED | _SETS),
    PropertyType.CURRENCY: frozenset(_BASIC | _ORDERED | _SETS),
    PropertyType.DATE: frozenset(_BASIC | _ORDERED | _RELATIVE),
    PropertyType.DATETIME: frozenset(_BASIC | _ORDERED | _RELATIVE),
    PropertyType.BOOLEAN: frozenset(_BASIC),
    PropertyType.ENUMERATION: frozenset(_BASIC | _SETS),
    PropertyType.MULTI_ENUMERATION: frozenset(_BASIC | _SETS),
    PropertyType.USER: frozenset(_BASIC | _SETS | {"IS_ME", "IN_MY_TEAM"}),
    PIPELINE: frozenset(_BASIC | _SETS),
    STAGE: frozenset(_BASIC | _SETS),
}
ALL_OPERATORS = frozenset().union(*OPERATORS_BY_TYPE.values())
SORTABLE_TYPES = frozenset(OPERATORS_BY_TYPE) - {PropertyType.MULTI_ENUMERATION, PropertyType.LONG_TEXT}


@dataclass
class CompiledSearch:
    where: Q
    order_by: list
    has_filters: bool
    registry: Registry | None = None

    def apply(self, queryset):
        """The matching rows of `queryset`, sorted, with the derived properties' rows prefetched."""
        queryset = queryset.filter(self.where).order_by(*self.order_by)
        return self.registry.prefetch(queryset) if self.registry is not None else queryset


class _Reject(Exception):
    def __init__(self, where: str, message: str, code: str = "invalid"):
        self.where, self.message, self.code = where, message, code


def compile_search(
    body: dict | None, registry: Registry, *, user, tz: zoneinfo.ZoneInfo | None = None
) -> CompiledSearch:
    """Validate the whole body first, then return the Q and ordering; ValidationFailed names
    every bad part (e.g. ``filterGroups[0].filters[1].value``)."""
    body = body or {}
    tz = tz or clock.user_zone(user)
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        raise ValidationFailed.single("body", _("The search body must be a JSON object."))

    groups = body.get("filterGroups") or []
    group_qs: list[Q] = []
    if not isinstance(groups, list):
        errors.append(FieldError("filterGroups", _("filterGroups must be a list.")))
        groups = []
    if len(groups) > MAX_GROUPS:
        errors.append(FieldError("filterGroups", _("Use at most %(n)d filter groups.") % {"n": MAX_GROUPS}))
    for gi, group in enumerate(groups[:MAX_GROUPS]):
        where = f"filterGroups[{gi}]"
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            errors.append(FieldError(f"{where}.filters", _("Each filter group needs a list of filters.")))
            continue
        if not filters:
            errors.append(FieldError(f"{where}.filters", _("A filter group needs at least one filter."), "required"))
            continue
        if len(filters) > MAX_FILTERS_PER_GROUP:
            errors.append(
                FieldError(
                    f"{where}.filters",
                    _("Use at most %(n)d filters in a group.") % {"n": MAX_FILTERS_PER_GROUP},
                )
            )
            continue
        filter_qs = []
        for fi, spec_filter in enumerate(filters):
            try:
                filter_qs.append(_compile_filter(spec_filter, registry, user=user, tz=tz))
            except _Reject as exc:
                errors.append(FieldError(f"{where}.filters[{fi}]{exc.where}", exc.message, exc.code))
        if filter_qs:
            group_qs.append(reduce(and_, filter_qs))

    order_by = []
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list) or len(sorts) > MAX_SORTS:
        errors.append(FieldError("sorts", _("sorts must be a list of at most %(n)d items.") % {"n": MAX_SORTS}))
        sorts = []
    for si, sort in enumerate(sorts):
        try:
            order_by.append(_compile_sort(sort, registry))
        except _Reject as exc:
            errors.append(FieldError(f"sorts[{si}]{exc.where}", exc.message, exc.code))

    query = body.get("query")
    query_q = None
    if query not in (None, ""):
        if not isinstance(query, str) or len(query) > 200:
            errors.append(FieldError("query", _("query must be text of at most 200 characters.")))
        else:
            terms = [
                Q(**{_lookup(registry.get(name), "icontains"): query.strip()})
                for name in registry.search_fields
                if registry.get(name)
            ]
            query_q = reduce(or_, terms) if terms else Q()

    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)

    where = reduce(or_, group_qs) if group_qs else Q()
    if query_q is not None:
        where &= query_q
    order_by.append("id")
    return CompiledSearch(
        where=where, order_by=order_by, has_filters=bool(group_qs) or query_q is not None, registry=registry
    )


def _lookup(spec: PropSpec, op: str) -> str:
    base = spec.column if spec.is_column else f"properties__{spec.name}"
    return f"{base}__{op}"


def _has(spec: PropSpec) -> Q:
    if not spec.is_column:
        return Q(properties__has_key=spec.name)
    q = Q(**{_lookup(spec, "isnull"): False})
    if spec.type in (PropertyType.TEXT, PropertyType.LONG_TEXT, PropertyType.ENUMERATION):
        q &= ~Q(**{_lookup(spec, "exact"): ""})
    return q


def _negate(spec: PropSpec, positive: Q) -> Q:
    has = _has(spec)
    return ~has | (has & ~positive)


def _db_value(spec: PropSpec, canonical):
    """Canonical value → what the database compares: datetimes in columns are datetimes."""
    if spec.is_column and spec.type == PropertyType.DATETIME:
        return values.parse_datetime(canonical)
    return canonical


def _clean_filter_value(spec: PropSpec, raw, where: str):
    if values.is_empty(raw):
        raise _Reject(where, _("Enter a value to compare with."), "required")
    try:
        if spec.type == PropertyType.MULTI_ENUMERATION:
            cleaned = values.clean_value(PropertyType.ENUMERATION, raw, options=list(spec.options))
        elif spec.type in (PIPELINE, STAGE):
            cleaned = _clean_pipeline_value(spec, raw)
        else:
            cleaned = values.clean_value(spec.type, raw, options=list(spec.options))
    except values.InvalidValue as exc:
        raise _Reject(where, str(exc)) from exc
    return cleaned


def _clean_pipeline_value(spec: PropSpec, raw) -> int:
    # int() alone would take true as 1 and 2.5 as 2, and 10**20 overflows SQLite's integers.
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise values.InvalidValue(_("Enter a %(what)s id.") % {"what": spec.type})
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise values.InvalidValue(_("Enter a %(what)s id.") % {"what": spec.type}) from exc
    if not 0 < value <= values.MAX_ID:
        raise values.InvalidValue(_("Enter a %(what)s id.") % {"what": spec.type})
    return value


def _equals(spec: PropSpec, value) -> Q:
    if spec.type in (PropertyType.TEXT, PropertyType.LONG_TEXT):
        return Q(**{_lookup(spec, "iexact"): value})
    if spec.type == PropertyType.MULTI_ENUMERATION:
        # Stored as a JSON list; option values cannot contain quotes (values.OPTION_VALUE_RE),
        # so the quoted value matches exactly one element of the list's JSON text.
        return Q(**{_lookup(spec, "icontains"): f'"{value}"'})
    return Q(**{_lookup(spec, "exact"): _db_value(spec, value)})


def _relative_range(spec: PropSpec, op: str, days: int, tz: zoneinfo.ZoneInfo):
    today = clock.today(tz)
    now = clock.now()
    if spec.type == PropertyType.DATE:
        if op == "IN_LAST_DAYS":
            return (today - dt.timedelta(days=days)).isoformat(), today.isoformat()
        return today.isoformat(), (today + dt.timedelta(days=days)).isoformat()
    if op == "IN_LAST_DAYS":
        low, high = clock.start_of_day(today - dt.timedelta(days=days), tz), now
    else:
        low = now
        # The last instant of the last day: columns keep microseconds (values in JSON do not).
        high = clock.start_of_day(today + dt.timedelta(days=days + 1), tz) - dt.timedelta(microseconds=1)
    if spec.is_column:
        return low, high
    return values.format_datetime(low), values.format_datetime(high)


def _compile_filter(raw_filter, registry: Registry, *, user, tz) -> Q:
    if not isinstance(raw_filter, dict):
        raise _Reject("", _("Each filter must be an object with propertyName and operator."))
    name = raw_filter.get("propertyName")
    spec = registry.get(name) if isinstance(name, str) else None
    if spec is None:
        raise _Reject(".propertyName", _("Unknown property %(name)s.") % {"name": name}, "unknown_property")
    op = raw_filter.get("operator")
    if op not in ALL_OPERATORS:
        raise _Reject(".operator", _("Unknown operator %(op)s.") % {"op": op}, "unknown_operator")
    if op not in OPERATORS_BY_TYPE[spec.type]:
        raise _Reject(
            ".operator",
            _("Operator %(op)s does not apply to %(name)s (a %(type)s property).")
            % {"op": op, "name": name, "type": spec.type},
            "invalid_operator",
        )

    if op == "HAS_PROPERTY":
        return _has(spec)
    if op == "NOT_HAS_PROPERTY":
        return ~_has(spec)
    if op == "IS_ME":
        if user is None or not getattr(user, "pk", None):
            raise _Reject(".operator", _("IS_ME needs a signed-in user."))
        return Q(**{_lookup(spec, "exact"): user.pk})
    if op == "IN_MY_TEAM":
        if user is None or not getattr(user, "pk", None):
            raise _Reject(".operator", _("IN_MY_TEAM needs a signed-in user."))
        return Q(**{_lookup(spec, "in"): team_ids(user)})

    if op in _SETS:
        raw_values = raw_filter.get("values")
        if not isinstance(raw_values, list) or not raw_values:
            raise _Reject(".values", _("Enter a non-empty list of values."), "required")
        if len(raw_values) > MAX_IN_VALUES:
            raise _Reject(".values", _("Use at most %(n)d values.") % {"n": MAX_IN_VALUES})
        cleaned = [_clean_filter_value(spec, v, f".values[{i}]") for i, v in enumerate(raw_values)]
        if spec.type in (PropertyType.TEXT, PropertyType.MULTI_ENUMERATION):
            positive = reduce(or_, [_equals(spec, v) for v in cleaned])
        else:
            positive = Q(**{_lookup(spec, "in"): [_db_value(spec, v) for v in cleaned]})
        return positive if op == "IN" else _negate(spec, positive)

    if op in _RELATIVE:
        raw_days = raw_filter.get("value")
        if isinstance(raw_days, bool) or not isinstance(raw_days, int | str):
            raise _Reject(".value", _("Enter a whole number of days."))
        try:
            days = int(raw_days)
        except ValueError as exc:
            raise _Reject(".value", _("Enter a whole number of days.")) from exc
        if not 0 <= days <= MAX_RELATIVE_DAYS:
            raise _Reject(".value", _("Enter a number of days from 0 to %(n)d.") % {"n": MAX_RELATIVE_DAYS})
        low, high = _relative_range(spec, op, days, tz)
        return Q(**{_lookup(spec, "gte"): low}) & Q(**{_lookup(spec, "lte"): high})

    value = _clean_filter_value(spec, raw_filter.get("value"), ".value")
    if op == "EQ":
        return _equals(spec, value)
    if op == "NEQ":
        return _negate(spec, _equals(spec, value))
    if op in _TOKENS:
        token = str(value).replace("*", "").strip()
        if not token:
            raise _Reject(".value", _("Enter some text to look for."), "required")
        positive = Q(**{_lookup(spec, "icontains"): token})
        return positive if op == "CONTAINS_TOKEN" else _negate(spec, positive)
    if op == "BETWEEN":
        high = _clean_filter_value(spec, raw_filter.get("highValue"), ".highValue")
        if high < value:
            raise _Reject(".highValue", _("highValue must not be below value."))
        return Q(**{_lookup(spec, "gte"): _db_value(spec, value)}) & Q(**{_lookup(spec, "lte"): _db_value(spec, high)})
    return Q(**{_lookup(spec, op.lower()): _db_value(spec, value)})


def _compile_sort(sort, registry: Registry):
    if not isinstance(sort, dict):
        raise _Reject("", _("Each sort needs propertyName and direction."))
    name = sort.get("propertyName")
    spec = registry.get(name) if isinstance(name, str) else None
    if spec is None:
        raise _Reject(".propertyName", _("Unknown property %(name)s.") % {"name": name}, "unknown_property")
    if spec.type not in SORTABLE_TYPES:
        raise _Reject(".propertyName", _("%(name)s cannot be sorted on.") % {"name": name})
    direction = sort.get("direction", "ASCENDING")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise _Reject(".direction", _("direction must be ASCENDING or DESCENDING."))
    expression = F(spec.column) if spec.is_column else PropertyKey(spec.name, "properties")
    if direction == "ASCENDING":
        return expression.asc(nulls_last=True)
    return expression.desc(nulls_last=True)
