"""Benchmark: the Summary tab (the frame page and each of its cards) at 100k companies and 1M
tasks and meetings, for a CSM and for a manager of six CSMs (their team's scope), on the server.

Each case is one GET through Django's test client (force_login), timed beside what the card shows
written by hand in SQL, view and SQL interleaved in one loop so that the machine's noise hits both:

    page       `/`: the frame (scope bar, View as list, the cards' places)
    alerts     the active alerts of the book (or the team's), newest first, page 1 of 10, capped count
    tasks      due today / overdue / due tomorrow: the three counts and the first five of each
    views      every default Customers view: its capped count and first five rows
    schedule   today's tasks and meetings in the viewer's zone
    health     count, average, share per status, distribution and the 90-day line of the book
    reports    the card's empty state (no SQL to compare with)

Before timing it checks that the view and the SQL show the same ids and counts, and records the
queries of one request. On top of the shared 100k-company database (bench/README.md) it adds, once:
tasks and meetings for the manager and their six CSMs until the two tables hold 1M rows, a book for
the sixth CSM (the demo's read-only CSM has none), and four default Customers views.

Usage (from the repository root):

    .venv/bin/python bench/summary_bench.py                      # SQLite, var/bench.sqlite3
    .venv/bin/python bench/summary_bench.py --database-url postgres://postgres@127.0.0.1:5432/tend_bench
    .venv/bin/python bench/summary_bench.py --cases csm-tasks,team-health --explain
"""

import argparse
import datetime as dt
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

try:
    from bench.filter_bench import DEFAULT_URL, ensure_data, percentile, setup
    from bench.workspace_bench import (
        BREAKDOWN_REQUESTS,
        CAP,
        _short,
        capped,
        captured_get,
        getter,
        interleaved,
        key_sql,
        where_time_goes,
    )
except ImportError:  # run as a script: bench/ is on sys.path, the repository root not yet
    from filter_bench import DEFAULT_URL, ensure_data, percentile, setup
    from workspace_bench import (
        BREAKDOWN_REQUESTS,
        CAP,
        _short,
        capped,
        captured_get,
        getter,
        interleaved,
        key_sql,
        where_time_goes,
    )

TARGET_P95_MS = 50.0
TEAM_SIZE = 6  # CSMs reporting to the manager, each with a book
ENGAGEMENTS = 1_000_000  # tasks + meetings, in total
TASK_SHARE = 0.7
HISTORY_DAYS = 12 * 365  # completed tasks and held meetings go this far back
PREFIX = "Bench summary"
CHUNK = 20_000
MIN_ALERTS = 30
CARDS = ("alerts", "tasks", "views", "schedule", "health", "reports")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEND_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--csm", default="yuki@demo.tend", help="the CSM of the csm-* cases")
    parser.add_argument("--manager", default="manager@demo.tend", help="the manager of the team-* cases")
    parser.add_argument("--cases", default="", help="comma-separated prefixes of case keys, e.g. 'csm-tasks,team'")
    parser.add_argument("--explain", action="store_true", help="print the query plans of each case")
    return parser.parse_args(argv)


# ---- the default Customers views the bench adds -------------------------------------------------


def _is_me(csm: str) -> dict:
    return {"propertyName": csm, "operator": "IS_ME"}


def view_specs(csm: str) -> list[dict]:
    """Four default views as an admin would set them up: three of the viewer's book, one of
    everyone's accounts (so that a manager without a book of their own has a card with work)."""
    return [
        {
            "name": "My renewals in 90 days",
            "description": "My accounts renewing in the next 90 days, soonest first.",
            "filters": [_is_me(csm), {"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": 90}],
            "sorts": [("renewal_date", "ASCENDING")],
            "columns": ["name", "renewal_date", "mrr"],
        },
        {
            "name": "At risk",
            "description": "My at-risk accounts, largest first.",
            "filters": [_is_me(csm), {"propertyName": "cs_stage", "operator": "EQ", "value": "at_risk"}],
            "sorts": [("mrr", "DESCENDING")],
            "columns": ["name", "mrr", "renewal_date"],
        },
        {
            "name": "My largest accounts",
            "description": "My book by MRR.",
            "filters": [_is_me(csm)],
            "sorts": [("mrr", "DESCENDING")],
            "columns": ["name", "mrr", "cs_stage"],
        },
        {
            "name": "Onboarding (everyone)",
            "description": "Every account in onboarding, by renewal date.",
            "filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "onboarding"}],
            "sorts": [("renewal_date", "ASCENDING")],
            "columns": ["name", "csm", "renewal_date"],
        },
    ]


# ---- data -----------------------------------------------------------------------------------


