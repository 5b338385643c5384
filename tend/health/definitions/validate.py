"""Validation of a whole definition: every bad part named by its path, e.g.
``groups[0].criteria[1].bands[0].points``."""

import copy
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tend.core.errors import FieldError, ValidationFailed
from tend.crm.models import ObjectType
from tend.crm.registry import registry_for

from .catalogue import MEASURES, kind_of_property, workspace_customer_type
from .params import clean_param, clean_text, is_number, raise_errors
from .statuses import COLORS, STATUS_KEYS
from .texts import builtin, keep_builtin

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_GROUPS = 12
MAX_CRITERIA = 40
MAX_BANDS = 10
MISSING_DATA = ("exclude", "zero")


@dataclass
class _Context:
    """What validation looks properties up in (loaded once per validation)."""

    customer_type: ObjectType
    registries: dict = field(default_factory=dict)

    def registry(self, object_type: ObjectType):
        if object_type.pk not in self.registries:
            self.registries[object_type.pk] = registry_for(object_type)
        return self.registries[object_type.pk]


def _clean_measure(raw, where: str, errors: list[FieldError], ctx: _Context) -> tuple[dict, str, tuple]:
    if not isinstance(raw, dict):
        errors.append(FieldError(where, _("Choose what this criterion measures."), "required"))
        return {}, "number", ()
    kind = raw.get("kind")
    spec = MEASURES.get(kind) if isinstance(kind, str) else None
    if spec is None:
        errors.append(FieldError(f"{where}.kind", _("Unknown measure %(kind)s.") % {"kind": kind}, "unknown_measure"))
        return {}, "number", ()
    cleaned: dict = {"kind": kind}
    known = {p.name for p in spec.params} | {"kind"}
    for name in raw:
        if name not in known:
            errors.append(FieldError(f"{where}.{name}", _("Unknown parameter %(name)s.") % {"name": name}, "unknown"))
    object_type = ctx.customer_type
    value_kind, categories = spec.value_kind, spec.categories
    for param in spec.params:
        at = f"{where}.{param.name}"
        value = raw.get(param.name)
        if value is None:
            if param.required:
                errors.append(FieldError(at, _("This parameter is required."), "required"))
            else:
                cleaned[param.name] = copy.deepcopy(param.default)
            continue
        if param.type == "object_type":
            found = ObjectType.objects.filter(name=value).first() if isinstance(value, str) else None
            if found is None or found.pk == ctx.customer_type.pk:
                errors.append(FieldError(at, _("Choose an object type other than the customers'.")))
            else:
                object_type = found
            cleaned[param.name] = value
        elif param.type == "property":
            scope = object_type if param.object_type_param else ctx.customer_type
            if scope is None:
                continue
            prop = ctx.registry(scope).get(value) if isinstance(value, str) else None
            if prop is None or prop.is_column:
                errors.append(FieldError(at, _("Unknown property %(name)s.") % {"name": value}, "unknown_property"))
            elif prop.type not in param.property_types:
                errors.append(
                    FieldError(
                        at,
                        _("%(name)s is a %(type)s property; this measure needs one of: %(types)s.")
                        % {"name": value, "type": prop.type, "types": ", ".join(param.property_types)},
                        "invalid_property",
                    )
                )
            elif spec.value_kind == "property":
                value_kind, categories = kind_of_property(prop)
            cleaned[param.name] = value
        else:
            cleaned[param.name] = clean_param(param, value, at, errors)
    if spec.value_kind == "property" and value_kind == "property":
        value_kind = "number"
    return cleaned, value_kind, categories


