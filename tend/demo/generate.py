"""Build the demo workspace: users and teams, companies with their contacts, deals, tickets and
services, engagements, and property history.

Deterministic: one seed gives the same workspace (names, values, counts) every time, and every
date is relative to `tend.core.clock`, so a test that travels in time gets a workspace around its
"now". Tasks and meetings are placed in each CSM's own time zone: every CSM opens Tend to tasks
due today, overdue and tomorrow, and to meetings this week.

Large: rows are built in memory one chunk at a time and written in one transaction per chunk,
so memory stays flat at any size. Records, associations, history and engagement links go
through `_Writer` (one executemany per table and chunk), engagements through bulk_create. Both
skip `records_write` on purpose: it checks uniqueness with a query per record, right for user
input and far too slow here. Values are unique and valid by construction instead; records are
checked with the validator the services use (`values.clean_value`) and against their stage's
required properties before anything is written (every detailed record, a sample of the rest).
Users and teams are created through the directory services.
"""

import datetime as dt
import functools
import json
import math
import random
import re
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from tend.core import clock
from tend.crm import values
from tend.crm.models import Association, ChangeSource, ObjectType, Pipeline, PropertyChange, Record, Stage
from tend.crm.registry import registry_for
from tend.directory.models import Team, User
from tend.directory.services import team_create, user_create
from tend.engagement.models import Call, Email, Meeting, Note, Task
from tend.health import demo as health_demo
from tend.signals import demo as signals_demo

DEMO_PASSWORD = "tend-demo-2026"
DEFAULT_SEED = 2026
DEFAULT_COMPANIES = 500
CHUNK_SIZE = 5000
# Companies beyond this many get no contacts, deals, tickets, services or engagements of their
# own: a large workspace keeps its detailed part bounded (every n-th company is detailed).
DETAILED_LIMIT = 2000
# Per CSM, the detailed companies remembered for linking the daily schedule (bounded memory).
BOOK_SIZE = 40
UTC = dt.UTC
SIXTY_DAYS = dt.timedelta(days=60)


# --------------------------------------------------------------------------- the demo team


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role: str  # admin | manager | csm
    time_zone: str
    language: str
    seat: bool
    team: str | None = None
    regions: tuple[str, ...] = ()  # company regions this CSM mostly looks after

    @property
    def role_label(self) -> str:
        if self.role == "admin":
            return "super admin"
        if self.role == "manager":
            return "CS manager (manages CS settings)"
        return "CSM" if self.seat else "CSM without a Service seat (read-only)"


ENTERPRISE, GROWTH = "Enterprise CS", "Growth CS"
DEMO_USERS = (
    DemoUser("admin@demo.tend", "Avery Admin", "admin", "UTC", "en", True),
    DemoUser("manager@demo.tend", "Morgan Lee", "manager", "Europe/London", "en", True, ENTERPRISE),
    DemoUser("yuki@demo.tend", "Yuki Tanaka", "csm", "Asia/Tokyo", "ja", True, ENTERPRISE, ("ja",)),
    DemoUser("lena@demo.tend", "Lena Fischer", "csm", "Europe/Berlin", "de", True, ENTERPRISE, ("de",)),
    DemoUser("giulia@demo.tend", "Giulia Romano", "csm", "Europe/Rome", "it", True, ENTERPRISE, ("it",)),
    DemoUser("marcus@demo.tend", "Marcus Reed", "csm", "America/New_York", "en", True, GROWTH, ("us", "uk")),
    DemoUser("priya@demo.tend", "Priya Shah", "csm", "America/Los_Angeles", "en", True, GROWTH, ("us",)),
    DemoUser("sam@demo.tend", "Sam Carter", "csm", "America/Chicago", "en", False, GROWTH),
)
DEMO_TEAMS = (ENTERPRISE, GROWTH)


def demo_users():
    """The demo team's users that exist in this workspace."""
    return User.objects.filter(email__in=[u.email for u in DEMO_USERS])


# --------------------------------------------------------------------------- word lists

