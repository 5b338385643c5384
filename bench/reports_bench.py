"""Benchmark: the built-in CS KPIs and the "Customer success KPIs" dashboard at 100k companies,
~1M MRR history rows, on the server.

Each KPI is timed three ways in one loop, interleaved so that the machine's noise hits all three:

    view     GET /reports/<id>/chart/ — the dashboard tile's chart fragment, with the dashboard's
             filters (the last 12 months), through Django's test client (force_login)
    compute  the KPI's compute function (tend.reports.kpis) on the same scope, directly
    SQL      the same figures written by hand in SQL from the KPI's definition (both dialects)

for the manager (everyone's customers: the dashboard's defaults) and for a CSM (the dashboard with
`owner` = the CSM: their book, which sends the KPIs over the CSM's history too). The dashboard
page itself (`/dashboards/<id>/`: the grid, whose tiles then load their charts in parallel) is
timed on its own. Before timing, each case checks that the view, the compute function and the SQL
give the same figures, and records the queries of one request.

Budget (issue 18): each KPI ≤ 200 ms p95 on the server, aggregated in the database, ≤ 2× the
hand-written SQL; the dashboard complete in ≤ 1 s.

Usage (from the repository root):

    .venv/bin/python bench/reports_bench.py                      # SQLite, var/bench.sqlite3
    .venv/bin/python bench/reports_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_bench
    .venv/bin/python bench/reports_bench.py --cases team-nrr,csm --explain
"""

import argparse
import datetime as dt
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

try:
    from bench.filter_bench import DEFAULT_URL, ROOT, ensure_data, percentile, setup
    from bench.ingest_bench import free_port
    from bench.workspace_bench import BREAKDOWN_REQUESTS, _short, breakdown, captured_get, key_sql
except ImportError:  # run as a script: bench/ is on sys.path, the repository root not yet
    from filter_bench import DEFAULT_URL, ROOT, ensure_data, percentile, setup
    from ingest_bench import free_port
    from workspace_bench import BREAKDOWN_REQUESTS, _short, breakdown, captured_get, key_sql

TARGET_P95_MS = 200.0
TARGET_RATIO = 2.0
TARGET_DASHBOARD_MS = 1000.0
RANGE = "last_12_months"  # the KPI dashboard's saved range (tend.reports.builtin)
CHURNED = "churned"
PROMOTER_FROM, DETRACTOR_UP_TO = 9, 6


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--case-seconds",
        type=float,
        default=90.0,
        help="fewer iterations (at least 8) for a KPI whose view + compute + SQL round takes longer than this allows",
    )
    parser.add_argument("--csm", default="yuki@demo.tend", help="the CSM of the csm-* cases")
    parser.add_argument("--manager", default="manager@demo.tend", help="the manager of the team-* cases")
    parser.add_argument("--cases", default="", help="comma-separated prefixes of case keys, e.g. 'team-nrr,csm'")
    parser.add_argument("--explain", action="store_true", help="print the query plans of each case")
    parser.add_argument(
        "--server-loads",
        type=int,
        default=10,
        help="dashboard loads over real HTTP (gunicorn as `tend serve` runs it; 0 = skip)",
    )
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers (TEND_WEB_WORKERS)")
    parser.add_argument("--server-threads", type=int, default=4, help="threads per worker (TEND_WEB_THREADS)")
    parser.add_argument("--connections", type=int, default=6, help="the browser's connections to one host")
    return parser.parse_args(argv)


# ---- the hand-written SQL -------------------------------------------------------------------


@dataclass
class Ctx:
    """What the hand-written SQL is about: the vendor, the customers' object type and CSM property,
    the scope (None: everyone's customers) and the periods in the viewer's zone."""

    vendor: str
    customers: int  # object type id
    csm: str  # the customers' CSM property
    scope: tuple[int, ...] | None
    tz: object
    days: list[dt.date]  # the first days of the periods and of the one after the last
    bounds: list[dt.datetime]  # the same as instants
    lookups: dict = field(default_factory=dict)  # ids the SQL needs (profile, pipeline, stages)

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    @property
    def n(self) -> int:
        return len(self.bounds) - 1

    def at(self, value: dt.datetime):
        if self.pg:
            return value
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

    def text(self, column: str) -> str:  # a JSON column holding one value, as text
        return f"({column} #>> '{{}}')" if self.pg else f"CAST(json_extract({column}, '$') AS TEXT)"

    def number(self, column: str) -> str:
        return f"CAST({column} #>> '{{}}' AS double precision)" if self.pg else f"json_extract({column}, '$')"

    def prop(self, name: str, alias: str = "r", number: bool = False) -> str:
        if self.pg:
            return (
                f"CAST({alias}.properties ->> '{name}' AS double precision)"
                if number
                else f"({alias}.properties ->> '{name}')"
            )
        return f"json_extract({alias}.properties, '$.{name}')"

    def prop_text(self, name: str, alias: str = "r") -> str:
        return (
            f"({alias}.properties ->> '{name}')"
            if self.pg
            else f"CAST(json_extract({alias}.properties, '$.{name}') AS TEXT)"
        )

    def period(self, column: str) -> tuple[str, list]:
        """The index of the period an instant falls in: -1 before the first bound, n after the last."""
        cases = " ".join(f"WHEN {column} < %s THEN {k - 1}" for k in range(len(self.bounds)))
        return f"(CASE {cases} ELSE {self.n} END)", [self.at(b) for b in self.bounds]

    def day_period(self, column: str) -> tuple[str, list]:
        cases = " ".join(f"WHEN {column} < %s THEN {k - 1}" for k in range(len(self.days)))
        return f"(CASE {cases} ELSE {self.n} END)", [self.day(d) for d in self.days]

    def day(self, value: dt.date):
        return value if self.pg else value.isoformat()

    def local_date(self, column: str) -> str:
        """The day an instant falls on in the viewer's zone (SQLite: the function Django registers)."""
        if self.pg:
            return f"CAST(({column} AT TIME ZONE '{self.tz.key}') AS date)"
        return f"django_datetime_cast_date({column}, '{self.tz.key}', 'UTC')"

    def days_between(self, later: str, earlier: str) -> str:
        return f"({later} - {earlier})" if self.pg else f"(julianday({later}) - julianday({earlier}))"

    def hours_between(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"
        return f"((julianday({later}) - julianday({earlier})) * 24.0)"

    def greatest(self, *xs: str) -> str:  # of one: itself (SQLite's MAX of one is the aggregate)
        if len(xs) == 1:
            return xs[0]
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(xs)})"

    def least(self, *xs: str) -> str:
        if len(xs) == 1:
            return xs[0]
        return f"{'LEAST' if self.pg else 'MIN'}({', '.join(xs)})"

    def in_scope(self, alias: str = "r") -> tuple[str, list]:
        """The customers of the scope's CSMs, by their current CSM (crm_record's CSM expression)."""
        if self.scope is None:
            return "", []
        return self.key_in(self.csm, list(self.scope), alias)

    def key_in(self, name: str, values: list, alias: str = "r") -> tuple[str, list]:
        """A property among values, in the expression crm_record's indexes are declared on (the
        book indexes serve a CSM's customers), as the KPIs' ORM filters compare it."""
        marks = ", ".join(["%s::jsonb" if self.pg else "%s"] * len(values))
        params = [json.dumps(v) for v in values] if self.pg else values
        return f" AND {key_sql(self.vendor, name, alias)} IN ({marks})", params


