"""Runs a custom report's plan in the database: one grouped aggregate (two for a KPI number's
change), whatever the number of rows, then labels, fills the empty date buckets and attaches the
filters that open each bar's records."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, Avg, Count, DateField, DateTimeField, F, FloatField, Max, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Trunc
from django.utils.translation import gettext as _

from tend.core import clock
from tend.core.policy import Actor
from tend.crm import values
from tend.crm.display import Formatter
from tend.crm.filters import compile_search
from tend.crm.models import Pipeline, Stage
from tend.crm.models import PropertyType as T
from tend.crm.registry import PIPELINE, STAGE, PropSpec

from . import periods
from .data import Category, ReportData, Series
from .definition import Plan
from .models import Chart

MAX_GROUPS = 50  # a group axis shows its largest 50 values (option order otherwise)
NONE_KEY = ""
ADDITIVE = ("count", "distinct", "sum")  # an empty group counts and sums to 0; its average is no value


@dataclass(frozen=True)
class RunContext:
    """Who runs it (the actor sees the rows; `user` is whom IS_ME means), in which zone, with a
    dashboard's date range and owner filter (user ids; None: everyone)."""

    actor: Actor
    user: object
    tz: zoneinfo.ZoneInfo
    date_range: tuple[dt.date, dt.date] | None = None
    owner_ids: tuple[int, ...] | None = None


def _path(spec: PropSpec) -> tuple[str | None, str]:
    """(the JSON column's path, the key) of a property read from JSON, or (None, column)."""
    column = spec.column
    if column is None:
        return "properties", spec.name
    if "__properties__" in column:
        relation, key = column.split("__properties__", 1)
        return f"{relation}__properties", key
    return None, column


def _text(spec: PropSpec) -> Any:
    json_path, key = _path(spec)
    return KeyTextTransform(key, json_path) if json_path else F(key)


def _number(spec: PropSpec) -> Any:
    json_path, key = _path(spec)
    return Cast(KeyTextTransform(key, json_path), FloatField()) if json_path else F(key)


def _lookup(spec: PropSpec, op: str) -> str:
    json_path, key = _path(spec)
    return f"{json_path}__{key}__{op}" if json_path else f"{key}__{op}"


def _bucket(spec: PropSpec, unit: str, tz: zoneinfo.ZoneInfo) -> Trunc:
    json_path, key = _path(spec)
    if spec.type == T.DATE:
        value = Cast(KeyTextTransform(key, json_path), output_field=DateField()) if json_path else F(key)
        return Trunc(value, unit, output_field=DateField())
    value = Cast(KeyTextTransform(key, json_path), output_field=DateTimeField()) if json_path else F(key)
    return Trunc(value, unit, output_field=DateTimeField(), tzinfo=tz)


def _measure(plan: Plan, condition: Q | None = None) -> Aggregate:
    if plan.measure == "count":
        return Count("pk", filter=condition)
    spec = _must(plan.measure_spec)
    match plan.measure:
        case "distinct":
            return Count(_text(spec), distinct=True, filter=condition)
        case "sum":
            return Sum(_number(spec), filter=condition)
        case "avg":
            return Avg(_number(spec), filter=condition)
        case "min":
            return Min(_number(spec), filter=condition)
    return Max(_number(spec), filter=condition)


def _range_q(spec: PropSpec, first: dt.date, last: dt.date, tz: zoneinfo.ZoneInfo) -> Q:
    """Rows whose `spec` (a date or datetime) falls on the days first…last in `tz`."""
    if spec.type == T.DATE:
        return Q(**{_lookup(spec, "gte"): first.isoformat()}) & Q(**{_lookup(spec, "lte"): last.isoformat()})
    low, high = periods.instant(first, tz), periods.instant(last + dt.timedelta(days=1), tz)
    if _path(spec)[0] is None:
        return Q(**{_lookup(spec, "gte"): low}) & Q(**{_lookup(spec, "lt"): high})
    return Q(**{_lookup(spec, "gte"): values.format_datetime(low)}) & Q(
        **{_lookup(spec, "lt"): values.format_datetime(high)}
    )


def rows_of(plan: Plan, ctx: RunContext) -> QuerySet:
    """The rows the report counts: the source's rows the actor sees, the report's filter, the
    dashboard's owner filter and date range."""
    source = plan.source
    compiled = compile_search(plan.filters, source.registry, user=ctx.user, tz=ctx.tz)
    rows = source.rows(ctx.actor).filter(compiled.where)
    if ctx.owner_ids is not None:
        owner = source.registry.get(source.owner_property)
        if owner is not None:
            rows = rows.filter(**{_lookup(owner, "in"): list(ctx.owner_ids)})
    if ctx.date_range is not None and plan.chart != Chart.KPI:
        spec = plan.bucket or source.registry.get(source.date_property)
        if spec is not None:
            rows = rows.filter(_range_q(spec, *ctx.date_range, ctx.tz))
    return rows