def ensure_team(manager, csm_user, ws) -> list[int]:
    """TEAM_SIZE CSMs reporting to `manager`, each with a book. The demo's six CSMs all report to
    the manager, but its read-only CSM owns no account: give them every fifth company of the other
    books (not `csm_user`'s, so that the other benches' figures for that CSM keep their book)."""
    from django.db import connection, transaction

    from tend.crm.models import Record
    from tend.demo.team import DEMO_USERS
    from tend.directory.models import User
    from tend.directory.queries import report_ids

    csm_emails = [u.email for u in DEMO_USERS if u.role == "csm"]
    outside = User.objects.filter(email__in=csm_emails).exclude(manager=manager)
    if outside.exists() and len(report_ids(manager)) < TEAM_SIZE:
        moved = outside.update(manager=manager)
        print(f"data: {moved} demo CSMs now report to {manager.email}")
    members = User.objects.filter(pk__in=report_ids(manager)).order_by("pk")
    companies = Record.objects.filter(object_type=ws.customer_object_type, archived_at__isnull=True)
    books = {m.pk: companies.filter(**{f"properties__{ws.customer_csm_property}": m.pk}).count() for m in members}
    without = [pk for pk, n in books.items() if n == 0]
    with_book = [pk for pk, n in books.items() if n and pk != csm_user.pk]
    if len(books) - len(without) < TEAM_SIZE and without and with_book:
        print(f"data: giving {len(without)} CSM(s) without a book every fifth company of {len(with_book)} others…")
        key = key_sql(connection.vendor, ws.customer_csm_property)
        if connection.vendor == "sqlite":
            marks, values = ", ".join(["%s"] * len(with_book)), list(with_book)
            new = f"json_set(properties, '$.\"{ws.customer_csm_property}\"', %s)"
        else:
            marks, values = ", ".join(["%s::jsonb"] * len(with_book)), [json.dumps(v) for v in with_book]
            new = f"jsonb_set(properties, '{{{ws.customer_csm_property}}}', to_jsonb(%s::int))"
        with transaction.atomic(), connection.cursor() as cursor:
            for i, pk in enumerate(without):
                cursor.execute(
                    f"UPDATE crm_record SET owner_id = %s, properties = {new} WHERE object_type_id = %s "
                    f"AND archived_at IS NULL AND id %% %s = %s AND {key} IN ({marks})",
                    [pk, pk, ws.customer_object_type_id, 5 * len(without), 5 * i, *values],
                )
                print(f"data: {cursor.rowcount:,} companies now in the book of user {pk}")
        analyze(connection, ["crm_record"])
    return [m.pk for m in members]


def ensure_engagements(users, books: dict[int, list[int]], zones: dict) -> None:
    """Tasks and meetings for `users` until the two tables hold ENGAGEMENTS rows, once
    (recognised by their subject): for each user a few open tasks due today, tomorrow and in the
    past days (around midnight too), open tasks over the next year, completed tasks and held
    meetings over the last twelve years, meetings over the next 90 days, today's meetings (one
    since yesterday, one into tomorrow) and some where they are only an attendee. Written
    set-based (COPY on PostgreSQL), each linked to a company of the user's book."""
    from django.db import connection, transaction

    from tend.core import bulk, clock
    from tend.engagement.models import Meeting, MeetingAttendee, Task

    if Task.objects.filter(subject__startswith=PREFIX).exists():
        return
    have = Task.objects.count() + Meeting.objects.count()
    need = ENGAGEMENTS - have
    if need <= 0:
        return
    per_user = need // len(users) + 1
    print(f"data: {have:,} tasks and meetings; adding {per_user * len(users):,} for {len(users)} users…")
    rng = random.Random(17)
    now = clock.now()
    task_cols = [
        "id",
        "subject",
        "notes",
        "type",
        "priority",
        "status",
        "due_at",
        "assignee_id",
        "completed_at",
        "created_at",
        "updated_at",
        "archived_at",
    ]
    meeting_cols = [
        "id",
        "title",
        "notes",
        "start_at",
        "end_at",
        "location",
        "meeting_url",
        "attendees",
        "outcome",
        "owner_id",
        "created_at",
        "updated_at",
        "archived_at",
    ]

    def write(model, cols, rows, links):
        table = model._meta.db_table
        through = model.records.through
        fk = f"{model._meta.model_name}_id"
        with transaction.atomic():
            ids = bulk.reserve_ids(table, len(rows))
            bulk.copy_rows(table, cols, [(pk, *row) for pk, row in zip(ids, rows, strict=True)])
            bulk.copy_rows(through._meta.db_table, [fk, "record_id"], list(zip(ids, links, strict=True)))
            if model is Meeting:  # the attendee rows the engagement services write with a meeting
                at = cols.index("attendees") - 1
                attendees = [(pk, e) for pk, row in zip(ids, rows, strict=True) for e in json.loads(row[at])]
                bulk.copy_rows(MeetingAttendee._meta.db_table, ["meeting_id", "email"], attendees)

    for user in users:
        others = [u.pk for u in users if u.pk != user.pk]
        n_tasks = int(per_user * TASK_SHARE)
        tasks, meetings = plan_engagements(
            user, zones[user.pk], now, rng, n_tasks=n_tasks, n_meetings=per_user - n_tasks, others=others
        )
        book = books[user.pk]
        for start in range(0, len(tasks), CHUNK):
            rows = tasks[start : start + CHUNK]
            write(Task, task_cols, rows, [rng.choice(book) for _ in rows])
        for start in range(0, len(meetings), CHUNK):
            rows = meetings[start : start + CHUNK]
            write(Meeting, meeting_cols, rows, [rng.choice(book) for _ in rows])
        print(f"data: {len(tasks):,} tasks and {len(meetings):,} meetings for {user.email}", flush=True)
    tables = [t for m in (Task, Meeting) for t in (m._meta.db_table, m.records.through._meta.db_table)]
    analyze(connection, [*tables, MeetingAttendee._meta.db_table])


