"""Benchmark: bulk ingestion of Segment track events — through the service, through HTTP in-process,
and through the real server (gunicorn, as `tend serve` runs it) with concurrent senders.

Two traffic shapes, each in batches of 1,000 track events naming their account by
context.groupId = the company domain (2,000 accounts with 20 product users each):

* live — a day of product traffic: sessions of 5–40 events a few seconds to a minute apart, each
  session one user of one account, sessions overlapping through the day, batches cut from the
  merged stream in time order (as a Segment destination forwards them);
* spread — the worst case for the rollups: every event of a batch from another account, user and
  hour, so that nearly every event creates its own active-user, event-user and rollup rows.

Paths, for each shape:

* service — `tend.usage.ingest.store.events_ingest`, one batch after the other;
* http — `POST /api/v1/ingest/v1/batch` through Django's test client (Segment's Basic auth);
* server — the same POST over real HTTP to gunicorn (`--server-workers`, 2 as `tend serve`) from
  `--senders` concurrent connections: what a Segment or RudderStack destination sending in
  parallel gets.

Then one batch is replayed (all duplicates) and the rollups are checked: every stored matched
track event counted once, and each rollup's users equal to the distinct users of its events.

Usage (from the repository root):

    .venv/bin/python bench/ingest_bench.py                         # SQLite, var/ingest_bench.sqlite3
    .venv/bin/python bench/ingest_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_ingest_bench

Budget (ARCHITECTURE.md, issue 6): bulk event ingestion sustains ≥ 20k events/s.
"""

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'var' / 'ingest_bench.sqlite3'}"
TARGET = 20_000
USERS_PER_ACCOUNT = 20
EVENTS = ("Logged In", "Report Created", "Dashboard Viewed", "Export Run", "Integration Connected",
          "Invite Sent", "Alert Configured", "Comment Added", "Search Run", "Settings Changed")  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--traffic", choices=("live", "spread", "both"), default="both")
    parser.add_argument("--service-batches", type=int, default=60, help="batches via the service")
    parser.add_argument("--http-batches", type=int, default=30, help="batches via the in-process test client")
    parser.add_argument("--server-batches", type=int, default=120, help="batches via gunicorn (0 = skip)")
    parser.add_argument("--senders", type=int, default=4, help="concurrent connections to the server")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn worker processes")
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


def _event(account: int, user: int, name: str, at: dt.datetime, n: int) -> dict:
    return {
        "type": "track",
        "messageId": str(uuid.uuid4()),
        "event": name,
        "userId": f"user-{account}-{user}",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "context": {"groupId": f"bench-{account:06}.example"},
        "properties": {"plan": "growth", "n": n % 100},
    }


def spread_batches(count: int, size: int, accounts: int, day: dt.datetime, seed: int) -> list[list[dict]]:
    """Every event of a batch from another account, user and moment (the rollups' worst case)."""
    out = []
    for b in range(count):
        batch = []
        for k in range(size):
            i = (seed * 1_000_003 + b * size + k) * 7919
            at = day + dt.timedelta(seconds=(b * size + k) * 37 % 86_000)
            batch.append(_event(i % accounts, i % USERS_PER_ACCOUNT, EVENTS[i % len(EVENTS)], at, i))
        out.append(batch)
    return out


