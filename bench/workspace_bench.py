"""Benchmark: the Customers and Tasks tabs as a CSM sees them, at 100k companies, on the server.

Each case is one GET through Django's test client, signed in as the demo CSM (force_login), timed
beside the same page written by hand in SQL (the page query, the capped count and, for Tasks, the
views' counts), view and SQL interleaved in one loop so that the machine's noise hits both:

    customers  "Owned by me" (the CSM's book, ~16k companies) in the default order, sorted by each
               default column both ways, a filtered list (renewal in 90 days, two stages) and its
               page 5
    tasks      the CSM's 20,000 open tasks: "Due today" (the default view), "All open", and "All
               open" sorted by each default column

Before timing, it checks that the view and the SQL show the same ids in the same order and the
same count (both stop at 10,001), and it records the SQL queries of one request. Budget
(ARCHITECTURE.md): p95 ≤ 50 ms on the server, a number of queries that does not grow with the page.

Usage (from the repository root):

    .venv/bin/python bench/workspace_bench.py                      # SQLite, var/bench.sqlite3
    .venv/bin/python bench/workspace_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_bench
    .venv/bin/python bench/workspace_bench.py --cases customers-mrr --explain --profile
"""

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

try:
    from bench.filter_bench import DEFAULT_URL, ensure_data, percentile, setup
except ImportError:  # run as a script: bench/ is on sys.path, the repository root not yet
    from filter_bench import DEFAULT_URL, ensure_data, percentile, setup

TARGET_P95_MS = 50.0
CAP = 10_000  # the list kit's count cap (tend.core.paging.COUNT_CAP)
PAGE_SIZE = 25
OPEN_TASKS = 20_000
COMPLETED_TASKS = 5_000
TASK_PREFIX = "Bench task"
STAGES = ["active", "at_risk"]
RENEWAL_DAYS = 90
FILTERS = {
    "filterGroups": [
        {
            "filters": [
                {"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": RENEWAL_DAYS},
                {"propertyName": "cs_stage", "operator": "IN", "values": STAGES},
            ]
        }
    ]
}
BREAKDOWN_REQUESTS = 10


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--user", default="yuki@demo.tend", help="the CSM who is signed in")
    parser.add_argument("--cases", default="", help="comma-separated prefixes of case keys, e.g. 'customers-mrr,tasks'")
    parser.add_argument("--explain", action="store_true", help="print the query plans of each case")
    parser.add_argument("--profile", action="store_true", help="cProfile one request of each case")
    return parser.parse_args(argv)


# ---- the hand-written SQL -------------------------------------------------------------------


@dataclass
class Sql:
    """A page as a person would write it: (sql, params) pairs, the page query first, the count second."""

    queries: list[tuple[str, list]]

    def run(self, connection) -> tuple[list, int]:
        results = []
        with connection.cursor() as cursor:
            for sql, params in self.queries:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
        return [row[0] for row in results[0]], results[1][0][0]


def key_sql(vendor: str, name: str, table: str = "crm_record") -> str:
    """A property's value as crm_record's expression indexes declare it: on SQLite the
    JSON_TYPE/JSON_EXTRACT form of crm.models.PropertyKey, on PostgreSQL `properties -> 'key'`."""
    col = f"{table}.properties"
    if vendor == "sqlite":
        path = f"'$.\"{name}\"'"
        return (
            f"(CASE WHEN JSON_TYPE({col}, {path}) IN ('false','null','true') "
            f"THEN JSON_TYPE({col}, {path}) ELSE JSON_EXTRACT({col}, {path}) END)"
        )
    return f"({col} -> '{name}')"


def capped(table_where: str) -> str:
    return f"SELECT COUNT(*) FROM (SELECT 1 FROM {table_where} LIMIT {CAP + 1}) capped"


@dataclass
class Ctx:
    vendor: str
    object_type_id: int
    csm: str
    user_id: int
    tz: object
    now: dt.datetime

    def json(self, value):  # a value compared with a JSON key: jsonb on PostgreSQL, itself on SQLite
        return json.dumps(value) if self.vendor != "sqlite" else value

    @property
    def cast(self) -> str:
        return "::jsonb" if self.vendor != "sqlite" else ""

    def when(self, value: dt.datetime):
        # Django stores SQLite datetimes as UTC text; PostgreSQL takes the aware value
        if self.vendor == "sqlite":
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return value