def plan_engagements(user, tz, now, rng, *, n_tasks: int, n_meetings: int, others: list[int]):
    """One user's bench tasks and meetings, as rows of ensure_engagements' columns (without id)."""
    from tend.core import bulk, clock

    d = bulk.db_datetime
    open_statuses = ["not_started", "in_progress", "waiting", "deferred"]
    email = user.email.lower()
    today = now.astimezone(tz).date()
    tasks: list[tuple] = []
    meetings: list[tuple] = []

    def local(day: dt.date, minute: int) -> dt.datetime:
        return clock.start_of_day(day, tz) + dt.timedelta(minutes=minute)

    def task(due: dt.datetime | None, status: str):
        done = status == "completed"
        created = (due or now) - dt.timedelta(days=rng.randint(1, 20))
        archived = d(due) if done and due is not None and rng.random() < 0.01 else None
        tasks.append(
            (
                f"{PREFIX} task {len(tasks):06} for a customer",
                "",
                rng.choice(("todo", "call", "email")),
                rng.choice(("none", "low", "medium", "high")),
                status,
                None if due is None else d(due),
                user.pk,
                d(due) if done else None,
                d(created),
                d(due if done else created),
                archived,
            )
        )

    def meeting(start: dt.datetime, minutes: int, owner: int, attendees: list[str]):
        outcome = "scheduled" if start > now else ("no_show" if rng.random() < 0.1 else "attended")
        meetings.append(
            (
                f"{PREFIX} meeting {len(meetings):06}",
                "",
                d(start),
                d(start + dt.timedelta(minutes=minutes)),
                "",
                "https://meet.example/bench",
                json.dumps(attendees),
                outcome,
                owner,
                d(start - dt.timedelta(days=3)),
                d(min(start, now)),
                None,
            )
        )

    # Around today, in the user's zone: due today (just after midnight to just before the next
    # one), tomorrow, and overdue from yesterday evening back half a year.
    for minute in (5, 450, 540, 570, 600, 660, 780, 870, 960, 1050, 1200, 1435):
        task(local(today, minute), rng.choice(open_statuses))
    for minute in (5, 480, 540, 600, 660, 780, 840, 900, 960, 1435):
        task(local(today + dt.timedelta(days=1), minute), rng.choice(open_statuses))
    task(local(today - dt.timedelta(days=1), 1435), "not_started")
    for _ in range(400):
        task(now - dt.timedelta(minutes=rng.randint(1440, 180 * 1440)), rng.choice(open_statuses))
    for _ in range(4000):
        task(local(today + dt.timedelta(days=rng.randint(2, 365)), rng.randint(7, 19) * 60), rng.choice(open_statuses))
    for _ in range(100):
        task(None, rng.choice(open_statuses))
    while len(tasks) < n_tasks:
        task(now - dt.timedelta(minutes=rng.randint(1440, HISTORY_DAYS * 1440)), "completed")
    # Today's meetings: one since yesterday evening, the day's, one into tomorrow, and two of
    # another user's with this user among the attendees.
    guest = "someone@customer.example"
    meeting(local(today, -30), 60, user.pk, [guest])
    for minute in (540, 660, 870, 960):
        meeting(local(today, minute), 45, user.pk, [guest])
    meeting(local(today, 1410), 60, user.pk, [guest])
    for minute in (600, 900):
        meeting(local(today, minute), 30, rng.choice(others), [email, guest])
    while len(meetings) < n_meetings:
        start = local(today + dt.timedelta(days=rng.randint(-HISTORY_DAYS, 90)), rng.randint(16, 38) * 30)
        if rng.random() < 0.03:  # another user's meeting with this one invited
            meeting(start, rng.choice((30, 45, 60)), rng.choice(others), [email, guest])
        else:
            meeting(start, rng.choice((30, 45, 60)), user.pk, [guest])
    return tasks, meetings


def ensure_alerts(user_ids: list[int], alerts_of: Callable[[list[int]], int]) -> None:
    """At least MIN_ALERTS active alerts for each user (the demo's recompute raises many more at
    100k companies): copies of existing alerts on other accounts of their book."""
    from django.db import transaction

    from tend.core import clock
    from tend.health.models import HealthAlert

    now = clock.now()
    for pk in user_ids:
        have = alerts_of([pk])
        if have >= MIN_ALERTS:
            continue
        models = list(HealthAlert.objects.order_by("id")[:MIN_ALERTS])
        if not models:
            raise SystemExit("no health alerts to copy: run the demo's recompute first")
        from tend.crm.models import Record

        records = list(Record.objects.filter(owner_id=pk).values_list("pk", flat=True)[: MIN_ALERTS * 2])
        with transaction.atomic():
            HealthAlert.objects.bulk_create(
                [
                    HealthAlert(
                        record_id=records[i % len(records)],
                        profile_id=a.profile_id,
                        kind=a.kind,
                        signal=a.signal,
                        priority=a.priority,
                        title=a.title,
                        evidence=a.evidence,
                        user_id=pk,
                        raised_at=now - dt.timedelta(hours=i * 7),
                        expires_at=now + dt.timedelta(days=14, hours=-i * 7),
                    )
                    for i, a in enumerate(models * 2)
                ]
            )
        print(f"data: {MIN_ALERTS * 2} alerts for user {pk} ({have} before)")


