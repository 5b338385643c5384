"""Date ranges and date buckets in the viewer's time zone: a dashboard's date range, the buckets
a report groups by, their labels in the viewer's language, and the instants that bound them."""

import datetime as dt
import zoneinfo

from babel.dates import format_skeleton
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.core import clock

# A dashboard's date range: key → label (the end is today in the viewer's zone).
DATE_RANGES = {
    "all": gettext_lazy("All time"),
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_quarter": gettext_lazy("This quarter"),
    "last_quarter": gettext_lazy("Last quarter"),
    "this_year": gettext_lazy("This year"),
    "last_year": gettext_lazy("Last year"),
    "last_30_days": gettext_lazy("Last 30 days"),
    "last_90_days": gettext_lazy("Last 90 days"),
    "last_6_months": gettext_lazy("Last 6 months"),
    "last_12_months": gettext_lazy("Last 12 months"),
    "last_18_months": gettext_lazy("Last 18 months"),
    "custom": gettext_lazy("Custom"),
}
MAX_BUCKETS = 400
# A dashboard's frequency: the unit its date-bucketed reports and periodic KPIs use, key → label.
FREQUENCIES = {
    "day": gettext_lazy("Daily"),
    "week": gettext_lazy("Weekly"),
    "month": gettext_lazy("Monthly"),
    "quarter": gettext_lazy("Quarterly"),
    "year": gettext_lazy("Yearly"),
}


def bucket_start(day: dt.date, unit: str) -> dt.date:
    match unit:
        case "day":
            return day
        case "week":
            return day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday, as Trunc's do
        case "month":
            return day.replace(day=1)
        case "quarter":
            return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, 1, 1)


def add_units(day: dt.date, unit: str, n: int = 1) -> dt.date:
    """The bucket start `n` units after `day` (a bucket start)."""
    match unit:
        case "day":
            return day + dt.timedelta(days=n)
        case "week":
            return day + dt.timedelta(weeks=n)
        case "month" | "quarter":
            months = day.year * 12 + day.month - 1 + n * (3 if unit == "quarter" else 1)
            return dt.date(months // 12, months % 12 + 1, 1)
    return dt.date(day.year + n, 1, 1)


def buckets(first: dt.date, last: dt.date, unit: str) -> list[dt.date]:
    """Every bucket start from the one holding `first` to the one holding `last` (at most MAX_BUCKETS, the latest)."""
    out, day = [], bucket_start(first, unit)
    end = bucket_start(last, unit)
    while day <= end:
        out.append(day)
        day = add_units(day, unit)
    return out[-MAX_BUCKETS:]


def bucket_label(day: dt.date, unit: str) -> str:
    locale = translation.to_locale(translation.get_language() or "en")
    match unit:
        case "day":
            return formats.date_format(day, "SHORT_DATE_FORMAT")
        case "week":
            return _("Week of %(date)s") % {"date": formats.date_format(day, "SHORT_DATE_FORMAT")}
        # Skeletons, not patterns: each language orders them its own way ("Mar 2026", "2026年3月").
        case "month":
            return format_skeleton("yMMM", day, locale=locale)
        case "quarter":
            return format_skeleton("yQQQ", day, locale=locale)
    return str(day.year)


def date_range(
    key: str | None, tz: zoneinfo.ZoneInfo, *, start: str = "", end: str = ""
) -> tuple[dt.date, dt.date] | None:
    """A dashboard's range as (first day, last day), both included; None for all time."""
    today = clock.today(tz)
    match key:
        case "this_month":
            return today.replace(day=1), today
        case "last_month":
            first = add_units(today.replace(day=1), "month", -1)
            return first, today.replace(day=1) - dt.timedelta(days=1)
        case "this_quarter":
            return bucket_start(today, "quarter"), today
        case "last_quarter":
            this = bucket_start(today, "quarter")
            return add_units(this, "quarter", -1), this - dt.timedelta(days=1)
        case "this_year":
            return dt.date(today.year, 1, 1), today
        case "last_year":
            return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
        case "last_30_days" | "last_90_days":
            return today - dt.timedelta(days=int(key.split("_")[1]) - 1), today
        case "last_6_months" | "last_12_months" | "last_18_months":
            months = int(key.split("_")[1])
            return add_units(today.replace(day=1), "month", 1 - months), today
        case "custom":
            try:
                first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
            except ValueError:
                return None
            return (first, last) if first <= last else (last, first)
    return None


def instant(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant of `day` in `tz`."""
    return clock.start_of_day(day, tz)