def customers_sql(ctx: Ctx, *, sort: str = "", desc: bool = False, filtered: bool = False, page: int = 1) -> Sql:
    v = ctx.vendor
    where = (
        f"crm_record.object_type_id = %s AND crm_record.archived_at IS NULL AND {key_sql(v, ctx.csm)} = %s{ctx.cast}"
    )
    params: list = [ctx.object_type_id, ctx.json(ctx.user_id)]
    renewal = key_sql(v, "renewal_date")
    if filtered:
        stage = key_sql(v, "cs_stage")
        c = ctx.cast
        where += f" AND {renewal} >= %s{c} AND {renewal} <= %s{c} AND {stage} IN (%s{c}, %s{c})"
        today = ctx.now.astimezone(ctx.tz).date()
        high = today + dt.timedelta(days=RENEWAL_DAYS)
        params += [ctx.json(today.isoformat()), ctx.json(high.isoformat()), *(ctx.json(s) for s in STAGES)]
    table = "crm_record"
    if not sort or sort == ctx.csm:  # the CSM is a constant within a book
        order = "crm_record.id"
    else:
        if sort == "health_score":
            table = "crm_record LEFT JOIN health_healthscore ON health_healthscore.record_id = crm_record.id"
            expression = "health_healthscore.score"
        elif sort in ("name", "last_activity_at"):
            expression = f"crm_record.{sort}"
        else:
            expression = key_sql(v, sort)
        order = f"{expression} {'DESC' if desc else 'ASC'} NULLS LAST, crm_record.id"
    offset = (page - 1) * PAGE_SIZE
    page_sql = f"SELECT crm_record.* FROM {table} WHERE {where} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}"
    return Sql([(page_sql, params), (capped(f"crm_record WHERE {where}"), params)])


TASK_SORTS = {
    "subject": "subject",
    "status": "status",
    "due_at": "due_at",
    "priority": "priority",
    "type": "type",
    "assignee": "assignee_id",
}


NOT_NULL_TASK_COLUMNS = ("subject", "status", "priority", "type")


def day_bounds(ctx: Ctx, offset: int) -> tuple[dt.datetime, dt.datetime]:
    from tend.core import clock

    day = ctx.now.astimezone(ctx.tz).date() + dt.timedelta(days=offset)
    return clock.start_of_day(day, ctx.tz), clock.start_of_day(day + dt.timedelta(days=1), ctx.tz)


def tasks_sql(ctx: Ctx, *, view: str, sort: str = "due_at", desc: bool = False) -> Sql:
    base = "engagement_task.assignee_id = %s AND engagement_task.archived_at IS NULL"
    open_ = "engagement_task.status <> 'completed'"
    today, tomorrow = day_bounds(ctx, 0), day_bounds(ctx, 1)
    w = ctx.when
    conditions = {
        "today": (f"{open_} AND due_at >= %s AND due_at < %s", [w(today[0]), w(today[1])]),
        "overdue": (f"{open_} AND due_at < %s", [w(ctx.now)]),
        "tomorrow": (f"{open_} AND due_at >= %s AND due_at < %s", [w(tomorrow[0]), w(tomorrow[1])]),
        "upcoming": (f"{open_} AND due_at >= %s", [w(tomorrow[0])]),
        "open": (open_, []),
        "completed": ("engagement_task.status = 'completed'", []),
    }
    condition, cparams = conditions[view]
    where, params = f"{base} AND {condition}", [ctx.user_id, *cparams]
    if sort == "assignee":  # one's own tasks: the assignee is a constant
        order = "engagement_task.id"
    elif desc and sort in NOT_NULL_TASK_COLUMNS:  # ties newest first, as tasks.queries orders them
        order = f"engagement_task.{sort} DESC, engagement_task.id DESC"
    else:
        order = f"engagement_task.{TASK_SORTS[sort]} {'DESC' if desc else 'ASC'} NULLS LAST, engagement_task.id"
    page_sql = f"SELECT engagement_task.* FROM engagement_task WHERE {where} ORDER BY {order} LIMIT {PAGE_SIZE}"
    # the views' counts: one scalar subquery a view, each over its own index range
    counts = ", ".join(f"(SELECT COUNT(*) FROM engagement_task WHERE {base} AND {c})" for c, _p in conditions.values())
    counts_params = [p for _c, ps in conditions.values() for p in (ctx.user_id, *ps)]
    return Sql(
        [
            (page_sql, params),
            (capped(f"engagement_task WHERE {where}"), params),
            (f"SELECT {counts}", counts_params),
        ]
    )