def ensure_views(manager, ws) -> None:
    """The four default Customers views of `view_specs`, shared with everyone, made by the manager
    (who may manage Customer Success settings) through the services, once."""
    from tend.core.policy import Actor
    from tend.workspace import services
    from tend.workspace.models import SavedView

    specs = view_specs(ws.customer_csm_property)
    actor = Actor(manager)
    names = {spec["name"] for spec in specs}
    defaults = SavedView.objects.filter(tab="customers", is_default=True)
    # The demo's own default views (tend/demo/saved_views.py) make way for the bench's, whose SQL
    # the bench writes by hand.
    for view in defaults.exclude(name__in=names):
        services.view_set_default(actor=actor, view=view, is_default=False)
        print(f"data: {view.name!r} is no longer a default view")
    existing = set(defaults.filter(name__in=names).values_list("name", flat=True))
    stray = SavedView.objects.filter(tab="customers", name__in=names - existing)
    for spec in specs:
        if spec["name"] in existing:
            continue
        view = stray.filter(name=spec["name"]).first() or services.view_create(
            actor=actor,
            tab="customers",
            object_type=ws.customer_object_type,
            name=spec["name"],
            filters={"filterGroups": [{"filters": spec["filters"]}]},
            columns=spec["columns"],
            sorts=[{"propertyName": p, "direction": d} for p, d in spec["sorts"]],
            visibility="everyone",
        )
        services.view_set_default(actor=actor, view=view, is_default=True, description=spec["description"])
        print(f"data: default Customers view {spec['name']!r}")