@dataclass
class Sql:
    """The statements of one KPI and how to turn their rows into the KPI's figures."""

    queries: list[tuple[str, list]]
    figures: Callable[[list[list[tuple]]], object]

    def run(self, connection):
        from django.db import transaction

        results = []
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # as the history KPIs run theirs (kpis.sql.fetch), this
                # statement only: a session-wide SET would switch JIT off for the views timed after it
                cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
            for sql, params in self.queries:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
        return self.figures(results)


def history(ctx: Ctx, alias: str, prop: str, *, number: bool = False, current: str) -> tuple[str, list]:
    """Two CTEs: `<alias>_c`, the changes of `prop` since the first bound of the customers in `cust`
    with their period and the period of the record's next change, and `<alias>`, its segments: the
    property held `v` at the bounds f…l (the value before a record's first change in the window is
    that change's old value; without a change, the current value `cust.<current>`)."""
    value = ctx.number if number else ctx.text
    period, pp = ctx.period("c.changed_at")
    n = ctx.n
    changes = (
        f"{alias}_c AS (SELECT record_id, p, ov, nv, "
        "ROW_NUMBER() OVER (PARTITION BY record_id ORDER BY changed_at, id) AS i, "
        "LEAD(p) OVER (PARTITION BY record_id ORDER BY changed_at, id) AS np "
        f"FROM (SELECT c.record_id, c.changed_at, c.id, {period} AS p, {value('c.old_value')} AS ov, "
        f"{value('c.new_value')} AS nv FROM crm_propertychange c WHERE c.property_name = %s AND c.changed_at >= %s "
        "AND c.record_id IN (SELECT id FROM cust)) x)"
    )
    segments = (
        f"{alias} AS (SELECT record_id, p + 1 AS f, COALESCE(np, {n}) AS l, nv AS v FROM {alias}_c "
        f"WHERE p + 1 <= COALESCE(np, {n}) "
        f"UNION ALL SELECT record_id, 0, p, ov FROM {alias}_c WHERE i = 1 "
        f"UNION ALL SELECT id, 0, {n}, {current} FROM cust WHERE id NOT IN (SELECT record_id FROM {alias}_c))"
    )
    return f"{changes}, {segments}", [*pp, prop, ctx.at(ctx.bounds[0])]


def cust_cte(ctx: Ctx, *, mrr: bool = False) -> tuple[str, list]:
    created, params = ctx.period("r.created_at")
    columns = [f"{created} + 1 AS e", f"{ctx.prop_text('cs_stage')} AS stage"]
    if mrr:
        columns.append(f"{ctx.prop('mrr', number=True)} AS mrr")
    if ctx.scope is not None:
        columns.append(f"{ctx.prop_text(ctx.csm)} AS csm")
    sql = (
        f"cust AS (SELECT r.id, {', '.join(columns)} FROM crm_record r "
        "WHERE r.object_type_id = %s AND r.archived_at IS NULL)"
    )
    return sql, [*params, ctx.customers]


def cohort_sql(ctx: Ctx, *, mrr: bool) -> tuple[str, list, str, str, str, list]:
    """WITH … and the FROM of the customers' cohort segments: runs of bounds x…y over which a
    customer existed, was not churned and (scope) had one of the CSMs, its stage (and MRR)
    unchanged. Returns (with, params, from, x, y, from_params)."""
    ctes, params = [], []
    for sql, p in (
        cust_cte(ctx, mrr=mrr),
        history(ctx, "s", "cs_stage", current="stage"),
        *([history(ctx, "m", "mrr", number=True, current="mrr")] if mrr else []),
        *([history(ctx, "o", ctx.csm, current="csm")] if ctx.scope is not None else []),
    ):
        ctes.append(sql)
        params += p
    firsts, lasts, fparams = ["s.f", "cust.e"], ["s.l"], []
    source = "s JOIN cust ON cust.id = s.record_id"
    if mrr:
        source += " JOIN m ON m.record_id = s.record_id AND m.f <= s.l AND s.f <= m.l"
        firsts.append("m.f")
        lasts.append("m.l")
    if ctx.scope is not None:
        marks = ", ".join(["%s"] * len(ctx.scope))
        source += f" JOIN o ON o.record_id = s.record_id AND o.f <= s.l AND s.f <= o.l AND o.v IN ({marks})"
        fparams += [str(i) for i in ctx.scope]
        if mrr:
            source += " AND o.f <= m.l AND m.f <= o.l"
        firsts.append("o.f")
        lasts.append("o.l")
    return "WITH " + ", ".join(ctes), params, source, ctx.greatest(*firsts), ctx.least(*lasts), fparams