def _clean_bands(raw, where: str, errors: list[FieldError], *, value_kind: str, categories: tuple, cap) -> list:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError(where, _("Add at least one band."), "required"))
        return []
    if len(raw) > MAX_BANDS:
        errors.append(FieldError(where, _("Use at most %(n)d bands.") % {"n": MAX_BANDS}))
    bands = []
    previous_min = None
    seen_values: set = set()
    for bi, band in enumerate(raw[:MAX_BANDS]):
        at = f"{where}[{bi}]"
        if not isinstance(band, dict):
            errors.append(FieldError(at, _("Each band is an object with points.")))
            continue
        points = band.get("points")
        if not is_number(points) or points < 0:
            errors.append(FieldError(f"{at}.points", _("Enter points of at least 0."), "invalid"))
            points = 0
        elif cap is not None and points > cap:
            errors.append(
                FieldError(
                    f"{at}.points",
                    _("A criterion cannot score more than its group's maximum of %(max)s points.") % {"max": _fmt(cap)},
                    "above_group_max",
                )
            )
        label = clean_text(band.get("label"), f"{at}.label", errors, required=False, max_length=120)
        cleaned = {"points": points, "label": label}
        if value_kind == "category":
            values = band.get("values")
            if not isinstance(values, list) or not values:
                errors.append(FieldError(f"{at}.values", _("Choose at least one value."), "required"))
                values = []
            for vi, v in enumerate(values):
                v = "true" if v is True else "false" if v is False else v
                if not isinstance(v, str) or (categories and v not in categories):
                    errors.append(
                        FieldError(
                            f"{at}.values[{vi}]",
                            _("%(value)s is not one of: %(choices)s.") % {"value": v, "choices": ", ".join(categories)},
                        )
                    )
                elif v in seen_values:
                    errors.append(FieldError(f"{at}.values[{vi}]", _("This value is already in a band above.")))
                seen_values.add(v)
            cleaned["values"] = ["true" if v is True else "false" if v is False else v for v in values]
        else:
            minimum = band.get("min")
            if minimum is not None and not is_number(minimum):
                errors.append(FieldError(f"{at}.min", _("Enter a number, or nothing for “any value”.")))
                minimum = None
            if bi > 0 and previous_min is None:
                errors.append(
                    FieldError(f"{at}.min", _("A band after an “any value” band would never be reached."), "order")
                )
            elif minimum is not None and previous_min is not None and minimum >= previous_min:
                errors.append(
                    FieldError(
                        f"{at}.min",
                        _("Bands are read top-down: each minimum must be below the one above (%(above)s).")
                        % {"above": _fmt(previous_min)},
                        "order",
                    )
                )
            cleaned["min"] = minimum
            previous_min = minimum if minimum is not None else None
            if minimum is None:
                previous_min = None
        keep_builtin(band, cleaned)
        if not cleaned["label"]:
            _auto_label(cleaned)
        bands.append(cleaned)
    return bands


def _auto_label(band: dict) -> None:
    if "values" in band:
        band["label"] = ", ".join(str(v) for v in band["values"])
    elif band.get("min") is None:
        builtin(band, label=gettext_noop("any other value"))
    else:
        band["label"] = "≥ " + _fmt(band["min"])


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _clean_statuses(raw, errors: list[FieldError]) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("statuses", _("Add at least one status."), "required"))
        return []
    if len(raw) > len(STATUS_KEYS):
        errors.append(FieldError("statuses", _("Use at most %(n)d statuses.") % {"n": len(STATUS_KEYS)}))
    statuses, keys = [], set()
    previous = None
    for si, status in enumerate(raw[: len(STATUS_KEYS)]):
        at = f"statuses[{si}]"
        if not isinstance(status, dict):
            errors.append(FieldError(at, _("Each status is an object.")))
            continue
        key = status.get("key")
        if key not in STATUS_KEYS:
            errors.append(
                FieldError(
                    f"{at}.key", _("Choose one of: %(keys)s.") % {"keys": ", ".join(STATUS_KEYS)}, "unknown_status"
                )
            )
        elif key in keys:
            errors.append(FieldError(f"{at}.key", _("Each status appears once."), "duplicate"))
        keys.add(key)
        minimum = status.get("min")
        if not is_number(minimum) or not 0 <= minimum <= 100:
            errors.append(FieldError(f"{at}.min", _("Enter a score from 0 to 100.")))
            minimum = 0
        elif previous is not None and minimum >= previous:
            errors.append(
                FieldError(
                    f"{at}.min",
                    _("Statuses go from the best down: each minimum must be below the one above (%(above)s).")
                    % {"above": _fmt(previous)},
                    "order",
                )
            )
        previous = minimum
        color = status.get("color", "secondary")
        if color not in COLORS:
            errors.append(FieldError(f"{at}.color", _("Choose one of: %(c)s.") % {"c": ", ".join(COLORS)}))
        statuses.append(
            keep_builtin(
                status,
                {
                    "key": key,
                    "label": clean_text(status.get("label"), f"{at}.label", errors, max_length=60),
                    "min": minimum,
                    "color": color,
                    "action": clean_text(status.get("action"), f"{at}.action", errors, required=False, max_length=500),
                },
            )
        )
    if statuses and statuses[-1]["min"] != 0 and not any(e.field.startswith("statuses") for e in errors):
        errors.append(
            FieldError(
                f"statuses[{len(statuses) - 1}].min",
                _("The last status must start at 0 so that every score has a status."),
                "uncovered",
            )
        )
    return statuses


