"""Build the demo workspace: users and teams, companies with their contacts, deals, tickets and
services, engagements, property history (18 months of it for the CS KPIs: `kpi_history`), then
product usage and health (today's scores, and 90 days of their history with a few status changes
in the last two weeks).

Deterministic: one seed gives the same workspace every time, and every date is relative to
`tend.core.clock`. Rows are built one chunk at a time and written set-based (`tend.core.bulk`), one
transaction per chunk, so memory stays flat at any size. `records_write` is skipped on purpose (a
uniqueness query per record): values are unique and valid by construction, and records are checked
with the services' validator (`values.clean_value`) and their stage's required properties.
"""

import datetime as dt
import functools
import json
import math
import random
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from tend.core import bulk, clock
from tend.crm import values
from tend.crm.models import Association, ChangeSource, ObjectType, Pipeline, PropertyChange, Record, Stage
from tend.crm.registry import registry_for
from tend.directory.models import User
from tend.directory.services import team_create, user_create
from tend.engagement.models import Call, Email, Meeting, Note, Task
from tend.health import demo as health_demo
from tend.usage import demo as usage_demo

from .contact_activity import write_contact_activity
from .details import plan_details
from .health_history import write_health_history
from .kpi_history import KpiHistory
from .notifications import write_demo_notifications
from .rows import Company, Rec
from .saved_views import write_default_views
from .schedule import write_schedules
from .team import DEMO_PASSWORD, DEMO_TEAMS, DEMO_USERS, demo_users
from .words import (
    EMPLOYEES_RANGE,
    INDUSTRIES,
    INDUSTRY_WORDS,
    MRR_RANGE,
    NPS_HAPPY,
    NPS_UNHAPPY,
    PLAN_TABLE,
    REGION_TABLE,
    REGIONS,
    SLUGS,
)

DEFAULT_SEED = 2026
DEFAULT_COMPANIES = 500
CHUNK_SIZE = 5000
# Companies beyond this many get no contacts, deals, tickets, services or engagements of their
# own: a large workspace keeps its detailed part bounded (every n-th company is detailed).
DETAILED_LIMIT = 2000
# Per CSM, the detailed companies remembered for linking the daily schedule (bounded memory).
BOOK_SIZE = 40
SIXTY_DAYS = dt.timedelta(days=60)
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
    return Generator(companies=companies, seed=seed, on_progress=on_progress, chunk_size=chunk_size).run()


def _json_text(value) -> str | None:
    """A JSONField value as stored (JSON text; None is SQL NULL, as JSONField stores it)."""
    if value is None:
        return None
    return str(value) if type(value) is int else json.dumps(value)


@functools.lru_cache(maxsize=1 << 16)  # generated instants repeat (shared days and minutes)
def _db_datetime(value: dt.datetime | None):
    return None if value is None else bulk.db_datetime(value)


