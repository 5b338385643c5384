"""The filter language, checked against an independent plain-Python evaluator.

The evaluator below is written from the documented semantics (tend/crm/filters.py docstring), not
from the compiler: groups are OR-ed and the filters of a group AND-ed; negative operators (NEQ,
NOT_IN, NOT_CONTAINS_TOKEN) also match records without a value; text comparisons ignore case;
IN_LAST_DAYS / IN_NEXT_DAYS count calendar days in the requesting user's time zone, today
included; sorts put missing values last in both directions and break ties by id.

Hypothesis generates search bodies (and, in the second property, the companies too, with many
values missing), and the ids that the database returns, in order, must be exactly those the
evaluator picks. "In the last N days" is read as the N days before today plus today itself, so
N = 0 means today; for a datetime the range ends now ("next": starts now).
"""

import datetime as dt
import functools
import operator
import random
import zoneinfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from tend.core.errors import ValidationFailed
from tend.core.policy import SYSTEM
from tend.crm import filters
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for
from tend.crm.schema import property_create
from tend.crm.services import record_create, record_touch_activity
from tend.directory.services import user_create

UTC = dt.UTC
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")

# --------------------------------------------------------------------------- the test's own model

# Every property a filter may name, with its type as the docs describe it (the hot columns first).
TYPES = {
    "name": "text",
    "owner": "user",
    "pipeline": "pipeline",
    "stage": "stage",
    "created_at": "datetime",
    "updated_at": "datetime",
    "last_activity_at": "datetime",
    "country": "text",
    "city": "text",
    "employees": "number",
    "nps": "number",
    "mrr": "currency",
    "renewal_date": "date",
    "contract_start_date": "date",
    "cs_stage": "enumeration",
    "contract_plan": "enumeration",
    "csm": "user",
    # custom properties, created by the fixture
    "features": "multi_enumeration",
    "reference": "boolean",
    "last_login_at": "datetime",
    "notes": "long_text",
}
SEARCHED = ["name", "country", "city"]  # the primary name and the single-line text properties in use

