"""Benchmark: the Services board with 5,000 records in one pipeline, answered on the server.

GET /services/ (the board of the Onboarding pipeline) through Django's test client, signed in as a
CSM with a Service seat, timed beside the same data read by hand in SQL (one grouped count per
stage, then the first page of cards of every column), interleaved in one run. It prints p50 / p95
of both and the number of SQL queries of one request (bounded: it does not grow with the records).

Usage (from the repository root):

    .venv/bin/python bench/board_bench.py                          # SQLite, var/board_bench.sqlite3
    .venv/bin/python bench/board_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_board_bench

Budget (ARCHITECTURE.md): a board answers in ≤ 50 ms at p95 on the server.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'board_bench.sqlite3'}"
TARGET_P95_MS = 50.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    return parser.parse_args(argv)


def setup(args) -> None:
    os.environ["TEND_DATABASE_URL"] = args.database_url
    hosts = os.environ.get("TEND_ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["TEND_ALLOWED_HOSTS"] = hosts if "testserver" in hosts.split(",") else f"{hosts},testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    sys.path.insert(0, str(ROOT))
    if args.database_url.startswith(("postgres://", "postgresql://")):
        from bench.filter_bench import ensure_postgres_database

        ensure_postgres_database(args.database_url)
    (ROOT / "var").mkdir(exist_ok=True)
    import django

    django.setup()


def ensure_data(records: int):
    """The CSM and `records` services spread over the Onboarding stages (built once)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tend.crm.models import ObjectType, Pipeline, Record
    from tend.directory.models import User
    from tend.directory.services import user_create

    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="board-bench@example.com").first() or user_create(
        email="board-bench@example.com", password="pw-123456789", full_name="Board Bench", has_service_seat=True
    )
    services = ObjectType.objects.get(name="services")
    pipeline = Pipeline.objects.get(object_type=services, label="Onboarding")
    stages = list(pipeline.stages.order_by("display_order", "id"))
    have = Record.objects.filter(object_type=services, pipeline=pipeline).count()
    if have < records:
        now = timezone.now()
        print(f"data: {have:,} services present, adding {records - have:,}…")
        Record.objects.bulk_create(
            [
                Record(
                    object_type=services,
                    name=f"Service {i:05}",
                    owner=user,
                    pipeline=pipeline,
                    stage=stages[i % len(stages)],
                    stage_entered_at=now - dt.timedelta(days=i % 40),
                    created_at=now - dt.timedelta(days=i % 400),
                    updated_at=now,
                    properties={"csm": user.pk, "kickoff_date": "2026-01-01", "renewal_date": "2027-01-01"},
                )
                for i in range(have, records)
            ],
            batch_size=1000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return user, pipeline, stages


def raw_board(connection, object_type_id: int, pipeline_id: int, stage_ids: list[int], page: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stage_id, COUNT(*) FROM crm_record WHERE object_type_id = %s AND pipeline_id = %s"
            " AND archived_at IS NULL GROUP BY stage_id",
            [object_type_id, pipeline_id],
        )
        cursor.fetchall()
        n = 0
        for stage_id in stage_ids:
            cursor.execute(
                "SELECT id, name, owner_id, stage_entered_at, properties FROM crm_record"
                " WHERE object_type_id = %s AND pipeline_id = %s AND stage_id = %s AND archived_at IS NULL"
                " ORDER BY stage_entered_at, id LIMIT %s",
                [object_type_id, pipeline_id, stage_id, page + 1],
            )
            n += len(cursor.fetchall())
    return n


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tend.boards.queries import CARDS_PER_PAGE

    user, pipeline, stages = ensure_data(args.records)
    client = Client()
    client.force_login(user)
    url = f"/services/?pipeline={pipeline.pk}"
    stage_ids = [s.pk for s in stages]

    def view():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    def sql():
        raw_board(connection, pipeline.object_type_id, pipeline.pk, stage_ids, CARDS_PER_PAGE)

    for _ in range(args.warmup):
        view()
        sql()
    view_ms, sql_ms = [], []
    for _ in range(args.iterations):
        start = time.perf_counter()
        view()
        view_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        sql()
        sql_ms.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        view()
    engine = connection.vendor
    print(f"board of {args.records:,} records in {len(stages)} stages, {engine}, {args.iterations} requests")
    print(f"  GET /services/  p50 {percentile(view_ms, 50):6.1f} ms   p95 {percentile(view_ms, 95):6.1f} ms")
    print(f"  raw SQL         p50 {percentile(sql_ms, 50):6.1f} ms   p95 {percentile(sql_ms, 95):6.1f} ms")
    print(f"  SQL queries per request: {len(ctx.captured_queries)}")
    within = percentile(view_ms, 95) <= TARGET_P95_MS
    print(f"  budget p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if within else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