def spread(rows, n: int, column: int) -> list:
    """Per period k, the sum of `column` over the rows (x, y, …) with x ≤ k ≤ y."""
    out = [0] * n
    for row in rows:
        for k in range(max(row[0], 0), min(row[1], n - 1) + 1):
            out[k] += row[column] or 0
    return out


def churn_sql(ctx: Ctx) -> Sql:
    """Active at each period's start (existed, stage not churned, [CSM one of the scope's]) and, of
    them, those whose stage was set to churned during the period."""
    with_, params, source, x, y, fparams = cohort_sql(ctx, mrr=False)
    active = (
        f"SELECT 'a', x, y, COUNT(*) FROM (SELECT {x} AS x, {y} AS y FROM {source} "
        "WHERE COALESCE(s.v, '') <> %s) seg WHERE x <= y GROUP BY x, y"
    )
    scope_join, sparams = "", []
    if ctx.scope is not None:
        marks = ", ".join(["%s"] * len(ctx.scope))
        scope_join = f" JOIN o ON o.record_id = h.record_id AND o.f <= h.p AND h.p <= o.l AND o.v IN ({marks})"
        sparams = [str(i) for i in ctx.scope]
    churned = (
        "SELECT 'c', h.p, h.p, COUNT(*) FROM (SELECT DISTINCT record_id, p FROM s_c WHERE nv = %s) h "
        "JOIN s ON s.record_id = h.record_id AND s.f <= h.p AND h.p <= s.l "
        f"JOIN cust ON cust.id = h.record_id{scope_join} "
        f"WHERE COALESCE(s.v, '') <> %s AND h.p >= cust.e AND h.p < {ctx.n} GROUP BY h.p"
    )
    sql = f"{with_} {active} UNION ALL {churned}"
    all_params = [*params, *fparams, CHURNED, CHURNED, *sparams, CHURNED]

    def figures(results):
        rows = results[0]
        n = ctx.n
        actives = spread([r[1:] for r in rows if r[0] == "a"], n, 2)
        churns = [0] * n
        for _tag, p, _p, count in (r for r in rows if r[0] == "c"):
            churns[p] += count
        return {"active": actives, "churned": churns}

    return Sql([(sql, all_params)], figures)


def nrr_sql(ctx: Ctx) -> Sql:
    """Per period, the MRR at its start of the customers active then, and by its end: lost with
    those churned (stage at the next bound), gained and lost by the others."""
    with_, params, source, x, y, fparams = cohort_sql(ctx, mrr=True)
    # the values at the bound after a segment's last: the next segment's when it ends there
    source += " LEFT JOIN s s2 ON s2.record_id = s.record_id AND s2.f = s.l + 1"
    source += " LEFT JOIN m m2 ON m2.record_id = m.record_id AND m2.f = m.l + 1"
    seg = (
        f"SELECT {x} AS x, {y} AS y, s.l AS sl, m.l AS ml, COALESCE(m.v, 0) AS v0, COALESCE(m2.v, 0) AS v1, "
        f"CASE WHEN s2.v = %s THEN 1 ELSE 0 END AS gone FROM {source} WHERE COALESCE(s.v, '') <> %s"
    )
    ends = (
        "SELECT x, y, v0, CASE WHEN ml = y THEN v1 ELSE v0 END AS v1, CASE WHEN sl = y AND gone = 1 THEN 1 ELSE 0 END AS gone "
        f"FROM ({seg}) seg WHERE x <= y"
    )
    sql = (
        f"{with_} SELECT x, y, SUM(v0), SUM(CASE WHEN gone = 1 THEN v0 ELSE 0 END), "
        "SUM(CASE WHEN gone = 0 AND v1 > v0 THEN v1 - v0 ELSE 0 END), "
        f"SUM(CASE WHEN gone = 0 AND v0 > v1 THEN v0 - v1 ELSE 0 END) FROM ({ends}) e GROUP BY x, y"
    )
    all_params = [*params, CHURNED, *fparams, CHURNED]

    def figures(results):
        rows = results[0]
        n = ctx.n
        start = spread(rows, n, 2)
        out = [[start[k], 0.0, 0.0, 0.0] for k in range(n)]
        for _x, yy, _s, churned, expansion, contraction in rows:
            if yy < n:
                out[yy][1] += churned or 0
                out[yy][2] += expansion or 0
                out[yy][3] += contraction or 0
        return [tuple(round(v, 2) for v in m) for m in out]

    return Sql([(sql, all_params)], figures)


def services_cte(ctx: Ctx) -> tuple[str, list]:
    """`sv`: the onboarding pipeline's services (of the scope's CSMs by their own CSM property) with
    their start day, the instant they entered the complete stage, and the days between."""
    lk = ctx.lookups
    start = (
        "CAST(r.properties ->> 'start_date' AS date)" if ctx.pg else "date(json_extract(r.properties, '$.start_date'))"
    )
    complete = "c.new_value = CAST(%s AS jsonb)" if ctx.pg else "c.new_value = %s"
    scope, sparams = "", []
    if ctx.scope is not None:
        scope, sparams = ctx.key_in(lk["services_csm"], list(ctx.scope))
    inner = (
        f"SELECT r.id, COALESCE({start}, {ctx.local_date('r.created_at')}) AS start_day, "
        f"COALESCE((SELECT MIN(c.changed_at) FROM crm_propertychange c WHERE c.record_id = r.id "
        f"AND c.property_name = 'stage' AND {complete}), "
        "CASE WHEN r.stage_id = %s THEN r.stage_entered_at END) AS done_at "
        "FROM crm_record r WHERE r.object_type_id = %s AND r.pipeline_id = %s AND r.archived_at IS NULL" + scope
    )
    sql = (
        f"WITH sv AS (SELECT id, start_day, done_at, "
        f"{ctx.days_between(ctx.local_date('done_at'), 'start_day')} AS days FROM ({inner}) x)"
    )
    return sql, [str(lk["complete"]), lk["complete"], lk["services"], lk["pipeline"], *sparams]