BASIC = {"EQ", "NEQ", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}
ORDERED = {"LT", "LTE", "GT", "GTE", "BETWEEN"}
SETS = {"IN", "NOT_IN"}
TOKENS = {"CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
RELATIVE = {"IN_LAST_DAYS", "IN_NEXT_DAYS"}
OPERATORS = {
    "text": BASIC | SETS | TOKENS,
    "long_text": BASIC | TOKENS,
    "number": BASIC | ORDERED | SETS,
    "currency": BASIC | ORDERED | SETS,
    "date": BASIC | ORDERED | RELATIVE,
    "datetime": BASIC | ORDERED | RELATIVE,
    "boolean": BASIC,
    "enumeration": BASIC | SETS,
    "multi_enumeration": BASIC | SETS,
    "user": BASIC | SETS | {"IS_ME", "IN_MY_TEAM"},
    "pipeline": BASIC | SETS,
    "stage": BASIC | SETS,
}
ALL_OPERATORS = sorted(set().union(*OPERATORS.values()))
POSITIVE = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
COMPARE = {"LT": operator.lt, "LTE": operator.le, "GT": operator.gt, "GTE": operator.ge}
SORTABLE = [
    "employees",
    "nps",
    "mrr",
    "renewal_date",
    "contract_start_date",
    "last_login_at",
    "reference",
    "owner",
    "created_at",
    "last_activity_at",
]

CS_STAGES = ["onboarding", "active", "at_risk", "churned"]
PLANS = ["starter", "growth", "enterprise"]
# '_' is a LIKE wildcard ('axb' would match 'a_b' unescaped), and 'a' is part of three others.
FEATURES = ["a", "a_b", "axb", "A.B", "b-c"]

# Text is restricted to ASCII because SQLite's LOWER/UPPER and LIKE fold only ASCII letters, so
# "ignore case" is all the database can promise for other scripts on the embedded setup.
# '%', '_' and '\' are LIKE metacharacters and must match only themselves.
TEXT_ALPHABET = "aAbB1 _%\\"
BASE_DAY = dt.date(2025, 3, 10)
ZONES = [UTC, TOKYO, NEW_YORK]
# Local times on either side of midnight, with and without a fraction of a second.
LOCAL_TIMES = [
    dt.time(0, 0),
    dt.time(0, 0, 0, 250_000),
    dt.time(9, 30),
    dt.time(23, 59, 59),
    dt.time(23, 59, 59, 750_000),
]
# Frozen "now"s around New York's switch to EDT (2025-03-09 02:00 local): two at which Tokyo is
# already a day ahead of New York, one a second before Tokyo's midnight, one at New York's.
NOWS = [
    dt.datetime(2025, 3, 10, 16, 0, tzinfo=UTC),  # Tokyo Tue 01:00, New York Mon 12:00
    dt.datetime(2025, 3, 9, 6, 30, tzinfo=UTC),  # Tokyo Sun 15:30, New York Sun 01:30 EST
    dt.datetime(2025, 3, 10, 14, 59, 59, tzinfo=UTC),  # Tokyo Mon 23:59:59, New York Mon 10:59:59
    dt.datetime(2025, 3, 11, 4, 0, tzinfo=UTC),  # Tokyo Tue 13:00, New York Tue 00:00 EDT
]


def test_the_operator_table_is_the_documented_one():
    assert {str(k): set(v) for k, v in filters.OPERATORS_BY_TYPE.items()} == OPERATORS


# --------------------------------------------------------------------------- canonical values


def canon(kind: str, raw):
    """A raw filter or property value as the evaluator compares it."""
    match kind:
        case "number" | "currency":
            return float(raw)
        case "date":
            return dt.date.fromisoformat(raw)
        case "datetime":
            # Values carry whole seconds; an offset is only a way of writing the instant.
            return dt.datetime.fromisoformat(raw).astimezone(UTC).replace(microsecond=0)
        case "boolean":
            return raw if isinstance(raw, bool) else raw.lower() == "true"
        case "user" | "pipeline" | "stage":
            return int(raw)
    return raw


def equal(kind: str, value, wanted) -> bool:
    if kind in ("text", "long_text"):
        return value.lower() == wanted.lower()
    if kind == "multi_enumeration":
        return wanted in value
    return value == wanted


def token_of(raw: str) -> str:
    return raw.replace("*", "").strip()


class Expect:
    """What the evaluator needs besides the records: who asks, when, and in which zone."""

    def __init__(self, *, me, now):
        self.me = me
        self.now = now
        self.tz = zoneinfo.ZoneInfo(me.time_zone)
        self.today = now.astimezone(self.tz).date()
        # The workspace fixture's reporting lines: Nora reports to Tomo, Uma to Nora.
        chain = ["tokyo@example.com", "ny@example.com", "utc@example.com"]
        below = chain[chain.index(me.email) :]
        self.team = set(type(me).objects.filter(email__in=below).values_list("pk", flat=True))


def holds(view: dict, f: dict, ctx: Expect) -> bool:
    name, op = f["propertyName"], f["operator"]
    kind = TYPES[name]
    value = view[name]
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NOT_HAS_PROPERTY":
        return value is None
    if op in POSITIVE:
        return not holds(view, {**f, "operator": POSITIVE[op]}, ctx)
    if value is None:
        return False
    if op == "IS_ME":
        return value == ctx.me.pk
    if op == "IN_MY_TEAM":
        return value in ctx.team
    if op == "EQ":
        return equal(kind, value, canon(kind, f["value"]))
    if op == "IN":
        return any(equal(kind, value, canon(kind, raw)) for raw in f["values"])
    if op == "CONTAINS_TOKEN":
        return token_of(f["value"]).lower() in value.lower()
    if op in COMPARE:
        return COMPARE[op](value, canon(kind, f["value"]))
    if op == "BETWEEN":
        return canon(kind, f["value"]) <= value <= canon(kind, f["highValue"])
    days = int(f["value"])
    day = value if kind == "date" else value.astimezone(ctx.tz).date()
    if op == "IN_LAST_DAYS":
        in_days = ctx.today - dt.timedelta(days=days) <= day <= ctx.today
        return in_days and (kind == "date" or value <= ctx.now)
    assert op == "IN_NEXT_DAYS"
    in_days = ctx.today <= day <= ctx.today + dt.timedelta(days=days)
    return in_days and (kind == "date" or value >= ctx.now)


def expected_errors(body: dict) -> list[str]:
    """The fields a valid compiler must reject (the generator makes only these two mistakes)."""
    fields = []
    for gi, group in enumerate(body.get("filterGroups", [])):
        for fi, f in enumerate(group["filters"]):
            where = f"filterGroups[{gi}].filters[{fi}]"
            if f["operator"] not in OPERATORS[TYPES[f["propertyName"]]]:
                fields.append(f"{where}.operator")
            elif f["operator"] in TOKENS and not token_of(f["value"]):
                fields.append(f"{where}.value")
    return fields


def matching_ids(views: list[dict], body: dict, ctx: Expect) -> list[int]:
    groups = body.get("filterGroups", [])
    chosen = [v for v in views if not groups or any(all(holds(v, f, ctx) for f in g["filters"]) for g in groups)]
    query = body.get("query")
    if query not in (None, ""):
        needle = query.strip().lower()
        chosen = [v for v in chosen if any(v[n] is not None and needle in v[n].lower() for n in SEARCHED)]

    def compare(a, b):
        for sort in body.get("sorts", []):
            x, y = a[sort["propertyName"]], b[sort["propertyName"]]
            if x == y:
                continue
            if x is None or y is None:
                return -1 if y is None else 1  # missing last, whatever the direction
            sign = -1 if sort["direction"] == "DESCENDING" else 1
            return sign * (-1 if x < y else 1)
        return a["id"] - b["id"]

    return [v["id"] for v in sorted(chosen, key=functools.cmp_to_key(compare))]


# --------------------------------------------------------------------------- generators
#
# One set of generators serves two masters: Hypothesis (through `data.draw`, so that failures
# shrink) and a seeded random.Random (for the fixed data set that the cheap examples search).


class Draws:
    def __init__(self, data):
        self.data = data

    def choice(self, seq):
        return self.data.draw(st.sampled_from(list(seq)))

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))


