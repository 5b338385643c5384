"""Ticket resolution time: the average and median hours from a ticket's creation to its close,
by period of closing (docs/kpis.md).

One query: each ticket's close instant is worked out once, in a derived table, and the averages,
counts and medians per period are aggregated over it (as an ORM annotation, the close — a
COALESCE over a correlated subquery — was evaluated again for every reference to it: the
filters, each branch of the period CASE, the duration, and again for the medians)."""

import json

from django.db import connection
from django.utils.translation import gettext as _

from tend.crm.models import ObjectType, Stage

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .customers import customers
from .sql import Sql

TICKETS = "tickets"


def _rows(scope: KpiScope, periods: Periods) -> list[tuple]:
    """(period, average hours, tickets closed, median hours) of each period with a close: the
    tickets (not archived) by their "closed_at" property, else by their entry into a complete
    stage (from the history; without any, by the time they entered their current stage); of the
    scope's CSMs when associated with one of their customers (by the customer's current CSM)."""
    kind = ObjectType.objects.filter(name=TICKETS).first()
    if kind is None or scope.csm_ids == ():
        return []
    complete = list(
        Stage.objects.filter(pipeline__object_type=kind, outcome=Stage.Outcome.COMPLETE).values_list("pk", flat=True)
    )
    sql = Sql()
    closed_at, params = sql.property_instant("t.properties", "closed_at")
    entered = "NULL"
    if complete:
        values = ", ".join([sql.json_param()] * len(complete))
        entered = (
            "(SELECT MIN(c.changed_at) FROM crm_propertychange c WHERE c.record_id = t.id "
            f"AND c.property_name = 'stage' AND c.new_value IN ({values}))"
        )
        params += [json.dumps(pk) for pk in complete]
        params += complete
    current = f"CASE WHEN t.stage_id IN ({', '.join(['%s'] * len(complete))}) THEN t.stage_entered_at END"
    where = "t.object_type_id = %s AND t.archived_at IS NULL"
    params.append(kind.pk)
    if scope.csm_ids is not None:
        # the scope's customers as the ORM filters them: in the expression the book indexes are on
        book, more = customers(scope).values("pk").query.sql_with_params()
        where += f" AND t.id IN (SELECT a.from_record_id FROM crm_association a WHERE a.to_record_id IN ({book}))"
        params += list(more)
    tickets = (
        f"SELECT t.id, t.created_at, COALESCE({closed_at}, {entered}, {current if complete else 'NULL'}) AS closed "
        f"FROM crm_record t WHERE {where}"
    )
    period, pparams = sql.index_of("closed", periods.bounds)
    # A close typed before the ticket's creation is a data error, not a negative resolution time.
    closed = (
        f"SELECT id, {period} AS k, {sql.hours_between('closed', 'created_at')} AS h FROM ({tickets}) t "
        "WHERE closed >= %s AND closed < %s AND closed >= created_at"
    )
    ranked = (
        "SELECT k, h, ROW_NUMBER() OVER (PARTITION BY k ORDER BY h, id) AS rk, COUNT(*) OVER (PARTITION BY k) AS n "
        f"FROM ({closed}) c"
    )
    # The median of a period: its middle ticket, or the two middle ones, by rank.
    query = (
        "SELECT k, AVG(h), COUNT(*), AVG(CASE WHEN 2 * rk >= n AND 2 * rk <= n + 2 THEN h END) "
        f"FROM ({ranked}) r GROUP BY k"
    )
    # A plain cursor, not sql.fetch: a few thousand tickets cost too little for PostgreSQL to
    # compile the query (JIT) or to need more sort memory, and no savepoint round trips.
    with connection.cursor() as cursor:
        cursor.execute(query, [*pparams, *params, sql.instant(periods.bounds[0]), sql.instant(periods.bounds[-1])])
        return cursor.fetchall()


def _hours(value) -> float | None:
    # rounded twice: to a millionth of an hour first, so that SQLite's julianday arithmetic
    # (41.87499999… for 41.875) rounds as the exact value does
    return round(round(float(value), 6), 2) if value is not None else None


def compute(scope: KpiScope) -> ReportData:
    periods = Periods.of(scope)
    n = len(periods)
    average: list[float | None] = [None] * n
    median: list[float | None] = [None] * n
    counts = [0] * n
    for k, avg, count, middle in _rows(scope, periods):
        average[k], counts[k], median[k] = _hours(avg), count, _hours(middle)
    return periods.data(
        [Series("average", _("Average hours to close"), average), Series("median", _("Median hours to close"), median)],
        extra={"closed": counts},
    )
