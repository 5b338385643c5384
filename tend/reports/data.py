"""What a report computes, whatever made it (the report engine or a built-in KPI): categories
along one axis, one or more series of values over them, and how to format and drill into them.
Charts, the table view, exports, the API and the Summary card all read this one shape."""

from dataclasses import dataclass, field
from typing import Any

# How values are shown: a plain number, a share (0.25 → 25 %), money (with `currency`), days.
FORMATS = ("number", "percent", "currency", "days")


@dataclass
class Category:
    """One point of the axis: a group (a stage, a CSM, an option), a date bucket or both."""

    key: str  # stable: the stored value or the bucket's ISO start ("2026-03-01"); "" for no value
    label: str  # in the viewer's language and locale
    # Filters (the one filter language) that select this category's records, added to the
    # report's own filter when a bar or slice is clicked; None where it cannot be drilled into.
    drill: list[dict] | None = None


@dataclass
class Series:
    """One measure (or one value of the breakdown), aligned with the categories."""

    key: str
    label: str
    values: list[float | None]
    format: str = "number"
    drill: list[dict] | None = None  # the breakdown value's filters, combined with the category's


@dataclass
class ReportData:
    categories: list[Category]
    series: list[Series]
    chart: str = "bar"  # a models.Chart value
    # The headline number (a KPI's latest complete period, or the total) and the one before it,
    # for the KPI chart's "change against the previous period".
    value: float | None = None
    previous: float | None = None
    value_format: str = "number"
    currency: str = ""
    category_title: str = ""  # the axis' name ("Month", "CSM", "Stage")
    notes: list[str] = field(default_factory=list)  # caveats shown under the chart, translated
    # Where the records are listed: the tab URL to which a drill's filters are added ("" = none).
    drill_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.categories or all(v is None for s in self.series for v in s.values)

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """The table view: one row per category, one column per series (raw values)."""
        headers = [self.category_title, *(s.label for s in self.series)]
        rows = [[c.label, *(s.values[i] for s in self.series)] for i, c in enumerate(self.categories)]
        return headers, rows