class Seeded:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def choice(self, seq):
        return self.rng.choice(list(seq))

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


def flip(c) -> bool:
    return c.integer(0, 1) == 1


def maybe(c, make):
    """A value two times in three, else None (missing)."""
    return None if c.integer(0, 2) == 0 else make()


def a_text(c, alphabet: str = TEXT_ALPHABET, longest: int = 3) -> str:
    text = "".join(c.choice(alphabet) for _ in range(c.integer(1, longest)))
    # Blank text means "no value" (values.is_empty), so generated values always have a letter.
    return text if text.strip() else "a" + text


def an_instant(c) -> dt.datetime:
    day = BASE_DAY + dt.timedelta(days=c.integer(-4, 4))
    return dt.datetime.combine(day, c.choice(LOCAL_TIMES), tzinfo=c.choice(ZONES)).astimezone(UTC)


def written(c, instant: dt.datetime) -> str:
    """An instant as a client may write it: in any zone, fraction and all."""
    return instant.astimezone(c.choice(ZONES)).isoformat()


def a_number(c):
    n = c.integer(0, 6)
    return str(n) if flip(c) else n


def an_amount(c):
    amount = c.integer(-2, 6) * 0.25  # exact in binary: no rounding question here
    return str(amount) if flip(c) else amount


def a_day(c) -> str:
    return (BASE_DAY + dt.timedelta(days=c.integer(-6, 6))).isoformat()


def a_user(c, user_ids):
    user_id = c.choice(user_ids)
    return str(user_id) if flip(c) else user_id


def make_company(c, user_ids: list[int]) -> tuple:
    """(name, owner, created_at, last_activity_at, properties as a client sends them)."""
    features = [c.choice(FEATURES) for _ in range(c.integer(0, 3))]
    properties = {
        "country": maybe(c, lambda: a_text(c)),
        "city": maybe(c, lambda: a_text(c)),
        "employees": maybe(c, lambda: a_number(c)),
        "nps": maybe(c, lambda: c.choice([0, 3, 7, 7.5, 10])),
        "mrr": maybe(c, lambda: an_amount(c)),
        "renewal_date": maybe(c, lambda: a_day(c)),
        "contract_start_date": maybe(c, lambda: a_day(c)),
        "cs_stage": maybe(c, lambda: c.choice(CS_STAGES)),
        "contract_plan": maybe(c, lambda: c.choice(PLANS)),
        "csm": maybe(c, lambda: a_user(c, user_ids)),
        "features": (";".join(features) if flip(c) else features) if features else None,  # list, or the CSV form
        "reference": maybe(c, lambda: c.choice([True, False, "true", "False"])),
        "last_login_at": maybe(c, lambda: written(c, an_instant(c))),
        "notes": maybe(c, lambda: a_text(c, TEXT_ALPHABET + "\n", 5)),
    }
    return (
        a_text(c),
        maybe(c, lambda: c.choice(user_ids)),
        an_instant(c),
        maybe(c, lambda: an_instant(c)),
        {k: v for k, v in properties.items() if v is not None},
    )


def view_of(record_id: int, company) -> dict:
    """The record as the evaluator sees it: canonical values, None when missing."""
    name, owner, created_at, last_activity_at, properties = company
    view = dict.fromkeys(TYPES)
    view.update(
        id=record_id,
        name=name,
        owner=owner,
        created_at=created_at,
        updated_at=created_at,
        last_activity_at=last_activity_at,
    )
    for key, raw in properties.items():
        kind = TYPES[key]
        if kind == "multi_enumeration":
            view[key] = set(raw.split(";") if isinstance(raw, str) else raw)
        else:
            view[key] = canon(kind, raw)
    return view


def value_pool(views: list[dict]) -> dict[str, list]:
    """The values present in the data, so that filters often hit (and nearly hit) them."""
    pool = {}
    for name, kind in TYPES.items():
        present = [v[name] for v in views if v[name] is not None]
        if kind == "multi_enumeration":
            present = [option for options in present for option in options]
        pool[name] = sorted(set(present))
    return pool