# ---- the cases ------------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    label: str
    path: str
    params: dict
    sql: Callable[[Ctx], Sql]
    result: dict = field(default_factory=dict)


CUSTOMER_SORTS = ["name", "csm", "cs_stage", "health_score", "mrr", "renewal_date", "last_activity_at"]
TASK_COLUMNS = ["subject", "status", "due_at", "priority", "type", "assignee"]


def all_cases() -> list[Case]:
    cases = [Case("customers", "Owned by me, default order", "/customers/", {}, lambda c: customers_sql(c))]
    for name in CUSTOMER_SORTS:
        for desc in (False, True):
            cases.append(
                Case(
                    f"customers-{name}-{'desc' if desc else 'asc'}",
                    f"Owned by me, {name} {'desc' if desc else 'asc'}",
                    "/customers/",
                    {"sort": name, "dir": "desc" if desc else "asc"},
                    lambda c, n=name, d=desc: customers_sql(c, sort=n, desc=d),
                )
            )
    filtered = {"filters": json.dumps(FILTERS), "sort": "renewal_date", "dir": "asc"}
    cases += [
        Case(
            "customers-filter",
            "+ renewal in 90 d, 2 stages",
            "/customers/",
            filtered,
            lambda c: customers_sql(c, sort="renewal_date", filtered=True),
        ),
        Case(
            "customers-filter-p5",
            "  the same, page 5",
            "/customers/",
            {**filtered, "page": "5"},
            lambda c: customers_sql(c, sort="renewal_date", filtered=True, page=5),
        ),
        Case("tasks-today", "Due today (default view)", "/tasks/", {}, lambda c: tasks_sql(c, view="today")),
        Case("tasks-open", "All open, by due date", "/tasks/", {"view": "open"}, lambda c: tasks_sql(c, view="open")),
    ]
    for name in TASK_COLUMNS:
        for desc in (False, True):
            if name == "due_at" and not desc:
                continue  # the view's own order, above
            cases.append(
                Case(
                    f"tasks-open-{name}-{'desc' if desc else 'asc'}",
                    f"All open, {name} {'desc' if desc else 'asc'}",
                    "/tasks/",
                    {"view": "open", "sort": name, "dir": "desc" if desc else "asc"},
                    lambda c, n=name, d=desc: tasks_sql(c, view="open", sort=n, desc=d),
                )
            )
    return cases


# ---- data -----------------------------------------------------------------------------------


def ensure_tasks(user, companies: list[int]) -> None:
    """OPEN_TASKS open and COMPLETED_TASKS completed tasks for `user`, each linked to one of their
    companies, due from 30 days ago to a year ahead (built once; recognised by their subject)."""
    from django.db import connection
    from django.utils import timezone

    from tend.engagement.models import Task

    have = Task.objects.filter(assignee=user, subject__startswith=TASK_PREFIX).count()
    want = OPEN_TASKS + COMPLETED_TASKS
    if have >= want:
        return
    print(f"data: adding {want - have:,} tasks for {user.email}…")
    rng = random.Random(16)
    now = timezone.now()
    open_statuses = ["not_started", "in_progress", "waiting", "deferred"]
    Through = Task.records.through
    for start in range(have, want, 5000):
        batch = []
        for i in range(start, min(want, start + 5000)):
            completed = i >= OPEN_TASKS
            due = now + dt.timedelta(minutes=rng.randint(-30 * 1440, 365 * 1440))
            if completed:
                due = now - dt.timedelta(minutes=rng.randint(1440, 200 * 1440))
            batch.append(
                Task(
                    subject=f"{TASK_PREFIX} {i:05} for a customer",
                    status="completed" if completed else rng.choice(open_statuses),
                    priority=rng.choice(["none", "low", "medium", "high"]),
                    type=rng.choice(["todo", "call", "email"]),
                    due_at=due if rng.random() > 0.02 else None,
                    completed_at=due if completed else None,
                    assignee=user,
                    created_at=now,
                    updated_at=now,
                )
            )
        created = Task.objects.bulk_create(batch)
        Through.objects.bulk_create([Through(task_id=t.pk, record_id=rng.choice(companies)) for t in created])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def settle(connection) -> None:
    """What autovacuum would have done by now on a server (it is off on the bench machine)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("crm_record", "engagement_task", "engagement_task_records", "health_healthscore"):
                cursor.execute(f"VACUUM ANALYZE {table}")


# ---- timing ---------------------------------------------------------------------------------


@contextmanager
def breakdown(connection):
    """Time one request's SQL and its template rendering (net of the SQL inside it)."""
    from django.template.backends.django import Template

    parts = {"sql": 0.0, "template": 0.0, "queries": 0}

    def execute(run, sql, params, many, context):
        started = time.perf_counter()
        try:
            return run(sql, params, many, context)
        finally:
            parts["sql"] += time.perf_counter() - started
            parts["queries"] += 1

    render = Template.render

    def timed_render(self, *args, **kwargs):
        started, sql_before = time.perf_counter(), parts["sql"]
        try:
            return render(self, *args, **kwargs)
        finally:
            parts["template"] += time.perf_counter() - started - (parts["sql"] - sql_before)

    Template.render = timed_render
    try:
        with connection.execute_wrapper(execute):
            yield parts
    finally:
        Template.render = render