def onboarding_completion_sql(ctx: Ctx) -> Sql:
    from tend.core import clock

    lk = ctx.lookups
    with_, params = services_cte(ctx)
    period, pp = ctx.day_period("start_day")
    overdue_before = ctx.day(clock.today(ctx.tz) - dt.timedelta(days=lk["target_days"]))
    target = lk["target_days"]
    sql = (
        f"{with_} SELECT {period} AS k, "
        f"SUM(CASE WHEN done_at IS NOT NULL AND days <= %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN done_at IS NOT NULL OR start_day < %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN done_at IS NULL AND start_day >= %s THEN 1 ELSE 0 END) "
        "FROM sv WHERE start_day >= %s AND start_day < %s GROUP BY 1"
    )
    all_params = [*params, *pp, target, overdue_before, overdue_before, ctx.day(ctx.days[0]), ctx.day(ctx.days[-1])]

    def figures(results):
        in_time, counted, pending = [0] * ctx.n, [0] * ctx.n, 0
        for k, i, c, p in results[0]:
            in_time[k] += i
            counted[k] += c
            pending += p
        return {"in_time": in_time, "counted": counted, "pending": pending}

    return Sql([(sql, all_params)], figures)


def onboarding_days_sql(ctx: Ctx) -> Sql:
    with_, params = services_cte(ctx)
    period, pp = ctx.period("done_at")
    sql = (
        f"{with_} SELECT {period}, AVG(days), COUNT(*) FROM sv "
        "WHERE done_at >= %s AND done_at < %s AND days >= 0 GROUP BY 1"
    )
    all_params = [*params, *pp, ctx.at(ctx.bounds[0]), ctx.at(ctx.bounds[-1])]

    def figures(results):
        average, counts = [None] * ctx.n, [0] * ctx.n
        for k, avg, count in results[0]:
            average[k], counts[k] = round(float(avg), 2), count
        return {"average": average, "completed": counts}

    return Sql([(sql, all_params)], figures)


def current(ctx: Ctx, alias: str = "r") -> tuple[str, list]:
    """A book's customers today: of the scope's CSMs, CS stage not churned."""
    scope, sparams = ctx.in_scope(alias)
    stage, stage_params = ctx.key_in("cs_stage", [CHURNED], alias)
    return f" AND NOT ({stage.removeprefix(' AND ')}){scope}", [*stage_params, *sparams]


def health_sql(ctx: Ctx) -> Sql:
    """The current customers per status of the default profile; unscored ones as "" (No score)."""
    book, bparams = current(ctx)
    sql = (
        "SELECT COALESCE(s.status, ''), COUNT(*) FROM crm_record r "
        "LEFT JOIN health_healthscore s ON s.record_id = r.id AND s.profile_id = %s "
        f"WHERE r.object_type_id = %s AND r.archived_at IS NULL{book} GROUP BY 1"
    )
    return Sql([(sql, [ctx.lookups["profile"], ctx.customers, *bparams])], lambda results: dict(results[0]))


def nps_sql(ctx: Ctx) -> Sql:
    from tend.usage.models import SurveyResponse

    scope, sparams = ctx.in_scope()
    period, pp = ctx.period("a.responded_at")
    sql = (
        f"SELECT {period}, COUNT(*), SUM(CASE WHEN a.score >= %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN a.score <= %s THEN 1 ELSE 0 END), AVG(a.score) "
        f"FROM {SurveyResponse._meta.db_table} a JOIN crm_record r ON r.id = a.account_id "
        "WHERE a.survey = 'nps' AND a.responded_at >= %s AND a.responded_at < %s "
        f"AND r.object_type_id = %s AND r.archived_at IS NULL{scope} GROUP BY 1"
    )
    params = [*pp, PROMOTER_FROM, DETRACTOR_UP_TO, ctx.at(ctx.bounds[0]), ctx.at(ctx.bounds[-1]), ctx.customers]

    def figures(results):
        n = ctx.n
        answers, nps, average = [0] * n, [None] * n, [None] * n
        for k, count, promoters, detractors, avg in results[0]:
            answers[k] = count
            nps[k] = round((promoters - detractors) * 100 / count, 1)
            average[k] = round(float(avg), 2)
        return {"answers": answers, "nps": nps, "average": average}

    return Sql([(sql, [*params, *sparams])], figures)


def tickets_sql(ctx: Ctx) -> Sql:
    """Tickets closed per period (the closed_at property, else entering a complete stage): the
    average and the median hours from creation to close."""
    lk = ctx.lookups
    stages = lk["ticket_complete"]
    marks = ", ".join(["%s"] * len(stages))
    if ctx.pg:
        closed_prop = "CAST(t.properties ->> 'closed_at' AS timestamptz)"
        entered = f"c.new_value IN ({', '.join(['CAST(%s AS jsonb)'] * len(stages))})"
    else:
        closed_prop = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', json_extract(t.properties, '$.closed_at'))"
        entered = f"c.new_value IN ({marks})"
    scope, sparams = "", []
    if ctx.scope is not None:
        in_scope, sparams = ctx.in_scope("r")
        scope = (
            " AND EXISTS (SELECT 1 FROM crm_association a JOIN crm_record r ON r.id = a.to_record_id "
            f"WHERE a.from_record_id = t.id AND r.object_type_id = %s AND r.archived_at IS NULL{in_scope})"
        )
        sparams = [ctx.customers, *sparams]
    closed = (
        f"SELECT t.id, t.created_at, COALESCE({closed_prop}, (SELECT MIN(c.changed_at) FROM crm_propertychange c "
        f"WHERE c.record_id = t.id AND c.property_name = 'stage' AND {entered}), "
        f"CASE WHEN t.stage_id IN ({marks}) THEN t.stage_entered_at END) AS closed "
        f"FROM crm_record t WHERE t.object_type_id = %s AND t.archived_at IS NULL{scope}"
    )
    period, pp = ctx.period("closed")
    hours = ctx.hours_between("closed", "created_at")
    ranked = (
        f"SELECT k, h, ROW_NUMBER() OVER (PARTITION BY k ORDER BY h, id) AS rk, COUNT(*) OVER (PARTITION BY k) AS cnt "
        f"FROM (SELECT id, {period} AS k, {hours} AS h FROM ({closed}) c "
        "WHERE closed >= %s AND closed < %s AND closed >= created_at) t"
    )
    sql = (
        "SELECT k, AVG(h), COUNT(*), AVG(CASE WHEN 2 * rk >= cnt AND 2 * rk <= cnt + 2 THEN h END) "
        f"FROM ({ranked}) r GROUP BY k"
    )
    params = [
        *pp,
        *[str(s) for s in stages],
        *stages,
        lk["tickets"],
        *sparams,
        ctx.at(ctx.bounds[0]),
        ctx.at(ctx.bounds[-1]),
    ]

    def figures(results):
        n = ctx.n
        closed_n, average, median = [0] * n, [None] * n, [None] * n
        for k, avg, count, med in results[0]:
            closed_n[k], average[k], median[k] = count, round(float(avg), 2), round(float(med), 2)
        return {"closed": closed_n, "average": average, "median": median}

    return Sql([(sql, params)], figures)