def recase(c, text: str) -> str:
    return "".join(ch.swapcase() if flip(c) else ch for ch in text)


def a_value(c, name: str, user_ids: list[int], pool: dict[str, list]):
    """A raw value a client may send for `name`: one near a value in the data, or a fresh one."""
    kind = TYPES[name]
    if pool[name] and flip(c):
        value = c.choice(pool[name])
        match kind:
            case "text" | "long_text":
                return recase(c, value)
            case "date":
                return value.isoformat()
            case "datetime":
                return written(c, value)
        return value
    match kind:
        case "text":
            return a_text(c)
        case "long_text":
            return a_text(c, TEXT_ALPHABET + "\n", 5)
        case "number":
            return a_number(c)
        case "currency":
            return an_amount(c)
        case "date":
            return a_day(c)
        case "datetime":
            return written(c, an_instant(c))
        case "boolean":
            return c.choice([True, False, "true", "FALSE"])
        case "enumeration":
            return c.choice(CS_STAGES if name == "cs_stage" else PLANS)
        case "multi_enumeration":
            return c.choice(FEATURES)
        case "user":
            return a_user(c, [*user_ids, 987_654])
    return c.integer(1, 4)  # pipeline, stage: companies have none


def a_token(c, name: str, pool: dict[str, list]) -> str:
    """A piece of a value in the data (any case, maybe with '*'), or fresh text; may be blank."""
    text = c.choice(pool[name]) if pool[name] and flip(c) else a_text(c, TEXT_ALPHABET + "*")
    start = c.integer(0, len(text) - 1)
    token = recase(c, text[start : c.integer(start + 1, len(text))])
    return c.choice(["", "*"]) + token + c.choice(["", "*", " "])


def a_filter(c, user_ids: list[int], pool: dict[str, list]) -> dict:
    name = c.choice(TYPES)
    kind = TYPES[name]
    if c.integer(0, 24) == 0:  # now and then an operator the type does not have
        return {"propertyName": name, "operator": c.choice(sorted(set(ALL_OPERATORS) - OPERATORS[kind]))}
    op = c.choice(sorted(OPERATORS[kind]))
    f = {"propertyName": name, "operator": op}
    if op in SETS:
        f["values"] = [a_value(c, name, user_ids, pool) for _ in range(c.integer(1, 3))]
    elif op in RELATIVE:
        n = c.integer(0, 4)
        f["value"] = str(n) if flip(c) else n
    elif op in TOKENS:
        f["value"] = a_token(c, name, pool)
    elif op == "BETWEEN":
        pair = [a_value(c, name, user_ids, pool) for _ in range(2)]
        f["value"], f["highValue"] = sorted(pair, key=lambda raw: canon(kind, raw))
    elif op not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY", "IS_ME", "IN_MY_TEAM"):
        f["value"] = a_value(c, name, user_ids, pool)
    return f


def a_body(c, user_ids: list[int], pool: dict[str, list]) -> dict:
    body = {}
    groups = c.choice([0, 1, 1, 1, 1, 2, 3])
    if groups:
        body["filterGroups"] = [
            {"filters": [a_filter(c, user_ids, pool) for _ in range(c.choice([1, 1, 1, 2, 3]))]} for _ in range(groups)
        ]
    sorts = [c.choice(SORTABLE) for _ in range(c.choice([0, 0, 1, 1, 2]))]
    if sorts:
        body["sorts"] = [
            {"propertyName": s, "direction": c.choice(["ASCENDING", "DESCENDING"])} for s in dict.fromkeys(sorts)
        ]
    if c.integer(0, 3) == 0:
        body["query"] = c.choice(["", " ", "a", "B", "1", " a", "ab", "A1"])
    return body


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def workspace(db, companies):
    """Three users in different zones and the custom properties the generator uses."""
    users = [
        user_create(email="tokyo@example.com", full_name="Tomo", time_zone="Asia/Tokyo", has_service_seat=True),
        user_create(email="ny@example.com", full_name="Nora", time_zone="America/New_York"),
        user_create(email="utc@example.com", full_name="Uma", time_zone="UTC"),
    ]
    users[1].manager, users[2].manager = users[0], users[1]
    for user in users[1:]:
        user.save(update_fields=["manager"])
    custom = [
        ("features", "multi_enumeration", FEATURES),
        ("reference", "boolean", None),
        ("last_login_at", "datetime", None),
        ("notes", "long_text", None),
    ]
    for name, prop_type, options in custom:
        property_create(actor=SYSTEM, object_type=companies, name=name, label=name, type=prop_type, options=options)
    return users