def _key(spec: PropSpec, raw: Any) -> str:
    """A group's value as text, the same on both databases (SQLite reads JSON booleans as 1/0)."""
    if raw is None or raw == "":
        return NONE_KEY
    if spec.type == T.BOOLEAN:
        return "true" if raw in (True, 1, "1", "true") else "false"
    if spec.type in (T.USER, PIPELINE, STAGE):
        try:
            return str(int(raw))
        except (TypeError, ValueError):
            return str(raw)
    return str(raw)


def _typed(spec: PropSpec, key: str) -> Any:
    if spec.type == T.BOOLEAN:
        return key == "true"
    if spec.type in (T.USER, PIPELINE, STAGE):
        return int(key)
    return key


def _drill(spec: PropSpec, key: str) -> list[dict]:
    if key == NONE_KEY:
        return [{"propertyName": spec.name, "operator": "NOT_HAS_PROPERTY"}]
    return [{"propertyName": spec.name, "operator": "EQ", "value": _typed(spec, key)}]


def _day(value: Any, tz: zoneinfo.ZoneInfo) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def _bucket_drill(spec: PropSpec, start: dt.date, unit: str, tz: zoneinfo.ZoneInfo) -> list[dict]:
    last = periods.add_units(start, unit) - dt.timedelta(days=1)
    if spec.type == T.DATE:
        low, high = start.isoformat(), last.isoformat()
    else:
        low = values.format_datetime(periods.instant(start, tz))
        high = values.format_datetime(periods.instant(last + dt.timedelta(days=1), tz) - dt.timedelta(seconds=1))
    return [{"propertyName": spec.name, "operator": "BETWEEN", "value": low, "highValue": high}]


class _Labels:
    def __init__(self, plan: Plan) -> None:
        self.formatter = Formatter(plan.source.registry)

    def of(self, spec: PropSpec, key: str) -> str:
        if key == NONE_KEY:
            return _("(No value)")
        return self.formatter.format(spec, _typed(spec, key)) or key

    def order(self, spec: PropSpec, keys: list[str]) -> list[str]:
        """Options in their defined order, users by name, the rest as the values sort; no value last."""
        if spec.type == T.ENUMERATION:
            rank = {str(o["value"]): i for i, o in enumerate(spec.options)}
            return sorted(keys, key=lambda k: (k == NONE_KEY, rank.get(k, len(rank)), k))
        if spec.type == T.BOOLEAN:
            return sorted(keys, key=lambda k: {"true": 0, "false": 1}.get(k, 2))
        if spec.type in (STAGE, PIPELINE):
            model_order = (
                Stage.objects.order_by("pipeline__display_order", "pipeline_id", "display_order", "id")
                if spec.type == STAGE
                else Pipeline.objects.order_by("display_order", "id")
            )
            rank = {str(pk): i for i, pk in enumerate(model_order.values_list("pk", flat=True))}
            return sorted(keys, key=lambda k: (k == NONE_KEY, rank.get(k, len(rank)), k))
        return sorted(keys, key=lambda k: (k == NONE_KEY, self.of(spec, k).lower()))


Cells = dict[tuple[str, str], float | None]  # (axis key, series key) → value


def run(plan: Plan, ctx: RunContext) -> ReportData:
    if plan.chart == Chart.KPI:
        return _run_kpi(plan, ctx)
    rows = rows_of(plan, ctx)
    dims: dict[str, Any] = {}
    if plan.bucket is not None:
        dims["b"] = _bucket(plan.bucket, plan.unit, ctx.tz)
    if plan.group is not None:
        dims["g"] = _text(plan.group)
    if plan.breakdown is not None:
        dims["s"] = _text(plan.breakdown)
    result = list(rows.values(**dims).annotate(v=_measure(plan)).order_by())
    labels = _Labels(plan)
    # The axis is the date when there is one, else the group; the series come from the breakdown
    # (or from the group, when the axis is the date).
    series_spec = plan.breakdown or (plan.group if plan.bucket is not None else None)
    series_dim = "s" if plan.breakdown is not None else "g"
    cells: Cells = {}
    axis_keys: set[str] = set()
    series_keys: set[str] = set()
    for row in result:
        if plan.bucket is not None:
            day = _day(row["b"], ctx.tz)
            axis = day.isoformat() if day is not None else NONE_KEY
        else:
            axis = _key(_must(plan.group), row["g"])
        series_key = _key(series_spec, row[series_dim]) if series_spec is not None else "value"
        axis_keys.add(axis)
        series_keys.add(series_key)
        value = _plain(row["v"])
        cells[(axis, series_key)] = 0 if value is None and plan.measure in ADDITIVE else value
    categories = _axis(plan, ctx, axis_keys, labels, cells)
    zero = 0 if plan.measure in ADDITIVE else None
    series: list[Series]
    if series_spec is None:
        series = [
            Series(
                key="value",
                label=_measure_label(plan),
                values=[cells.get((c.key, "value"), zero) for c in categories],
                format=_format_of(plan),
            )
        ]
    else:
        keys = labels.order(series_spec, list(series_keys))[:MAX_GROUPS]
        series = [
            Series(
                key=k,
                label=labels.of(series_spec, k),
                values=[cells.get((c.key, k), zero) for c in categories],
                format=_format_of(plan),
                drill=_drill(series_spec, k),
            )
            for k in keys
        ]
    total: float | None = None
    if series_spec is None and plan.measure in ("count", "sum"):
        total = sum(v for v in series[0].values if v is not None)
    axis_spec = plan.bucket or plan.group
    return ReportData(
        categories=categories,
        series=series,
        chart=plan.chart,
        value=total,
        value_format=_format_of(plan),
        category_title=str(axis_spec.label) if axis_spec is not None else "",
    )


