"""Benchmark: bulk ingestion of Segment track events, through the service and through HTTP.

Batches of 1,000 track events (10 event names, 20 users per account, spread over 30 days and the
accounts, each naming its account by context.groupId = the company domain) go through
`tend.signals.services.events_ingest` and then through `POST /api/v1/ingest/batch` with Django's
test client and Segment's Basic auth (the write key as user name). Each path prints events/s; then
one batch is replayed to time the all-duplicates path, and the rollups are checked against a
GROUP BY over the stored events.

Usage (from the repository root):

    .venv/bin/python bench/ingest_bench.py                         # SQLite, var/ingest_bench.sqlite3
    .venv/bin/python bench/ingest_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_ingest_bench

Budget (ARCHITECTURE.md): bulk event ingestion sustains ≥ 20k events/s.
"""

import argparse
import base64
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'ingest_bench.sqlite3'}"
TARGET = 20_000
EVENTS = ("Logged In", "Report Created", "Dashboard Viewed", "Export Run", "Integration Connected",
          "Invite Sent", "Alert Configured", "Comment Added", "Search Run", "Settings Changed")  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--service-batches", type=int, default=100, help="batches of --batch-size via the service")
    parser.add_argument("--http-batches", type=int, default=50, help="batches of --batch-size via HTTP")
    parser.add_argument("--batch-size", type=int, default=1000)
    return parser.parse_args(argv)


def setup(args) -> None:
    """Django on the bench database, as for the board bench (the test client's host allowed)."""
    sys.path.insert(0, str(ROOT))
    from bench.board_bench import setup as board_setup

    board_setup(args)


def ensure_data(accounts: int):
    """A CSM with a write token and `accounts` companies with domains (built once)."""
    from django.core.management import call_command
    from django.utils import timezone

    from tend.crm.models import ObjectType, Record
    from tend.directory.models import User
    from tend.directory.services import token_create, user_create

    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="ingest-bench@example.com").first() or user_create(
        email="ingest-bench@example.com", password="pw-123456789", full_name="Ingest Bench", has_service_seat=True
    )
    _token, key = token_create(user=user, name="bench", write=True)
    companies = ObjectType.objects.get(name="companies")
    have = Record.objects.filter(object_type=companies, properties__domain__startswith="bench-").count()
    if have < accounts:
        now = timezone.now()
        print(f"data: {have:,} bench companies present, adding {accounts - have:,}…")
        Record.objects.bulk_create(
            [
                Record(
                    object_type=companies,
                    name=f"Bench {i:06}",
                    created_at=now,
                    updated_at=now,
                    properties={"domain": f"bench-{i:06}.example"},
                )
                for i in range(have, accounts)
            ],
            batch_size=1000,
        )
    return user, key


def make_batch(n: int, accounts: int, now: dt.datetime, seq: int) -> list[dict]:
    out = []
    for k in range(n):
        i = seq * n + k
        account = (i * 7919) % accounts
        # In time order, as live traffic and backfills arrive: batch `seq` covers its own slice.
        at = now - dt.timedelta(days=30) + dt.timedelta(seconds=(i % 1_000_000) * 2.5)
        out.append(
            {
                "type": "track",
                "messageId": str(uuid.uuid4()),
                "event": EVENTS[i % len(EVENTS)],
                "userId": f"user-{account}-{i % 20}",
                "timestamp": at.isoformat().replace("+00:00", "Z"),
                "context": {"groupId": f"bench-{account:06}.example"},
                "properties": {"plan": "growth", "n": i % 100},
            }
        )
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection
    from django.test import Client

    from tend.core.policy import Actor, Scope
    from tend.signals.models import DailyUsage, UsageEvent
    from tend.signals.services import events_ingest

    user, key = ensure_data(args.accounts)
    actor = Actor(user, Scope.WRITE)
    now = dt.datetime.now(dt.UTC)
    print(
        f"database: {connection.vendor}; accounts: {args.accounts:,}; stored events before: {UsageEvent.objects.count():,}"
    )

    batches = [make_batch(args.batch_size, args.accounts, now, s) for s in range(args.service_batches)]
    started = time.perf_counter()
    accepted = 0
    for batch in batches:
        result = events_ingest(actor=actor, messages=batch)
        assert not result.errors, result.errors[:3]
        accepted += result.accepted
    seconds = time.perf_counter() - started
    service_rate = accepted / seconds
    print(f"service: {accepted:,} events in {seconds:.2f} s = {service_rate:,.0f} events/s")

    client = Client(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode())
    bodies = [
        json.dumps({"batch": make_batch(args.batch_size, args.accounts, now, 500 + s)})
        for s in range(args.http_batches)
    ]
    started = time.perf_counter()
    accepted = 0
    for body in bodies:
        response = client.post("/api/v1/ingest/v1/batch", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        accepted += response.json()["accepted"]
    seconds = time.perf_counter() - started
    http_rate = accepted / seconds
    print(f"http:    {accepted:,} events in {seconds:.2f} s = {http_rate:,.0f} events/s")

    started = time.perf_counter()
    result = events_ingest(actor=actor, messages=batches[0])
    seconds = time.perf_counter() - started
    print(f"replay:  {result.duplicates:,} duplicates of one batch in {seconds * 1000:.0f} ms")

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(count), 0) FROM signals_dailyusage WHERE account_id IS NOT NULL")
        rolled = cursor.fetchone()[0]
    stored = UsageEvent.objects.filter(kind="track", account__isnull=False).count()
    print(
        f"check:   {stored:,} matched track events stored, {rolled:,} counted in {DailyUsage.objects.count():,} rollup rows"
    )
    ok = rolled == stored and min(service_rate, http_rate) >= TARGET
    print(f"target ≥ {TARGET:,} events/s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