# fmt: off
REGIONS = {
    # region: (country, cities, company-name prefixes, legal suffix, phone prefix)
    "ja": ("Japan", ("Tokyo", "Osaka", "Yokohama", "Fukuoka"), ("Sakura", "Fuji", "Hikari", "Midori", "Sora", "Tsubasa", "Hoshi", "Kawa"), "K.K.", "+81 3-"),
    "de": ("Germany", ("Berlin", "Munich", "Hamburg", "Cologne"), ("Nordlicht", "Alpen", "Rhein", "Elbe", "Falken", "Lindner", "Sonnen", "Eichen"), "GmbH", "+49 30 "),
    "it": ("Italy", ("Rome", "Milan", "Turin", "Bologna"), ("Aurora", "Vento", "Stella", "Fiore", "Monte", "Sole", "Luna", "Verde"), "S.r.l.", "+39 06 "),
    "us": ("United States", ("New York", "Austin", "San Francisco", "Chicago", "Seattle"), ("Northwind", "Blue Peak", "Summit", "Redwood", "Brightline", "Evergreen", "Cobalt", "Keystone", "Beacon", "Riverbend"), "Inc.", "+1 212-555-"),
    "uk": ("United Kingdom", ("London", "Manchester", "Edinburgh"), ("Thames", "Kestrel", "Ashford", "Greystone", "Harbourside", "Oakhurst"), "Ltd", "+44 20 7946 "),
}
REGION_WEIGHTS = {"ja": 15, "de": 20, "it": 15, "us": 35, "uk": 15}
INDUSTRY_WORDS = {
    "software": ("Analytics", "Cloud", "Labs", "Systems", "Data"),
    "manufacturing": ("Robotics", "Machines", "Components", "Metalworks", "Industries"),
    "retail": ("Market", "Stores", "Goods", "Outfitters", "Fashion"),
    "healthcare": ("Health", "Care", "Medical", "Clinics", "Diagnostics"),
    "finance": ("Capital", "Finance", "Payments", "Ledger", "Insurance"),
    "education": ("Learning", "Academy", "Education", "Tutoring", "Campus"),
}
FIRST_NAMES = {
    "ja": (("優希", "yuki"), ("陽翔", "haruto"), ("さくら", "sakura"), ("蓮", "ren"), ("葵", "aoi"), ("蒼太", "sota"), ("陽菜", "hina"), ("海斗", "kaito"), ("芽衣", "mei"), ("陸", "riku")),
    "de": (("Lukas", "lukas"), ("Anna", "anna"), ("Felix", "felix"), ("Marie", "marie"), ("Jonas", "jonas"), ("Lea", "lea"), ("Paul", "paul"), ("Sophie", "sophie"), ("Jürgen", "juergen"), ("Hannah", "hannah")),
    "it": (("Giulia", "giulia"), ("Marco", "marco"), ("Francesca", "francesca"), ("Luca", "luca"), ("Chiara", "chiara"), ("Matteo", "matteo"), ("Sara", "sara"), ("Niccolò", "niccolo"), ("Elena", "elena"), ("Davide", "davide")),
    "en": (("Emma", "emma"), ("Liam", "liam"), ("Olivia", "olivia"), ("Noah", "noah"), ("Ava", "ava"), ("Ethan", "ethan"), ("Mia", "mia"), ("Lucas", "lucas"), ("Harper", "harper"), ("James", "james")),
}
LAST_NAMES = {
    "ja": (("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"), ("渡辺", "watanabe"), ("伊藤", "ito"), ("山本", "yamamoto"), ("中村", "nakamura"), ("小林", "kobayashi"), ("加藤", "kato")),
    "de": (("Müller", "mueller"), ("Schmidt", "schmidt"), ("Schneider", "schneider"), ("Fischer", "fischer"), ("Weber", "weber"), ("Meyer", "meyer"), ("Wagner", "wagner"), ("Becker", "becker"), ("Hoffmann", "hoffmann"), ("Schulz", "schulz")),
    "it": (("Rossi", "rossi"), ("Russo", "russo"), ("Ferrari", "ferrari"), ("Esposito", "esposito"), ("Bianchi", "bianchi"), ("Romano", "romano"), ("Colombo", "colombo"), ("Ricci", "ricci"), ("Marino", "marino"), ("Greco", "greco")),
    "en": (("Smith", "smith"), ("Johnson", "johnson"), ("Brown", "brown"), ("Garcia", "garcia"), ("Miller", "miller"), ("Davis", "davis"), ("Wilson", "wilson"), ("Clark", "clark"), ("Lewis", "lewis"), ("Walker", "walker")),
}
JOB_TITLES = ("Head of Operations", "VP Customer Experience", "IT Manager", "Project Lead", "CFO", "Product Owner", "Office Manager", "Data Analyst")
TICKET_SUBJECTS = ("Cannot export report to CSV", "SSO login fails for new users", "Question about invoice", "Dashboard loads slowly", "Feature request: custom fields on tasks", "API rate limit reached", "Password reset email not received", "How do we add a new team?")
TASK_SUBJECTS = ("Prepare QBR deck for {c}", "Follow up on renewal with {c}", "Review product usage of {c}", "Send onboarding recap to {c}", "Check open tickets of {c}", "Call the champion at {c}", "Plan expansion conversation with {c}", "Update success plan for {c}")
MEETING_TITLES = ("Quarterly business review – {c}", "Onboarding check-in – {c}", "Renewal discussion – {c}", "Training session – {c}", "Executive sponsor sync – {c}")
NOTE_BODIES = ("Champion is happy with the rollout; wants a training for the new team in {c}.", "Budget review next quarter at {c}; renewal depends on adoption of reports.", "{c} asked for an SSO walkthrough. Sent the docs.", "Usage dropped after their admin left {c}; find a new champion.")
CALL_TITLES = ("Check-in call with {c}", "Renewal call with {c}", "Escalation call with {c}")
EMAIL_SUBJECTS = ("Your onboarding plan, {c}", "Recap of our call – {c}", "Renewal options for {c}", "New features your team asked for")
# fmt: on

MRR_RANGE = {"starter": (19, 90, 10), "growth": (100, 500, 10), "enterprise": (60, 400, 100)}
EMPLOYEES_RANGE = {"starter": (5, 60), "growth": (50, 600), "enterprise": (500, 25_000)}
ONBOARDING_STAGES = (
    # (stage label, first day since contract start)
    ("Kickoff prep", 0),
    ("Kickoff done", 7),
    ("Initial setup done", 21),
    ("Training done", 40),
    ("First value review", 55),
)
# Lookup tables for the hot loop: one random() call picks a weighted entry.
REGION_TABLE = tuple(region for region, weight in REGION_WEIGHTS.items() for _ in range(weight))
INDUSTRIES = tuple(INDUSTRY_WORDS)
PLAN_TABLE = ("starter",) * 45 + ("growth",) * 35 + ("enterprise",) * 20
NPS_HAPPY = (6, 7, 8, 8, 9, 9, 10, 10)
NPS_UNHAPPY = (3, 5, 6, 7, 7, 8)
SLUGS = {
    (prefix, word): f"{re.sub(r'[^a-z0-9]+', '', prefix.lower())}-{word.lower()}"
    for _country, _cities, prefixes, _suffix, _phone in REGIONS.values()
    for prefix in prefixes
    for words in INDUSTRY_WORDS.values()
    for word in words
}
ENGAGEMENT_LABELS = {Task: "tasks", Meeting: "meetings", Note: "notes", Call: "calls", Email: "emails"}