def live_batches(count: int, size: int, accounts: int, day: dt.datetime, seed: int) -> list[list[dict]]:
    """A day of product traffic cut into batches in time order: overlapping sessions of 5–40
    events, each session one user of one account, a login first, then the account's features."""
    rng = random.Random(seed)
    events: list[tuple[float, int, int, str]] = []
    while len(events) < count * size:
        account = rng.randrange(accounts)
        user = rng.randrange(USERS_PER_ACCOUNT)
        features = EVENTS[1 + account % 3 : 1 + account % 3 + 6]
        at = rng.uniform(0, 80_000)
        for n in range(rng.randint(5, 40)):
            events.append((at, account, user, EVENTS[0] if n == 0 else rng.choice(features)))
            at += rng.uniform(3, 60)
    events = sorted(events[: count * size])
    return [
        [
            _event(a, u, name, day + dt.timedelta(seconds=at), int(at))
            for at, a, u, name in events[b * size : (b + 1) * size]
        ]
        for b in range(count)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, port: int) -> subprocess.Popen:
    env = {**os.environ, "TEND_DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "tend.settings"}
    env["TEND_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tend.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.server_workers), "--timeout", "120", "--log-level", "warning"],
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


def post_concurrently(port: int, key: str, bodies: list[bytes], senders: int) -> tuple[int, float]:
    """POST the bodies from `senders` keep-alive connections; returns (accepted, seconds)."""
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    queue = list(reversed(bodies))
    lock = threading.Lock()
    accepted = [0]
    failures: list[str] = []

    def send():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            conn.request(
                "POST", "/api/v1/ingest/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth}
            )
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                failures.append(f"{response.status} {payload[:200]!r}")
                break
            with lock:
                accepted[0] += json.loads(payload)["accepted"]
        conn.close()

    # Warm up every worker (the first request of a gunicorn worker imports the URLconf and the API).
    warm = json.dumps({"batch": []}).encode()
    for _ in range(senders * 2):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request(
            "POST", "/api/v1/ingest/v1/batch", warm, {"Content-Type": "application/json", "Authorization": auth}
        )
        conn.getresponse().read()
        conn.close()
    threads = [threading.Thread(target=send) for _ in range(senders)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"server answered: {failures[0]}")
    return accepted[0], seconds


def settle() -> None:
    """Before each shape, the database as a running server keeps it. On PostgreSQL: what autovacuum
    does in the background (it is off on some machines, e.g. ours; without it each run's rollup
    updates leave dead rows — 340k after a few runs — that every later run reads through), then a
    CHECKPOINT, so that no checkpoint set off by the previous run falls inside a timed one. On
    SQLite: the WAL checkpointed."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
    tables = ("signals_usageevent", "signals_dailyusage", "signals_dailyactiveuser", "signals_dailyeventuser",
              "signals_usageidentity", "health_dirtyaccount")  # fmt: skip
    connection.ensure_connection()
    autocommit = connection.get_autocommit()
    connection.set_autocommit(True)  # VACUUM cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")
            cursor.execute("CHECKPOINT")
    finally:
        connection.set_autocommit(autocommit)


def run_shape(args, shape: str, actor, key: str, seed: int) -> dict:
    from django.db import close_old_connections
    from django.test import Client

    from tend.usage.ingest.store import events_ingest

    make = live_batches if shape == "live" else spread_batches
    day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1 + seed % 20)
    total = args.service_batches + args.http_batches + args.server_batches
    batches = make(total, args.batch_size, args.accounts, day, seed)
    rates = {}

    started = time.perf_counter()
    accepted = 0
    for batch in batches[: args.service_batches]:
        result = events_ingest(actor=actor, messages=batch)
        assert not result.errors, result.errors[:3]
        accepted += result.accepted
    rates["service"] = accepted / (time.perf_counter() - started)

    client = Client(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode())
    # Warm up as a running server is: the first request imports the URLconf and the API.
    client.post("/api/v1/ingest/v1/batch", json.dumps({"batch": []}), content_type="application/json")
    bodies = [
        json.dumps({"batch": b}) for b in batches[args.service_batches : args.service_batches + args.http_batches]
    ]
    started = time.perf_counter()
    accepted = 0
    for body in bodies:
        response = client.post("/api/v1/ingest/v1/batch", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        accepted += response.json()["accepted"]
    rates["http"] = accepted / (time.perf_counter() - started)

    if args.server_batches:
        close_old_connections()
        port = free_port()
        server = start_server(args, port)
        try:
            bodies = [json.dumps({"batch": b}).encode() for b in batches[-args.server_batches :]]
            accepted, seconds = post_concurrently(port, key, bodies, args.senders)
        finally:
            server.terminate()
            server.wait()
        rates["server"] = accepted / seconds

    started = time.perf_counter()
    replay = events_ingest(actor=actor, messages=batches[0])
    rates["replay_ms"] = (time.perf_counter() - started) * 1000
    assert replay.duplicates == len(batches[0]), replay.as_dict()
    return rates


def check_rollups() -> tuple[bool, str]:
    from django.db import connection

    from tend.usage.models import UsageEvent

    day = "(e.timestamp AT TIME ZONE 'UTC')::date" if connection.vendor == "postgresql" else "date(e.timestamp)"
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(count), 0), COUNT(*) FROM signals_dailyusage")
        rolled, rows = cursor.fetchone()
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT e.account_id, {day} AS day, e.event, COUNT(DISTINCT e.user_key) AS users "
            "FROM signals_usageevent e WHERE e.kind = 'track' AND e.account_id IS NOT NULL "
            f"GROUP BY e.account_id, {day}, e.event) x JOIN signals_dailyusage u ON u.account_id = x.account_id "
            "AND u.day = x.day AND u.event = x.event WHERE u.users <> x.users"
        )
        wrong_users = cursor.fetchone()[0]
    stored = UsageEvent.objects.filter(kind="track", account__isnull=False).count()
    ok = rolled == stored and wrong_users == 0
    return ok, (
        f"{stored:,} matched track events stored, {rolled:,} counted in {rows:,} rollup rows, "
        f"{wrong_users} rollups with wrong users"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection

    from tend.core.policy import Actor, Scope
    from tend.usage.models import UsageEvent

    user, key = ensure_data(args.accounts)
    actor = Actor(user, Scope.WRITE)
    print(
        f"database: {connection.vendor}; accounts: {args.accounts:,}; batches of {args.batch_size:,}; "
        f"stored events before: {UsageEvent.objects.count():,}"
    )
    shapes = ("live", "spread") if args.traffic == "both" else (args.traffic,)
    seed = int(time.time()) % 100_000
    results = {}
    for n, shape in enumerate(shapes):
        settle()
        results[shape] = run_shape(args, shape, actor, key, seed + n)
        r = results[shape]
        line = f"{shape:7} service {r['service']:8,.0f}/s   http {r['http']:8,.0f}/s"
        if "server" in r:
            line += f"   server ({args.server_workers} workers, {args.senders} senders) {r['server']:8,.0f}/s"
        print(line + f"   replay of {args.batch_size:,} duplicates {r['replay_ms']:.0f} ms", flush=True)
    ok, summary = check_rollups()
    print(f"check:  {summary}")
    sustained = min(r.get("server", r["http"]) for r in results.values())
    met = ok and sustained >= TARGET
    print(f"target ≥ {TARGET:,} events/s sustained (server path, every shape): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