def books_sql(ctx: Ctx) -> Sql:
    scope, sparams = current(ctx)
    csm = ctx.prop_text(ctx.csm)
    sql = (
        f"SELECT {csm}, COUNT(*), SUM({ctx.prop('mrr', number=True)}), AVG(s.score), "
        "SUM(CASE WHEN s.status = %s THEN 1 ELSE 0 END) FROM crm_record r "
        "LEFT JOIN health_healthscore s ON s.record_id = r.id AND s.profile_id = %s "
        f"WHERE r.object_type_id = %s AND r.archived_at IS NULL{scope} GROUP BY 1"
    )
    params = [ctx.lookups["lowest"], ctx.lookups["profile"], ctx.customers, *sparams]

    def figures(results):
        return {
            (csm_id or ""): (count, round(mrr or 0, 2), round(h, 1) if h is not None else None, risk)
            for csm_id, count, mrr, h, risk in results[0]
        }

    return Sql([(sql, params)], figures)


SQL_OF = {
    "churn_rate": churn_sql,
    "nrr": nrr_sql,
    "onboarding_completion": onboarding_completion_sql,
    "onboarding_days": onboarding_days_sql,
    "health_distribution": health_sql,
    "nps_trend": nps_sql,
    "ticket_resolution": tickets_sql,
    "customers_per_csm": books_sql,
}


# ---- what a KPI showed ----------------------------------------------------------------------


def figures(key: str, data):
    """A KPI's ReportData as the figures its SQL computes."""
    values = {s.key: s.values for s in data.series}
    extra = data.extra
    if key == "churn_rate":
        return {"active": extra["active"], "churned": extra["churned"]}
    if key == "nrr":
        return [
            tuple(round(m[f], 2) for f in ("start", "churned", "expansion", "contraction")) for m in extra["movements"]
        ]
    if key == "onboarding_completion":
        return {"in_time": extra["in_time"], "counted": extra["counted"], "pending": extra["pending"]}
    if key == "onboarding_days":
        return {"average": values["days"], "completed": extra["completed"]}
    if key == "health_distribution":
        return dict(zip((c.key for c in data.categories), values["customers"], strict=True))
    if key == "nps_trend":
        return {"answers": extra["answers"], "nps": values["nps"], "average": values["average"]}
    if key == "ticket_resolution":
        return {"closed": extra["closed"], "average": values["average"], "median": values["median"]}
    if key == "customers_per_csm":
        rows = zip(values["customers"], values["mrr"], values["health"], values["at_risk"], strict=True)
        return {c.key: (n, round(m or 0, 2), h, r or 0) for c, (n, m, h, r) in zip(data.categories, rows, strict=True)}
    raise KeyError(key)


def same(a, b, tolerance: float = 0.011) -> bool:
    """Equal figures, floats within `tolerance` (rounded averages of the two databases' arithmetic)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(a - b) <= tolerance * max(1.0, abs(a) * 1e-9)
    return a == b


def describe(key: str, f) -> str:
    """A short account of a KPI's figures, for the table."""
    if key == "churn_rate":
        return f"{f['active'][-1]:,} active, {sum(f['churned']):,} churned"
    if key == "nrr":
        return f"MRR {f[-1][0]:,.0f} at the start"
    if key == "onboarding_completion":
        return f"{sum(f['in_time'])}/{sum(f['counted'])} in time"
    if key == "onboarding_days":
        return f"{sum(f['completed'])} completed"
    if key == "health_distribution":
        return f"{sum(f.values()):,} scored"
    if key == "nps_trend":
        return f"{sum(f['answers']):,} answers"
    if key == "ticket_resolution":
        return f"{sum(f['closed']):,} closed"
    if key == "customers_per_csm":
        return f"{len(f)} CSMs, {sum(v[0] for v in f.values()):,} customers"
    return ""


# ---- the cases ------------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    who: str  # "team" (the manager, everyone's) | "csm" (the CSM's book)
    kpi: str  # "" for the dashboard page
    path: str
    result: dict = field(default_factory=dict)


