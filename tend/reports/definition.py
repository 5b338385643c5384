"""A custom report's definition, validated against its source's properties before anything is
saved or run: the filter, the measure, the group, the date bucket, the breakdown and a chart that
can show them. Every error names its field (``definition.measure.property``)."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from tend.core.errors import FieldError, ValidationFailed
from tend.crm.filters import compile_search
from tend.crm.models import PropertyType as T
from tend.crm.registry import PIPELINE, STAGE, PropSpec

from .models import Chart
from .sources import Source, get_source

MEASURES = ("count", "sum", "avg", "min", "max", "distinct")
NUMERIC_MEASURES = ("sum", "avg", "min", "max")
NUMERIC_TYPES = frozenset({T.NUMBER, T.CURRENCY})
GROUP_TYPES = frozenset({T.ENUMERATION, T.USER, T.BOOLEAN, PIPELINE, STAGE})
DATE_TYPES = frozenset({T.DATE, T.DATETIME})
DISTINCT_TYPES = frozenset({T.TEXT, T.NUMBER, T.CURRENCY, T.DATE, T.ENUMERATION, T.USER, T.BOOLEAN, PIPELINE, STAGE})
UNITS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Plan:
    """A valid report: what `engine.run` computes."""

    source: Source
    filters: dict
    measure: str
    measure_spec: PropSpec | None
    group: PropSpec | None
    bucket: PropSpec | None
    unit: str
    breakdown: PropSpec | None
    chart: str

    def as_definition(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "measure": {"type": self.measure, "property": self.measure_spec.name if self.measure_spec else None},
            "groupBy": self.group.name if self.group else None,
            "dateBucket": {"property": self.bucket.name, "unit": self.unit} if self.bucket else None,
            "breakdown": self.breakdown.name if self.breakdown else None,
        }


def _spec(
    source: Source, name: Any, field: str, types: frozenset, what: str, errors: list[FieldError]
) -> PropSpec | None:
    if name in (None, ""):
        return None
    spec = source.registry.get(name) if isinstance(name, str) else None
    if spec is None:
        errors.append(FieldError(field, _("Unknown property %(name)s.") % {"name": name}, "unknown_property"))
        return None
    if spec.type not in types:
        errors.append(
            FieldError(
                field,
                _("%(label)s cannot be used to %(what)s: its type is “%(type)s”.")
                % {"label": spec.label, "what": what, "type": T(spec.type).label},
                "invalid_property",
            )
        )
        return None
    return spec


def plan_for(source_key: str, definition: Any, chart: str, *, user: Any) -> Plan:
    """The plan of a custom report; ValidationFailed names every bad part, nothing is run."""
    source = get_source(source_key)
    errors: list[FieldError] = []
    if not isinstance(definition, dict):
        raise ValidationFailed.single("definition", _("The definition must be a JSON object."))
    filters = definition.get("filters") or {}
    if not isinstance(filters, dict):
        errors.append(FieldError("definition.filters", _("filters must be a JSON object.")))
        filters = {}
    filters = {k: v for k, v in filters.items() if k == "filterGroups"}
    try:
        compile_search(filters, source.registry, user=user)
    except ValidationFailed as exc:
        errors.extend(exc.prefixed("definition.filters.").errors)

    measure = definition.get("measure") or {"type": "count"}
    if not isinstance(measure, dict):
        measure = {"type": measure}
    kind = measure.get("type") or "count"
    measure_spec = None
    if kind not in MEASURES:
        errors.append(
            FieldError(
                "definition.measure.type",
                _("Choose a measure: %(choices)s.") % {"choices": ", ".join(MEASURES)},
                "invalid_measure",
            )
        )
    elif kind in NUMERIC_MEASURES:
        measure_spec = _spec(
            source, measure.get("property"), "definition.measure.property", NUMERIC_TYPES, _("sum or average"), errors
        )
        if measure_spec is None and measure.get("property") in (None, ""):
            errors.append(
                FieldError("definition.measure.property", _("Choose a number or currency property."), "required")
            )
    elif kind == "distinct":
        measure_spec = _spec(
            source, measure.get("property"), "definition.measure.property", DISTINCT_TYPES, _("count distinct"), errors
        )
        if measure_spec is None and measure.get("property") in (None, ""):
            errors.append(FieldError("definition.measure.property", _("Choose the property to count."), "required"))

    group = _spec(source, definition.get("groupBy"), "definition.groupBy", GROUP_TYPES, _("group by"), errors)
    bucket_raw = definition.get("dateBucket") or None
    bucket, unit = None, "month"
    if bucket_raw is not None:
        if not isinstance(bucket_raw, dict):
            errors.append(FieldError("definition.dateBucket", _("dateBucket must name a property and a unit.")))
        else:
            bucket = _spec(
                source,
                bucket_raw.get("property"),
                "definition.dateBucket.property",
                DATE_TYPES,
                _("bucket by date"),
                errors,
            )
            unit = bucket_raw.get("unit") or "month"
            if unit not in UNITS:
                errors.append(
                    FieldError(
                        "definition.dateBucket.unit",
                        _("Choose a unit: %(choices)s.") % {"choices": ", ".join(UNITS)},
                        "invalid_unit",
                    )
                )
    breakdown = _spec(
        source, definition.get("breakdown"), "definition.breakdown", GROUP_TYPES, _("break down by"), errors
    )
    if breakdown is not None and group is not None and bucket is not None:
        errors.append(
            FieldError(
                "definition.breakdown",
                _("A report grouped by a property and by date is already broken down by that property."),
                "too_many_dimensions",
            )
        )
    if breakdown is not None and group is not None and breakdown.name == group.name:
        errors.append(FieldError("definition.breakdown", _("Break down by another property than the group.")))
    if breakdown is not None and group is None and bucket is None:
        errors.append(FieldError("definition.breakdown", _("Group by a property or a date first."), "required"))
    # A chart's needs read the dimensions: judge it only when they are valid.
    if not any(
        e.field.startswith(("definition.groupBy", "definition.dateBucket", "definition.breakdown")) for e in errors
    ):
        _check_chart(chart, group, bucket, breakdown, errors)
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    return Plan(source, filters, kind, measure_spec, group, bucket, unit, breakdown, chart)


def _check_chart(
    chart: str, group: PropSpec | None, bucket: PropSpec | None, breakdown: PropSpec | None, errors: list[FieldError]
) -> None:
    if chart not in Chart.values:
        errors.append(FieldError("chart", _("Choose a chart: %(choices)s.") % {"choices": ", ".join(Chart.values)}))
        return
    series = breakdown is not None or (group is not None and bucket is not None)
    if chart == Chart.KPI and (group is not None or breakdown is not None):
        errors.append(FieldError("chart", _("A KPI number shows one value: remove the group and the breakdown.")))
    elif chart in (Chart.LINE, Chart.AREA) and bucket is None:
        errors.append(FieldError("chart", _("Line and area charts need a date bucket."), "needs_date"))
    elif chart == Chart.DONUT and (series or (group is None and bucket is None)):
        errors.append(FieldError("chart", _("A donut shows the parts of one group: group by one property only.")))
    elif chart in (Chart.BAR, Chart.STACKED_BAR) and group is None and bucket is None:
        errors.append(FieldError("chart", _("Group by a property or a date to draw bars."), "needs_group"))
    elif chart == Chart.STACKED_BAR and not series:
        errors.append(FieldError("chart", _("A stacked bar needs a breakdown."), "needs_breakdown"))