def analyze(connection, tables: list[str]) -> None:
    """The statistics of the tables just written (the whole database's ANALYZE reads ~80M rows)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def settle(connection) -> None:
    """What autovacuum would have done by now on a server (it is off on the bench machine)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in (
                "crm_record",
                "engagement_task",
                "engagement_task_records",
                "engagement_meeting",
                "engagement_meeting_records",
                "engagement_meetingattendee",
                "health_healthscore",
                "health_healthalert",
                "health_bookscoreday",
                "directory_user",
                "workspace_savedview",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")


# ---- the hand-written SQL -------------------------------------------------------------------


@dataclass
class Ctx:
    vendor: str
    object_type_id: int
    csm: str
    user: object  # the viewed user
    user_ids: list[int]  # whose work: [the user] or the team (the manager first)
    team: bool
    tz: object
    now: dt.datetime

    def j(self, value):  # a value compared with a JSON key: jsonb on PostgreSQL, itself on SQLite
        return json.dumps(value) if self.vendor != "sqlite" else value

    @property
    def cast(self) -> str:
        return "::jsonb" if self.vendor != "sqlite" else ""

    def when(self, value: dt.datetime):
        if self.vendor == "sqlite":  # Django stores SQLite datetimes as naive UTC text
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return value

    def ids_in(self, column: str, *, json_key: bool = False) -> tuple[str, list]:
        cast = self.cast if json_key else ""
        values = [self.j(v) for v in self.user_ids] if json_key else list(self.user_ids)
        if len(values) == 1:
            return f"{column} = %s{cast}", values
        return f"{column} IN ({', '.join([f'%s{cast}'] * len(values))})", values

    def book(self, table: str = "crm_record") -> tuple[str, list]:
        """Records the users own or are the CSM of (health.queries._book_q)."""
        owner, p1 = self.ids_in(f"{table}.owner_id")
        csm, p2 = self.ids_in(key_sql(self.vendor, self.csm, table), json_key=True)
        return f"({owner} OR {csm})", p1 + p2

    def day(self, offset: int) -> tuple[dt.datetime, dt.datetime]:
        from tend.core import clock

        day = self.now.astimezone(self.tz).date() + dt.timedelta(days=offset)
        return clock.start_of_day(day, self.tz), clock.start_of_day(day + dt.timedelta(days=1), self.tz)


class Sql:
    """What a card shows, as a person would write it: `run` executes the queries and returns the
    same shape as `shown` of the view's context."""

    def __init__(self, run: Callable):
        self._run = run
        self.queries: list[tuple[str, list]] = []  # of the last run, for --explain

    def run(self, connection):
        self.queries = []
        with connection.cursor() as cursor:

            def q(sql: str, params: list | None = None) -> list:
                self.queries.append((sql, params or []))
                cursor.execute(sql, params or [])
                return cursor.fetchall()

            return self._run(q)


def page_sql(ctx: Ctx) -> Sql:
    def run(q):
        reports = q("SELECT id, manager_id FROM directory_user WHERE is_active AND manager_id IS NOT NULL")
        children: dict = {}
        for pk, manager_id in reports:
            children.setdefault(manager_id, []).append(pk)
        seen, queue, team = {ctx.user.pk}, [ctx.user.pk], []
        while queue:
            for child in children.get(queue.pop(0), ()):
                if child not in seen:
                    seen.add(child)
                    team.append(child)
                    queue.append(child)
        members = []
        if team:
            marks = ", ".join(["%s"] * len(team))
            members = [ctx.user.pk] + [
                r[0] for r in q(f"SELECT id FROM directory_user WHERE id IN ({marks}) ORDER BY full_name, email", team)
            ]
        view_as = []
        if ctx.team:  # the manager may View as
            view_as = [
                r[0]
                for r in q(
                    "SELECT id, full_name, email FROM directory_user WHERE is_active AND cs_workspace_access "
                    "ORDER BY full_name, email"
                )
            ]
        return {"team": members, "view_as": view_as}

    return Sql(run)


def alerts_sql(ctx: Ctx) -> Sql:
    """Over the alerts' copies of whose book the record is in (health.books): three index ranges."""
    from tend.summary.views import ALERTS_CAP, ALERTS_PER_PAGE

    def run(q):
        seen, sp = [], []
        for column in ("a.user_id", "a.book_owner_id", "a.book_csm_id"):
            term, params = ctx.ids_in(column)
            seen.append(term)
            sp += params
        live = "a.dismissed_at IS NULL AND a.record_live"  # the partial indexes' own condition
        where = f"{live} AND a.expires_at > %s AND ({' OR '.join(seen)})"
        params = [ctx.when(ctx.now), *sp]
        # The page's ids from the newest-first index, then their rows (joined, the whole book is sorted).
        ids = [
            r[0]
            for r in q(
                f"SELECT a.id FROM health_healthalert a WHERE {where} "
                f"ORDER BY a.raised_at DESC, a.id DESC LIMIT {ALERTS_PER_PAGE}",
                params,
            )
        ]
        rows = []
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            found = {
                r[0]: r
                for r in q(
                    f"SELECT a.id, a.title, a.evidence, r.name, p.name FROM health_healthalert a "
                    f"JOIN crm_record r ON r.id = a.record_id LEFT JOIN health_scoreprofile p ON p.id = a.profile_id "
                    f"WHERE a.id IN ({marks})",
                    ids,
                )
            }
            rows = [found[i] for i in ids if i in found]
        # Each kind's capped count in one query; the card's total is their sum.
        kinds = ("status_change", "churn_signal")
        parts = [
            f"SELECT COUNT(*) FROM (SELECT 1 FROM health_healthalert a WHERE {where} AND a.kind = %s "
            f"LIMIT {ALERTS_CAP + 1}) capped"
            for _k in kinds
        ]
        sql = "SELECT " + ", ".join(f"({part})" for part in parts)
        counts = q(sql, [v for k in kinds for v in (*params, k)])[0]
        return {
            "ids": [r[0] for r in rows],
            "count": min(sum(counts), ALERTS_CAP + 1),
            "kinds": {k: n for k, n in zip(kinds, counts, strict=True) if n},
        }

    return Sql(run)


def tasks_sql(ctx: Ctx) -> Sql:
    from tend.summary.queries import FIRST_TASKS

    w = ctx.when
    today, tomorrow = ctx.day(0), ctx.day(1)
    open_ = "t.archived_at IS NULL AND NOT (t.status = 'completed')"  # the open-task index's own term
    groups = {
        "today": ("t.due_at >= %s AND t.due_at < %s", [w(today[0]), w(today[1])]),
        "overdue": ("t.due_at < %s", [w(ctx.now)]),
        "tomorrow": ("t.due_at >= %s AND t.due_at < %s", [w(tomorrow[0]), w(tomorrow[1])]),
    }

    def run(q):
        assignee, ap = ctx.ids_in("t.assignee_id")
        counts_sql = ", ".join(
            f"(SELECT COUNT(*) FROM engagement_task t WHERE {assignee} AND {open_} AND {c})"
            for c, _p in groups.values()
        )
        counts = q(f"SELECT {counts_sql}", [p for _c, ps in groups.values() for p in (*ap, *ps)])[0]
        shown = {}
        for (key, (condition, cparams)), count in zip(groups.items(), counts, strict=True):
            ids = []
            if count:
                ids = [
                    r[0]
                    for r in q(
                        f"SELECT t.id, t.subject, t.due_at, u.full_name FROM engagement_task t "
                        f"LEFT JOIN directory_user u ON u.id = t.assignee_id WHERE {assignee} AND {open_} AND "
                        f"{condition} ORDER BY t.due_at, t.id LIMIT {FIRST_TASKS}",
                        [*ap, *cparams],
                    )
                ]
            shown[key] = (count, ids)
        every = [pk for _count, ids in shown.values() for pk in ids]
        records: dict[int, list[int]] = {}
        if every:
            marks = ", ".join(["%s"] * len(every))
            for task_id, record_id, _name in q(
                f"SELECT tr.task_id, r.id, r.name FROM engagement_task_records tr JOIN crm_record r ON "
                f"r.id = tr.record_id WHERE tr.task_id IN ({marks}) AND r.archived_at IS NULL ORDER BY r.name, r.id",
                every,
            ):
                records.setdefault(task_id, []).append(record_id)
        return [(key, count, [(pk, records.get(pk, [])) for pk in ids]) for key, (count, ids) in shown.items()]

    return Sql(run)


def views_sql(ctx: Ctx) -> Sql:
    """Each default view: its page of FIRST_ROWS and capped count, as the Customers tab's SQL is
    written in workspace_bench (the expressions crm_record's indexes are declared on)."""
    from tend.summary.queries import FIRST_ROWS, MAX_VIEW_CARDS

    v, c = ctx.vendor, ctx.cast
    specs = {s["name"]: s for s in view_specs(ctx.csm)}

    def where_of(spec) -> tuple[str, list]:
        parts, params = ["crm_record.object_type_id = %s", "crm_record.archived_at IS NULL"], [ctx.object_type_id]
        for f in spec["filters"]:
            key = key_sql(v, f["propertyName"])
            if f["operator"] == "IS_ME":
                parts.append(f"{key} = %s{c}")
                params.append(ctx.j(ctx.user.pk))
            elif f["operator"] == "EQ":
                parts.append(f"{key} = %s{c}")
                params.append(ctx.j(f["value"]))
            elif f["operator"] == "IN_NEXT_DAYS":
                today = ctx.now.astimezone(ctx.tz).date()
                parts.append(f"{key} >= %s{c} AND {key} <= %s{c}")
                params += [ctx.j(today.isoformat()), ctx.j((today + dt.timedelta(days=f["value"])).isoformat())]
            else:
                raise ValueError(f["operator"])
        return " AND ".join(parts), params

    def run(q):
        views = q(
            "SELECT id, name FROM workspace_savedview WHERE tab = 'customers' AND is_default AND "
            "visibility = 'everyone' ORDER BY default_position, id LIMIT %s",
            [MAX_VIEW_CARDS],
        )
        q("SELECT id, full_name, email FROM directory_user")  # the user cells' names
        out = []
        for view_id, name in views:
            spec = specs[name]
            where, params = where_of(spec)
            order = ", ".join(
                f"{key_sql(v, p)} {'DESC' if d == 'DESCENDING' else 'ASC'} NULLS LAST" for p, d in spec["sorts"]
            )
            order = f"{order}, crm_record.id" if order else "crm_record.id"
            count = q(capped(f"crm_record WHERE {where}"), params)[0][0]
            ids = []
            if count:
                ids = [
                    r[0]
                    for r in q(
                        f"SELECT crm_record.* FROM crm_record WHERE {where} ORDER BY {order} LIMIT {FIRST_ROWS}", params
                    )
                ]
            out.append((view_id, min(count, CAP + 1), ids))
        return out

    return Sql(run)


def schedule_sql(ctx: Ctx) -> Sql:
    start, end = ctx.day(0)
    w = ctx.when

    def run(q):
        pk = ctx.user.pk
        tasks = q(
            "SELECT t.id, t.subject, t.due_at FROM engagement_task t WHERE t.archived_at IS NULL AND "
            "t.assignee_id = %s AND t.due_at >= %s AND t.due_at < %s ORDER BY t.due_at, t.id",
            [pk, w(start), w(end)],
        )
        # The owner's meetings and the invitations as a UNION: each an index range (an OR reads them all).
        window = "m.archived_at IS NULL AND m.start_at < %s AND m.end_at >= %s AND (m.end_at > %s OR m.start_at >= %s)"
        bounds = [w(end), w(start), w(start), w(start)]
        meetings = q(
            "SELECT m.id, m.title, m.start_at, m.end_at FROM engagement_meeting m WHERE m.id IN ("
            f"SELECT m.id FROM engagement_meeting m WHERE {window} AND m.owner_id = %s UNION "
            "SELECT m.id FROM engagement_meeting m JOIN engagement_meetingattendee a ON a.meeting_id = m.id "
            f"WHERE {window} AND a.email = %s) ORDER BY m.start_at, m.id",
            [*bounds, pk, *bounds, ctx.user.email.lower()],
        )
        records: dict[tuple[str, int], list[int]] = {}
        for kind, rows in (("task", tasks), ("meeting", meetings)):
            ids = [r[0] for r in rows]
            if ids:
                marks = ", ".join(["%s"] * len(ids))
                for owner_id, record_id in q(
                    f"SELECT x.{kind}_id, r.id FROM engagement_{kind}_records x JOIN crm_record r ON r.id = x.record_id "
                    f"WHERE x.{kind}_id IN ({marks}) AND r.archived_at IS NULL ORDER BY r.name, r.id",
                    ids,
                ):
                    records.setdefault((kind, owner_id), []).append(record_id)
        items = [("task", r[0], r[2]) for r in tasks] + [("meeting", r[0], r[2]) for r in meetings]
        return sorted((kind, pk_, records.get((kind, pk_), [])) for kind, pk_, _start in items)

    return Sql(run)


def health_sql(ctx: Ctx) -> Sql:
    from tend.health.queries import HISTORY_DAYS as LINE_DAYS

    def run(q):
        # The books' copies of the scores (health.models.BookScore): one grouped range of one index;
        # an account in two of a team's books counts once (on the row of the smaller user id).
        users, up = ctx.ids_in("b.user_id")
        shared, sp = ctx.ids_in("b.shared_with")
        once = (
            f" AND (b.shared_with IS NULL OR NOT ({shared} AND b.shared_with < b.user_id))"
            if len(ctx.user_ids) > 1
            else ""
        )
        groups = q(
            f"SELECT b.status, b.bucket, COUNT(*), SUM(b.score) FROM health_bookscore b WHERE {users}{once} "
            f"GROUP BY b.user_id, b.profile_id, b.status, b.bucket",
            [*up, *(sp if once else [])],
        )
        users, up = ctx.ids_in("user_id")
        line = q(
            f"SELECT at, total, count FROM health_bookscoreday WHERE {users} AND at >= %s AND count > 0 ORDER BY at",
            [*up, ctx.when(ctx.now - dt.timedelta(days=LINE_DAYS))],
        )
        alerts = q(
            f"SELECT COUNT(*) FROM health_healthalert WHERE expires_at > %s AND dismissed_at IS NULL AND {users}",
            [ctx.when(ctx.now), *up],
        )[0][0]
        counts: Counter = Counter()
        buckets = [0] * 10
        total = 0.0
        for status, b, n, s in groups:
            counts[status] += n
            buckets[min(max(int(b), 0), 9)] += n
            total += s
        n = sum(counts.values())
        days = set()
        for at, _total, _n in line:
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at)
            if at.tzinfo is None:  # SQLite: naive UTC
                at = at.replace(tzinfo=dt.UTC)
            days.add(at.astimezone(ctx.tz).date())
        if n:
            days.add(ctx.now.astimezone(ctx.tz).date())
        return {
            "count": n,
            "average": round(total / n, 1) if n else None,
            "statuses": dict(counts),
            "buckets": buckets,
            "days": len(days),
            "alerts": alerts,
        }

    return Sql(run)