def getter(client, key: str, path: str, params: dict) -> Callable[[], None]:
    """One GET of a case, refusing anything but 200."""

    def view():
        r = client.get(path, params)
        if r.status_code != 200:
            raise SystemExit(f"({key}) answered {r.status_code}")

    return view


def interleaved(view, sql, iterations: int, warmup: int) -> tuple[list[float], list[float]]:
    """Milliseconds of the view and of its SQL, one after the other in each turn, so that the
    machine's noise hits both."""
    for _ in range(warmup):
        view()
        sql()
    view_ms, sql_ms = [], []
    for _ in range(iterations):
        started = time.perf_counter()
        view()
        middle = time.perf_counter()
        sql()
        view_ms.append((middle - started) * 1000)
        sql_ms.append((time.perf_counter() - middle) * 1000)
    return view_ms, sql_ms


def where_time_goes(view, connection, requests: int = BREAKDOWN_REQUESTS) -> list[float]:
    """Medians (ms) of a request's total, its SQL, its template net of SQL, and the rest."""
    parts = []
    for _ in range(requests):
        with breakdown(connection) as p:
            started = time.perf_counter()
            view()
            total = time.perf_counter() - started
        parts.append((total, p["sql"], p["template"], total - p["sql"] - p["template"]))
    return [statistics.median(p[i] for p in parts) * 1000 for i in range(4)]


def captured_get(client, connection, path: str, params: dict):
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    setup_test_environment()
    try:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, params)
        return response, list(captured.captured_queries)
    finally:
        teardown_test_environment()


def shown_page(response):
    """The page object a list screen rendered (the kit's `screen.page`)."""
    screen = response.context.get("screen")
    page = getattr(screen, "page", None) or response.context.get("page")
    if page is None:
        raise SystemExit(f"no page in the response's context: {list(response.context.keys())[:20]}")
    return page


def run_case(args, client, connection, ctx: Ctx, case: Case) -> dict:
    sql = case.sql(ctx)
    response, queries = captured_get(client, connection, case.path, case.params)
    if response.status_code != 200:
        raise SystemExit(f"({case.key}) {case.path} answered {response.status_code}: {response.content[:300]!r}")
    page = shown_page(response)
    view_ids = [obj.pk for obj in page.object_list]
    view_count = min(page.paginator.count, CAP + 1)
    sql_ids, sql_count = sql.run(connection)
    if (view_ids, view_count) != (sql_ids, sql_count):
        raise SystemExit(
            f"({case.key}) the view and the SQL disagree: {view_count} {view_ids[:6]}… vs {sql_count} {sql_ids[:6]}…"
        )

    view = getter(client, case.key, case.path, case.params)
    view_ms, sql_ms = interleaved(view, lambda: sql.run(connection), args.iterations, args.warmup)
    medians = where_time_goes(view, connection)
    profile = None
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        view()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        profile = out.getvalue()
    return {
        "count": view_count,
        "capped": view_count > CAP,
        "queries": queries,
        "view": (percentile(view_ms, 50), percentile(view_ms, 95)),
        "sql": (percentile(sql_ms, 50), percentile(sql_ms, 95)),
        "breakdown": medians,
        "hand_sql": sql,
        "profile": profile,
    }


