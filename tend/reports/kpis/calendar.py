"""The periods a KPI is computed over: the months (or quarters) of a scope in the viewer's zone,
the instants that bound them, their labels, which are complete, and the ORM expression that puts
a datetime or a date into its period."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext as _

from tend.core import clock

from ..data import Category, ReportData, Series
from ..periods import bucket_label
from . import KpiScope

UNITS = ("month", "quarter")


def _first_of(day: dt.date, unit: str) -> dt.date:
    if unit == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def _next(day: dt.date, unit: str) -> dt.date:
    months = day.year * 12 + day.month - 1 + (3 if unit == "quarter" else 1)
    return dt.date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class Periods:
    """Periods 0…n-1: period k runs from `bounds[k]` (included) to `bounds[k + 1]` (excluded).
    `days` are the same bounds as the first days of the periods in the scope's zone."""

    unit: str
    days: tuple[dt.date, ...]
    bounds: tuple[dt.datetime, ...]
    now: dt.datetime

    @classmethod
    def of(cls, scope: KpiScope, *, unit: str | None = None) -> "Periods":
        """The whole periods that hold the scope's days, from the one holding `start` to the one holding `end`."""
        unit = unit or scope.unit
        unit = unit if unit in UNITS else "month"
        day, last = _first_of(scope.start, unit), _first_of(max(scope.start, scope.end), unit)
        days = [day]
        while day <= last:
            day = _next(day, unit)
            days.append(day)
        bounds = tuple(clock.start_of_day(d, scope.tz).astimezone(dt.UTC) for d in days)
        return cls(unit=unit, days=tuple(days), bounds=bounds, now=clock.now())

    def __len__(self) -> int:
        return len(self.days) - 1

    def complete(self, k: int) -> bool:
        return self.bounds[k + 1] <= self.now

    def categories(self) -> list[Category]:
        return [Category(key=d.isoformat(), label=bucket_label(d, self.unit)) for d in self.days[:-1]]

    @property
    def title(self) -> str:
        """The axis' name."""
        return _("Quarter") if self.unit == "quarter" else _("Month")

    def data(self, series: list[Series], *, chart: str = "line", headline: list | None = None, **more) -> ReportData:
        """A KPI's data over these periods; its number is the latest complete period of
        `headline` (the first series' values unless given) beside the one before it."""
        value, previous = self.headline(series[0].values if headline is None else headline)
        fields = {"value": value, "previous": previous, "value_format": series[0].format} | more
        return ReportData(categories=self.categories(), series=series, chart=chart, category_title=self.title, **fields)

    def headline(self, values: list[float | None]) -> tuple[float | None, float | None]:
        """The value of the latest complete period and of the one before it."""
        done = [k for k in range(len(self)) if self.complete(k)]
        if not done:
            return None, None
        last = done[-1]
        return values[last], values[last - 1] if last > 0 else None

    def index_of(self, field: str) -> Case:
        """The period index of a datetime field (None outside the periods)."""
        return self._case(field, self.bounds)

    def index_of_day(self, field: str) -> Case:
        """The period index of a date field (a day in the scope's zone)."""
        return self._case(field, self.days)

    def within(self, field: str, *, days: bool = False) -> Q:
        edges = self.days if days else self.bounds
        return Q(**{f"{field}__gte": edges[0], f"{field}__lt": edges[-1]})

    @staticmethod
    def _case(field: str, edges) -> Case:
        whens = [
            When(Q(**{f"{field}__gte": edges[k], f"{field}__lt": edges[k + 1]}), then=Value(k))
            for k in range(len(edges) - 1)
        ]
        return Case(*whens, default=None, output_field=IntegerField())