def create_companies(object_type: ObjectType, companies_: list) -> list[dict]:
    """Create through the service (created_at is the clock's time) and return their views."""
    views = []
    for company_ in companies_:
        name, owner, created_at, last_activity_at, properties = company_
        with time_machine.travel(created_at, tick=False):
            record = record_create(
                actor=SYSTEM, object_type=object_type, properties={"name": name, "owner": owner, **properties}
            )
        if last_activity_at is not None:
            record_touch_activity(record_ids=[record.pk], at=last_activity_at)
        views.append(view_of(record.pk, company_))
    return views


@pytest.fixture
def dataset(workspace, companies):
    """60 seeded companies, plus some created in the last and first second of days in each zone."""
    c = Seeded(20250310)
    user_ids = [u.pk for u in workspace]
    rows = [make_company(c, user_ids) for _ in range(60)]
    for zone in ZONES:
        for n in range(-1, 3):
            day = BASE_DAY + dt.timedelta(days=n)
            for time in (dt.time(23, 59, 59, 999_999), dt.time(0, 0)):
                created_at = dt.datetime.combine(day, time, tzinfo=zone).astimezone(UTC)
                rows.append((a_text(c), None, created_at, created_at, {}))
    return Views(create_companies(companies, rows))


class Views(list):
    def __repr__(self) -> str:  # keep Hypothesis' failure report readable
        return f"<{len(self)} companies>"


def search(body: dict, object_type: ObjectType, me) -> list[int]:
    compiled = compile_search(body, registry_for(object_type), user=me)
    return list(compiled.apply(Record.objects.filter(object_type=object_type)).values_list("id", flat=True))


def check(body: dict, views: list[dict], object_type: ObjectType, me, now: dt.datetime) -> None:
    note(f"search {body!r} by {me.time_zone} at {now.isoformat()}")
    errors = expected_errors(body)
    with time_machine.travel(now, tick=False):
        if errors:
            with pytest.raises(ValidationFailed) as excinfo:
                search(body, object_type, me)
            assert [e.field for e in excinfo.value.errors] == errors
        else:
            expected = matching_ids(views, body, Expect(me=me, now=now))
            event("selected " + ("none" if not expected else "all" if len(expected) == len(views) else "some"))
            assert search(body, object_type, me) == expected, body


# --------------------------------------------------------------------------- the properties

HYPOTHESIS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=500, **HYPOTHESIS)
@given(data=st.data())
def test_searching_fixed_data_selects_what_the_semantics_say(dataset, workspace, companies, data):
    c = Draws(data)
    user_ids = [u.pk for u in workspace]
    body = a_body(c, user_ids, value_pool(dataset))
    check(body, dataset, companies, me=c.choice(workspace), now=c.choice(NOWS))


@settings(max_examples=80, **HYPOTHESIS)
@given(data=st.data())
def test_searching_generated_data_selects_what_the_semantics_say(workspace, companies, data):
    c = Draws(data)
    user_ids = [u.pk for u in workspace]
    rows = [make_company(c, user_ids) for _ in range(c.integer(0, 10))]
    with transaction.atomic():
        views = create_companies(companies, rows)
        pool = value_pool(views)
        for _ in range(c.integer(1, 6)):
            check(a_body(c, user_ids, pool), views, companies, me=c.choice(workspace), now=c.choice(NOWS))
        transaction.set_rollback(True)


# --------------------------------------------------------------------------- examples


@pytest.fixture
def me(db):
    return user_create(email="me@example.com", full_name="Me", has_service_seat=True)


def company(object_type, name, **properties):
    return record_create(actor=SYSTEM, object_type=object_type, properties={"name": name, **properties})


def names(body, object_type, me) -> list[str]:
    ids = search(body, object_type, me)
    by_id = dict(Record.objects.filter(pk__in=ids).values_list("id", "name"))
    return [by_id[i] for i in ids]


def one(name, op, value=None, **extra) -> dict:
    f = {"propertyName": name, "operator": op, **extra}
    if value is not None:
        f["value"] = value
    return {"filterGroups": [{"filters": [f]}]}