def no_sql(ctx: Ctx) -> Sql:
    return Sql(lambda q: None)


# ---- what the view showed ---------------------------------------------------------------------


def shown(card: str, context):
    """The ids and counts a response rendered, in the shape of the card's Sql."""
    if card == "page":
        scope = context["scope"]
        return {
            "team": [m.pk for m in scope.team.members] if scope.team else [],
            "view_as": [u.pk for u in context.get("view_as_users") or []],
        }
    if card == "alerts":
        page = context["page"]
        kinds = {k: n for k, _label, n in context.get("kind_counts") or [] if n}
        return {"ids": [a.pk for a in context["alerts"]], "count": page.paginator.count, "kinds": kinds}
    if card == "tasks":
        return [(g.key, g.count, [(t.pk, [r.pk for r in t.records.all()]) for t in g.tasks]) for g in context["groups"]]
    if card == "views":
        return [(c.view_id, c.count + c.capped, [row["record"].pk for row in c.rows]) for c in context["view_cards"]]
    if card == "schedule":
        return sorted((i.kind, i.obj.pk, [r.pk for r in i.records]) for i in context["items"])
    if card == "health":
        data = context["summary"]
        return {
            "count": data["count"],
            "average": data["average"],
            "statuses": {s["key"]: s["count"] for s in data["statuses"]},
            "buckets": [b["count"] for b in data["distribution"]],
            "days": len(data["over_time"]),
            "alerts": data["alerts"],
        }
    return None


