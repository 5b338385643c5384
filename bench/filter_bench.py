"""Benchmark: a CSM's everyday customer filter at 100k companies, three ways in one run.

    owner = me  AND  renewal_date in the next 90 days  AND  cs_stage in (active, at_risk, onboarding)
    sorted by renewal_date ascending, first page of 25

(a) the service layer: tend.crm.filters.compile_search + tend.crm.queries.records_for, 25 rows
    materialised; (b) the API: POST /api/v1/objects/companies/search through Django's test
    client with a Bearer token (the whole server-side stack, minus the network); (c) the same
    query hand-written in SQL for the vendor (json_extract on SQLite, ->> on PostgreSQL).

Usage (from the repository root):

    .venv/bin/python bench/filter_bench.py                                  # SQLite, var/bench.sqlite3
    .venv/bin/python bench/filter_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_bench

The database is migrated and, unless it already holds exactly --companies demo companies, filled
with `tend demo --companies N --reset`. A PostgreSQL database is created if missing.
Targets (ARCHITECTURE.md): p95 ≤ 50 ms server side, and ≤ 2× the hand-written SQL.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
TARGET_P95_MS = 50.0
TARGET_RATIO = 2.0
STAGES = ["active", "at_risk", "onboarding"]
PAGE = 25


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--user", default="yuki@demo.tend", help="the CSM whose 'me' the filter uses")
    parser.add_argument("--me-property", choices=["owner", "csm"], default="owner", help="IS_ME on owner or on csm")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument(
        "--try-index",
        action="store_true",
        help="create the candidate renewal-date index for this run only (dropped afterwards)",
    )
    return parser.parse_args(argv)


def ensure_postgres_database(url: str) -> None:
    import psycopg

    u = urlparse(url)
    name = u.path.lstrip("/")
    with psycopg.connect(
        host=u.hostname,
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def setup(args) -> None:
    os.environ["TEND_DATABASE_URL"] = args.database_url
    hosts = os.environ.get("TEND_ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["TEND_ALLOWED_HOSTS"] = hosts if "localhost" in hosts.split(",") else f"{hosts},localhost"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    if args.database_url.startswith(("postgres://", "postgresql://")):
        ensure_postgres_database(args.database_url)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def ensure_data(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from tend.crm.models import Record

    call_command("migrate", verbosity=0)
    have = Record.objects.filter(object_type__name="companies").count()
    if have == args.companies:
        print(f"data: {have:,} companies already present")
        return
    flags = ["--reset"] if have else []
    print(f"data: {have:,} companies present, building {args.companies:,}…")
    call_command("demo", "--companies", str(args.companies), *flags)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum (PostgreSQL) / PRAGMA optimize (SQLite) would do


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn, *, warmup: int, iterations: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)

    from django.db import connection
    from django.test import Client

    from tend.core import clock
    from tend.core.policy import Actor, Scope
    from tend.crm import queries
    from tend.crm.filters import compile_search
    from tend.crm.models import ObjectType, Record
    from tend.crm.registry import registry_for
    from tend.directory.models import User
    from tend.directory.services import token_create, token_revoke

    ensure_data(args)
    user = User.objects.get(email=args.user)
    companies = ObjectType.objects.get(name="companies")
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": args.me_property, "operator": "IS_ME"},
                    {"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": 90},
                    {"propertyName": "cs_stage", "operator": "IN", "values": STAGES},
                ]
            }
        ],
        "sorts": [{"propertyName": "renewal_date", "direction": "ASCENDING"}],
    }

    # (a) the service layer, as a view calls it
    actor = Actor(user, Scope.SESSION)

    def service():
        object_type = queries.get_object_type_for_user(actor, "companies")
        compiled = compile_search(body, registry_for(object_type), user=user)
        return list(compiled.apply(queries.records_for(actor, object_type))[:PAGE])

    # (b) the API
    token, key = token_create(user=user, name="filter-bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", SERVER_NAME="localhost")
    payload = json.dumps({**body, "limit": PAGE})

    def api():
        response = client.post("/api/v1/objects/companies/search", payload, content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"API answered {response.status_code}: {response.content[:500]!r}")
        return response.json()

    # (c) hand-written SQL
    tz = clock.user_zone(user)
    today = clock.today(tz)
    low, high = today.isoformat(), (today + dt.timedelta(days=90)).isoformat()
    table = connection.ops.quote_name(Record._meta.db_table)
    if connection.vendor == "sqlite":
        me = "owner_id = %s" if args.me_property == "owner" else "json_extract(properties, '$.csm') = %s"
        key_expr = "json_extract(properties, '$.{}')"
    else:
        me = "owner_id = %s" if args.me_property == "owner" else "(properties ->> 'csm')::bigint = %s"
        key_expr = "(properties ->> '{}')"
    renewal, stage = key_expr.format("renewal_date"), key_expr.format("cs_stage")
    raw_sql = (
        f"SELECT * FROM {table} WHERE object_type_id = %s AND archived_at IS NULL AND {me} "
        f"AND {renewal} >= %s AND {renewal} <= %s AND {stage} IN (%s, %s, %s) "
        f"ORDER BY {renewal} ASC, id ASC LIMIT {PAGE}"
    )
    raw_params = [companies.pk, user.pk, low, high, *STAGES]

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(raw_sql, raw_params)
            return cursor.fetchall()

    # Diagnostic: the SQL the service layer sends, executed directly (SQL cost without Python).
    compiled = compile_search(body, registry_for(companies), user=user)
    matching = compiled.apply(queries.records_for(actor, companies))
    orm_sql, orm_params = matching[:PAGE].query.sql_with_params()

    def service_sql():
        with connection.cursor() as cursor:
            cursor.execute(orm_sql, orm_params)
            return cursor.fetchall()

    indexes = candidate_indexes(connection, args.me_property) if args.try_index else []
    try:
        create_indexes(connection, indexes)
        return measure(
            args,
            connection,
            user=user,
            total_of=matching,
            paths={"service": service, "api": api, "raw SQL": raw, "(service SQL)": service_sql},
            raw_sql=(raw_sql, raw_params),
            indexes=indexes,
        )
    finally:
        drop_indexes(connection, indexes)
        token_revoke(token_id=token.pk)


def measure(args, connection, *, user, total_of, paths: dict, raw_sql: tuple, indexes: list) -> int:
    """Check that the paths agree, count queries, time each path and print the report."""
    from django.test.utils import CaptureQueriesContext

    from tend.core import clock
    from tend.crm.models import Record

    ids = [r.pk for r in paths["service"]()]
    api_ids = [r["id"] for r in paths["api"]()["results"]]
    raw_ids = [row[0] for row in paths["raw SQL"]()]
    assert ids == api_ids == raw_ids, "the three paths disagree"
    total = total_of.count()
    # Copied at once: each request through the test client clears Django's query log.
    with CaptureQueriesContext(connection) as captured:
        paths["service"]()
    service_queries = list(captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        paths["api"]()
    api_queries = list(captured.captured_queries)

    companies = Record.objects.filter(object_type__name="companies").count()
    print(
        f"\n{connection.vendor} · {companies:,} companies · user {user.email} ({clock.user_zone(user).key}) · "
        f"{total:,} match, first {len(ids)} shown · {args.iterations} iterations after {args.warmup} warm-up"
    )
    for _name, sql in indexes:
        print(f"with candidate index: {sql}")
    results = {}
    for label, fn in paths.items():
        samples = timed(fn, warmup=args.warmup, iterations=args.iterations)
        results[label] = (percentile(samples, 50), percentile(samples, 95), statistics.fmean(samples))
    print(f"{'path':<15}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for label, (p50, p95, mean) in results.items():
        print(f"{label:<15}{p50:>10.2f}{p95:>10.2f}{mean:>10.2f}")
    print("(service SQL: the service layer's own SQL sent directly, i.e. its database share)")
    raw50, raw95, _mean = results["raw SQL"]
    (s50, s95, _), (a50, a95, _) = results["service"], results["api"]
    print(
        f"ratios p50 / p95: service/raw {s50 / raw50:.2f} / {s95 / raw95:.2f} · api/raw {a50 / raw50:.2f} / {a95 / raw95:.2f}"
    )
    print(f"SQL queries per request: service {len(service_queries)}, api {len(api_queries)}")
    print(f"target: p95 ≤ {TARGET_P95_MS:.0f} ms server side and ≤ {TARGET_RATIO:.0f}× raw SQL (p95)")
    for label in ("service", "api"):
        p95 = results[label][1]
        ok = p95 <= TARGET_P95_MS and p95 <= TARGET_RATIO * raw95
        print(f"  {label:<8} {'met' if ok else 'MISSED'} (p95 {p95:.1f} ms, {p95 / raw95:.2f}× raw)")

    if args.explain:
        print("\nservice query:\n  " + service_queries[-1]["sql"])
        options = {} if connection.vendor == "sqlite" else {"analyze": True}
        print("plan:\n" + total_of[:PAGE].explain(**options))
        for query in api_queries:
            print("api query: " + query["sql"][:300])
        with connection.cursor() as cursor:
            prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
            cursor.execute(prefix + raw_sql[0], raw_sql[1])
            print("raw SQL plan:\n" + "\n".join(str(row) for row in cursor.fetchall()))
    return 0


def candidate_indexes(connection, me_property: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) for the index that would serve this filter: owner (or CSM), then the
    renewal date as the ORM writes it, then id, over live records. On SQLite a second one in the
    hand-written form, since the ORM's form cannot be matched (see bench/README.md)."""
    from django.db.models import F, Index, Q
    from django.db.models.fields.json import KeyTransform

    from tend.crm.models import Record

    me = F("owner") if me_property == "owner" else KeyTransform("csm", "properties")
    index = Index(
        F("object_type"),
        me,
        KeyTransform("renewal_date", "properties"),
        F("id"),
        name="bench_candidate_renewal",
        condition=Q(archived_at__isnull=True),
    )
    with connection.schema_editor(collect_sql=True) as editor:
        found = [("bench_candidate_renewal", str(index.create_sql(Record, editor)))]
    if connection.vendor == "sqlite":
        me_sql = "owner_id" if me_property == "owner" else "json_extract(properties, '$.csm')"
        found.append(
            (
                "bench_candidate_renewal_raw",
                f"CREATE INDEX bench_candidate_renewal_raw ON crm_record (object_type_id, {me_sql}, "
                "json_extract(properties, '$.renewal_date'), id) WHERE archived_at IS NULL",
            )
        )
    return found


def create_indexes(connection, indexes) -> None:
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
        if indexes:
            cursor.execute("ANALYZE")


def drop_indexes(connection, indexes) -> None:
    with connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")


if __name__ == "__main__":
    sys.exit(main())