def report(args, connection, results: list[Case]) -> None:
    print(
        f"\n{'case':<30}{'count':>8}{'queries':>8}{'view p50':>10}{'p95':>8}{'SQL p50':>9}{'p95':>7}"
        f"{'ratio p50':>10}{'p95':>6}  budget"
    )
    for case in results:
        r = case.result
        (v50, v95), (s50, s95) = r["view"], r["sql"]
        count = f"{CAP:,}+" if r["capped"] else f"{r['count']:,}"
        verdict = "met" if v95 <= TARGET_P95_MS else f"MISSED by {v95 - TARGET_P95_MS:.1f}"
        print(
            f"{case.key:<30}{count:>8}{len(r['queries']):>8}{v50:>10.2f}{v95:>8.2f}{s50:>9.2f}{s95:>7.2f}"
            f"{v50 / s50:>10.1f}{v95 / s95:>6.1f}  {verdict}"
        )
    print("(view: GET through the test client, no network; SQL: the hand-written page + capped count [+ view counts])")
    print(f"\nWhere a request's time goes (ms, median of {BREAKDOWN_REQUESTS} instrumented requests):")
    print(f"{'case':<30}{'request':>9}{'SQL':>8}{'template':>10}{'rest':>8}")
    for case in results:
        total, sql, template, rest = case.result["breakdown"]
        print(f"{case.key:<30}{total:>9.2f}{sql:>8.2f}{template:>10.2f}{rest:>8.2f}")
    print("(SQL: every query of the request; template: rendering net of SQL; rest: middleware, view code, cells)")
    print("\nQueries per request:")
    for case in results:
        print(
            f"  {case.key}: {len(case.result['queries'])} — "
            + " · ".join(_short(q["sql"]) for q in case.result["queries"])
        )
    if args.explain:
        explain(connection, results)
    if args.profile:
        for case in results:
            print(f"\n---- {case.key}: cProfile of one request, by own time ----\n{case.result['profile']}")


def _short(sql: str) -> str:
    words = sql.replace('"', "").split()
    if words[0] == "SELECT" and "FROM" in words:
        table = words[words.index("FROM") + 1]
        return f"COUNT {table}" if "COUNT(" in sql else table
    return " ".join(words[:2])


def explain(connection, results: list[Case]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "

    def plan(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
        return "\n".join(f"    {row[-1] if connection.vendor == 'sqlite' else row[0]}" for row in rows)

    for case in results:
        print(f"\n---- {case.key}: {case.label} ----")
        for query in case.result["queries"]:
            if '"crm_record"' in query["sql"] or '"engagement_task"' in query["sql"]:
                print(f"  view: {query['sql']}\n{plan(query['sql'])}")
        for sql, params in case.result["hand_sql"].queries:
            print(f"  SQL: {sql}  {params}\n{plan(sql, params)}")


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)

    from django.db import connection
    from django.test import Client

    from tend.core import clock
    from tend.crm.models import Record
    from tend.cs_settings.queries import workspace_settings
    from tend.directory.models import User
    from tend.workspace import indexes

    ensure_data(args)
    user = User.objects.get(email=args.user)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    try:
        first = client.get("/customers/")  # creates the workspace settings row on a fresh database
        if first.status_code != 200:
            raise SystemExit(f"/customers/ answered {first.status_code}: {first.content[:500]!r}")
        ws = workspace_settings()
        created, _dropped = indexes.sync_book_indexes()
        if created:
            print(f"built the book indexes for {ws.customer_csm_property!r}: {', '.join(created)}")
        book = Record.objects.filter(object_type=ws.customer_object_type, archived_at__isnull=True).filter(
            **{f"properties__{ws.customer_csm_property}": user.pk}
        )
        ensure_tasks(user, list(book.values_list("pk", flat=True)[:2000]))
        settle(connection)
        ctx = Ctx(
            vendor=connection.vendor,
            object_type_id=ws.customer_object_type_id,
            csm=ws.customer_csm_property,
            user_id=user.pk,
            tz=clock.user_zone(user),
            now=clock.now(),
        )
        companies = Record.objects.filter(object_type=ws.customer_object_type).count()
        print(
            f"\n{connection.vendor} · {companies:,} companies · signed in as {user.email} ({ctx.tz.key}) · "
            f"'Owned by me' = {ws.customer_csm_property} IS_ME · {args.iterations} iterations after "
            f"{args.warmup} warm-up, view and SQL interleaved"
        )
        wanted = [p for p in args.cases.split(",") if p]
        cases = [c for c in all_cases() if not wanted or any(c.key.startswith(p) for p in wanted)]
        for case in cases:
            case.result = run_case(args, client, connection, ctx, case)
            r = case.result
            print(f"  {case.key:<30} view p95 {r['view'][1]:6.2f} ms · SQL p95 {r['sql'][1]:6.2f} ms", flush=True)
        report(args, connection, cases)
    finally:
        client.logout()  # deletes the benchmark's session row
    return 0


if __name__ == "__main__":
    sys.exit(main())