# --------------------------------------------------------------------------- the result


@dataclass
class Summary:
    companies: int = 0
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def companies_per_second(self) -> float:
        return self.companies / self.seconds if self.seconds else 0.0


class DemoError(Exception):
    """The demo cannot be built in this workspace (the message says why and what to do)."""


# --------------------------------------------------------------------------- checks and deletion


DEFER_INDEXES_FROM = 20_000


@contextmanager
def _indexes_deferred(*, enabled: bool):
    """Bulk loading: drop the named secondary indexes of records and history first and build
    them once at the end, which is several times cheaper than maintaining them row by row."""
    if not enabled:
        yield
        return
    deferred = [(model, list(model._meta.indexes)) for model in (Record, PropertyChange)]
    if connection.vendor == "sqlite":
        # A crash mid-load loses the demo data, never a user's: nothing else is written meanwhile.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    with connection.schema_editor() as editor:
        for model, indexes in deferred:
            for index in indexes:
                editor.remove_index(model, index)
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
        with connection.schema_editor() as editor:
            for model, indexes in deferred:
                for index in indexes:
                    editor.add_index(model, index)


def workspace_has_companies() -> bool:
    return Record.objects.filter(object_type__name="companies").exists()


def reset(*, chunk_size: int = 5000) -> Counter:
    """Delete the demo data: records and engagements of the demo users, the demo users, the
    demo teams. Data of other users is left alone. Chunked, so that memory stays flat."""
    deleted: Counter = Counter()
    user_ids = list(demo_users().values_list("pk", flat=True))
    if user_ids:
        for model, owner_field in (
            (Task, "assignee"),
            (Meeting, "owner"),
            (Note, "owner"),
            (Call, "owner"),
            (Email, "owner"),
        ):
            _delete_in_chunks(model.objects.filter(**{f"{owner_field}_id__in": user_ids}), chunk_size, deleted)
        _delete_in_chunks(Record.objects.filter(owner_id__in=user_ids), chunk_size, deleted)
        with transaction.atomic():
            _count(deleted, User.objects.filter(pk__in=user_ids).delete())
    with transaction.atomic():
        _count(deleted, Team.objects.filter(name__in=DEMO_TEAMS).delete())
    return deleted


def _delete_in_chunks(queryset, chunk_size: int, deleted: Counter) -> None:
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size]):
        with transaction.atomic():
            _count(deleted, queryset.model.objects.filter(pk__in=ids).delete())


def _count(deleted: Counter, result) -> None:
    for label, n in result[1].items():
        deleted[label] += n


# --------------------------------------------------------------------------- the generator


def generate(
    *,
    companies: int = DEFAULT_COMPANIES,
    seed: int = DEFAULT_SEED,
    on_progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Summary:
    """Build the demo workspace (the caller checks that the workspace is empty or reset).

    `on_progress(n)` is called after each chunk with the number of companies just written.
    Raises DemoError if the built-in schema is missing or a demo user already exists.
    """
    if companies < 1:
        raise DemoError("Create at least one company.")
    return _Demo(companies=companies, seed=seed, on_progress=on_progress, chunk_size=chunk_size).run()


@dataclass(slots=True)
class _Rec:
    """A record to insert: lighter than a model instance, which matters at 100k rows."""

    type_name: str
    name: str
    owner: int
    created_at: dt.datetime
    props: dict
    stage: Stage | None = None
    last_activity_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


class _Writer:
    """Inserts the high-volume rows (records, associations, history, links): one executemany
    per table and chunk on SQLite, one COPY on PostgreSQL. bulk_create costs ~70 µs a row in
    Django's SQL compiler, which caps a 100k-company workspace at ~3k companies/s; this path
    writes the column values Django would write (datetimes and JSON adapted by the same rules)
    several times faster. Table and column names come from the models; values never enter the
    SQL text."""

    def __init__(self):
        self.vendor = connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise DemoError(f"The demo generator supports SQLite and PostgreSQL, not {self.vendor}.")
        # JSON as text, which both take (SQLite stores it, COPY parses it into jsonb); None is
        # SQL NULL, as JSONField stores it.
        self.json = _json_text
        # SQLite: the text DatabaseOperations.adapt_datetimefield_value produces; PostgreSQL
        # takes aware datetimes as they are.
        self.datetime = _sqlite_datetime if self.vendor == "sqlite" else (lambda v: v)
        self.record_sql = self._sql(Record, RECORD_COLUMNS)

    def _sql(self, model, fields) -> str:
        qn = connection.ops.quote_name
        columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
        if self.vendor == "postgresql":
            return f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
        marks = ", ".join(["%s"] * len(fields))
        return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"

    def _insert(self, sql: str, rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # psycopg's pipelined executemany still sends a statement per row; COPY streams.
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, rows)

    def reserve_ids(self, model, n: int) -> list[int]:
        """n new primary keys; call inside the transaction that inserts them."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so nobody else
            # takes ids meanwhile; AUTOINCREMENT's sequence follows the explicit ids.
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
            top = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
            return list(range(top + 1, top + 1 + n))

    def records(self, recs: list[_Rec], type_ids: dict[str, int]) -> None:
        for rec, pk in zip(recs, self.reserve_ids(Record, len(recs)), strict=True):
            rec.id = pk
        dt_, js = self.datetime, self.json
        rows = [
            (
                r.id,
                type_ids[r.type_name],
                r.name,
                r.owner,
                r.stage.pipeline_id if r.stage else None,
                r.stage.pk if r.stage else None,
                dt_(r.created_at) if r.stage else None,
                dt_(r.created_at),
                dt_(r.updated_at or r.created_at),
                dt_(r.last_activity_at),
                js(r.props),
            )
            for r in recs
        ]
        self._insert(self.record_sql, rows)

    def rows(self, model, fields: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            self._insert(self._sql(model, fields), rows)


def _json_text(value) -> str | None:
    if value is None:
        return None  # SQL NULL, as JSONField stores None
    return str(value) if type(value) is int else json.dumps(value)


@functools.lru_cache(maxsize=1 << 16)
def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    """UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]", the form Django's SQLite backend stores."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value)[:19] if not value.microsecond else str(value.replace(tzinfo=None))


