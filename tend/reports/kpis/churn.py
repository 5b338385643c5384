"""Churn rate per period: of the customers active at the period's start, the share whose CS stage
became "churned" during the period (docs/kpis.md)."""

from django.utils.translation import gettext as _

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .cohort import cohort
from .sql import fetch


def counts(scope: KpiScope, periods: Periods) -> tuple[list[int], list[int]]:
    """(active at each period's start, of them churned during it), one query."""
    n = len(periods)
    active, churned = [0] * n, [0] * n
    if scope.csm_ids == ():
        return active, churned
    group = cohort(scope, periods)
    segments, params = group.segments("s.l AS sl, s.hit AS hit")
    sql, params = group.query(
        "SELECT x, y, COUNT(*), SUM(CASE WHEN sl = y AND hit = 1 THEN 1 ELSE 0 END) "
        f"FROM ({segments}) seg WHERE x <= y GROUP BY x, y",
        params,
    )
    for x, y, segments, churns in fetch(sql, params):
        for k in range(max(x, 0), min(y, n - 1) + 1):
            active[k] += segments
        if y < n:
            churned[y] += int(churns or 0)
    return active, churned


def compute(scope: KpiScope) -> ReportData:
    periods = Periods.of(scope)
    active, churned = counts(scope, periods)
    rates = [c / a if a else None for a, c in zip(active, churned, strict=True)]
    return periods.data(
        [Series(key="churn_rate", label=_("Churn rate"), values=rates, format="percent")],
        extra={"active": active, "churned": churned},
    )