def describe(card: str, data) -> str:
    """A short account of what a card showed, for the table."""
    if data is None:
        return "empty state"
    if card == "page":
        return f"team {len(data['team'])}, View as {len(data['view_as'])}"
    if card == "alerts":
        kinds = ", ".join(f"{n:,} {k.split('_')[0]}" for k, n in sorted(data["kinds"].items()))
        from tend.summary.views import ALERTS_CAP

        shown = f"{data['count']:,}" if data["count"] <= ALERTS_CAP else f"{ALERTS_CAP:,}+"
        return f"{shown} active ({kinds})"
    if card == "tasks":
        return " / ".join(f"{count:,}" for _k, count, _t in data) + " (today/overdue/tomorrow)"
    if card == "views":
        return ", ".join(f"{CAP:,}+" if n > CAP else f"{n:,}" for _v, n, _ids in data)
    if card == "schedule":
        kinds = Counter(kind for kind, _pk, _r in data)
        return f"{kinds['task']} tasks, {kinds['meeting']} meetings"
    if card == "health":
        return f"{data['count']:,} scored, {data['days']} days"
    return ""


# ---- the cases ------------------------------------------------------------------------------


SQL_OF = {
    "page": page_sql,
    "alerts": alerts_sql,
    "tasks": tasks_sql,
    "views": views_sql,
    "schedule": schedule_sql,
    "health": health_sql,
    "reports": no_sql,
}


@dataclass
class Case:
    key: str
    who: str  # "csm" | "team"
    card: str
    path: str
    params: dict
    result: dict = field(default_factory=dict)


def all_cases() -> list[Case]:
    cases = []
    for who in ("csm", "team"):
        cases.append(Case(f"{who}-page", who, "page", "/", {}))
        for card in CARDS:
            cases.append(Case(f"{who}-{card}", who, card, f"/summary/cards/{card}/", {}))
    return cases


# ---- timing ---------------------------------------------------------------------------------


def run_case(args, client, connection, ctx: Ctx, case: Case) -> dict:
    sql = SQL_OF[case.card](ctx)
    response, queries = captured_get(client, connection, case.path, case.params)
    if response.status_code != 200:
        raise SystemExit(f"({case.key}) {case.path} answered {response.status_code}: {response.content[:300]!r}")
    view_shows = shown(case.card, response.context)
    sql_shows = sql.run(connection)
    if view_shows != sql_shows:
        raise SystemExit(f"({case.key}) the view and the SQL disagree:\n  view {view_shows}\n  SQL  {sql_shows}")

    view = getter(client, case.key, case.path, case.params)
    view_ms, sql_ms = interleaved(view, lambda: sql.run(connection), args.iterations, args.warmup)
    medians = where_time_goes(view, connection)
    return {
        "shows": describe(case.card, view_shows),
        "queries": queries,
        "view": (percentile(view_ms, 50), percentile(view_ms, 95)),
        "sql": (percentile(sql_ms, 50), percentile(sql_ms, 95)),
        "sql_queries": len(sql.queries),
        "breakdown": medians,
        "hand_sql": list(sql.queries),
    }