RECORD_COLUMNS = (
    "id",
    "object_type",
    "name",
    "owner",
    "pipeline",
    "stage",
    "stage_entered_at",
    "created_at",
    "updated_at",
    "last_activity_at",
    "properties",
)
HISTORY_COLUMNS = ("record", "property_name", "old_value", "new_value", "changed_at", "source")
ASSOCIATION_COLUMNS = ("from_record", "to_record", "label", "created_at")


@dataclass(slots=True)
class _Company:
    """A company that gets contacts, deals, tickets, services and engagements of its own."""

    record: _Rec
    region: str
    csm: int
    cs_stage: str
    plan: str
    mrr: int
    start: dt.date
    renewal: dt.date
    domain: str
    children: list = field(default_factory=list)  # (_Rec, label) associated with the company
    engagements: list = field(default_factory=list)  # (engagement, [_Rec, …])
    contacts: list = field(default_factory=list)  # contact _Recs, primary first


class _Demo:
    def __init__(self, *, companies: int, seed: int, on_progress, chunk_size: int):
        self.n = companies
        self.rng = random.Random(seed)
        # The daily schedule depends on "now"; its own stream keeps company data independent of it.
        self.schedule_rng = random.Random(f"{seed}/schedule")
        self.on_progress = on_progress or (lambda n: None)
        self.chunk_size = chunk_size
        self.now = clock.now().astimezone(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.midnight = dt.datetime.combine(self.today, dt.time(), tzinfo=UTC)
        self.days: dict[int, tuple[dt.date, str]] = {}
        self.stride = max(1, math.ceil(companies / DETAILED_LIMIT))
        # Every detailed record is checked; of the rest, a sample (the checks cost ~10 µs each).
        self.check_every = max(1, self.stride // 2)
        self.summary = Summary(companies=companies)
        self.name_counts: Counter = Counter()
        self.book: dict[int, list[_Company]] = {}

    # ----------------------------------------------------------------- setup

    def run(self) -> Summary:
        started = time.perf_counter()
        self._load_schema()
        self.writer = _Writer()
        with transaction.atomic():
            self._create_users()
        with _indexes_deferred(enabled=self.n >= DEFER_INDEXES_FROM):
            for start in range(0, self.n, self.chunk_size):
                stop = min(self.n, start + self.chunk_size)
                self._write_chunk(start, stop)
                self.on_progress(stop - start)
        with transaction.atomic():
            self._write_schedules()
        self.summary.counts.update(
            signals_demo.generate(seed=self.rng.random(), now=self.now, writer=self.writer, companies=self.n)
        )
        # Health last: the template profile, active, scored over everything written above.
        health_demo.install(actor_user=self.csms[0][0])
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _load_schema(self) -> None:
        types = {
            ot.name: ot
            for ot in ObjectType.objects.filter(name__in=["companies", "contacts", "deals", "tickets", "services"])
        }
        missing = {"companies", "contacts", "deals", "tickets", "services"} - set(types)
        if missing:
            raise DemoError(
                f"The built-in object types are missing ({', '.join(sorted(missing))}); run `tend migrate`."
            )
        self.types = types
        self.type_ids = {name: ot.pk for name, ot in types.items()}
        self.specs = {}
        for name, ot in types.items():
            self.specs[name] = {s.name: (s.type, list(s.options)) for s in registry_for(ot).value_specs()}
        self.stages: dict[str, dict[str, Stage]] = {}
        for type_name, label in (
            ("deals", "Sales pipeline"),
            ("tickets", "Support pipeline"),
            ("services", "Onboarding"),
            ("services", "Maintenance"),
        ):
            pipeline = Pipeline.objects.filter(object_type=types[type_name], label=label).first()
            if pipeline is None:
                raise DemoError(f"The built-in pipeline {label!r} is missing; the demo needs it.")
            self.stages[label] = {s.label: s for s in pipeline.stages.all()}

    def _create_users(self) -> None:
        existing = list(demo_users().values_list("email", flat=True))
        if existing:
            raise DemoError(f"Demo users already exist ({', '.join(sorted(existing))}); run `tend demo --reset`.")
        by_email: dict[str, User] = {}
        manager_of = {"admin": None, "manager": "admin@demo.tend", "csm": "manager@demo.tend"}
        for spec in DEMO_USERS:
            by_email[spec.email] = user_create(
                email=spec.email,
                password=None,
                full_name=spec.full_name,
                time_zone=spec.time_zone,
                language=spec.language,
                manager=by_email.get(manager_of[spec.role] or ""),
                has_service_seat=spec.seat,
                cs_workspace_access=True,
                manage_cs_settings=spec.role == "manager",
                is_superuser=spec.role == "admin",
            )
        # One hash for everyone: the password hasher is deliberately slow (~0.3 s a call).
        User.objects.filter(pk__in=[u.pk for u in by_email.values()]).update(password=make_password(DEMO_PASSWORD))
        for team in DEMO_TEAMS:
            team_create(name=team, members=[by_email[s.email] for s in DEMO_USERS if s.team == team])
        self.summary.counts["users"] += len(by_email)
        self.summary.counts["teams"] += len(DEMO_TEAMS)
        self.users = by_email
        self.emails = {u.pk: u.email for u in by_email.values()}
        self.csms = [(by_email[s.email], s) for s in DEMO_USERS if s.role == "csm" and s.seat]
        self.zones = {by_email[s.email].pk: zoneinfo.ZoneInfo(s.time_zone) for s in DEMO_USERS}
        self.csm_by_region = {
            region: [u.pk for u, s in self.csms if region in s.regions] or [u.pk for u, _s in self.csms]
            for region in REGIONS
        }
        self.csm_ids = [u.pk for u, _s in self.csms]
        self.other_csms = {pk: [o for o in self.csm_ids if o != pk] for pk in self.csm_ids}

    # ----------------------------------------------------------------- companies

    def _write_chunk(self, start: int, stop: int) -> None:
        self.history: list[tuple] = []  # (company _Rec, property, old, new, changed_at)
        self.detailed: list[_Company] = []
        batch = [self._company(i) for i in range(start, stop)]
        w = self.writer
        with transaction.atomic():
            w.records(batch, self.type_ids)
            self.summary.counts["companies"] += len(batch)
            if self.detailed:
                self._write_details(self.detailed)
            system, js, dt_ = ChangeSource.SYSTEM.value, w.json, w.datetime
            history, last_at, at_db = [], None, None
            for rec, name, old, new, at in self.history:
                if at is not last_at:  # owner and csm changes share one instant
                    last_at, at_db = at, dt_(at)
                history.append((rec.id, name, js(old), js(new), at_db, system))
            w.rows(PropertyChange, HISTORY_COLUMNS, history)
            self.summary.counts["property changes"] += len(history)
        for c in self.detailed:
            book = self.book.setdefault(c.csm, [])
            if len(book) < BOOK_SIZE:
                book.append(c)
            c.children, c.engagements = [], []  # the book keeps only what it links to

    def _company(self, i: int) -> _Rec:
        # The hot loop at 100k companies: draws are plain random() calls into precomputed tables.
        rnd = self.rng.random
        region = REGION_TABLE[int(rnd() * len(REGION_TABLE))]
        country, cities, prefixes, suffix, _phone = REGIONS[region]
        industry = INDUSTRIES[int(rnd() * len(INDUSTRIES))]
        words = INDUSTRY_WORDS[industry]
        prefix, word = prefixes[int(rnd() * len(prefixes))], words[int(rnd() * len(words))]
        city = cities[int(rnd() * len(cities))]
        key = (prefix, word)
        nth = self.name_counts[key] = self.name_counts[key] + 1
        slug = SLUGS[key]
        if nth == 1:
            domain, name = f"{slug}.example", f"{prefix} {word} {suffix}"
        else:
            domain, name = f"{slug}{nth}.example", f"{prefix} {word} {city} {suffix}"
        plan = PLAN_TABLE[int(rnd() * len(PLAN_TABLE))]
        low, high, step = MRR_RANGE[plan]
        mrr = (low + int(rnd() * (high - low))) * step
        roll = rnd()
        if roll < 0.70:
            cs_stage = "active"
        elif roll < 0.82:
            cs_stage = "onboarding"
        else:
            cs_stage = "at_risk" if roll < 0.94 else "churned"
        if cs_stage == "onboarding":
            start_off = -3 - int(rnd() * 58)
            renewal_off = start_off + 365
        elif cs_stage == "churned":
            renewal_off = -1 - int(rnd() * 30)
            start_off = renewal_off - 365
        else:
            renewal_off = -30 + int(rnd() * 431)
            start_off = renewal_off - 365 if renewal_off < 345 else renewal_off - 730
        start, start_iso = self._day(start_off)
        renewal, renewal_iso = self._day(renewal_off)
        csms = self.csm_by_region[region] if rnd() < 0.75 else self.csm_ids
        csm = csms[int(rnd() * len(csms))]
        low, high = EMPLOYEES_RANGE[plan]
        props = {
            "domain": domain,
            "external_id": f"acct-{i + 1:07d}",
            "industry": industry,
            "country": country,
            "city": city,
            "employees": low + int(rnd() * (high - low)),
            "contract_plan": plan,
            "contract_start_date": start_iso,
            "renewal_date": renewal_iso,
            "mrr": mrr,
            "cs_stage": cs_stage,
            "csm": csm,
        }
        if rnd() < 0.7:
            scores = NPS_UNHAPPY if cs_stage in ("at_risk", "churned") else NPS_HAPPY
            props["nps"] = scores[int(rnd() * len(scores))]
        # Created 5–30 days before the contract started, during (UTC) office hours.
        created_at = self.midnight + dt.timedelta(days=start_off - 5 - int(rnd() * 26), minutes=480 + int(rnd() * 600))
        quiet_days = 90 if cs_stage == "at_risk" else 30
        last_activity = self.now - dt.timedelta(minutes=60 + int(rnd() * quiet_days * 24 * 60))
        record = _Rec("companies", name, csm, min(created_at, self.now), props, last_activity_at=last_activity)
        self._plan_history(record, csm, cs_stage)
        if i % self.stride == 0:
            company = _Company(record, region, csm, cs_stage, plan, mrr, start, renewal, domain)
            self._plan_details(company)
            past = [e.created_at for e, _r in company.engagements if e.created_at <= self.now]
            if past:
                record.last_activity_at = max(past)
            self.detailed.append(company)
        if i % self.check_every == 0:
            self._check("companies", props, None)
        return record

    def _day(self, offset: int) -> tuple[dt.date, str]:
        """Today + `offset` days (UTC), with its ISO form; cached, since 100k companies share ~1k days."""
        day = self.days.get(offset)
        if day is None:
            date = self.today + dt.timedelta(days=offset)
            day = self.days[offset] = (date, date.isoformat())
        return day

    def _at(self, day: dt.date, days: int = 0, minute: int = 9 * 60) -> dt.datetime:
        """A UTC instant on `day` + `days`, `minute` minutes after midnight UTC, never in the future."""
        at = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(), tzinfo=UTC) + dt.timedelta(minutes=minute)
        return min(at, self.now)

    def _plan_history(self, record: _Rec, csm: int, cs_stage: str) -> None:
        """Owner and CSM assignment, spread over the last 60 days: onboarding accounts were
        assigned when created, the others were handed over from another CSM."""
        rnd = self.rng.random
        if cs_stage == "onboarding":
            at = max(record.created_at, self.now - SIXTY_DAYS)
            previous = None
        else:
            at = self.now - dt.timedelta(minutes=60 + int(rnd() * 59 * 24 * 60))
            others = self.other_csms[csm]
            previous = others[int(rnd() * len(others))] if others else None
            if at <= record.created_at:  # a young account: assigned when it was created
                at, previous = record.created_at, None
        history = self.history
        history.append((record, "owner", previous, csm, at))
        history.append((record, "csm", previous, csm, at))
        record.updated_at = at
        if cs_stage in ("at_risk", "churned"):
            when = max(self.now - dt.timedelta(minutes=60 + int(rnd() * 45 * 24 * 60)), at)
            history.append((record, "cs_stage", "active", cs_stage, when))
            record.updated_at = when

    # ----------------------------------------------------------------- contacts, deals, tickets, services

    def _record(self, type_name: str, name: str, owner: int, created_at, props: dict, stage: Stage | None = None):
        self._check(type_name, props, stage)
        return _Rec(type_name, name, owner, created_at, props, stage)

    def _plan_details(self, c: _Company) -> None:
        r = self.rng
        region_names = c.region if c.region in FIRST_NAMES else "en"
        phone = REGIONS[c.region][4]
        created = c.record.created_at
        # Contacts: the first is the primary, key contact.
        seen = set()
        for k in range(r.choices((1, 2, 3, 4), weights=(3, 4, 2, 1))[0]):
            first, first_ascii = r.choice(FIRST_NAMES[region_names])
            last, last_ascii = r.choice(LAST_NAMES[region_names])
            local = f"{first_ascii}.{last_ascii}"
            if local in seen:
                local = f"{local}{k + 1}"
            seen.add(local)
            props = {
                "email": f"{local}@{c.domain}",
                "first_name": first,
                "last_name": last,
                "job_title": JOB_TITLES[0 if k == 0 else r.randrange(1, len(JOB_TITLES))],
                "phone": f"{phone}{r.randint(1000, 9999)}",
                "key_contact": k == 0,
            }
            if k > 0 and r.random() < 0.08:
                props["left_company"] = True
            if r.random() < 0.4:
                props["nps"] = r.randint(5, 10)
            full = f"{last} {first}" if c.region == "ja" else f"{first} {last}"
            contact = self._record("contacts", full, c.csm, created, props)
            if k == 0:
                contact.last_activity_at = c.record.last_activity_at
            c.contacts.append(contact)
            c.children.append((contact, "primary" if k == 0 else ""))
        self._plan_deals(c)
        self._plan_tickets(c)
        self._plan_services(c)
        self._plan_engagements(c)

    def _plan_deals(self, c: _Company) -> None:
        r = self.rng
        stages = self.stages["Sales pipeline"]
        name = c.record.name
        plan_label = c.plan.capitalize()
        won = {
            "amount": c.mrr * 12,
            "close_date": c.start.isoformat(),
            "deal_type": "new_business",
            "contract_end_date": c.renewal.isoformat(),
            "mrr": c.mrr,
            "csm": c.csm,
        }
        c.children.append(
            (
                self._record(
                    "deals", f"{name} – {plan_label}", c.csm, self._at(c.start, -10), won, stages["Closed won"]
                ),
                "",
            )
        )
        days_to_renewal = (c.renewal - self.today).days
        if c.cs_stage == "churned":
            lost = {"amount": c.mrr * 12, "close_date": c.renewal.isoformat(), "deal_type": "renewal", "csm": c.csm}
            c.children.append(
                (
                    self._record(
                        "deals",
                        f"{name} – renewal {c.renewal.year}",
                        c.csm,
                        self._at(c.renewal, -60),
                        lost,
                        stages["Closed lost"],
                    ),
                    "",
                )
            )
        elif -30 <= days_to_renewal <= 120:
            stage = stages["Contract sent" if days_to_renewal < 30 else "Qualified to buy"]
            renewal = {
                "amount": round(c.mrr * 12 * r.choice((1.0, 1.0, 1.05, 1.1))),
                "close_date": c.renewal.isoformat(),
                "deal_type": "renewal",
                "mrr": c.mrr,
                "csm": c.csm,
            }
            c.children.append(
                (
                    self._record(
                        "deals",
                        f"{name} – renewal {c.renewal.year}",
                        c.csm,
                        self._at(self.today, -r.randint(5, 40)),
                        renewal,
                        stage,
                    ),
                    "",
                )
            )
        if c.cs_stage == "active" and r.random() < 0.15:
            amount = r.randrange(2, 20) * 1200
            expansion = {
                "amount": amount,
                "close_date": (self.today + dt.timedelta(days=r.randint(20, 120))).isoformat(),
                "deal_type": "expansion",
                "csm": c.csm,
            }
            stage = stages[r.choice(("Appointment scheduled", "Qualified to buy"))]
            c.children.append(
                (
                    self._record(
                        "deals", f"{name} – expansion", c.csm, self._at(self.today, -r.randint(1, 30)), expansion, stage
                    ),
                    "",
                )
            )

    def _plan_tickets(self, c: _Company) -> None:
        r = self.rng
        stages = self.stages["Support pipeline"]
        for _k in range(r.choices((0, 1, 2, 3), weights=(4, 3, 2, 1))[0]):
            subject = r.choice(TICKET_SUBJECTS)
            created = self._at(self.today, -r.randint(0, 90), r.randint(0, 24 * 60 - 1))
            stage_label = r.choices(("New", "Waiting on contact", "Waiting on us", "Closed"), weights=(25, 15, 20, 40))[
                0
            ]
            props = {
                "description": f"{subject}. Reported by {c.contacts[0].name if c.contacts else 'the customer'}.",
                "priority": r.choices(("low", "medium", "high", "urgent"), weights=(30, 40, 20, 10))[0],
                "category": r.choice(("question", "problem", "feature_request", "billing")),
            }
            if stage_label == "Closed":
                closed = min(created + dt.timedelta(hours=r.randint(1, 96)), self.now)
                props["closed_at"] = values.format_datetime(closed)
                if r.random() < 0.6:
                    props["csat"] = r.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 6))[0]
            ticket = self._record("tickets", subject, c.csm, created, props, stages[stage_label])
            c.children.append((ticket, ""))

    def _plan_services(self, c: _Company) -> None:
        r = self.rng
        since_start = (self.today - c.start).days
        if c.cs_stage == "onboarding" or (c.cs_stage != "churned" and since_start < 400 and r.random() < 0.5):
            stages = self.stages["Onboarding"]
            props = {
                "service_type": "onboarding",
                "start_date": c.start.isoformat(),
                "target_end_date": (c.start + dt.timedelta(days=90)).isoformat(),
                "csm": c.csm,
            }
            if c.cs_stage == "onboarding":
                label = [s for s, first_day in ONBOARDING_STAGES if since_start >= first_day][-1]
                props["goal_status"] = "in_progress" if since_start > 14 else "not_started"
            else:
                label = "Onboarding complete"
                props["goal_status"] = r.choices(("achieved", "in_progress"), weights=(85, 15))[0]
            if label != "Kickoff prep":
                props["kickoff_date"] = (c.start + dt.timedelta(days=5)).isoformat()
            created = self._at(c.start)
            c.children.append(
                (self._record("services", f"Onboarding – {c.record.name}", c.csm, created, props, stages[label]), "")
            )
        if c.cs_stage in ("active", "at_risk") and r.random() < 0.15:
            stages = self.stages["Maintenance"]
            label = r.choice(tuple(stages))
            start = self.today + dt.timedelta(days=r.randint(-30, 20))
            props = {"service_type": "maintenance", "start_date": start.isoformat(), "csm": c.csm}
            created = self._at(self.today, -r.randint(20, 45))
            c.children.append(
                (self._record("services", f"Maintenance – {c.record.name}", c.csm, created, props, stages[label]), "")
            )

    def _plan_engagements(self, c: _Company) -> None:
        r = self.rng
        name = c.record.name
        links = [c.record] + c.contacts[:1]
        tz = self.zones[c.csm]
        contact_email = c.contacts[0].props["email"] if c.contacts else ""

        def past(max_days: int) -> dt.datetime:
            day = self.today - dt.timedelta(days=r.randint(1, max_days))
            # Yesterday afternoon in the Americas can still be ahead of "now" just after UTC midnight.
            return min(self._local(day, r.randint(9 * 60, 17 * 60), tz), self.now)

        if r.random() < 0.3:
            at = past(60)
            c.engagements.append(
                (
                    Note(body=r.choice(NOTE_BODIES).format(c=name), owner_id=c.csm, created_at=at, updated_at=at),
                    [c.record],
                )
            )
        if r.random() < 0.2:
            at = past(45)
            call = Call(
                title=r.choice(CALL_TITLES).format(c=name),
                body="",
                direction=r.choice(("outbound", "inbound")),
                outcome=r.choice(("connected", "connected", "no_answer", "left_voicemail")),
                duration_seconds=r.randint(60, 1800),
                occurred_at=at,
                owner_id=c.csm,
                created_at=at,
                updated_at=at,
            )
            c.engagements.append((call, links))
        if r.random() < 0.25 and contact_email:
            at = past(30)
            email = Email(
                subject=r.choice(EMAIL_SUBJECTS).format(c=name),
                body="",
                direction=r.choice(("outbound", "inbound")),
                from_address=self.emails[c.csm],
                to_addresses=[contact_email],
                occurred_at=at,
                owner_id=c.csm,
                created_at=at,
                updated_at=at,
            )
            c.engagements.append((email, links))
        if r.random() < 0.2:
            start = past(60)
            outcome = r.choices(("attended", "no_show", "cancelled"), weights=(80, 12, 8))[0]
            meeting = Meeting(
                title=r.choice(MEETING_TITLES).format(c=name),
                start_at=start,
                end_at=start + dt.timedelta(minutes=45),
                attendees=[contact_email] if contact_email else [],
                outcome=outcome,
                owner_id=c.csm,
                created_at=start - dt.timedelta(days=7),
                updated_at=start,
            )
            c.engagements.append((meeting, links))
        if r.random() < 0.5:
            due_day = self.today + dt.timedelta(days=r.randint(-20, 30))
            due = self._local(due_day, r.choice((9, 10, 11, 14, 15, 16)) * 60, tz)
            done = due_day < self.today and r.random() < 0.6
            created = min(due, self.now) - dt.timedelta(days=r.randint(1, 14))
            task = Task(
                subject=r.choice(TASK_SUBJECTS).format(c=name),
                type=r.choice(("todo", "call", "email")),
                priority=r.choice(("none", "low", "medium", "high")),
                status="completed" if done else r.choice(("not_started", "not_started", "in_progress", "waiting")),
                due_at=due,
                assignee_id=c.csm,
                completed_at=due if done else None,
                created_at=created,
                updated_at=due if done else created,
            )
            c.engagements.append((task, [c.record]))

    @staticmethod
    def _local(day: dt.date, minute: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
        """`minute` minutes after midnight of `day` in `tz`, as a UTC instant."""
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz)
        return local.astimezone(UTC)

    def _write_details(self, batch: list[_Company]) -> None:
        children = [(c, rec, label) for c in batch for rec, label in c.children]
        self.writer.records([rec for _c, rec, _l in children], self.type_ids)
        now = self.writer.datetime(self.now)
        links = []
        for c, rec, label in children:
            # Stored once per direction, as services.association_link does.
            links.append((c.record.id, rec.id, label, now))
            links.append((rec.id, c.record.id, label, now))
            self.summary.counts[rec.type_name] += 1
        self.writer.rows(Association, ASSOCIATION_COLUMNS, links)
        self.summary.counts["associations"] += len(links)
        self._write_engagements([e for c in batch for e in c.engagements])

    def _write_engagements(self, engagements: list[tuple]) -> None:
        by_model: dict[type, list[tuple]] = {}
        for engagement, records in engagements:
            by_model.setdefault(type(engagement), []).append((engagement, records))
        for model, items in by_model.items():
            model.objects.bulk_create([e for e, _r in items])
            through = model.records.through
            links = [(e.pk, rec.id) for e, recs in items for rec in recs]
            self.writer.rows(through, (model._meta.model_name, "record"), links)
            self.summary.counts[ENGAGEMENT_LABELS[model]] += len(items)

    def _check(self, type_name: str, props: dict, stage: Stage | None) -> None:
        specs = self.specs[type_name]
        for name, value in props.items():
            prop_type, options = specs[name]
            if values.clean_value(prop_type, value, options=options) != value:
                raise DemoError(f"The demo generator made a non-canonical {type_name}.{name}: {value!r}")
        for name in stage.required_properties if stage else ():
            if name not in props:
                raise DemoError(f"The demo generator put a {type_name} record in {stage.label} without {name}.")

    # ----------------------------------------------------------------- each CSM's day

    def _write_schedules(self) -> None:
        """Tasks due overdue / today / tomorrow / later and meetings this week for every CSM and
        the manager, placed in each one's own time zone."""
        every_company = [c for book in self.book.values() for c in book]
        engagements = []
        for spec in DEMO_USERS:
            if spec.role == "admin":
                continue
            user = self.users[spec.email]
            book = self.book.get(user.pk) or every_company
            if not book:
                continue
            engagements.extend(self._schedule(user.pk, self.zones[user.pk], book))
        self._write_engagements(engagements)

    def _schedule(self, user_id: int, tz: zoneinfo.ZoneInfo, book: list[_Company]) -> list[tuple]:
        r = self.schedule_rng
        today = self.now.astimezone(tz).date()
        out = []

        def company() -> _Company:
            return book[r.randrange(len(book))]

        def task(day_offset: int, minute: int, status: str = "not_started", priority: str = "medium"):
            c = company()
            due = self._local(today + dt.timedelta(days=day_offset), minute, tz)
            done = status == "completed"
            created = min(due, self.now) - dt.timedelta(days=r.randint(1, 10))
            subject = r.choice(TASK_SUBJECTS).format(c=c.record.name)
            out.append(
                (
                    Task(
                        subject=subject,
                        type=r.choice(("todo", "call", "email")),
                        priority=priority,
                        status=status,
                        due_at=due,
                        assignee_id=user_id,
                        completed_at=due if done else None,
                        created_at=created,
                        updated_at=due if done else created,
                    ),
                    [c.record],
                )
            )

        def meeting(day_offset: int, minute: int, length: int = 45):
            c = company()
            start = self._local(today + dt.timedelta(days=day_offset), minute, tz)
            roll = r.random()  # drawn either way, so the stream does not depend on "now"
            outcome = "scheduled" if start > self.now else ("no_show" if roll < 0.2 else "attended")
            attendees = [c.contacts[0].props["email"]] if c.contacts else []
            links = [c.record] + c.contacts[:1]
            title = r.choice(MEETING_TITLES).format(c=c.record.name)
            url = f"https://meet.example/{c.domain.split('.')[0]}"
            out.append(
                (
                    Meeting(
                        title=title,
                        start_at=start,
                        end_at=start + dt.timedelta(minutes=length),
                        attendees=attendees,
                        outcome=outcome,
                        meeting_url=url,
                        owner_id=user_id,
                        created_at=min(start, self.now) - dt.timedelta(days=3),
                        updated_at=min(start, self.now),
                    ),
                    links,
                )
            )

        # Overdue, due today, due tomorrow, upcoming, and a few done.
        task(-1, 10 * 60, "in_progress", "high")
        task(-3, 15 * 60)
        task(-6, 11 * 60, "waiting")
        task(0, 9 * 60 + 30, priority="high")
        task(0, 13 * 60)
        task(0, 16 * 60 + 30, "in_progress")
        task(1, 10 * 60)
        task(1, 14 * 60 + 30, priority="low")
        for offset in (2, 4, 7, 12):
            task(offset, r.choice((9, 11, 14, 16)) * 60)
        for offset in (-1, -2, -5):
            task(offset, 12 * 60, "completed")
        # Meetings: every working day of this week (some already held), today, and next week.
        monday = -today.weekday()
        for offset in range(monday, monday + 5):
            meeting(offset, r.choice((10, 11, 15)) * 60)
        meeting(0, 14 * 60 + 30, 30)
        for offset in (monday + 7, monday + 9):
            meeting(offset, 10 * 60)
        return out
