"""Net and gross revenue retention per period: what the MRR of the customers active at the
period's start became by its end, net of expansion (docs/kpis.md)."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .cohort import CHURNED, cohort
from .sql import fetch


@dataclass
class Movement:
    """The MRR of one period's cohort: at the start, lost with the customers churned at the end,
    gained by the others (expansion) and lost by them (contraction)."""

    start: float = 0.0
    churned: float = 0.0
    expansion: float = 0.0
    contraction: float = 0.0

    @property
    def nrr(self) -> float | None:
        return (self.start + self.expansion - self.contraction - self.churned) / self.start if self.start else None

    @property
    def grr(self) -> float | None:
        return (self.start - self.contraction - self.churned) / self.start if self.start else None


def movements(scope: KpiScope, periods: Periods) -> list[Movement]:
    """One query: per segment, its MRR counts towards the start of every period it spans; the
    period it ends in compares that MRR with the one at the next bound (e)."""
    n = len(periods)
    out = [Movement() for _k in range(n)]
    if scope.csm_ids == ():
        return out
    group = cohort(scope, periods, mrr=True)
    segments, params = group.segments(
        "COALESCE(r.v, 0) AS mrr, r.l AS rl, COALESCE(r2.v, 0) AS rn, s.l AS sl, "
        "CASE WHEN s2.v = %s THEN 1 ELSE 0 END AS sc",
        [CHURNED],
    )
    ends = (
        "SELECT x, y, mrr, CASE WHEN rl = y THEN rn ELSE mrr END AS e, "
        "CASE WHEN sl = y AND sc = 1 THEN 1 ELSE 0 END AS ce "
        f"FROM ({segments}) seg WHERE x <= y"
    )
    sql, params = group.query(
        "SELECT x, y, SUM(mrr), SUM(CASE WHEN ce = 1 THEN mrr ELSE 0 END), "
        "SUM(CASE WHEN ce = 0 AND e > mrr THEN e - mrr ELSE 0 END), "
        "SUM(CASE WHEN ce = 0 AND mrr > e THEN mrr - e ELSE 0 END) "
        f"FROM ({ends}) b GROUP BY x, y",
        params,
    )
    for x, y, start, churned, expansion, contraction in fetch(sql, params):
        for k in range(max(x, 0), min(y, n - 1) + 1):
            out[k].start += start or 0
        if y < n:
            out[y].churned += churned or 0
            out[y].expansion += expansion or 0
            out[y].contraction += contraction or 0
    return out


def compute(scope: KpiScope) -> ReportData:
    periods = Periods.of(scope)
    moves = movements(scope, periods)
    nrr, grr = [m.nrr for m in moves], [m.grr for m in moves]
    return periods.data(
        [
            Series(key="nrr", label=_("Net revenue retention"), values=nrr, format="percent"),
            Series(key="grr", label=_("Gross revenue retention"), values=grr, format="percent"),
        ],
        currency=settings.TEND_CURRENCY,
        extra={"movements": [vars(m) for m in moves]},
    )