def report(args, connection, cases: list[Case]) -> None:
    print(
        f"\n{'case':<16}{'shows':<40}{'queries':>8}{'view p50':>10}{'p95':>8}{'SQL p50':>9}{'p95':>7}"
        f"{'ratio p50':>10}{'p95':>6}  budget"
    )
    for case in cases:
        r = case.result
        (v50, v95), (s50, s95) = r["view"], r["sql"]
        verdict = "met" if v95 <= TARGET_P95_MS else f"MISSED by {v95 - TARGET_P95_MS:.1f}"
        ratios = f"{v50 / s50:>10.1f}{v95 / s95:>6.1f}" if r["sql_queries"] else f"{'—':>10}{'—':>6}"
        print(
            f"{case.key:<16}{r['shows'][:39]:<40}{len(r['queries']):>8}{v50:>10.2f}{v95:>8.2f}{s50:>9.2f}{s95:>7.2f}"
            f"{ratios}  {verdict}"
        )
    print("(view: GET through the test client, no network; SQL: what the card shows, written by hand)")
    print(f"\nWhere a request's time goes (ms, median of {BREAKDOWN_REQUESTS} instrumented requests):")
    print(f"{'case':<16}{'request':>9}{'SQL':>8}{'template':>10}{'rest':>8}")
    for case in cases:
        total, sql, template, rest = case.result["breakdown"]
        print(f"{case.key:<16}{total:>9.2f}{sql:>8.2f}{template:>10.2f}{rest:>8.2f}")
    print("(SQL: every query of the request; template: rendering net of SQL; rest: middleware, view code)")
    print("\nQueries per request:")
    for case in cases:
        qs = case.result["queries"]
        print(f"  {case.key}: {len(qs)} — " + " · ".join(_short(q["sql"]) for q in qs))
    if args.explain:
        explain(connection, cases)


HEAVY_TABLES = (
    '"crm_record"',
    '"engagement_task"',
    '"engagement_meeting"',
    '"health_healthalert"',
    '"health_healthscore"',
    '"health_bookscoreday"',
)


def explain(connection, cases: list[Case]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "

    def plan(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
        return "\n".join(f"    {row[-1] if connection.vendor == 'sqlite' else row[0]}" for row in rows)

    for case in cases:
        print(f"\n---- {case.key} ----")
        for query in case.result["queries"]:
            if any(t in query["sql"] for t in HEAVY_TABLES):
                print(f"  view: {query['sql']}\n{plan(query['sql'])}")
        for sql, params in case.result["hand_sql"]:
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
    from tend.directory.queries import team_ids
    from tend.engagement.models import Meeting, Task
    from tend.health.models import HealthAlert
    from tend.health.queries import book_alerts
    from tend.workspace import indexes

    ensure_data(args)
    csm = User.objects.get(email=args.csm)
    manager = User.objects.get(email=args.manager)
    clients = {}
    try:
        for who, user in (("csm", csm), ("team", manager)):
            clients[who] = Client(SERVER_NAME="localhost")
            clients[who].force_login(user)
        first = clients["csm"].get("/customers/")  # creates the workspace settings row on a fresh database
        if first.status_code != 200:
            raise SystemExit(f"/customers/ answered {first.status_code}: {first.content[:500]!r}")
        ws = workspace_settings()
        created, _dropped = indexes.sync_book_indexes()
        if created:
            print(f"built the book indexes for {ws.customer_csm_property!r}: {', '.join(created)}")
        members = ensure_team(manager, csm, ws)
        team = team_ids(manager)
        users = list(User.objects.filter(pk__in=team).order_by("pk"))
        companies = Record.objects.filter(object_type=ws.customer_object_type, archived_at__isnull=True)
        every = list(companies.values_list("pk", flat=True)[:5000])
        books = {u.pk: list(companies.filter(owner=u).values_list("pk", flat=True)[:2000]) or every for u in users}
        ensure_engagements(users, books, {u.pk: clock.user_zone(u) for u in users})
        ensure_alerts([csm.pk, *members], lambda ids: book_alerts(User.objects.get(pk=ids[0])).count())
        ensure_views(manager, ws)
        created, _dropped = indexes.sync_view_indexes()  # what the views' background task would have done
        if created:
            print(f"built the default views' indexes: {', '.join(created)}")
        settle(connection)
        now = clock.now()
        ctxs = {
            who: Ctx(
                connection.vendor,
                ws.customer_object_type_id,
                ws.customer_csm_property,
                user,
                ids,
                who == "team",
                clock.user_zone(user),
                now,
            )
            for who, user, ids in (("csm", csm, [csm.pk]), ("team", manager, team))
        }
        books_with = sum(1 for m in members if companies.filter(owner_id=m).exists())
        print(
            f"\n{connection.vendor} · {companies.count():,} companies · {Task.objects.count():,} tasks + "
            f"{Meeting.objects.count():,} meetings · {HealthAlert.objects.active(now).count():,} active alerts · "
            f"csm-*: {csm.email} ({ctxs['csm'].tz.key}) · team-*: {manager.email} ({ctxs['team'].tz.key}), team of "
            f"{len(members)} ({books_with} with a book) · {args.iterations} iterations after {args.warmup} warm-up, "
            f"view and SQL interleaved"
        )
        wanted = [p for p in args.cases.split(",") if p]
        cases = [c for c in all_cases() if not wanted or any(c.key.startswith(p) for p in wanted)]
        for case in cases:
            clock_now = clock.now()
            ctx = ctxs[case.who]
            ctx.now = clock_now
            case.result = run_case(args, clients[case.who], connection, ctx, case)
            r = case.result
            print(f"  {case.key:<16} view p95 {r['view'][1]:6.2f} ms · SQL p95 {r['sql'][1]:6.2f} ms", flush=True)
        report(args, connection, cases)
    finally:
        for client in clients.values():
            client.logout()  # deletes the benchmark's session row
    return 0


if __name__ == "__main__":
    sys.exit(main())
