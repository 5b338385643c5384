"""Benchmark: the Services and Revenue tabs (board and table layouts) at 100k companies, on the server.

Each case is one GET through Django's test client, signed in as a CSM with a Service seat, timed
beside the same data read by hand in SQL, interleaved in one run:

    services-board   /services/, the Onboarding pipeline with 5,000 services added to the demo's:
                     one grouped count per stage, then the first page of cards of every column
    services-table   the same pipeline as a table: a page of 25 (newest first) and its capped count
    revenue-board    /revenue/, the demo's deals (count and amount per stage, first cards)
    revenue-table    the same as a table

It prints p50 / p95 of both, their ratio and the number of SQL queries of one request (bounded: it
does not grow with the records). Budget (ARCHITECTURE.md): p95 ≤ 50 ms on the server.

Usage (from the repository root):

    .venv/bin/python bench/board_bench.py                     # SQLite, var/bench.sqlite3
    .venv/bin/python bench/board_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_bench

The database is the workspace bench's (bench/filter_bench.py builds the 100k companies when missing).
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.filter_bench import DEFAULT_URL, ensure_data, percentile, setup  # noqa: E402

TARGET_P95_MS = 50.0
CAP = 10_000
TABLE_PAGE = 25
BREAKDOWN_REQUESTS = 10


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=5000, help="services added to the Onboarding pipeline")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cases", default="", help="comma-separated prefixes of case keys")
    parser.add_argument("--explain", action="store_true")
    return parser.parse_args(argv)


def ensure_services(records: int):
    """The bench CSM and `records` services of theirs spread over the Onboarding stages (built once)."""
    from django.db import connection
    from django.utils import timezone

    from tend.crm.models import ObjectType, Pipeline, Record
    from tend.directory.models import User
    from tend.directory.services import user_create

    user = User.objects.filter(email="board-bench@example.com").first() or user_create(
        email="board-bench@example.com", password="pw-123456789", full_name="Board Bench", has_service_seat=True
    )
    services = ObjectType.objects.get(name="services")
    pipeline = Pipeline.objects.get(object_type=services, label="Onboarding")
    stages = list(pipeline.stages.order_by("display_order", "id"))
    have = Record.objects.filter(object_type=services, pipeline=pipeline, owner=user).count()
    if have < records:
        now = timezone.now()
        print(f"data: {have:,} bench services present, adding {records - have:,}…")
        Record.objects.bulk_create(
            [
                Record(
                    object_type=services,
                    name=f"Service {i:05}",
                    owner=user,
                    pipeline=pipeline,
                    stage=stages[i % len(stages)],
                    stage_entered_at=now - dt.timedelta(days=i % 40),
                    created_at=now - dt.timedelta(days=i % 400, minutes=i),
                    updated_at=now,
                    properties={"csm": user.pk, "kickoff_date": "2026-01-01", "renewal_date": "2027-01-01"},
                )
                for i in range(have, records)
            ],
            batch_size=1000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE crm_record")  # what autovacuum would have done (off on this machine)
    return user


def amount_sql(vendor: str) -> str:
    if vendor == "sqlite":
        return "SUM(CAST(JSON_EXTRACT(properties, '$.\"amount\"') AS REAL))"
    return "SUM((properties -> 'amount')::float)"


def board_sql(connection, *, object_type_id: int, pipeline_id: int, stage_ids: list[int], cards: int, amount: bool):
    """The grouped count (and amount) per stage, then each column's first cards plus one."""
    def run():
        with connection.cursor() as cursor:
            total = f", {amount_sql(connection.vendor)}" if amount else ""
            cursor.execute(
                f"SELECT stage_id, COUNT(*){total} FROM crm_record WHERE object_type_id = %s AND pipeline_id = %s"
                " AND archived_at IS NULL GROUP BY stage_id",
                [object_type_id, pipeline_id],
            )
            cursor.fetchall()
            ids = []
            for stage_id in stage_ids:
                cursor.execute(
                    "SELECT * FROM crm_record WHERE object_type_id = %s AND pipeline_id = %s AND stage_id = %s"
                    " AND archived_at IS NULL ORDER BY stage_entered_at, id LIMIT %s",
                    [object_type_id, pipeline_id, stage_id, cards + 1],
                )
                ids += [row[0] for row in cursor.fetchall()[:cards]]
        return ids

    return run


def table_sql(connection, *, object_type_id: int, pipeline_id: int):
    where = "crm_record WHERE object_type_id = %s AND pipeline_id = %s AND archived_at IS NULL"

    def run():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM {where} ORDER BY created_at DESC, id DESC LIMIT {TABLE_PAGE}", [object_type_id, pipeline_id]
            )
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {where} LIMIT {CAP + 1}) capped", [object_type_id, pipeline_id])
            cursor.fetchone()
        return ids

    return run