def lookups(ws) -> dict:
    """The ids the hand-written SQL names: the default health profile and its lowest status, the
    onboarding pipeline with its complete stage and target, the tickets' complete stages."""
    from tend.crm.models import ObjectType, Pipeline, Stage
    from tend.health.models import ScoreProfile

    profile = ScoreProfile.objects.active().select_related("active_version").order_by("priority", "pk").first()
    statuses = sorted(
        (profile.active_version.definition or {}).get("statuses") or [], key=lambda s: -(s.get("min") or 0)
    )
    pipeline = Pipeline.objects.get(
        object_type=ws.services_object_type_id, label="Onboarding", archived_at__isnull=True
    )
    stages = list(pipeline.stages.order_by("display_order", "pk"))
    i = next(i for i, s in enumerate(stages) if s.outcome == Stage.Outcome.COMPLETE)
    tickets = ObjectType.objects.get(name="tickets")
    return {
        "profile": profile.pk,
        "lowest": statuses[-1]["key"] if statuses else "at_risk",
        "services": ws.services_object_type_id,
        "services_csm": ws.services_csm_property or "csm",
        "pipeline": pipeline.pk,
        "complete": stages[i].pk,
        "target_days": sum(s.target_days or 0 for s in stages[:i]),
        "tickets": tickets.pk,
        "ticket_complete": list(
            Stage.objects.filter(pipeline__object_type=tickets, outcome=Stage.Outcome.COMPLETE).values_list(
                "pk", flat=True
            )
        ),
    }