def _insert(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain INSERT of many rows (COPY on PostgreSQL); `fields` are the model's field names."""
    if rows:
        bulk.copy_rows(model._meta.db_table, [model._meta.get_field(f).column for f in fields], rows)


def _insert_records(recs: list[Rec], type_ids: dict[str, int]) -> None:
    for rec, pk in zip(recs, bulk.reserve_ids(Record._meta.db_table, len(recs)), strict=True):
        rec.id = pk
    dt_, js = _db_datetime, _json_text
    rows = [
        (
            r.id,
            type_ids[r.type_name],
            r.name,
            r.owner,
            r.stage.pipeline_id if r.stage else None,
            r.stage.pk if r.stage else None,
            dt_(r.stage_entered_at or r.created_at) if r.stage else None,
            dt_(r.created_at),
            dt_(r.updated_at or r.created_at),
            dt_(r.last_activity_at),
            js(r.props),
        )
        for r in recs
    ]
    _insert(Record, RECORD_COLUMNS, rows)


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


class Generator:
    """The state of one demo build: its random streams, schema, users and each CSM's book."""

    def __init__(self, *, companies: int, seed: int, on_progress, chunk_size: int):
        self.n = companies
        self.seed = seed
        self.rng = random.Random(seed)
        # The daily schedule depends on "now"; its own stream keeps company data independent of it.
        self.schedule_rng = random.Random(f"{seed}/schedule")
        self.on_progress = on_progress or (lambda n: None)
        self.chunk_size = chunk_size
        self.now = clock.now().astimezone(dt.UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.midnight = dt.datetime.combine(self.today, dt.time(), tzinfo=dt.UTC)
        self.days: dict[int, tuple[dt.date, str]] = {}
        self.stride = max(1, math.ceil(companies / DETAILED_LIMIT))
        # Every detailed record is checked; of the rest, a sample (the checks cost ~10 µs each).
        self.check_every = max(1, self.stride // 2)
        self.summary = Summary(companies=companies)
        self.name_counts: Counter = Counter()
        self.book: dict[int, list[Company]] = {}

    # ----------------------------------------------------------------- setup

    def run(self) -> Summary:
        started = time.perf_counter()
        if connection.vendor not in ("sqlite", "postgresql"):
            raise DemoError(f"The demo generator supports SQLite and PostgreSQL, not {connection.vendor}.")
        self._load_schema()
        self.kpi = KpiHistory(self, self.seed)
        with transaction.atomic():
            self._create_users()
        with _indexes_deferred(enabled=self.n >= DEFER_INDEXES_FROM):
            for start in range(0, self.n, self.chunk_size):
                stop = min(self.n, start + self.chunk_size)
                self._write_chunk(start, stop)
                self.on_progress(stop - start)
        with transaction.atomic():
            write_schedules(self)
            manager = next(u for u in self.users.values() if u.manage_cs_settings and not u.is_superuser)
            self.summary.counts["saved views"] += write_default_views(manager, self.types["companies"])
        self.summary.counts.update(usage_demo.generate(seed=self.rng.random(), now=self.now, companies=self.n))
        self.summary.counts.update(self.kpi.write_nps())
        self.summary.counts.update(write_contact_activity(seed=self.seed, now=self.now))
        # Health last: the template profile, active, scored over everything written above.
        health_demo.install(actor_user=self.csms[0][0])
        self.summary.counts.update(write_health_history(seed=self.rng.random(), now=self.now, csm_ids=self.csm_ids))
        self.summary.counts.update(write_demo_notifications(now=self.now))
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
        self.history: list[tuple] = []  # (company Rec, property, old, new, changed_at)
        self.detailed: list[Company] = []
        batch = [self._company(i) for i in range(start, stop)]
        with transaction.atomic():
            _insert_records(batch, self.type_ids)
            self.summary.counts["companies"] += len(batch)
            if self.detailed:
                self._write_details(self.detailed)
            system, js, dt_ = ChangeSource.SYSTEM.value, _json_text, _db_datetime
            history, last_at, at_db = [], None, None
            for rec, name, old, new, at in self.history:
                if at is not last_at:  # owner and csm changes share one instant
                    last_at, at_db = at, dt_(at)
                history.append((rec.id, name, js(old), js(new), at_db, system))
            _insert(PropertyChange, HISTORY_COLUMNS, history)
            self.summary.counts["property changes"] += len(history)
        for c in self.detailed:
            book = self.book.setdefault(c.csm, [])
            if len(book) < BOOK_SIZE:
                book.append(c)
            c.children, c.engagements = [], []  # the book keeps only what it links to

    def _company(self, i: int) -> Rec:
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
        record = Rec("companies", name, csm, min(created_at, self.now), props, last_activity_at=last_activity)
        at_risk_at = self._plan_history(record, csm, cs_stage)
        company = None
        if i % self.stride == 0:
            company = Company(record, region, csm, cs_stage, plan, mrr, start, renewal, domain)
            plan_details(self, company)
            past = [e.created_at for e, _r in company.engagements if e.created_at <= self.now]
            if past:
                record.last_activity_at = max(past)
            self.detailed.append(company)
        self.kpi.plan_company(
            record, cs_stage=cs_stage, start=start, step=MRR_RANGE[plan][2], at_risk_at=at_risk_at, company=company
        )
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

    def at(self, day: dt.date, days: int = 0, minute: int = 9 * 60) -> dt.datetime:
        """A UTC instant on `day` + `days`, `minute` minutes after midnight UTC, never in the future."""
        at = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        return min(at, self.now)

    def _plan_history(self, record: Rec, csm: int, cs_stage: str) -> dt.datetime | None:
        """Owner and CSM assignment, spread over the last 60 days: onboarding accounts were
        assigned when created, the others were handed over from another CSM. Returns when an
        at-risk account became at risk."""
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
            # Drawn for a churn too (whose date `kpi_history` spreads over the months), so that
            # every later draw stays what it was.
            when = max(self.now - dt.timedelta(minutes=60 + int(rnd() * 45 * 24 * 60)), at)
            if cs_stage == "at_risk":
                history.append((record, "cs_stage", "active", cs_stage, when))
                record.updated_at = when
                return when
        return None

    # ----------------------------------------------------------------- contacts, deals, tickets, services

    def record(self, type_name: str, name: str, owner: int, created_at, props: dict, stage: Stage | None = None):
        self._check(type_name, props, stage)
        return Rec(type_name, name, owner, created_at, props, stage)

    def _write_details(self, batch: list[Company]) -> None:
        children = [(c, rec, label) for c in batch for rec, label in c.children]
        _insert_records([rec for _c, rec, _l in children], self.type_ids)
        now = _db_datetime(self.now)
        links = []
        for c, rec, label in children:
            # Stored once per direction, as services.association_link does.
            links.append((c.record.id, rec.id, label, now))
            links.append((rec.id, c.record.id, label, now))
            self.summary.counts[rec.type_name] += 1
        _insert(Association, ASSOCIATION_COLUMNS, links)
        self.summary.counts["associations"] += len(links)
        self.write_engagements([e for c in batch for e in c.engagements])

    def write_engagements(self, engagements: list[tuple]) -> None:
        by_model: dict[type, list[tuple]] = {}
        for engagement, records in engagements:
            by_model.setdefault(type(engagement), []).append((engagement, records))
        for model, items in by_model.items():
            model.objects.bulk_create([e for e, _r in items])
            through = model.records.through
            links = [(e.pk, rec.id) for e, recs in items for rec in recs]
            _insert(through, (model._meta.model_name, "record"), links)
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