def view_ids(response, layout: str) -> list[int]:
    if layout == "table":
        return [r.pk for r in response.context["screen"].page.object_list]
    for context in response.context:  # the board's columns (other contexts name other things "columns")
        for values in context.dicts:
            columns = values.get("columns")
            if isinstance(columns, list) and columns and isinstance(columns[0], dict) and "cards" in columns[0]:
                return [card["record"].pk for column in columns for card in column["cards"]]
    raise SystemExit("no board columns in the response's context")


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection, reset_queries
    from django.template.backends.django import Template
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    from tend.boards import queries
    from tend.crm.models import Pipeline
    from tend.crm.registry import registry_for
    from tend.cs_settings.queries import workspace_settings

    ensure_data(args)
    user = ensure_services(args.records)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    ws = workspace_settings()
    services_board = queries.services_board(ws)
    revenue_board = queries.revenue_boards(ws)[0]
    cases = []
    for key, path, board in (("services", "/services/", services_board), ("revenue", "/revenue/", revenue_board)):
        pipeline = (
            Pipeline.objects.get(object_type=board.object_type, label="Onboarding")
            if key == "services"
            else board.pipeline(None)
        )
        stage_ids = list(pipeline.stages.order_by("display_order", "id").values_list("pk", flat=True))
        common = {"object_type_id": board.object_type.pk, "pipeline_id": pipeline.pk}
        amount = queries.has_amount(registry_for(board.object_type))
        params = {"pipeline": pipeline.pk} if key == "services" else {"object": board.object_type.name}
        cases.append((f"{key}-board", path, params, "board",
                       board_sql(connection, **common, stage_ids=stage_ids, cards=queries.CARDS_PER_PAGE, amount=amount)))
        cases.append((f"{key}-table", path, {**params, "layout": "table"}, "table", table_sql(connection, **common)))
    wanted = [p for p in args.cases.split(",") if p]
    cases = [c for c in cases if not wanted or any(c[0].startswith(p) for p in wanted)]

    print(f"\n{connection.vendor} · signed in as {user.email} · {args.iterations} iterations after {args.warmup} warm-up")
    results = []
    try:
        for key, path, params, layout, sql in cases:
            setup_test_environment()  # the response then carries its template context
            try:
                reset_queries()  # a request clears the query log; start from an empty one
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(path, params)
                captured = list(ctx.captured_queries)  # read from the log, which the next request clears
            finally:
                teardown_test_environment()
            assert response.status_code == 200, (key, response.status_code)
            shown, expected = view_ids(response, layout), sql()
            if shown != expected:
                raise SystemExit(f"({key}) the view and the SQL disagree: {shown[:6]}… vs {expected[:6]}…")

            def view(path=path, params=params):
                r = client.get(path, params)
                assert r.status_code == 200, r.status_code

            for _ in range(args.warmup):
                view()
                sql()
            view_ms, sql_ms = [], []
            for _ in range(args.iterations):
                started = time.perf_counter()
                view()
                middle = time.perf_counter()
                sql()
                view_ms.append((middle - started) * 1000)
                sql_ms.append((time.perf_counter() - middle) * 1000)
            parts = []
            render = Template.render
            for _ in range(BREAKDOWN_REQUESTS):
                spent = {"sql": 0.0, "template": 0.0}

                def execute(run, sql_text, p, many, context, spent=spent):
                    started = time.perf_counter()
                    try:
                        return run(sql_text, p, many, context)
                    finally:
                        spent["sql"] += time.perf_counter() - started

                def timed_render(self, *a, spent=spent, render=render, **kw):
                    started, before = time.perf_counter(), spent["sql"]
                    try:
                        return render(self, *a, **kw)
                    finally:
                        spent["template"] += time.perf_counter() - started - (spent["sql"] - before)

                Template.render = timed_render
                try:
                    with connection.execute_wrapper(execute):
                        started = time.perf_counter()
                        view()
                        total = time.perf_counter() - started
                finally:
                    Template.render = render
                parts.append((total, spent["sql"], spent["template"], total - spent["sql"] - spent["template"]))
            breakdown = [statistics.median(p[i] for p in parts) * 1000 for i in range(4)]
            results.append((key, len(shown), captured, view_ms, sql_ms, breakdown))
            print(f"  {key:<16} view p95 {percentile(view_ms, 95):6.2f} ms · SQL p95 {percentile(sql_ms, 95):6.2f} ms",
                  flush=True)
    finally:
        client.logout()

    print(f"\n{'case':<16}{'cards/rows':>11}{'queries':>8}{'view p50':>10}{'p95':>8}{'SQL p50':>9}{'p95':>7}"
          f"{'ratio p50':>10}{'p95':>6}  budget")
    for key, shown, queries_, view_ms, sql_ms, _b in results:
        v50, v95, s50, s95 = (percentile(view_ms, 50), percentile(view_ms, 95), percentile(sql_ms, 50),
                              percentile(sql_ms, 95))
        verdict = "met" if v95 <= TARGET_P95_MS else f"MISSED by {v95 - TARGET_P95_MS:.1f}"
        print(f"{key:<16}{shown:>11}{len(queries_):>8}{v50:>10.2f}{v95:>8.2f}{s50:>9.2f}{s95:>7.2f}"
              f"{v50 / s50:>10.1f}{v95 / s95:>6.1f}  {verdict}")
    print(f"\nWhere a request's time goes (ms, median of {BREAKDOWN_REQUESTS} instrumented requests):")
    print(f"{'case':<16}{'request':>9}{'SQL':>8}{'template':>10}{'rest':>8}")
    for key, _s, _q, _v, _sq, (total, sql_t, template, rest) in results:
        print(f"{key:<16}{total:>9.2f}{sql_t:>8.2f}{template:>10.2f}{rest:>8.2f}")
    print("\nQueries per request:")
    for key, _s, queries_, *_rest in results:
        print(f"  {key}: {len(queries_)}")
    if args.explain:
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        for key, _s, queries_, *_rest in results:
            print(f"\n---- {key} ----")
            for q in queries_:
                if '"crm_record"' in q["sql"]:
                    with connection.cursor() as cursor:
                        cursor.execute(prefix + q["sql"])
                        rows = cursor.fetchall()
                    plan = "\n".join(f"    {r[-1] if connection.vendor == 'sqlite' else r[0]}" for r in rows)
                    print(f"  {q['sql'][:300]}\n{plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