@pytest.mark.django_db
class TestRelativeDatesFollowTheUsersZone:
    """At 2025-03-10T16:00Z it is already Tuesday 11 March in Tokyo but Monday 10 March in New York."""

    NOW = dt.datetime(2025, 3, 10, 16, 0, tzinfo=UTC)

    @pytest.fixture
    def people(self, workspace):
        tokyo, new_york, _utc = workspace
        return tokyo, new_york

    @pytest.fixture(autouse=True)
    def frozen(self):
        with time_machine.travel(self.NOW, tick=False):
            yield

    @pytest.fixture
    def renewals(self, companies):
        for day in ["2025-03-02", "2025-03-03", "2025-03-04", "2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13"]:
            company(companies, day, renewal_date=day)

    @pytest.fixture
    def logins(self, companies):
        for at in [
            "2025-03-03T04:00:00Z",  # Tokyo 3 Mar 13:00, New York 2 Mar 23:00
            "2025-03-03T15:30:00Z",  # Tokyo 4 Mar 00:30, New York 3 Mar 10:30
            "2025-03-10T14:30:00Z",  # Tokyo 10 Mar 23:30 (yesterday), New York 10 Mar 10:30 (today)
            "2025-03-10T15:59:59Z",  # one second ago
            "2025-03-10T16:00:01Z",  # in one second
            "2025-03-11T03:59:59Z",  # Tokyo 11 Mar 12:59, New York 10 Mar 23:59:59
            "2025-03-11T04:00:00Z",  # Tokyo 11 Mar 13:00, New York 11 Mar 00:00
            "2025-03-11T15:00:00Z",  # Tokyo 12 Mar 00:00, New York 11 Mar 11:00
        ]:
            company(companies, at, last_login_at=at)

    def test_dates_in_the_last_days(self, companies, people, renewals):
        tokyo, new_york = people
        body = one("renewal_date", "IN_LAST_DAYS", 7)
        assert names(body, companies, tokyo) == ["2025-03-04", "2025-03-10", "2025-03-11"]
        assert names(body, companies, new_york) == ["2025-03-03", "2025-03-04", "2025-03-10"]

    def test_dates_in_the_next_days(self, companies, people, renewals):
        tokyo, new_york = people
        assert names(one("renewal_date", "IN_NEXT_DAYS", 0), companies, tokyo) == ["2025-03-11"]
        assert names(one("renewal_date", "IN_NEXT_DAYS", 0), companies, new_york) == ["2025-03-10"]
        assert names(one("renewal_date", "IN_NEXT_DAYS", "2"), companies, tokyo) == [
            "2025-03-11",
            "2025-03-12",
            "2025-03-13",
        ]
        assert names(one("renewal_date", "IN_NEXT_DAYS", "2"), companies, new_york) == [
            "2025-03-10",
            "2025-03-11",
            "2025-03-12",
        ]

    def test_datetimes_in_the_last_days_end_now(self, companies, people, logins):
        tokyo, new_york = people
        body = one("last_login_at", "IN_LAST_DAYS", 7)
        in_both = ["2025-03-03T15:30:00Z", "2025-03-10T14:30:00Z", "2025-03-10T15:59:59Z"]
        assert names(body, companies, tokyo) == in_both
        assert names(body, companies, new_york) == in_both
        assert names(one("last_login_at", "IN_LAST_DAYS", 0), companies, tokyo) == ["2025-03-10T15:59:59Z"]
        assert names(one("last_login_at", "IN_LAST_DAYS", 0), companies, new_york) == [
            "2025-03-10T14:30:00Z",
            "2025-03-10T15:59:59Z",
        ]

    def test_datetimes_in_the_next_days_start_now(self, companies, people, logins):
        tokyo, new_york = people
        assert names(one("last_login_at", "IN_NEXT_DAYS", 0), companies, tokyo) == [
            "2025-03-10T16:00:01Z",
            "2025-03-11T03:59:59Z",
            "2025-03-11T04:00:00Z",
        ]
        assert names(one("last_login_at", "IN_NEXT_DAYS", 0), companies, new_york) == [
            "2025-03-10T16:00:01Z",
            "2025-03-11T03:59:59Z",
        ]
        assert names(one("last_login_at", "IN_NEXT_DAYS", 1), companies, new_york) == [
            "2025-03-10T16:00:01Z",
            "2025-03-11T03:59:59Z",
            "2025-03-11T04:00:00Z",
            "2025-03-11T15:00:00Z",
        ]

    def test_a_column_includes_the_last_fraction_of_the_last_day(self, companies, people):
        tokyo, _new_york = people
        last_instant = dt.datetime(2025, 3, 11, 23, 59, 59, 999_999, tzinfo=TOKYO)
        with time_machine.travel(last_instant, tick=False):
            company(companies, "late")
        with time_machine.travel(last_instant + dt.timedelta(microseconds=1), tick=False):
            company(companies, "next day")
        assert names(one("created_at", "IN_NEXT_DAYS", 0), companies, tokyo) == ["late"]


