"""How a report's data reads in the viewer's language: formatted values, the table view, the KPI
number with its change, and the chart spec that reports.js turns into ECharts options."""

import datetime as dt
import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..data import ReportData

NO_VALUE = "—"


@functools.cache
def _babel(language: str) -> Locale:
    return Locale.parse(translation.to_locale(language))


def locale() -> Locale:
    return _babel(translation.get_language() or settings.LANGUAGE_CODE)


def locale_tag() -> str:
    """The viewer's locale as the browser's Intl takes it ("de", "en-GB", "ja")."""
    return translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE).replace("_", "-")


def currency_of(data: ReportData) -> str:
    return data.currency or settings.TEND_CURRENCY


def format_value(value: float | None, fmt: str, currency: str = "") -> str:
    """A value as the viewer reads it: 1.234,5 · 25 % · 1.000,00 € · 12 days; "—" for none."""
    if value is None:
        return NO_VALUE
    loc = locale()
    match fmt:
        case "percent":
            return format_percent(value, "#,##0.#%", locale=loc)
        case "currency":
            return format_currency(value, currency or settings.TEND_CURRENCY, locale=loc)
        case "days":
            number = format_decimal(value, "#,##0.#", locale=loc)
            return ngettext("%(n)s day", "%(n)s days", 1 if value == 1 else 2) % {"n": number}
    return format_decimal(value, "#,##0.##", locale=loc)


def shows_nothing(data: ReportData) -> bool:
    """Nothing to draw: no category, or every value none or zero (a count over filled months)."""
    return not data.categories or all(v in (None, 0) for s in data.series for v in s.values)


# ---- the table view ----------------------------------------------------------------------------


@dataclass
class TableCell:
    text: str
    url: str = ""


@dataclass
class TableRow:
    label: str
    url: str
    cells: list[TableCell]


@dataclass
class Table:
    headers: list[str]
    rows: list[TableRow]
    numeric: list[bool] = field(default_factory=list)


class Drill:
    """Links to the drill endpoint of one report with the filters it was run with ("" = none)."""

    def __init__(self, base: str):
        self.base = base

    def __bool__(self) -> bool:
        return bool(self.base)

    def link(self, category: str, series: str | None = None) -> str:
        if not self.base:
            return ""
        params = {"category": category, **({"series": series} if series is not None else {})}
        return self.base + ("&" if "?" in self.base else "?") + urlencode(params)


def table(data: ReportData, drill: Drill) -> Table:
    """data.table(), every value formatted, each row (and cell of a breakdown) linked to its records."""
    headers, rows = data.table()
    currency = currency_of(data)
    headers[0] = headers[0] or _("Category")
    out = []
    for i, row in enumerate(rows):
        category = data.categories[i]
        drillable = bool(drill) and category.drill is not None
        cells = []
        for j, series in enumerate(data.series):
            url = ""
            if drillable and series.drill is not None:
                url = drill.link(category.key, series.key)
            elif drillable and len(data.series) == 1:
                url = drill.link(category.key)
            cells.append(TableCell(format_value(row[j + 1], series.format, currency), url))
        out.append(TableRow(label=row[0], url=drill.link(category.key) if drillable else "", cells=cells))
    return Table(headers=headers, rows=out)


# ---- the KPI number ----------------------------------------------------------------------------


@dataclass
class Headline:
    value: str
    has_value: bool
    direction: str = ""  # "up", "down", "flat" or "" (no previous period to compare with)
    change: str = ""  # "12.5 %"
    previous: str = ""
    period: str = ""  # "1 Jun 2026 – 15 Jun 2026"


def headline(data: ReportData) -> Headline:
    currency = currency_of(data)
    period = _period_text(data.extra.get("period"))
    if data.value is None:
        return Headline(value=_("No data"), has_value=False, period=period)
    out = Headline(value=format_value(data.value, data.value_format, currency), has_value=True, period=period)
    if data.previous is None:
        return out
    out.previous = format_value(data.previous, data.value_format, currency)
    if data.previous == 0:  # no percentage of nothing: the direction alone
        out.direction = "flat" if data.value == 0 else ("up" if data.value > 0 else "down")
        return out
    ratio = (data.value - data.previous) / abs(data.previous)
    out.direction = "up" if ratio > 0 else "down" if ratio < 0 else "flat"
    out.change = format_percent(abs(ratio), "#,##0.#%", locale=locale())
    return out


def _period_text(period) -> str:
    try:
        first, last = (dt.date.fromisoformat(d) for d in period)
    except (TypeError, ValueError):
        return ""
    return f"{formats.date_format(first, 'SHORT_DATE_FORMAT')} – {formats.date_format(last, 'SHORT_DATE_FORMAT')}"


# ---- the chart ---------------------------------------------------------------------------------


def chart_spec(data: ReportData, drill: Drill) -> dict:
    """What reports.js draws: the labels and values, each value already formatted for tooltips,
    the locale and currency for the axis ticks, and where a click opens the records."""
    currency = currency_of(data)
    return {
        "type": data.chart,
        "locale": locale_tag(),
        "currency": currency,
        "format": data.series[0].format if data.series else data.value_format,
        "categoryTitle": data.category_title,
        "categories": [c.label for c in data.categories],
        "keys": [c.key for c in data.categories],
        "drillable": [bool(drill) and c.drill is not None for c in data.categories],
        "series": [
            {
                "key": s.key,
                "name": s.label,
                "values": s.values,
                "labels": [format_value(v, s.format, currency) for v in s.values],
                "drill": s.drill is not None,
            }
            for s in data.series
        ],
        "drill": drill.base,
        # the donut's centre: the whole, where adding the parts means something (counts, sums)
        "total": format_value(data.value, data.value_format, currency) if data.value is not None else "",
        "totalLabel": _("Total"),
    }
