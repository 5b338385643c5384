"""The built-in CS KPIs: each a function of a `KpiScope` returning `ReportData`, aggregated in the
database from property history, pipelines, survey answers, tickets and health scores. Their
formulas are in docs/kpis.md."""

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise

from ..data import ReportData


@dataclass(frozen=True)
class KpiScope:
    """What a KPI is computed over: the days from `start` to `end` (both included, in `tz`, the
    viewer's zone), the customers of the CSMs `csm_ids` (None: everyone's), a period unit for the
    KPIs computed per period ("month" or "quarter") and a health profile (None: the default)."""

    start: dt.date
    end: dt.date
    tz: zoneinfo.ZoneInfo
    csm_ids: tuple[int, ...] | None = None
    unit: str = "month"
    profile_id: int | None = None


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str | Promise
    description: str | Promise
    chart: str  # the chart it is shown as by default (a models.Chart value)
    source: str  # what it is about: "companies", "services", "tickets", "nps"
    compute: Callable[[KpiScope], ReportData]
    options: dict = field(default_factory=dict)  # KpiScope fields it is installed with, e.g. {"unit": "month"}


# key → Kpi, in the order the "Customer success KPIs" dashboard shows them; filled by the modules
# of this package (see registry.py).
KPIS: dict[str, Kpi] = {}
