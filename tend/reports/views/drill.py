"""Where a bar, slice or point of a report opens its records: the tab that lists the report's
source, with the report's filter AND the clicked category's (and series') filters, as the list kit
reads them (`?view=…&filters={"filterGroups": …}`)."""

import datetime as dt
import json
from urllib.parse import urlencode

from django.urls import reverse

from tend.core.errors import ValidationFailed
from tend.crm import values
from tend.crm.models import PropertyType as T
from tend.cs_settings.queries import workspace_settings

from .. import periods
from ..data import ReportData
from ..models import Report
from ..sources import Source, get_source


def tab_url(source_key: str) -> str | None:
    """The tab listing every record of a source (a builtin view that filters nothing else), or
    None for the sources no tab lists as a table (contacts, meetings, NPS answers…)."""
    if source_key == "tasks":
        return reverse("tasks") + "?view=open"
    ws = workspace_settings()
    if source_key == ws.customer_object_type.name:
        return reverse("customers") + "?view=all"
    if ws.services_object_type is not None and source_key == ws.services_object_type.name:
        return reverse("services") + "?layout=table&view=all"
    for revenue in ws.revenue_objects or []:
        if revenue.get("objectType") == source_key:
            return reverse("revenue") + "?" + urlencode({"object": source_key, "layout": "table", "view": "all"})
    return None


def combine(report_filters: dict | None, extra: list[dict]) -> dict:
    """The report's filter groups (OR-ed), each AND-ed with `extra`."""
    groups = (report_filters or {}).get("filterGroups") or [{"filters": []}]
    return {"filterGroups": [{"filters": [*(g.get("filters") or []), *extra]} for g in groups]}


def scope_filters(
    source: Source,
    report: Report,
    *,
    date_range: tuple[dt.date, dt.date] | None,
    owner_ids: tuple[int, ...] | None,
    tz,
) -> list[dict]:
    """The dashboard filters the engine applied (the date range on the bucketed or default date
    property, the owners), as filters of the filter language, so the tab lists the same rows."""
    out: list[dict] = []
    registry = source.registry
    if owner_ids is not None:
        owner = registry.get(source.owner_property)
        if owner is not None:
            out.append({"propertyName": owner.name, "operator": "IN", "values": list(owner_ids)})
    bucket = (report.definition or {}).get("dateBucket") or {}
    if date_range is not None and report.chart != "kpi":
        spec = registry.get(bucket.get("property") or "") or registry.get(source.date_property)
        if spec is not None:
            first, last = date_range
            if spec.type == T.DATE:
                low, high = first.isoformat(), last.isoformat()
            else:
                low = values.format_datetime(periods.instant(first, tz))
                high = values.format_datetime(
                    periods.instant(last + dt.timedelta(days=1), tz) - dt.timedelta(seconds=1)
                )
            out.append({"propertyName": spec.name, "operator": "BETWEEN", "value": low, "highValue": high})
    return out


def drill_url(
    report: Report,
    data: ReportData,
    *,
    category: str,
    series: str | None = None,
    date_range: tuple[dt.date, dt.date] | None = None,
    owner_ids: tuple[int, ...] | None = None,
    tz=None,
) -> str | None:
    """The tab URL listing the records behind one category (and series) of `data`, or None when
    the report's source has no tab or the point cannot be drilled into."""
    point = next((c for c in data.categories if c.key == category), None)
    if point is None or point.drill is None:
        return None
    extra = list(point.drill)
    if series is not None:  # "" is a series too: the breakdown's "(No value)"
        line = next((s for s in data.series if s.key == series), None)
        if line is None:
            return None
        extra += line.drill or []
    try:
        source = get_source(report.source)
    except ValidationFailed:  # a source removed since: nothing to open
        return None
    base = data.drill_url or tab_url(source.key)
    if not base:
        return None
    if report.kpi:  # a built-in KPI's drill filters are its own whole selection, within the dashboard's CSMs
        if owner_ids is not None and source.key == workspace_settings().customer_object_type.name:
            csm = workspace_settings().customer_csm_property
            if not any(f.get("propertyName") == csm for f in extra):
                extra.append({"propertyName": csm, "operator": "IN", "values": list(owner_ids)})
        body = {"filterGroups": [{"filters": extra}]}
    else:
        scope = scope_filters(source, report, date_range=date_range, owner_ids=owner_ids, tz=tz)
        body = combine((report.definition or {}).get("filters"), [*extra, *scope])
    separator = "&" if "?" in base else "?"
    return base + separator + urlencode({"filters": json.dumps(body, separators=(",", ":"), ensure_ascii=False)})