@pytest.mark.django_db
class TestExamples:
    def test_negative_operators_match_records_without_a_value(self, companies, me):
        company(companies, "Berlin", country="Germany", csm=me.pk, cs_stage="active")
        company(companies, "Nowhere")

        assert names(one("country", "NEQ", "germany"), companies, me) == ["Nowhere"]
        assert names(one("cs_stage", "NOT_IN", values=["churned"]), companies, me) == ["Berlin", "Nowhere"]
        assert names(one("country", "NOT_CONTAINS_TOKEN", "MAN"), companies, me) == ["Nowhere"]
        assert names(one("csm", "IS_ME"), companies, me) == ["Berlin"]
        assert names(one("csm", "NOT_HAS_PROPERTY"), companies, me) == ["Nowhere"]

    def test_multi_enumeration_option_values_match_whole_options(self, companies, me):
        property_create(
            actor=SYSTEM, object_type=companies, name="features", label="F", type="multi_enumeration", options=FEATURES
        )
        company(companies, "underscore", features=["a_b"])
        company(companies, "x", features="axb;A.B")
        company(companies, "none")

        assert names(one("features", "EQ", "a_b"), companies, me) == ["underscore"]
        assert names(one("features", "EQ", "a"), companies, me) == []
        assert names(one("features", "IN", values=["axb", "b-c"]), companies, me) == ["x"]
        assert names(one("features", "NEQ", "A.B"), companies, me) == ["underscore", "none"]
        assert names(one("features", "NOT_IN", values=["a_b", "axb"]), companies, me) == ["none"]

    def test_sorting_puts_missing_values_last_in_both_directions(self, companies, me):
        for name, mrr in [("a", 10), ("b", None), ("c", 2.5), ("d", 10), ("e", None)]:
            company(companies, name, **({"mrr": mrr} if mrr is not None else {}))

        def order(direction):
            return names({"sorts": [{"propertyName": "mrr", "direction": direction}]}, companies, me)

        assert order("ASCENDING") == ["c", "a", "d", "b", "e"]
        assert order("DESCENDING") == ["a", "d", "c", "b", "e"]

    def test_query_searches_the_name_and_text_properties(self, companies, me):
        company(companies, "Acme", city="Lyon")
        company(companies, "Globex", country="France")
        company(companies, "Initech")

        assert names({"query": " acme "}, companies, me) == ["Acme"]
        assert names({"query": "LYON"}, companies, me) == ["Acme"]
        assert (
            names(
                {"query": "an", "filterGroups": [{"filters": [{"propertyName": "city", "operator": "HAS_PROPERTY"}]}]},
                companies,
                me,
            )
            == []
        )


def rejected(body, user=None) -> list[tuple[str, str, str]]:
    companies = ObjectType.objects.get(name="companies")
    with pytest.raises(ValidationFailed) as excinfo:
        compile_search(body, registry_for(companies), user=user)
    assert excinfo.value.detail == excinfo.value.errors[0].message
    return [(e.field, e.message, e.code) for e in excinfo.value.errors]