def _must(spec: PropSpec | None) -> PropSpec:
    if spec is None:  # the definition's validation makes this impossible
        raise ValueError("a report axis without its property")
    return spec


def _axis(plan: Plan, ctx: RunContext, keys: set[str], labels: _Labels, cells: Cells) -> list[Category]:
    """The categories along the axis, keyed as the cells are: every bucket of the range (or
    from the first to the last found), or the group's values in their order."""
    if plan.bucket is not None:
        bucket = plan.bucket
        days = sorted(dt.date.fromisoformat(k) for k in keys if k != NONE_KEY)
        span = ctx.date_range or ((days[0], days[-1]) if days else None)
        points = [
            Category(d.isoformat(), periods.bucket_label(d, plan.unit), _bucket_drill(bucket, d, plan.unit, ctx.tz))
            for d in (periods.buckets(*span, plan.unit) if span else [])
        ]
        if NONE_KEY in keys:
            points.append(Category(NONE_KEY, _("(No date)"), _drill(bucket, NONE_KEY)))
        return points
    group = _must(plan.group)
    ordered = labels.order(group, list(keys))
    if len(ordered) > MAX_GROUPS:
        biggest = set(sorted(ordered, key=lambda k: -(cells.get((k, "value")) or 0))[:MAX_GROUPS])
        ordered = [k for k in ordered if k in biggest]
    return [Category(k, labels.of(group, k), _drill(group, k)) for k in ordered]


def _plain(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _format_of(plan: Plan) -> str:
    if plan.measure_spec is not None and plan.measure in ("sum", "avg", "min", "max"):
        return "currency" if plan.measure_spec.type == T.CURRENCY else "number"
    return "number"


def _measure_label(plan: Plan) -> str:
    if plan.measure == "count":
        # The type's name as it is written: lower-casing it breaks German nouns.
        return _("Count of %(things)s") % {"things": plan.source.label}
    spec = _must(plan.measure_spec)
    match plan.measure:
        case "distinct":
            return _("Distinct %(property)s") % {"property": spec.label}
        case "sum":
            return _("Sum of %(property)s") % {"property": spec.label}
        case "avg":
            return _("Average %(property)s") % {"property": spec.label}
        case "min":
            return _("Minimum %(property)s") % {"property": spec.label}
    return _("Maximum %(property)s") % {"property": spec.label}


def kpi_period(plan: Plan, ctx: RunContext) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """The KPI number's period and the one before it: the dashboard's range and as long a range
    just before it, else the bucket's unit (a month by default) so far and the whole unit before."""
    if ctx.date_range is not None:
        first, last = ctx.date_range
        length = last - first
        before_last = first - dt.timedelta(days=1)
        return (first, last), (before_last - length, before_last)
    today = clock.today(ctx.tz)
    unit = plan.unit if plan.bucket is not None else "month"
    start = periods.bucket_start(today, unit)
    previous = periods.add_units(start, unit, -1)
    return (start, today), (previous, start - dt.timedelta(days=1))


def _run_kpi(plan: Plan, ctx: RunContext) -> ReportData:
    spec = plan.bucket or plan.source.registry.get(plan.source.date_property)
    current, previous = kpi_period(plan, ctx)
    rows = rows_of(plan, ctx)
    if spec is None:
        value = rows.aggregate(v=_measure(plan))["v"]
        prior = None
    else:
        got = rows.aggregate(
            v=_measure(plan, _range_q(spec, *current, ctx.tz)), p=_measure(plan, _range_q(spec, *previous, ctx.tz))
        )
        value, prior = got["v"], got["p"]
    value, prior = _plain(value), _plain(prior)
    label = _measure_label(plan)
    return ReportData(
        categories=[
            Category(key=current[0].isoformat(), label=_("This period")),
            Category(key=previous[0].isoformat(), label=_("Previous period")),
        ],
        series=[Series(key="value", label=label, values=[value, prior], format=_format_of(plan))],
        chart=Chart.KPI,
        value=value,
        previous=prior,
        value_format=_format_of(plan),
        category_title=_("Period"),
        extra={"period": [d.isoformat() for d in current], "previousPeriod": [d.isoformat() for d in previous]},
    )
