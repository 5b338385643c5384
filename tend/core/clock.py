"""The one clock. Everything that asks "now" or "today" asks here, so tests can travel in time
(time-machine) and "today" is always computed in a user's own time zone."""

import datetime as dt
import zoneinfo

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def user_zone(user) -> zoneinfo.ZoneInfo:
    return zone(getattr(user, "time_zone", None))


def today(tz: zoneinfo.ZoneInfo) -> dt.date:
    return now().astimezone(tz).date()


def start_of_day(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)
