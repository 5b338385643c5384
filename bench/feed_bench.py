"""Benchmark: the Feed tab and contact-activity ingestion at 100k companies and 10M activity rows.

Its own databases (`var/feed_bench.sqlite3`, PostgreSQL `tend_feed_bench`), filled directly with
bulk inserts (not the demo): companies with an owner and a CSM, three contacts each (associated,
"primary"), and activity spread over the last 60 days. Cases, each one GET through Django's test
client (force_login), timed beside the same page written by hand in SQL, interleaved:

    first      /feed/ for the big-book CSM (16% of the companies)
    older      "Load older activity": the pages after the first (cursors of pages 2–6, and page 40)
    team       a manager's team (five CSMs)
    small      a CSM with a small book (120 companies): the company-range plan
    type       /feed/?type=form_submitted (one type of eight)

Ingestion: `activities_store` (the bulk machinery) and `activities_record` (the API's service:
validation, contact by id, primary company) in batches of 1,000 fresh rows, beside the
hand-written INSERT of the same rows. Budgets: p95 ≤ 50 ms on the server; ≥ 20k activities/s.

    .venv/bin/python bench/feed_bench.py                       # SQLite, var/feed_bench.sqlite3
    .venv/bin/python bench/feed_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_feed_bench
    .venv/bin/python bench/feed_bench.py --companies 10000 --activities 1000000   # a smaller run
"""

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    from bench.filter_bench import percentile, setup
except ImportError:  # run as a script
    from filter_bench import percentile, setup

DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'feed_bench.sqlite3'}"
TARGET_P95_MS = 50.0
TARGET_RATE = 20_000
PAGE = 25
CONTACTS_PER_COMPANY = 3
DAYS = 60
BIG_SHARE = 0.16
SMALL_BOOK = 120
TYPES = (
    "page_viewed",
    "page_viewed",
    "page_viewed",
    "email_opened",
    "email_clicked",
    "form_submitted",
    "meeting_booked",
    "document_viewed",
)
NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--companies", type=int, default=100_000)
    p.add_argument("--activities", type=int, default=10_000_000)
    p.add_argument("--iterations", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--ingest-rows", type=int, default=50_000)
    p.add_argument("--cases", default="")
    p.add_argument("--explain", action="store_true")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- data


def users():
    from tend.directory.models import User
    from tend.directory.services import user_create

    def person(email, name, manager=None):
        user = User.objects.filter(email=email).first() or user_create(
            email=email, full_name=name, has_service_seat=True
        )
        if manager is not None and user.manager_id != manager.pk:
            user.manager = manager
            user.save(update_fields=["manager"])
        return user

    manager = person("manager@feed.bench", "Mia Manager")
    big = person("big@feed.bench", "Bea Bigbook", manager)
    small = person("small@feed.bench", "Sol Smallbook", manager)
    others = [person(f"csm{i}@feed.bench", f"CSM {i}", manager if i < 3 else None) for i in range(40)]
    return manager, big, small, others


def ensure_data(args):
    from django.core.management import call_command

    from tend.activity.models import Activity
    from tend.core import bulk
    from tend.crm.models import Association, ObjectType, Record

    call_command("migrate", verbosity=0)
    manager, big, small, others = users()
    companies_type = ObjectType.objects.get(name="companies")
    contacts_type = ObjectType.objects.get(name="contacts")
    have = Record.objects.filter(object_type=companies_type).count()
    have_activity = Activity.objects.count()
    if have == args.companies and have_activity >= args.activities:
        print(f"data: {have:,} companies and {have_activity:,} activities already present")
        return manager, big, small
    if have == args.companies and have_activity and have_activity % 200_000 == 0:
        # An interrupted build (it commits 200k rows at a time): add the rest.
        print(f"data: {have:,} companies and {have_activity:,} activities present; adding the rest")
        ids = list(Record.objects.filter(object_type=companies_type).order_by("id").values_list("id", flat=True))
        people = list(Record.objects.filter(object_type=contacts_type).order_by("id").values_list("id", flat=True))
        add_activities(args, ids, people, random.Random(19 + have_activity), start=have_activity)
        return manager, big, small
    if have or have_activity:
        print("data: clearing the previous run's data")
        Activity.objects.all().delete()
        Association.objects.all().delete()
        Record.objects.all().delete()
    rng = random.Random(19)
    started = time.perf_counter()
    n = args.companies
    all_ids = bulk.reserve_ids(Record._meta.db_table, n * (1 + CONTACTS_PER_COMPANY))
    company_ids, contact_ids = all_ids[:n], all_ids[n:]
    at = bulk.db_datetime(NOW - dt.timedelta(days=400))
    big_n, small_n = int(n * BIG_SHARE), SMALL_BOOK
    owners = []
    for i in range(n):
        if i < big_n:
            csm = big.pk
        elif i < big_n + small_n:
            csm = small.pk
        else:
            csm = others[i % len(others)].pk
        owner = others[(i * 7) % len(others)].pk if i % 10 else big.pk  # the big CSM also owns a tenth
        owners.append((csm, owner))
    cols = ("id", "object_type_id", "name", "owner_id", "created_at", "updated_at", "properties")
    rows = [
        (cid, companies_type.pk, f"Company {i:06d}", owners[i][1], at, at, json.dumps({"csm": owners[i][0]}))
        for i, cid in enumerate(company_ids)
    ]
    with bulk.write_turn(), transaction_atomic():
        bulk.copy_rows(Record._meta.db_table, cols, rows)
        contacts = [
            (k, contacts_type.pk, f"Contact {j:07d}", None, at, at, json.dumps({"email": f"c{j}@feed.bench"}))
            for j, k in enumerate(contact_ids)
        ]
        bulk.copy_rows(Record._meta.db_table, cols, contacts)
        links = []
        for j, k in enumerate(contact_ids):
            company = company_ids[j // CONTACTS_PER_COMPANY]
            links.append((k, company, "primary", at))
            links.append((company, k, "primary", at))
        bulk.copy_rows(Association._meta.db_table, ("from_record_id", "to_record_id", "label", "created_at"), links)
    print(f"data: {n:,} companies, {len(contact_ids):,} contacts in {time.perf_counter() - started:.0f} s")
    add_activities(args, company_ids, contact_ids, rng, start=0)
    return manager, big, small


def add_activities(args, company_ids, contact_ids, rng, *, start):
    from django.db import connection

    from tend.activity.models import Activity
    from tend.core import bulk

    started = time.perf_counter()
    chunk = 200_000
    span = DAYS * 86400
    columns = ("external_id", "type", "label", "contact_id", "company_id", "asset_name", "asset_url",
               "occurred_at", "source", "properties", "received_at")  # fmt: skip
    received = bulk.db_datetime(NOW)
    done = start
    while done < args.activities:
        batch = []
        for k in range(done, min(done + chunk, args.activities)):
            j = rng.randrange(len(contact_ids))
            when = NOW - dt.timedelta(seconds=rng.randrange(span))
            kind = TYPES[k % len(TYPES)]
            batch.append(
                (f"bench-{k}", kind, "", contact_ids[j], company_ids[j // CONTACTS_PER_COMPANY],
                 f"Asset {k % 500}", f"https://feed.bench/a/{k % 500}", bulk.db_datetime(when), "api", "{}", received)
            )  # fmt: skip
        with bulk.write_turn(), transaction_atomic():
            bulk.copy_rows(Activity._meta.db_table, columns, batch)
        done += len(batch)
        rate = (done - start) / (time.perf_counter() - started)
        print(f"data: {done:,} activities ({rate:,.0f}/s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if bulk.is_postgres():
        connection.ensure_connection()
        old = connection.connection.autocommit
        connection.connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE activity_activity")
            cursor.execute("VACUUM ANALYZE crm_record")
        connection.connection.autocommit = old


def transaction_atomic():
    from django.db import transaction

    return transaction.atomic()


# --------------------------------------------------------------------------- the Feed


def book_sql(vendor: str, user_ids: list[int]) -> tuple[str, list]:
    """The book: active companies whose owner or CSM is one of the users (the book index's expression)."""
    marks = ", ".join(["%s"] * len(user_ids))
    if vendor == "postgresql":
        csm = "(r.properties -> 'csm')"
        values = [json.dumps(u) for u in user_ids]
        csm_in = f"{csm} IN ({', '.join(['%s::jsonb'] * len(user_ids))})"
    else:
        csm = "JSON_EXTRACT(r.properties, '$.\"csm\"')"
        values = list(user_ids)
        csm_in = f"{csm} IN ({marks})"
    sql = (
        "SELECT r.id FROM crm_record r WHERE r.object_type_id = %s AND r.archived_at IS NULL "
        f"AND (r.owner_id IN ({marks}) OR {csm_in})"
    )
    return sql, [*user_ids, *values]


def page_sql(vendor, type_id, user_ids, viewer_id, *, small, cursor=None, kind=None):
    book, book_params = book_sql(vendor, user_ids)
    first = f"{book} LIMIT 301"
    if small:  # the view reads a small book's ids first, then each company's newest ids, merged
        ids = [row[0] for row in run_sql(connection_(), [(first, [type_id, *book_params])])]
        return [(first, [type_id, *book_params]), *small_page_sql(vendor, sorted(ids), viewer_id, cursor, kind)]
    company_in = f"(a.company_id + 0) IN ({book})"
    where = [company_in, "NOT EXISTS (SELECT 1 FROM activity_activitydismissal d "
             "WHERE d.user_id = %s AND d.activity_id = a.id)"]  # fmt: skip
    params = ([] if small else [type_id, *book_params]) + [viewer_id]
    if cursor is not None:
        where.append("a.occurred_at <= %s AND (a.occurred_at < %s OR a.id < %s)")
        when = cursor[0] if vendor == "postgresql" else str(cursor[0].astimezone(dt.UTC).replace(tzinfo=None))
        params += [when, when, cursor[1]]
    if kind:
        where.append("a.type = %s")
        params.append(kind)
    sql = (
        "SELECT a.id, a.occurred_at, c.name, co.name FROM activity_activity a "
        "JOIN crm_record c ON c.id = a.contact_id LEFT JOIN crm_record co ON co.id = a.company_id "
        f"WHERE {' AND '.join(where)} ORDER BY a.occurred_at DESC, a.id DESC LIMIT {PAGE + 1}"
    )
    return [(first, [type_id, *book_params]), (sql, params)]


def small_page_sql(vendor, ids, viewer_id, cursor, kind):
    """A small book's page by hand: each company's newest 26 ids from (company_id, occurred_at, id)
    (LATERAL on PostgreSQL, UNION ALL of LIMITed selects on SQLite), merged, then 26 rows by id."""
    where = ["a.company_id = {company}", "NOT EXISTS (SELECT 1 FROM activity_activitydismissal d "
             "WHERE d.user_id = %s AND d.activity_id = a.id)"]  # fmt: skip
    params = [viewer_id]
    if cursor is not None:
        where.append("a.occurred_at <= %s AND (a.occurred_at < %s OR a.id < %s)")
        when = cursor[0] if vendor == "postgresql" else str(cursor[0].astimezone(dt.UTC).replace(tzinfo=None))
        params += [when, when, cursor[1]]
    if kind:
        where.append("a.type = %s")
        params.append(kind)
    inner = (
        f"SELECT a.id, a.occurred_at FROM activity_activity a WHERE {' AND '.join(where)} "
        f"ORDER BY a.occurred_at DESC, a.id DESC LIMIT {PAGE + 1}"
    )
    merge = f"ORDER BY p.occurred_at DESC, p.id DESC LIMIT {PAGE + 1}"
    if vendor == "postgresql":
        newest = (
            f"SELECT p.id FROM unnest(%s::bigint[]) AS b(company_id) "
            f"CROSS JOIN LATERAL ({inner.format(company='b.company_id')}) p {merge}"
        )
        newest_params = [ids, *params]
    else:
        union = " UNION ALL ".join(f"SELECT * FROM ({inner.format(company=int(i))})" for i in ids)
        newest = f"SELECT p.id FROM ({union}) p {merge}"
        newest_params = params * len(ids)
    rows = (
        "SELECT a.id, a.occurred_at, c.name, co.name FROM activity_activity a "
        "JOIN crm_record c ON c.id = a.contact_id LEFT JOIN crm_record co ON co.id = a.company_id "
        "WHERE a.id IN ({ids}) ORDER BY a.occurred_at DESC, a.id DESC"
    )
    return [(newest, newest_params), (rows, None)]


def connection_():
    from django.db import connection

    return connection


def run_sql(connection, statements):
    """Run the statements in turn; one whose params are None reads the previous one's ids."""
    with connection.cursor() as cursor:
        out = None
        for sql, params in statements:
            if params is None:
                ids = [int(row[0]) for row in out or []] or [0]
                sql, params = sql.format(ids=", ".join(map(str, ids))), []
            cursor.execute(sql, params)
            out = cursor.fetchall()
    return out


def timed_pair(view, sql, *, warmup, iterations):
    for _ in range(warmup):
        view()
        sql()
    vs, ss = [], []
    for _ in range(iterations):
        t = time.perf_counter()
        view()
        vs.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        sql()
        ss.append((time.perf_counter() - t) * 1000)
    return vs, ss


def feed_cases(args, manager, big, small):
    import re

    from django.db import connection
    from django.test import Client

    from tend.activity.queries import Cursor
    from tend.crm.models import ObjectType
    from tend.directory.queries import team_of

    vendor = connection.vendor
    type_id = ObjectType.objects.get(name="companies").pk

    def client_for(user):
        c = Client(SERVER_NAME="localhost")
        c.force_login(user)
        return c

    def cursors(client, pages):
        out, url = [], "/feed/"
        for _ in range(pages):
            html = client.get(url).content.decode()
            m = re.search(r'href="\?([^"]*before=([^"&]+))"', html.replace("&amp;", "&"))
            if not m:
                break
            out.append((m.group(1), m.group(2)))
            url = "/feed/?" + m.group(1)
        return out

    big_client = client_for(big)
    chain = cursors(big_client, 40)
    older = [chain[i] for i in (0, 1, 2, 3, 4) if i < len(chain)] + ([chain[-1]] if len(chain) >= 40 else [])
    team_ids = [u.pk for u in team_of(manager)]
    cases = [
        ("first", big_client, "/feed/", lambda: page_sql(vendor, type_id, [big.pk], big.pk, small=False)),
        ("team", client_for(manager), "/feed/", lambda: page_sql(vendor, type_id, team_ids, manager.pk, small=False)),
        ("small", client_for(small), "/feed/", lambda: page_sql(vendor, type_id, [small.pk], small.pk, small=True)),
        (
            "type",
            big_client,
            "/feed/?type=form_submitted",
            lambda: page_sql(vendor, type_id, [big.pk], big.pk, small=False, kind="form_submitted"),
        ),
    ]
    for i, (query, raw) in enumerate(older):
        c = Cursor.decode(raw)
        cases.append(
            (
                f"older-{'p40' if i == 5 else i + 2}",
                big_client,
                "/feed/?" + query,
                lambda c=c: page_sql(vendor, type_id, [big.pk], big.pk, small=False, cursor=(c.occurred_at, c.id)),
            )
        )
    results = []
    for name, client, url, sql_of in cases:
        if args.cases and not any(name.startswith(p) for p in args.cases.split(",")):
            continue
        statements = sql_of()
        hx = {"HTTP_HX_REQUEST": "true"} if "before=" in url else {}
        captured = []

        def count(execute, sql, params, many, context, captured=captured):
            captured.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url, **hx)
        assert response.status_code == 200, response.content[:300]
        shown = [int(i) for i in re.findall(r'data-activity="(\d+)"', response.content.decode())]
        by_hand = [row[0] for row in run_sql(connection, statements)][:PAGE]
        assert shown == by_hand, (name, shown[:5], by_hand[:5])
        vs, ss = timed_pair(
            lambda c=client, u=url, h=hx: c.get(u, **h),
            lambda s=statements: run_sql(connection, s),
            warmup=args.warmup,
            iterations=args.iterations,
        )
        row = {
            "case": name,
            "view_p50": statistics.median(vs),
            "view_p95": percentile(vs, 95),
            "sql_p50": statistics.median(ss),
            "sql_p95": percentile(ss, 95),
            "queries": len(captured),
            "rows": len(shown),
        }
        results.append(row)
        flag = "ok" if row["view_p95"] <= TARGET_P95_MS else "OVER"
        print(
            f"{name:10} view p50 {row['view_p50']:6.1f} p95 {row['view_p95']:6.1f} ms | SQL p50 {row['sql_p50']:6.1f} "
            f"p95 {row['sql_p95']:6.1f} ms | ratio {row['view_p95'] / max(row['sql_p95'], 0.01):4.1f} | "
            f"{row['queries']} queries, {row['rows']} rows  {flag}",
            flush=True,
        )
        if args.explain:
            explain(connection, statements[-1] if statements[-1][1] is not None else statements[-2])
    return results


def explain(connection, statement):
    sql, params = statement
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        for row in cursor.fetchall():
            print("    ", " | ".join(str(x) for x in row))


# --------------------------------------------------------------------------- ingestion


def ingestion(args):
    from django.db import connection, transaction

    from tend.activity.models import Activity
    from tend.activity.services import activities_record, activities_store
    from tend.activity.write import ActivityRow
    from tend.core import bulk
    from tend.core.policy import SYSTEM
    from tend.crm.models import Record

    contacts = list(
        Record.objects.filter(object_type__name="contacts").order_by("id").values_list("id", "properties__email")[:5000]
    )
    companies = dict(
        (c, t)
        for c, t in Record.objects.filter(
            associations_from__to_record_id__isnull=False, pk__in=[c for c, _e in contacts]
        ).values_list("pk", "associations_from__to_record_id")
    )
    rng = random.Random(7)
    batch = 1000
    n = args.ingest_rows
    tag = f"ing{int(time.time())}"

    def rows(prefix):
        out = []
        for k in range(n):
            contact, _email = contacts[k % len(contacts)]
            out.append(
                ActivityRow(
                    external_id=f"{prefix}-{k}",
                    type=TYPES[k % len(TYPES)],
                    contact_id=contact,
                    company_id=companies.get(contact),
                    occurred_at=NOW - dt.timedelta(seconds=rng.randrange(86400)),
                    source="api",
                    asset_name="Pricing",
                    asset_url="https://feed.bench/pricing",
                )
            )
        return out

    def service(prefix):
        batch_rows = rows(prefix)
        t = time.perf_counter()
        for i in range(0, n, batch):
            activities_store(actor=SYSTEM, rows=batch_rows[i : i + batch])
        return n / (time.perf_counter() - t)

    def api_service(prefix):
        items = [
            {"id": f"{prefix}-{k}", "type": TYPES[k % len(TYPES)], "contactId": contacts[k % len(contacts)][0],
             "occurredAt": (NOW - dt.timedelta(seconds=k)).isoformat(), "asset": {"name": "Pricing", "url": "https://feed.bench/p"}}
            for k in range(n)
        ]  # fmt: skip
        t = time.perf_counter()
        for i in range(0, n, batch):
            out = activities_record(actor=SYSTEM, items=items[i : i + batch])
            assert out.accepted == len(items[i : i + batch]), out.errors[:3]
        return n / (time.perf_counter() - t)

    def by_hand(prefix):
        batch_rows = rows(prefix)
        cols = ("external_id", "type", "label", "contact_id", "company_id", "asset_name", "asset_url",
                "occurred_at", "source", "properties", "received_at")  # fmt: skip
        received = bulk.db_datetime(NOW)
        t = time.perf_counter()
        for i in range(0, n, batch):
            values = [
                (r.external_id, r.type, "", r.contact_id, r.company_id, r.asset_name, r.asset_url,
                 bulk.db_datetime(r.occurred_at), r.source, "{}", received)
                for r in batch_rows[i : i + batch]
            ]  # fmt: skip
            with bulk.write_turn(), transaction.atomic(), connection.cursor() as cursor:
                if bulk.is_postgres():
                    types = ("text", "text", "text", "bigint", "bigint", "text", "text", "timestamptz", "text",
                             "jsonb", "timestamptz")  # fmt: skip
                    arrays = ", ".join(f"%s::{t}[]" for t in types)
                    cursor.execute(
                        f"INSERT INTO activity_activity ({', '.join(cols)}) SELECT * FROM unnest({arrays}) "
                        "ON CONFLICT (external_id) DO NOTHING",
                        bulk.columns_of(values),
                    )
                else:
                    cursor.executemany(
                        f"INSERT INTO activity_activity ({', '.join(cols)}) VALUES ({', '.join(['%s'] * 11)}) "
                        "ON CONFLICT (external_id) DO NOTHING",
                        values,
                    )
        return n / (time.perf_counter() - t)

    def api_by_email(prefix):
        items = [
            {"id": f"{prefix}-{k}", "type": TYPES[k % len(TYPES)], "contactEmail": contacts[k % len(contacts)][1].upper(),
             "occurredAt": (NOW - dt.timedelta(seconds=k)).isoformat(), "asset": {"name": "Pricing", "url": "https://feed.bench/p"}}
            for k in range(n)
        ]  # fmt: skip
        t = time.perf_counter()
        for i in range(0, n, batch):
            out = activities_record(actor=SYSTEM, items=items[i : i + batch])
            assert out.accepted == len(items[i : i + batch]), out.errors[:3]
        return n / (time.perf_counter() - t)

    results = {}
    cases = (("store", service), ("sql", by_hand), ("record (API)", api_service), ("record (email)", api_by_email))
    for name, fn in cases:
        rate = fn(f"{tag}-{name.split()[-1].strip('()')[:5]}")
        results[name] = rate
        print(f"ingest {name:13} {rate:9,.0f} activities/s  {'ok' if rate >= TARGET_RATE else 'UNDER'}", flush=True)
    Activity.objects.filter(external_id__startswith=f"{tag}-").delete()
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)
    manager, big, small = ensure_data(args)
    from django.db import connection

    print(f"database: {connection.vendor}; {args.iterations} iterations")
    feed_cases(args, manager, big, small)
    if not args.cases or "ingest" in args.cases:
        ingestion(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