def validate_definition(definition, *, customer_type: ObjectType | None = None) -> dict:
    """Check a whole definition; return it cleaned (defaults filled, labels trimmed) or raise
    ValidationFailed naming every bad part by its path."""
    errors: list[FieldError] = []
    if not isinstance(definition, dict):
        raise ValidationFailed.single("definition", _("The definition must be a JSON object."))
    ctx = _Context(customer_type=customer_type or workspace_customer_type())
    for name in definition:
        if name not in ("groups", "statuses", "missing_data"):
            errors.append(FieldError(name, _("Unknown field %(name)s.") % {"name": name}, "unknown"))
    raw_groups = definition.get("groups")
    groups = []
    if not isinstance(raw_groups, list) or not raw_groups:
        errors.append(FieldError("groups", _("Add at least one group of criteria."), "required"))
        raw_groups = []
    if len(raw_groups) > MAX_GROUPS:
        errors.append(FieldError("groups", _("Use at most %(n)d groups.") % {"n": MAX_GROUPS}))
    group_keys: set = set()
    criterion_keys: set = set()
    total = 0
    criteria_count = 0
    for gi, group in enumerate(raw_groups[:MAX_GROUPS]):
        at = f"groups[{gi}]"
        if not isinstance(group, dict):
            errors.append(FieldError(at, _("Each group is an object.")))
            continue
        key = group.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            errors.append(FieldError(f"{at}.key", _("Use lower-case letters, digits and _ (starting with a letter).")))
        elif key in group_keys:
            errors.append(FieldError(f"{at}.key", _("Each group key appears once."), "duplicate"))
        group_keys.add(key)
        label = clean_text(group.get("label"), f"{at}.label", errors)
        maximum = group.get("max")
        if not is_number(maximum) or not 0 < maximum <= 100:
            errors.append(FieldError(f"{at}.max", _("Enter a maximum from 1 to 100 points.")))
            maximum = None
        else:
            total += maximum
        raw_criteria = group.get("criteria")
        if not isinstance(raw_criteria, list) or not raw_criteria:
            errors.append(FieldError(f"{at}.criteria", _("Add at least one criterion."), "required"))
            raw_criteria = []
        criteria = []
        for ci, criterion in enumerate(raw_criteria):
            cat = f"{at}.criteria[{ci}]"
            criteria_count += 1
            if not isinstance(criterion, dict):
                errors.append(FieldError(cat, _("Each criterion is an object.")))
                continue
            ckey = criterion.get("key")
            if not isinstance(ckey, str) or not KEY_RE.match(ckey):
                errors.append(
                    FieldError(f"{cat}.key", _("Use lower-case letters, digits and _ (starting with a letter).")),
                )
            elif ckey in criterion_keys:
                errors.append(FieldError(f"{cat}.key", _("Each criterion key appears once."), "duplicate"))
            criterion_keys.add(ckey)
            clabel = clean_text(criterion.get("label"), f"{cat}.label", errors)
            measure, value_kind, categories = _clean_measure(criterion.get("measure"), f"{cat}.measure", errors, ctx)
            bands = _clean_bands(
                criterion.get("bands"),
                f"{cat}.bands",
                errors,
                value_kind=value_kind,
                categories=categories,
                cap=maximum,
            )
            criteria.append(keep_builtin(criterion, {"key": ckey, "label": clabel, "measure": measure, "bands": bands}))
        groups.append(keep_builtin(group, {"key": key, "label": label, "max": maximum, "criteria": criteria}))
    if criteria_count > MAX_CRITERIA:
        errors.append(FieldError("groups", _("Use at most %(n)d criteria.") % {"n": MAX_CRITERIA}))
    if raw_groups and not any(e.field.endswith(".max") for e in errors) and abs(total - 100) > 1e-9:
        errors.append(
            FieldError(
                "groups",
                _("The groups' maxima must total 100 points (they total %(total)s).") % {"total": _fmt(total)},
                "total",
            )
        )
    statuses = _clean_statuses(definition.get("statuses"), errors)
    missing = definition.get("missing_data", "exclude")
    if missing not in MISSING_DATA:
        errors.append(FieldError("missing_data", _("Choose exclude or zero.")))
    raise_errors(errors)
    return {"groups": groups, "statuses": statuses, "missing_data": missing}