@pytest.mark.django_db
class TestValidation:
    def test_every_mistake_is_named_by_its_path_and_reported_together(self, me):
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "colour", "operator": "EQ", "value": "red"},
                        {"propertyName": "mrr", "operator": "CONTAINS_TOKEN", "value": "1"},
                        {"propertyName": "mrr", "operator": "EQ", "value": "lots"},
                    ]
                },
                {
                    "filters": [
                        {"propertyName": "employees", "operator": "BETWEEN", "value": 10},
                        {
                            "propertyName": "renewal_date",
                            "operator": "BETWEEN",
                            "value": "2026-05-01",
                            "highValue": "2026-04-30",
                        },
                        {"propertyName": "cs_stage", "operator": "IN", "values": []},
                    ]
                },
            ]
        }
        assert rejected(body, me) == [
            ("filterGroups[0].filters[0].propertyName", "Unknown property colour.", "unknown_property"),
            (
                "filterGroups[0].filters[1].operator",
                "Operator CONTAINS_TOKEN does not apply to mrr (a currency property).",
                "invalid_operator",
            ),
            ("filterGroups[0].filters[2].value", "Enter a number.", "invalid"),
            ("filterGroups[1].filters[0].highValue", "Enter a value to compare with.", "required"),
            ("filterGroups[1].filters[1].highValue", "highValue must not be below value.", "invalid"),
            ("filterGroups[1].filters[2].values", "Enter a non-empty list of values.", "required"),
        ]

    @pytest.mark.parametrize(
        ("f", "field", "message"),
        [
            ({"propertyName": "mrr", "operator": "LIKE", "value": 1}, ".operator", "Unknown operator LIKE."),
            (
                {"propertyName": "country", "operator": "LT", "value": "a"},
                ".operator",
                "Operator LT does not apply to country (a text property).",
            ),
            (
                {"propertyName": "owner", "operator": "IN_LAST_DAYS", "value": 1},
                ".operator",
                "Operator IN_LAST_DAYS does not apply to owner (a user property).",
            ),
            ({"operator": "EQ", "value": 1}, ".propertyName", "Unknown property None."),
            ({"propertyName": "country", "operator": "EQ"}, ".value", "Enter a value to compare with."),
            ({"propertyName": "country", "operator": "EQ", "value": ""}, ".value", "Enter a value to compare with."),
            (
                {"propertyName": "country", "operator": "CONTAINS_TOKEN", "value": " * "},
                ".value",
                "Enter some text to look for.",
            ),
            (
                {"propertyName": "cs_stage", "operator": "EQ", "value": "gone"},
                ".value",
                "Choose one of: onboarding, active, at_risk, churned.",
            ),
            (
                {"propertyName": "cs_stage", "operator": "IN", "values": ["active", "gone"]},
                ".values[1]",
                "Choose one of: onboarding, active, at_risk, churned.",
            ),
            (
                {"propertyName": "cs_stage", "operator": "IN", "values": "active"},
                ".values",
                "Enter a non-empty list of values.",
            ),
            (
                {"propertyName": "renewal_date", "operator": "GT", "value": "01/05/2026"},
                ".value",
                "Enter a date as YYYY-MM-DD.",
            ),
            (
                {"propertyName": "created_at", "operator": "GT", "value": "2026-05-01T00:00:00"},
                ".value",
                "Include a time zone offset, e.g. 2026-05-01T09:30:00+02:00 or …Z.",
            ),
            (
                {"propertyName": "renewal_date", "operator": "IN_LAST_DAYS", "value": -1},
                ".value",
                "Enter a number of days from 0 to 36500.",
            ),
            (
                {"propertyName": "renewal_date", "operator": "IN_LAST_DAYS", "value": 36_501},
                ".value",
                "Enter a number of days from 0 to 36500.",
            ),
            (
                {"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": "a week"},
                ".value",
                "Enter a whole number of days.",
            ),
            (
                {"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": True},
                ".value",
                "Enter a whole number of days.",
            ),
            ({"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS"}, ".value", "Enter a whole number of days."),
            ({"propertyName": "owner", "operator": "EQ", "value": 2.5}, ".value", "Enter a user id."),
            ({"propertyName": "owner", "operator": "EQ", "value": 10**20}, ".value", "Enter a user id."),
            ({"propertyName": "pipeline", "operator": "EQ", "value": True}, ".value", "Enter a pipeline id."),
            ({"propertyName": "stage", "operator": "IN", "values": [1, 10**20]}, ".values[1]", "Enter a stage id."),
            ({"propertyName": "stage", "operator": "EQ", "value": float("inf")}, ".value", "Enter a stage id."),
            (
                {"propertyName": "reference_x", "operator": "EQ", "value": True},
                ".propertyName",
                "Unknown property reference_x.",
            ),
        ],
    )
    def test_a_bad_filter(self, me, f, field, message):
        [(got_field, got_message, _code)] = rejected({"filterGroups": [{"filters": [f]}]}, me)
        assert (got_field, got_message) == (f"filterGroups[0].filters[0]{field}", message)

    def test_is_me_needs_a_signed_in_user(self):
        assert rejected(one("owner", "IS_ME")) == [
            ("filterGroups[0].filters[0].operator", "IS_ME needs a signed-in user.", "invalid")
        ]

    def test_bad_sorts_and_query(self, me, companies):
        property_create(
            actor=SYSTEM, object_type=companies, name="features", label="F", type="multi_enumeration", options=FEATURES
        )
        body = {
            "sorts": [
                {"propertyName": "colour"},
                {"propertyName": "features"},
                {"propertyName": "mrr", "direction": "UP"},
            ],
            "query": "x" * 201,
        }
        assert rejected(body, me) == [
            ("sorts[0].propertyName", "Unknown property colour.", "unknown_property"),
            ("sorts[1].propertyName", "features cannot be sorted on.", "invalid"),
            ("sorts[2].direction", "direction must be ASCENDING or DESCENDING.", "invalid"),
            ("query", "query must be text of at most 200 characters.", "invalid"),
        ]

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"filterGroups": "x"}, "filterGroups", "filterGroups must be a list."),
            (
                {"filterGroups": [{"filters": {}}]},
                "filterGroups[0].filters",
                "Each filter group needs a list of filters.",
            ),
            (
                {"filterGroups": [{"filters": [{}] * 26}]},
                "filterGroups[0].filters",
                "Use at most 25 filters in a group.",
            ),
            (
                {"filterGroups": [{"filters": [["EQ"]]}]},
                "filterGroups[0].filters[0]",
                "Each filter must be an object with propertyName and operator.",
            ),
            ({"sorts": [{}] * 4}, "sorts", "sorts must be a list of at most 3 items."),
            ({"query": 12}, "query", "query must be text of at most 200 characters."),
        ],
    )
    def test_a_bad_shape(self, me, body, field, message):
        assert rejected(body, me)[0][:2] == (field, message)

    def test_too_many_groups(self, me):
        group = {"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}
        assert rejected({"filterGroups": [group] * 11}, me) == [
            ("filterGroups", "Use at most 10 filter groups.", "invalid")
        ]

    def test_a_body_that_is_not_an_object(self, me):
        assert rejected(["filterGroups"], me) == [("body", "The search body must be a JSON object.", "invalid")]
