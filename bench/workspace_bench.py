"""Benchmark: the Customers tab as a CSM sees it, at 100k companies, answered on the server.

GET /customers/ through Django's test client, signed in as the demo CSM (force_login), in four
cases, each timed beside the same page written by hand in SQL (the page query plus the count
query), interleaved in one run:

    (a) "Owned by me", default sort (id)
    (b) (a) + advanced filter: renewal_date IN_NEXT_DAYS 90 AND cs_stage IN [active, at_risk],
        sorted by renewal_date ascending
    (c) page 5 of (b)
    (d) (a) sorted by mrr descending

For each case it checks that the view and the SQL show the same ids and total, counts the SQL
queries of one request (the count must not depend on the page: (a) and (c) must match, and (a)
with a page size of 100 must match (a) with 25), and splits a request's time into SQL, template
rendering, cell formatting and the rest.

Usage (from the repository root):

    .venv/bin/python bench/workspace_bench.py                               # SQLite, var/bench.sqlite3
    .venv/bin/python bench/workspace_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_bench
    .venv/bin/python bench/workspace_bench.py --cases d --explain --profile

The data is the filter benchmark's (bench/filter_bench.py builds it when missing).
Budget (ARCHITECTURE.md): p95 ≤ 50 ms on the server, and a bounded number of queries.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

try:
    from bench.filter_bench import DEFAULT_URL, create_indexes, drop_indexes, ensure_data, percentile, setup
except ImportError:  # run as a script: bench/ is on sys.path, the repository root not yet
    from filter_bench import DEFAULT_URL, create_indexes, drop_indexes, ensure_data, percentile, setup

TARGET_P95_MS = 50.0
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
BREAKDOWN_REQUESTS = 20


@dataclass
class Case:
    key: str
    label: str
    params: dict  # the query string of GET /customers/
    filtered: bool  # the advanced filter of (b)
    order: str  # "id", "renewal_date" or "-mrr"
    page: int = 1


CASES = [
    Case("a", "Owned by me, default sort", {}, False, "id"),
    Case(
        "b",
        "+ filter, renewal_date asc",
        {"filters": json.dumps(FILTERS), "sort": "renewal_date", "dir": "asc"},
        True,
        "renewal_date",
    ),
    Case(
        "c",
        "(b), page 5",
        {"filters": json.dumps(FILTERS), "sort": "renewal_date", "dir": "asc", "page": "5"},
        True,
        "renewal_date",
        page=5,
    ),
    Case("d", "Owned by me, mrr desc", {"sort": "mrr", "dir": "desc"}, False, "-mrr"),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--user", default="yuki@demo.tend", help="the CSM who is signed in")
    parser.add_argument("--cases", default="abcd", help="which cases to run, e.g. 'ad'")
    parser.add_argument("--explain", action="store_true", help="print the SQL and query plans of each case")
    parser.add_argument("--profile", action="store_true", help="cProfile one request of each case")
    parser.add_argument(
        "--reconnect",
        action="store_true",
        help="close the connection before each request, as the server does with CONN_MAX_AGE=0 (SQLite)",
    )
    parser.add_argument(
        "--try-index",
        action="store_true",
        help="create the candidate index for (d) (CSM, then mrr) for this run only, dropped afterwards",
    )
    parser.add_argument(
        "--cap-count",
        type=int,
        metavar="N",
        help="simulate a paginator that counts at most N+1 rows (patched in this process only)",
    )
    return parser.parse_args(argv)


# ---- hand-written SQL ---------------------------------------------------------------------


def key_sql(vendor: str, name: str) -> str:
    """A property's value, written as crm_record's expression indexes declare it: on SQLite the
    JSON_TYPE/JSON_EXTRACT form of models.PropertyKey (a plain json_extract() would not match
    record_csm_renewal and would read all 100k companies), on PostgreSQL `properties -> 'key'`."""
    if vendor == "sqlite":
        path = f"'$.\"{name}\"'"
        return (
            f"(CASE WHEN JSON_TYPE(properties, {path}) IN ('false','null','true') "
            f"THEN JSON_TYPE(properties, {path}) ELSE JSON_EXTRACT(properties, {path}) END)"
        )
    return f"(properties -> '{name}')"


def raw_queries(
    case: Case, *, vendor: str, table: str, object_type_id: int, csm: str, user_id: int, today, page_size, cap=None
):
    """(page SQL, count SQL, params) for one case, as a person would write them."""
    import datetime as dt

    def value(v):  # jsonb on PostgreSQL, the JSON value itself on SQLite
        return json.dumps(v) if vendor != "sqlite" else v

    cast = "::jsonb" if vendor != "sqlite" else ""
    where = f"object_type_id = %s AND archived_at IS NULL AND {key_sql(vendor, csm)} = %s{cast}"
    params = [object_type_id, value(user_id)]
    renewal = key_sql(vendor, "renewal_date")
    if case.filtered:
        stage = key_sql(vendor, "cs_stage")
        where += f" AND {renewal} >= %s{cast} AND {renewal} <= %s{cast} AND {stage} IN (%s{cast}, %s{cast})"
        high = today + dt.timedelta(days=RENEWAL_DAYS)
        params += [value(today.isoformat()), value(high.isoformat()), *(value(s) for s in STAGES)]
    order = {
        "id": "id ASC",
        "renewal_date": f"{renewal} ASC NULLS LAST, id ASC",
        "-mrr": f"{key_sql(vendor, 'mrr')} DESC NULLS LAST, id ASC",
    }[case.order]
    offset = (case.page - 1) * page_size
    page_sql = f"SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT {page_size} OFFSET {offset}"
    count_sql = f"SELECT COUNT(*) FROM {table} WHERE {where}"
    if cap:
        count_sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {where} LIMIT {cap + 1}) capped"
    return page_sql, count_sql, params


def candidate_indexes(connection, csm: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) for the index that would serve (d): the CSM's book by MRR, highest
    first, NULLs last, then id. SQLite accepts no NULLS LAST in an index, and sorts NULLs last in
    descending order anyway; PostgreSQL sorts them first unless told."""
    from django.db.models import F, Index, Q

    from tend.crm.models import PropertyKey, Record

    mrr = PropertyKey("mrr", "properties")
    mrr = mrr.desc() if connection.vendor == "sqlite" else mrr.desc(nulls_last=True)
    index = Index(
        F("object_type"),
        PropertyKey(csm, "properties"),
        mrr,
        F("id"),
        name="bench_candidate_csm_mrr",
        condition=Q(archived_at__isnull=True),
    )
    with connection.schema_editor(collect_sql=True) as editor:
        return [("bench_candidate_csm_mrr", str(index.create_sql(Record, editor)))]


