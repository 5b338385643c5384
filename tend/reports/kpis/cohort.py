"""The cohort of each period of the churn and revenue KPIs: the customers active at the period's
start — the record existed, its CS stage was not "churned" and, for a scope of CSMs, its CSM (as
of that start) was one of them — as SQL over the boundary steps of `history`.

A cohort segment is one customer's run of bounds x…y over which its stage, its CSM (and its MRR,
when asked) stayed as they are; the KPIs group the segments by (x, y), so the database returns
a few dozen rows whatever the number of customers."""

from dataclasses import dataclass

from tend.cs_settings.queries import workspace_settings

from . import KpiScope
from .calendar import Periods
from .history import With, customers, steps
from .sql import Sql

CHURNED = "churned"
STAGE = "cs_stage"
MRR = "mrr"


@dataclass
class Cohort:
    """The segments' FROM clause (stage steps `s`, CSM steps `m`, MRR steps `r`, customers `cust`)
    with the SQL of their first and last bound."""

    w: With
    source: str
    params: list
    x: str
    y: str

    def segments(self, columns: str, params: list | None = None) -> tuple[str, list]:
        """A SELECT of the segments' x and y with `columns` (their parameters: `params`)."""
        return f"SELECT {self.x} AS x, {self.y} AS y, {columns} FROM {self.source}", [*(params or []), *self.params]

    def query(self, select: str, params: list) -> tuple[str, list]:
        return self.w.query(select, params)


def cohort(scope: KpiScope, periods: Periods, *, mrr: bool = False) -> Cohort:
    """The segments of the customers active at a bound. With `mrr`, split by MRR too, and with
    the steps that follow them (`s2`, `r2`: the stage and MRR at the bound after a step's last;
    none after the last bound)."""
    ws = workspace_settings()
    sql = Sql()
    w = With(sql=sql, periods=periods, object_type_id=ws.customer_object_type_id)
    texts = {"s": STAGE}
    if scope.csm_ids is not None:
        texts["m"] = ws.customer_csm_property
    customers(w, texts=texts, numbers={"r": MRR} if mrr else {})
    steps(w, "s", STAGE, hit=CHURNED)
    firsts, lasts, params = ["s.f", "cust.e"], ["s.l"], []
    source = "s JOIN cust ON cust.id = s.record_id"
    if mrr:
        steps(w, "r", MRR, number=True)
        source += " JOIN r ON r.record_id = s.record_id AND r.f <= s.l AND s.f <= r.l"
        firsts.append("r.f")
        lasts.append("r.l")
    if scope.csm_ids is not None:
        steps(w, "m", ws.customer_csm_property)
        placeholders = ", ".join(["%s"] * len(scope.csm_ids))
        source += f" JOIN m ON m.record_id = s.record_id AND m.f <= s.l AND s.f <= m.l AND m.v IN ({placeholders})"
        params += [str(i) for i in scope.csm_ids]
        if mrr:
            source += " AND m.f <= r.l AND r.f <= m.l"
        firsts.append("m.f")
        lasts.append("m.l")
    if mrr:
        source += (
            " LEFT JOIN s s2 ON s2.record_id = s.record_id AND s2.f = s.l + 1"
            " LEFT JOIN r r2 ON r2.record_id = r.record_id AND r2.f = r.l + 1"
        )
    source += " WHERE COALESCE(s.v, '') <> %s"
    params.append(CHURNED)
    return Cohort(w=w, source=source, params=params, x=sql.greatest(*firsts), y=sql.least(*lasts))