def make_ctx(connection, ws, user, scope, lk) -> Ctx:
    from tend.core import clock
    from tend.reports import periods
    from tend.reports.kpis import KpiScope
    from tend.reports.kpis.calendar import Periods

    tz = clock.user_zone(user)
    start, end = periods.date_range(RANGE, tz)
    # the months of the range: written here rather than taken from the KPIs' calendar, then checked
    days = [start.replace(day=1)]
    while days[-1] <= end.replace(day=1):
        d = days[-1]
        days.append(dt.date(d.year + d.month // 12, d.month % 12 + 1, 1))
    bounds = [clock.start_of_day(d, tz) for d in days]
    theirs = Periods.of(KpiScope(start=start, end=end, tz=tz, csm_ids=scope))
    if list(theirs.days) != days:
        raise SystemExit(f"the periods differ: {days} vs {theirs.days}")
    return Ctx(connection.vendor, ws.customer_object_type_id, ws.customer_csm_property, scope, tz, days, bounds, lk)


def kpi_scope(ctx: Ctx, kpi):
    from tend.reports import periods
    from tend.reports.kpis import KpiScope

    start, end = periods.date_range(RANGE, ctx.tz)
    return KpiScope(start=start, end=end, tz=ctx.tz, csm_ids=ctx.scope, unit=kpi.options.get("unit", "month"))


# ---- timing ---------------------------------------------------------------------------------


def get(client, path: str):
    r = client.get(path)
    if r.status_code != 200:
        raise SystemExit(f"{path} answered {r.status_code}: {r.content[:300]!r}")
    return r


def run_kpi(args, client, connection, ctx: Ctx, case: Case) -> dict:
    from tend.reports.kpis import KPIS

    kpi = KPIS[case.kpi]
    sql = SQL_OF[case.kpi](ctx)
    scope = kpi_scope(ctx, kpi)
    response, queries = captured_get(client, connection, case.path, {})
    if response.status_code != 200:
        raise SystemExit(f"({case.key}) {case.path} answered {response.status_code}: {response.content[:300]!r}")
    data = response.context["data"]
    if data is None:
        raise SystemExit(f"({case.key}) no data: {response.context.get('problem')}")
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        computed = kpi.compute(scope)
    shown, direct, hand = figures(case.kpi, data), figures(case.kpi, computed), sql.run(connection)
    if not same(shown, direct) or not same(shown, hand):
        raise SystemExit(f"({case.key}) the figures disagree:\n  view    {shown}\n  compute {direct}\n  SQL     {hand}")

    def view():
        get(client, case.path)

    started = time.perf_counter()
    for _ in range(args.warmup):
        view()
        kpi.compute(scope)
        sql.run(connection)
    round_s = (time.perf_counter() - started) / max(args.warmup, 1)
    iterations = max(min(args.iterations, 8), min(args.iterations, int(args.case_seconds / max(round_s, 1e-3))))
    view_ms, compute_ms, sql_ms = [], [], []
    for _ in range(iterations):
        t0 = time.perf_counter()
        view()
        t1 = time.perf_counter()
        kpi.compute(scope)
        t2 = time.perf_counter()
        sql.run(connection)
        t3 = time.perf_counter()
        view_ms.append((t1 - t0) * 1000)
        compute_ms.append((t2 - t1) * 1000)
        sql_ms.append((t3 - t2) * 1000)
    parts = []
    for _ in range(max(3, BREAKDOWN_REQUESTS // 3)):
        with breakdown(connection) as p:
            started = time.perf_counter()
            view()
            total = time.perf_counter() - started
        parts.append((total, p["sql"], p["template"], total - p["sql"] - p["template"]))
    return {
        "shows": describe(case.kpi, hand),
        "iterations": iterations,
        "queries": queries,
        "compute_queries": list(captured.captured_queries),
        "view": (percentile(view_ms, 50), percentile(view_ms, 95)),
        "compute": (percentile(compute_ms, 50), percentile(compute_ms, 95)),
        "sql": (percentile(sql_ms, 50), percentile(sql_ms, 95)),
        "breakdown": [statistics.median(p[i] for p in parts) * 1000 for i in range(4)],
        "hand_sql": sql.queries,
    }


TILE = re.compile(r'class="tile-chart" hx-get="([^"]+)"')


def run_page(args, client, connection, case: Case, expected: dict[int, str]) -> dict:
    """The dashboard page; checks that its tiles load the charts the KPI cases time."""
    response, queries = captured_get(client, connection, case.path, {})
    if response.status_code != 200:
        raise SystemExit(f"({case.key}) {case.path} answered {response.status_code}")
    tiles = [u.replace("&amp;", "&") for u in TILE.findall(response.content.decode())]
    if sorted(tiles) != sorted(expected.values()):
        raise SystemExit(f"({case.key}) the page's tiles are not the KPI cases': {tiles} vs {list(expected.values())}")
    for _ in range(args.warmup):
        get(client, case.path)
    samples = []
    for _ in range(args.iterations):
        started = time.perf_counter()
        get(client, case.path)
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "shows": f"{len(tiles)} tiles",
        "queries": queries,
        "view": (percentile(samples, 50), percentile(samples, 95)),
        "tiles": tiles,
    }


# ---- the dashboard over real HTTP -------------------------------------------------------------


def start_server(args, port: int) -> subprocess.Popen:
    """gunicorn as `tend serve` runs it: TEND_WEB_WORKERS processes of TEND_WEB_THREADS threads."""
    env = {**os.environ, "TEND_DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "tend.settings"}
    env["TEND_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tend.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.server_workers), "--threads", str(args.server_threads), "--timeout", "120",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def load_dashboard(port: int, cookie: str, page: str, connections: int) -> tuple[float, float, list[float]]:
    """What a browser does: GET the page, then its tiles' charts at once over `connections`
    keep-alive connections. Returns (page ms, page + every tile ms, each tile's ms)."""
    headers = {"Cookie": cookie, "Host": "127.0.0.1"}

    def fetch(conn, path: str) -> bytes:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status} over HTTP: {body[:200]!r}")
        return body

    started = time.perf_counter()
    first = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = fetch(first, page)
    page_done = time.perf_counter()
    queue = list(reversed([u.replace("&amp;", "&") for u in TILE.findall(body.decode())]))
    lock = threading.Lock()
    tiles: list[float] = []

    def worker(conn):
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            t = time.perf_counter()
            fetch(conn, path)
            with lock:
                tiles.append((time.perf_counter() - t) * 1000)
        conn.close()

    conns = [first] + [http.client.HTTPConnection("127.0.0.1", port, timeout=120) for _ in range(connections - 1)]
    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = time.perf_counter()
    return (page_done - started) * 1000, (done - started) * 1000, tiles


def server_loads(args, clients: dict, pages: dict[str, str]) -> dict[str, dict]:
    from django.conf import settings

    port = free_port()
    server = start_server(args, port)
    out = {}
    try:
        for who, client in clients.items():
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            load_dashboard(port, cookie, pages[who], args.connections)  # every worker imports the URLconf
            load_dashboard(port, cookie, pages[who], args.connections)
            runs = [load_dashboard(port, cookie, pages[who], args.connections) for _ in range(args.server_loads)]
            out[who] = {
                "page": (percentile([r[0] for r in runs], 50), percentile([r[0] for r in runs], 95)),
                "complete": (percentile([r[1] for r in runs], 50), percentile([r[1] for r in runs], 95)),
                "slowest_tile": percentile([max(r[2]) for r in runs], 50),
            }
            print(f"  {who}-dashboard over HTTP: complete p95 {out[who]['complete'][1]:8.1f} ms", flush=True)
    finally:
        server.terminate()
        server.wait()
    return out


def report(args, connection, cases: list[Case], served: dict | None = None) -> None:
    print(
        f"\n{'case':<30}{'shows':<32}{'queries':>8}{'view p50':>9}{'p95':>8}{'compute p50':>12}{'p95':>8}"
        f"{'SQL p50':>9}{'p95':>8}{'view/SQL':>9}{'compute/SQL':>12}  budget"
    )
    for case in cases:
        r = case.result
        v50, v95 = r["view"]
        if not case.kpi:
            print(f"{case.key:<30}{r['shows'][:31]:<32}{len(r['queries']):>8}{v50:>9.2f}{v95:>8.2f}")
            continue
        (c50, c95), (s50, s95) = r["compute"], r["sql"]
        ratio = c95 / s95
        misses = []
        if v95 > TARGET_P95_MS:
            misses.append(f"{v95 - TARGET_P95_MS:.0f} ms over")
        if ratio > TARGET_RATIO:
            misses.append(f"{ratio:.1f}× the SQL")
        verdict = "met" if not misses else "MISSED: " + ", ".join(misses)
        print(
            f"{case.key:<30}{r['shows'][:31]:<32}{len(r['queries']):>8}{v50:>9.2f}{v95:>8.2f}{c50:>12.2f}{c95:>8.2f}"
            f"{s50:>9.2f}{s95:>8.2f}{v95 / s95:>9.2f}{ratio:>12.2f}  {verdict}"
        )
    print("(view: the tile's chart GET through the test client, no network; compute: the KPI's function on the")
    print(" same scope; SQL: the same figures hand-written; ratios of the p95s; budget: view p95 ≤ 200 ms and")
    print(" compute ≤ 2× the SQL)")
    for who in ("team", "csm"):
        page = next((c for c in cases if c.who == who and not c.kpi), None)
        tiles = [c for c in cases if c.who == who and c.kpi]
        if page is None or not tiles:
            continue
        p50, p95 = page.result["view"]
        slowest = max(tiles, key=lambda c: c.result["view"][1])
        s50 = sum(c.result["view"][0] for c in tiles)
        s95 = sum(c.result["view"][1] for c in tiles)
        total = p95 + slowest.result["view"][1]
        verdict = "met" if total <= TARGET_DASHBOARD_MS else f"MISSED by {total - TARGET_DASHBOARD_MS:.0f} ms"
        print(
            f"\ndashboard ({who}, {len(tiles)} tiles): page {p50:.1f} / {p95:.1f} ms; page + slowest tile "
            f"({slowest.kpi}) p95 {total:.1f} ms [{verdict}]; page + every tile in turn p50 {p50 + s50:.1f} / "
            f"p95 {p95 + s95:.1f} ms"
        )
        if served and who in served:
            r = served[who]
            total = r["complete"][1]
            verdict = "met" if total <= TARGET_DASHBOARD_MS else f"MISSED by {total - TARGET_DASHBOARD_MS:.0f} ms"
            print(
                f"  over HTTP (gunicorn {args.server_workers} workers × {args.server_threads} threads, "
                f"{args.connections} connections, {args.server_loads} loads): page {r['page'][0]:.1f} / "
                f"{r['page'][1]:.1f} ms, complete {r['complete'][0]:.1f} / {total:.1f} ms [{verdict}], slowest "
                f"tile p50 {r['slowest_tile']:.1f} ms"
            )
    print(
        f"\nWhere a chart request's time goes (ms, medians of {max(3, BREAKDOWN_REQUESTS // 3)} instrumented requests):"
    )
    print(f"{'case':<30}{'request':>9}{'SQL':>9}{'template':>10}{'rest':>8}")
    for case in cases:
        if case.kpi:
            total, sql, template, rest = case.result["breakdown"]
            print(f"{case.key:<30}{total:>9.2f}{sql:>9.2f}{template:>10.2f}{rest:>8.2f}")
    print("\nQueries per request:")
    for case in cases:
        qs = case.result["queries"]
        print(f"  {case.key}: {len(qs)} — " + " · ".join(_short(q["sql"]) for q in qs))
    if args.explain:
        explain(connection, cases)


def explain(connection, cases: list[Case]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "

    def plan(sql, params=None):
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
        return "\n".join(f"    {row[-1] if connection.vendor == 'sqlite' else row[0]}" for row in rows)

    for case in cases:
        if not case.kpi:
            continue
        print(f"\n---- {case.key} ----")
        for query in case.result["compute_queries"]:
            if "crm_record" in query["sql"] and len(query["sql"]) > 200:
                print(f"  KPI: {query['sql'][:400]}…\n{plan(query['sql'])}")
        for sql, params in case.result["hand_sql"]:
            print(f"  SQL: {sql[:400]}…\n{plan(sql, params)}")


def data_sizes(connection, ws) -> str:
    from tend.crm.models import PropertyChange, Record
    from tend.engagement.models import Task

    companies = Record.objects.filter(object_type=ws.customer_object_type, archived_at__isnull=True).count()
    mrr = PropertyChange.objects.filter(property_name="mrr").count()
    changes = PropertyChange.objects.count()
    stage = PropertyChange.objects.filter(property_name="cs_stage").count()
    return (
        f"{companies:,} companies · {mrr:,} MRR changes, {stage:,} cs_stage changes ({changes:,} property "
        f"changes in all) · {Task.objects.count():,} tasks"
    )


def settle(connection) -> None:
    """What autovacuum would have done by now on a server (it is off on the bench machine)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in (
                "crm_record",
                "crm_propertychange",
                "crm_association",
                "health_healthscore",
                "signals_surveyresponse",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)

    from django.db import connection
    from django.test import Client

    from tend.cs_settings.queries import workspace_settings
    from tend.directory.models import User
    from tend.reports.builtin import KPI_DASHBOARD
    from tend.reports.kpis import KPIS, registry  # noqa: F401  (fills KPIS)
    from tend.reports.models import Dashboard, DashboardItem

    ensure_data(args)
    users = {"team": User.objects.get(email=args.manager), "csm": User.objects.get(email=args.csm)}
    clients = {}
    try:
        for who, user in users.items():
            clients[who] = Client(SERVER_NAME="localhost")
            clients[who].force_login(user)
        first = clients["csm"].get("/customers/")  # creates the workspace settings row on a fresh database
        if first.status_code != 200:
            raise SystemExit(f"/customers/ answered {first.status_code}")
        ws = workspace_settings()
        settle(connection)
        dashboard = Dashboard.objects.get(built_in=KPI_DASHBOARD)
        items = list(
            DashboardItem.objects.filter(dashboard=dashboard).select_related("report").order_by("position", "id")
        )
        lk = lookups(ws)
        queries = {"team": f"range={RANGE}", "csm": f"range={RANGE}&owner={users['csm'].pk}"}
        scopes = {"team": None, "csm": (users["csm"].pk,)}
        ctxs = {who: make_ctx(connection, ws, users[who], scopes[who], lk) for who in users}
        print(
            f"\n{connection.vendor} · {data_sizes(connection, ws)} · team-*: {args.manager} "
            f"({ctxs['team'].tz.key}), everyone's customers · csm-*: {args.csm} ({ctxs['csm'].tz.key}), owner = "
            f"the CSM · {RANGE}: {ctxs['team'].n} months · {args.iterations} iterations after {args.warmup} "
            "warm-up, view, compute and SQL interleaved",
            flush=True,
        )
        cases: list[Case] = []
        expected: dict[str, dict[int, str]] = {}
        for who in users:
            cases.append(Case(f"{who}-dashboard", who, "", f"/dashboards/{dashboard.pk}/?{queries[who]}"))
            expected[who] = {}
            for item in items:
                path = f"/reports/{item.report_id}/chart/?{queries[who]}"
                expected[who][item.report_id] = path
                if item.report.kpi in KPIS:
                    cases.append(Case(f"{who}-{item.report.kpi}", who, item.report.kpi, path))
        wanted = [p for p in args.cases.split(",") if p]
        cases = [c for c in cases if not wanted or any(c.key.startswith(p) for p in wanted)]
        for case in cases:
            if case.kpi:
                case.result = run_kpi(args, clients[case.who], connection, ctxs[case.who], case)
                r = case.result
                print(
                    f"  {case.key:<30} view p95 {r['view'][1]:8.2f} ms · compute p95 {r['compute'][1]:8.2f} ms · "
                    f"SQL p95 {r['sql'][1]:8.2f} ms · {r['shows']} · {r['iterations']} iterations",
                    flush=True,
                )
            else:
                case.result = run_page(args, clients[case.who], connection, case, expected[case.who])
                print(f"  {case.key:<30} view p95 {case.result['view'][1]:8.2f} ms", flush=True)
        served = None
        pages = {c.who: c.path for c in cases if not c.kpi}
        if args.server_loads and pages:
            connection.close()  # SQLite: no open transaction of ours while the server reads
            served = server_loads(args, {w: clients[w] for w in pages}, pages)
        report(args, connection, cases, served)
    finally:
        for client in clients.values():
            client.logout()  # deletes the benchmark's session row
    return 0


if __name__ == "__main__":
    sys.exit(main())