@contextmanager
def capped_count(cap: int | None):
    """Patch the Customers view's Paginator to count at most cap + 1 rows (no ordering)."""
    from django.core.paginator import Paginator
    from django.utils.functional import cached_property

    from tend.workspace import views

    class CappedPaginator(Paginator):
        @cached_property
        def count(self):
            return self.object_list.order_by()[: cap + 1].count()

    before = views.Paginator
    if cap:
        views.Paginator = CappedPaginator
    try:
        yield
    finally:
        views.Paginator = before


# ---- instrumentation ------------------------------------------------------------------------


class Breakdown:
    """Where one request's time goes: SQL (the page, its count, the other queries), template
    rendering, cell formatting (Formatter.text) and the rest, each net of the SQL run inside it."""

    PARTS = ("sql_page", "sql_count", "sql_other", "template", "cells")

    def __init__(self):
        self.sql_page = self.sql_count = self.sql_other = self.template = self.cells = 0.0

    @property
    def sql(self) -> float:
        return self.sql_page + self.sql_count + self.sql_other

    def execute_wrapper(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            if '"crm_record"' not in sql:
                self.sql_other += elapsed
            elif sql.startswith("SELECT COUNT(*)"):
                self.sql_count += elapsed
            else:
                self.sql_page += elapsed

    def wrap(self, owner, name: str, bucket: str):
        original = getattr(owner, name)
        breakdown = self

        def timed(*args, **kwargs):
            started, sql_before = time.perf_counter(), breakdown.sql
            try:
                return original(*args, **kwargs)
            finally:
                net = time.perf_counter() - started - (breakdown.sql - sql_before)
                setattr(breakdown, bucket, getattr(breakdown, bucket) + net)

        setattr(owner, name, timed)
        return original


@contextmanager
def instrumented(connection):
    """Time SQL, template rendering and cell formatting (patches undone on exit)."""
    from django.template.backends.django import Template

    from tend.crm.display import Formatter

    breakdown = Breakdown()
    render = breakdown.wrap(Template, "render", "template")
    text = breakdown.wrap(Formatter, "text", "cells")
    try:
        with connection.execute_wrapper(breakdown.execute_wrapper):
            yield breakdown
    finally:
        Template.render, Formatter.text = render, text


@contextmanager
def page_size(size: int):
    from tend.workspace import views

    before, views.PAGE_SIZE = views.PAGE_SIZE, size
    try:
        yield
    finally:
        views.PAGE_SIZE = before


def captured_get(client, connection, params: dict):
    """One request with the test instrumentation on: the response with its context, and its queries."""
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    setup_test_environment()
    try:
        reset_queries()  # each request clears the query log; start from an empty one
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/customers/", params)
        return response, list(captured.captured_queries)
    finally:
        teardown_test_environment()


# ---- the run --------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)

    from django.db import close_old_connections, connection
    from django.test import Client

    from tend.core import clock
    from tend.crm.models import Record
    from tend.directory.models import User
    from tend.workspace import services, views

    ensure_data(args)
    user = User.objects.get(email=args.user)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    try:
        first = client.get("/customers/")  # creates the workspace settings row on a fresh database
        if first.status_code != 200:
            raise SystemExit(f"/customers/ answered {first.status_code}: {first.content[:500]!r}")
        ws = services.workspace_settings()
        tz = clock.user_zone(user)
        common = {
            "vendor": connection.vendor,
            "table": connection.ops.quote_name(Record._meta.db_table),
            "object_type_id": ws.customer_object_type_id,
            "csm": ws.customer_csm_property,
            "user_id": user.pk,
            "today": clock.today(tz),
            "page_size": views.PAGE_SIZE,
            "cap": args.cap_count,
        }
        companies = Record.objects.filter(object_type=ws.customer_object_type).count()
        print(
            f"\n{connection.vendor} · {companies:,} companies · signed in as {user.email} ({tz.key}) · "
            f"'Owned by me' = {ws.customer_csm_property} IS_ME · page size {views.PAGE_SIZE} · "
            f"{args.iterations} iterations after {args.warmup} warm-up, view and SQL interleaved"
            + (" · reconnecting before each request" if args.reconnect else "")
        )
        indexes = candidate_indexes(connection, ws.customer_csm_property) if args.try_index else []
        for _name, sql in indexes:
            print(f"with candidate index: {sql}")
        if args.cap_count:
            print(f"with the count capped at {args.cap_count + 1:,} rows (Paginator patched in this process)")
        results = {}
        try:
            create_indexes(connection, indexes)
            with capped_count(args.cap_count):
                for case in [c for c in CASES if c.key in args.cases]:
                    page_sql, count_sql, params = raw_queries(case, **common)
                    results[case.key] = run_case(
                        args, client, connection, case, page_sql, count_sql, params, close_old_connections
                    )
                report(args, connection, client, results)
        finally:
            drop_indexes(connection, indexes)
    finally:
        client.logout()  # deletes the benchmark's session row
    return 0


def run_case(args, client, connection, case: Case, page_sql: str, count_sql: str, params: list, reconnect) -> dict:
    # Agreement: the same ids, in the same order, and the same total.
    response, queries = captured_get(client, connection, case.params)
    if response.status_code != 200:
        raise SystemExit(f"({case.key}) /customers/ answered {response.status_code}: {response.content[:500]!r}")
    view_ids = [row["record"].pk for row in response.context["rows"]]
    view_total = response.context["page"].paginator.count

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(count_sql, params)
            total = cursor.fetchone()[0]
            cursor.execute(page_sql, params)
            return total, cursor.fetchall()

    raw_total, rows = raw()
    raw_ids = [row[0] for row in rows]
    if (view_ids, view_total) != (raw_ids, raw_total):
        raise SystemExit(
            f"({case.key}) the view and the SQL disagree: {view_total} {view_ids[:5]}… vs {raw_total} {raw_ids[:5]}…"
        )

    def view():
        if args.reconnect:
            reconnect()  # what request_started does; closes the connection when CONN_MAX_AGE=0
        response = client.get("/customers/", case.params)
        if response.status_code != 200:
            raise SystemExit(f"({case.key}) /customers/ answered {response.status_code}")

    for _ in range(args.warmup):
        view()
        raw()
    view_ms, raw_ms = [], []
    for _ in range(args.iterations):
        started = time.perf_counter()
        view()
        middle = time.perf_counter()
        raw()
        view_ms.append((middle - started) * 1000)
        raw_ms.append((time.perf_counter() - middle) * 1000)

    # Where the time goes, from separate instrumented requests.
    parts = []
    for _ in range(BREAKDOWN_REQUESTS):
        with instrumented(connection) as breakdown:
            started = time.perf_counter()
            view()
            total = time.perf_counter() - started
        known = [getattr(breakdown, name) for name in Breakdown.PARTS]
        parts.append((total, *known, total - sum(known)))
    medians = [statistics.median(p[i] for p in parts) * 1000 for i in range(len(parts[0]))]

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
        "case": case,
        "total": view_total,
        "shown": len(view_ids),
        "queries": queries,
        "view": (percentile(view_ms, 50), percentile(view_ms, 95)),
        "raw": (percentile(raw_ms, 50), percentile(raw_ms, 95)),
        "breakdown": medians,
        "raw_sql": (page_sql, count_sql, params),
        "profile": profile,
    }


def report(args, connection, client, results: dict) -> None:
    print(
        f"\n{'case':<34}{'total':>7}{'rows':>5}{'queries':>8}"
        f"{'view p50':>10}{'p95':>8}{'SQL p50':>9}{'p95':>8}{'view/SQL p50':>14}{'p95':>7}  budget"
    )
    for key, r in results.items():
        (v50, v95), (s50, s95) = r["view"], r["raw"]
        verdict = "met" if v95 <= TARGET_P95_MS else "MISSED"
        print(
            f"({key}) {r['case'].label:<30}{r['total']:>7,}{r['shown']:>5}{len(r['queries']):>8}"
            f"{v50:>10.2f}{v95:>8.2f}{s50:>9.2f}{s95:>8.2f}{v50 / s50:>14.1f}{v95 / s95:>7.1f}  {verdict}"
        )
    print("(view: GET /customers/ through the test client, no network; SQL: the hand-written page + count queries)")

    print(f"\nWhere a request's time goes (ms, median of {BREAKDOWN_REQUESTS} instrumented requests, each part alone):")
    print(
        f"{'case':<6}{'request':>9}{'SQL page':>10}{'SQL count':>11}{'SQL other':>11}{'template':>10}{'cells':>8}{'rest':>8}"
    )
    for key, r in results.items():
        total, page, count, other, template, cells, rest = r["breakdown"]
        print(
            f"({key}){total:>12.2f}{page:>10.2f}{count:>11.2f}{other:>11.2f}{template:>10.2f}{cells:>8.2f}{rest:>8.2f}"
        )
    print(
        "(SQL page / count: the two crm_record queries; SQL other: session, user, settings, property\n"
        " definitions ×2, users ×2, views ×2; template: rendering net of SQL; cells: Formatter.text;\n"
        " rest: middleware, view code, test client)"
    )

    print("\nQueries per request:")
    for key, r in results.items():
        records = sum('"crm_record"' in q["sql"] for q in r["queries"])
        print(f"  ({key}) {len(r['queries'])} ({records} on crm_record)")
    if "a" in results:
        with page_size(100):
            _response, queries = captured_get(client, connection, results["a"]["case"].params)
        a = len(results["a"]["queries"])
        print(
            f"  (a) with a page size of 100 instead of 25: {len(queries)} — {'same' if len(queries) == a else 'GROWS'}"
        )
        if "c" in results:
            c = len(results["c"]["queries"])
            print(f"  (a) vs (c): {a} vs {c} — {'same' if a == c else 'DIFFERENT'}")
    for r in results.values():
        print(f"  ({r['case'].key}) " + " · ".join(_short(q["sql"]) for q in r["queries"]))

    print(f"\nBudget: p95 ≤ {TARGET_P95_MS:.0f} ms on the server, bounded queries.")
    for key, r in results.items():
        v95 = r["view"][1]
        print(f"  ({key}) {'met' if v95 <= TARGET_P95_MS else 'MISSED'} (p95 {v95:.1f} ms)")

    if args.explain:
        explain(connection, results)
    if args.profile:
        for key, r in results.items():
            print(f"\n---- ({key}) cProfile of one request, by own time ----\n{r['profile']}")


def _short(sql: str) -> str:
    """A query in a few words: its verb and table."""
    words = sql.replace('"', "").split()
    if words[0] == "SELECT" and "FROM" in words:
        table = words[words.index("FROM") + 1]
        return f"COUNT {table}" if "COUNT(*)" in sql else table
    table = words[1] if words[0] == "UPDATE" else words[2] if len(words) > 2 else ""
    return f"{words[0]} {table}".strip()


def explain(connection, results: dict) -> None:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "

    def plan(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
        if connection.vendor == "sqlite":
            return "\n".join(f"    {row[-1]}" for row in rows)
        return "\n".join(f"    {row[0]}" for row in rows)

    for key, r in results.items():
        print(f"\n---- ({key}) {r['case'].label} ----")
        for query in r["queries"]:
            if '"crm_record"' in query["sql"]:
                print(f"  view: {query['sql']}\n{plan(query['sql'])}")
        page_sql, count_sql, params = r["raw_sql"]
        print(f"  SQL: {count_sql}  {params}\n{plan(count_sql, params)}")
        print(f"  SQL: {page_sql}\n{plan(page_sql, params)}")


if __name__ == "__main__":
    sys.exit(main())
