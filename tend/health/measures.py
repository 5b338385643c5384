"""Measuring accounts, set-based: for a chunk of accounts (an id range of customer records), each
source answers with one aggregate query grouped by account — usage rollups, active users,
meetings, tickets, survey answers, associated records and the record's own properties — and the
criteria read their values from those answers. Nothing here loops over accounts with queries.

Data presence ("missing data is not zero"): usage measures have no data for an account that sent
no usage at all in the last `USAGE_LOOKBACK_DAYS` (an account that is tracked but quiet has 0);
a trend has no data when the earlier period is empty; meeting attendance when no meeting was held
in the window; CSAT when no ticket of the window is rated; NPS when there is no answer; property
measures when the property is empty. Ticket counts and open-ticket age always have data.
"""

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection
from django.db.models import Avg, Count, F, FloatField, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KT, KeyTextTransform
from django.db.models.functions import Cast

from tend.core import bulk
from tend.crm.models import Association, ObjectType, Record
from tend.engagement.models import Meeting
from tend.usage.models import DailyActiveUser, DailyUsage, SurveyResponse

from .definitions.catalogue import measure_value_kind
from .scoring import NO_DATA

USAGE_LOOKBACK_DAYS = 365


def _to_number(raw):
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _to_date(raw) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def fetch_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` query as the driver returns them: no per-row ORM converters, which
    cost more than the aggregate itself at 100k accounts. Only for columns the driver already
    returns as Python wants them (ids, counts, sums, JSON text)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class UsageSpec(NamedTuple):
    """An aggregate of the daily usage rollups over [first_day, last_day]."""

    aggregate: str  # "sum" of the counts, or "distinct" events
    events: tuple | list | None  # None: every event
    first_day: dt.date
    last_day: dt.date | None = None  # None: up to today


class Chunk:
    """The accounts with ids in [low, high] (only `ids` are scored) and everything measured about
    them, each source queried once and cached."""

    def __init__(self, ids: Iterable[int], *, now: dt.datetime, customer_type: ObjectType):
        self.ids = sorted(set(ids))
        self.low = self.ids[0] if self.ids else 0
        self.high = self.ids[-1] if self.ids else -1
        self.now = now
        self.today = now.astimezone(dt.UTC).date()
        self.customer_type = customer_type
        self._cache: dict = {}
        self._wanted_usage: dict[str, tuple] = {}

    # ------------------------------------------------------------------ helpers

    def _range(self, field: str) -> Q:
        """The chunk's accounts: an id range when they are dense (a full recompute), else the ids."""
        if len(self.ids) * 4 < (self.high - self.low + 1):
            return Q(**{f"{field}__in": self.ids})
        return Q(**{f"{field}__gte": self.low, f"{field}__lte": self.high})

    def day_from(self, window_days: int) -> dt.date:
        """The first UTC day of a window of N days ending today (today included)."""
        return self.today - dt.timedelta(days=window_days - 1)

    # ------------------------------------------------------------------ record properties

    def properties(self, names: Iterable[str]) -> dict[int, dict]:
        """id → {name: raw JSON value} for the named properties (only these are read)."""
        names = tuple(sorted(set(names)))
        loaded = self._cache.get("props_loaded")
        if loaded is not None and set(names) <= set(loaded[0]):
            return loaded[1]
        key = ("props", names)
        if key not in self._cache:
            annotations = {f"p_{n}": KT(f"properties__{n}") for n in names}
            rows = fetch_rows(
                Record.objects.filter(self._range("pk"), object_type=self.customer_type)
                .annotate(**annotations)
                .values_list("pk", *annotations)
                .order_by()
            )
            self._cache[key] = {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}
            self._cache["props_loaded"] = (names, self._cache[key])
        return self._cache[key]

    def owners(self) -> dict[int, int]:
        """id → owner's user id, for the accounts that have one."""
        if "owners" not in self._cache:
            self._cache["owners"] = dict(
                fetch_rows(
                    Record.objects.filter(self._range("pk"), object_type=self.customer_type, owner__isnull=False)
                    .values_list("pk", "owner_id")
                    .order_by()
                )
            )
        return self._cache["owners"]

    # ------------------------------------------------------------------ usage

    def usage(self, specs: dict[str, UsageSpec]) -> dict[int, dict]:
        """One pass over the daily rollups: account → {name: aggregate} for `specs`, plus the
        accounts with any usage in the lookback (key "__any__")."""
        done = self._cache.get("usage_done")
        if done is not None and all(done[0].get(k) == v for k, v in specs.items()):
            return done[1]
        # one scan answers every spec asked for so far (or announced with `want_usage`)
        specs = {**self._wanted_usage, **(done[0] if done else {}), **specs}
        lookback = self.today - dt.timedelta(days=USAGE_LOOKBACK_DAYS - 1)
        annotations = {}
        for name, spec in specs.items():
            condition = Q(day__gte=spec.first_day)
            if spec.last_day is not None:
                condition &= Q(day__lte=spec.last_day)
            if spec.events:
                condition &= Q(event__in=list(spec.events))
            if spec.aggregate == "sum":
                annotations[name] = Sum("count", filter=condition, default=0)
            else:
                annotations[name] = Count("event", filter=condition, distinct=True)
        names = list(annotations)
        # Only the windows' days are aggregated (weeks, where the lookback is a year of rollups);
        # the lookback itself only decides which quiet accounts have zeros rather than no data.
        earliest = max(min((spec.first_day for spec in specs.values()), default=self.today), lookback)
        rows = fetch_rows(
            DailyUsage.objects.filter(self._range("account_id"), day__gte=earliest)
            .values("account_id")
            .annotate(**annotations)
            .values_list("account_id", *names)
            .order_by()
        )
        result = {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}
        if earliest > lookback:
            zeros = dict.fromkeys(names, 0)
            for account_id in self._used_before(
                [a for a in self.ids if a not in result], since=lookback, before=earliest
            ):
                result[account_id] = dict(zeros)
        self._cache["usage_done"] = (specs, result)
        return result

    def _used_before(self, ids: list[int], *, since: dt.date, before: dt.date) -> set[int]:
        """Which of the accounts `ids` have usage rollups in [since, before): one index probe each
        (`daily_usage_unique` starts with account and day) that stops at the first row found."""
        if not ids:
            return set()
        table = connection.ops.quote_name(DailyUsage._meta.db_table)
        if bulk.is_postgres():
            accounts, ids_param = "unnest(%s::bigint[]) AS ids(value)", list(ids)
        else:
            accounts, ids_param = "json_each(%s)", json.dumps(ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value FROM {accounts} WHERE EXISTS (SELECT 1 FROM {table} AS u "
                "WHERE u.account_id = value AND u.day >= %s AND u.day < %s)",
                [ids_param, bulk.db_date(since), bulk.db_date(before)],
            )
            return {row[0] for row in cursor.fetchall()}

    def want_usage(self, specs: dict[str, UsageSpec]) -> None:
        """Announce usage aggregates that will be asked for, so that one scan answers them all."""
        self._wanted_usage.update(specs)

    def active_users(self, windows: Iterable[int]) -> dict[int, dict[int, int]]:
        windows = tuple(sorted(set(windows)))
        key = ("dau", windows)
        if key not in self._cache:
            earliest = self.day_from(max(windows))
            annotations = {
                f"w{w}": Count("user_key", filter=Q(day__gte=self.day_from(w)), distinct=True) for w in windows
            }
            rows = fetch_rows(
                DailyActiveUser.objects.filter(self._range("account_id"), day__gte=earliest)
                .values("account_id")
                .annotate(**annotations)
                .values_list("account_id", *annotations)
                .order_by()
            )
            self._cache[key] = {r[0]: dict(zip(windows, r[1:], strict=True)) for r in rows}
        return self._cache[key]

    # ------------------------------------------------------------------ meetings

    def meetings(self, windows: Iterable[int]) -> dict[int, dict[int, tuple[int, int]]]:
        """account → window → (attended, held) for meetings that started in the window."""
        windows = tuple(sorted(set(windows)))
        key = ("meetings", windows)
        if key not in self._cache:
            through = Meeting.records.through
            earliest = self.now - dt.timedelta(days=max(windows))
            held = Q(meeting__outcome__in=[Meeting.Outcome.ATTENDED, Meeting.Outcome.NO_SHOW])
            annotations = {}
            for w in windows:
                since = Q(meeting__start_at__gte=self.now - dt.timedelta(days=w))
                annotations[f"a{w}"] = Count("pk", filter=since & Q(meeting__outcome=Meeting.Outcome.ATTENDED))
                annotations[f"h{w}"] = Count("pk", filter=since & held)
            rows = (
                through.objects.filter(
                    self._range("record_id"),
                    meeting__archived_at__isnull=True,
                    meeting__start_at__gte=earliest,
                    meeting__start_at__lte=self.now,
                )
                .values("record_id")
                .annotate(**annotations)
                .order_by()
            )
            self._cache[key] = {r["record_id"]: {w: (r[f"a{w}"], r[f"h{w}"]) for w in windows} for r in rows}
        return self._cache[key]

    def recent_meeting_outcomes(self, limit: int) -> dict[int, list[tuple[dt.datetime, str, int]]]:
        """account → its latest held meetings (attended or no-show), newest first, at most `limit`."""
        key = ("recent_meetings", limit)
        if key not in self._cache:
            through = Meeting.records.through
            rows = (
                through.objects.filter(
                    self._range("record_id"),
                    meeting__archived_at__isnull=True,
                    meeting__start_at__lte=self.now,
                    meeting__start_at__gte=self.now - dt.timedelta(days=365),
                    meeting__outcome__in=[Meeting.Outcome.ATTENDED, Meeting.Outcome.NO_SHOW],
                )
                .order_by("record_id", "-meeting__start_at", "-meeting_id")
                .values_list("record_id", "meeting__start_at", "meeting__outcome", "meeting_id")
            )
            out: dict[int, list] = defaultdict(list)
            for record_id, start, outcome, meeting_id in rows:
                if len(out[record_id]) < limit:
                    out[record_id].append((start, outcome, meeting_id))
            self._cache[key] = dict(out)
        return self._cache[key]

    # ------------------------------------------------------------------ tickets

    def tickets(self, windows: Iterable[int]) -> dict[int, dict]:
        """account → {"count": {w: n}, "csat": {w: avg | None}, "oldest_open": datetime | None}."""
        windows = tuple(sorted(set(windows)))
        key = ("tickets", windows)
        if key not in self._cache:
            ticket_type = ObjectType.objects.filter(name="tickets").first()
            if ticket_type is None:
                self._cache[key] = {}
                return {}
            csat = Cast(KeyTextTransform("csat", "to_record__properties"), FloatField())
            open_q = Q(to_record__stage__isnull=True) | Q(to_record__stage__outcome="")
            annotations = {"oldest_open": Min("to_record__created_at", filter=open_q)}
            for w in windows:
                since = Q(to_record__created_at__gte=self.now - dt.timedelta(days=w))
                annotations[f"n{w}"] = Count("to_record_id", filter=since, distinct=True)
                annotations[f"c{w}"] = Avg(csat, filter=since & Q(to_record__properties__has_key="csat"))
            rows = (
                Association.objects.filter(
                    self._range("from_record_id"),
                    to_record__object_type=ticket_type,
                    to_record__archived_at__isnull=True,
                )
                .values("from_record_id")
                .annotate(**annotations)
                .order_by()
            )
            self._cache[key] = {
                r["from_record_id"]: {
                    "count": {w: r[f"n{w}"] for w in windows},
                    "csat": {w: r[f"c{w}"] for w in windows},
                    "oldest_open": r["oldest_open"],
                }
                for r in rows
            }
        return self._cache[key]

    def tickets_by_month(self, months: tuple[dt.datetime, dt.datetime, dt.datetime]) -> dict[int, tuple[int, int]]:
        """account → (tickets created last calendar month, this calendar month)."""
        key = ("tickets_month", months)
        if key not in self._cache:
            last_start, this_start, next_start = months
            rows = (
                Association.objects.filter(
                    self._range("from_record_id"),
                    to_record__object_type__name="tickets",
                    to_record__archived_at__isnull=True,
                    to_record__created_at__gte=last_start,
                    to_record__created_at__lt=next_start,
                )
                .values("from_record_id")
                .annotate(
                    last=Count("to_record_id", filter=Q(to_record__created_at__lt=this_start), distinct=True),
                    this=Count("to_record_id", filter=Q(to_record__created_at__gte=this_start), distinct=True),
                )
                .order_by()
            )
            self._cache[key] = {r["from_record_id"]: (r["last"], r["this"]) for r in rows}
        return self._cache[key]

    # ------------------------------------------------------------------ surveys

    def surveys(self, survey: str) -> dict[int, list[tuple[int, int]]]:
        """account → its two latest answers to the survey, newest first, as (score, id) tuples (one
        or two per account: plain tuples, unpacked by name where read). (Their
        times, which only a raised alert's evidence needs, are read by `survey_times`.)"""
        key = ("survey", survey)
        if key not in self._cache:
            rows = fetch_rows(
                SurveyResponse.objects.filter(self._range("account_id"), survey=survey)
                .order_by("account_id", "-responded_at", "-id")
                .values_list("account_id", "score", "id")
            )
            out: dict[int, list] = defaultdict(list)
            for account_id, score, pk in rows:
                answers = out[account_id]
                if len(answers) < 2:
                    answers.append((score, pk))
            self._cache[key] = dict(out)
        return self._cache[key]

    @staticmethod
    def survey_times(ids: Iterable[int]) -> dict[int, dt.datetime]:
        """answer id → when it was given."""
        return dict(SurveyResponse.objects.filter(pk__in=list(ids)).values_list("pk", "responded_at"))

    # ------------------------------------------------------------------ associated records

    def latest_associated(self, object_type_name: str, prop: str) -> dict[int, object]:
        """account → the property value of its most recently created associated record of a type."""
        key = ("assoc", object_type_name, prop)
        if key not in self._cache:
            rows = (
                Association.objects.filter(
                    self._range("from_record_id"),
                    to_record__object_type__name=object_type_name,
                    to_record__archived_at__isnull=True,
                )
                .annotate(value=KeyTextTransform(prop, "to_record__properties"))
                .order_by("from_record_id", F("to_record__created_at").desc(), "-to_record_id")
                .values_list("from_record_id", "value")
            )
            out: dict[int, object] = {}
            for account_id, value in rows:
                if account_id not in out:
                    out[account_id] = value
            self._cache[key] = out
        return self._cache[key]

    def contacts_left(self, *, require_key_contact: bool) -> dict[int, list[tuple[int, str]]]:
        """account → associated contacts flagged "left the company" (id, name)."""
        key = ("left", require_key_contact)
        if key not in self._cache:
            flags = Q(to_record__properties__left_company=True)
            if require_key_contact:
                flags &= Q(to_record__properties__key_contact=True)
            rows = (
                Association.objects.filter(
                    flags,
                    self._range("from_record_id"),
                    to_record__object_type__name="contacts",
                )
                .order_by("from_record_id", "to_record_id")
                .values_list("from_record_id", "to_record_id", "to_record__name")
            )
            out: dict[int, list] = defaultdict(list)
            for account_id, contact_id, name in rows:
                out[account_id].append((contact_id, name))
            self._cache[key] = dict(out)
        return self._cache[key]


# --------------------------------------------------------------------------- criteria


def _property_value(raw, *, is_number: bool):
    if raw is None or raw == "":
        return NO_DATA
    if is_number:
        number = _to_number(raw)
        return NO_DATA if number is None else number
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    return raw


def measure_definition(definition: dict, chunk: Chunk) -> dict[int, dict[str, object]]:
    """account id → {criterion key → value or NO_DATA} for every account of the chunk."""
    columns = measure_columns(definition, chunk)
    return {
        account_id: {key: values.get(account_id, default) for key, values, default in columns}
        for account_id in chunk.ids
    }


def measure_columns(definition: dict, chunk: Chunk) -> list[tuple[str, dict[int, object], object]]:
    """Per criterion, in the definition's order: (key, account id → value, the value of the accounts
    not in that mapping — NO_DATA, or 0 for counts that always have data)."""
    criteria = [c for g in definition["groups"] for c in g["criteria"]]

    # usage: one pass over the rollups for every usage criterion
    usage_specs: dict[str, UsageSpec] = {}
    for c in criteria:
        m = c["measure"]
        kind = m["kind"]
        events = tuple(m.get("events") or ()) or None
        if kind in ("event_count", "event_rate"):
            usage_specs[f"u_{c['key']}"] = UsageSpec("sum", events, chunk.day_from(m["window_days"]))
        elif kind == "distinct_features":
            usage_specs[f"u_{c['key']}"] = UsageSpec("distinct", events, chunk.day_from(m["window_days"]))
        elif kind == "event_trend":
            w = m["window_days"]
            usage_specs[f"u_{c['key']}"] = UsageSpec("sum", events, chunk.day_from(w))
            usage_specs[f"p_{c['key']}"] = (
                "sum",
                events,
                chunk.day_from(2 * w),
                chunk.day_from(w) - dt.timedelta(days=1),
            )
    needs_usage = any(
        c["measure"]["kind"] in ("event_count", "event_rate", "distinct_features", "event_trend", "active_users")
        for c in criteria
    )
    usage = chunk.usage(usage_specs) if needs_usage else {}
    dau_windows = [c["measure"]["window_days"] for c in criteria if c["measure"]["kind"] == "active_users"]
    dau = chunk.active_users(dau_windows) if dau_windows else {}
    meeting_windows = [c["measure"]["window_days"] for c in criteria if c["measure"]["kind"] == "meetings_attended"]
    meetings = chunk.meetings(meeting_windows) if meeting_windows else {}
    ticket_windows = [
        c["measure"].get("window_days", 30)
        for c in criteria
        if c["measure"]["kind"] in ("ticket_count", "ticket_csat", "open_ticket_age")
    ]
    tickets = chunk.tickets(ticket_windows) if ticket_windows else {}
    prop_names = [c["measure"]["property"] for c in criteria if c["measure"]["kind"] in ("property", "days_until")]
    props = chunk.properties(prop_names) if prop_names else {}

    columns = []
    for c in criteria:
        m = c["measure"]
        kind = m["kind"]
        key = c["key"]
        values: dict[int, object] = {}
        default = NO_DATA
        if kind in ("event_count", "distinct_features"):
            name = f"u_{key}"
            values = {account_id: row[name] or 0 for account_id, row in usage.items()}
        elif kind == "event_rate":
            name = f"u_{key}"
            per = {"day": 1, "week": 7, "month": 30}[m.get("per", "week")]
            window = m["window_days"]
            values = {account_id: round((row[name] or 0) / window * per, 4) for account_id, row in usage.items()}
        elif kind == "event_trend":
            for account_id, row in usage.items():
                previous = row[f"p_{key}"] or 0
                if previous:
                    values[account_id] = round((row[f"u_{key}"] or 0) / previous, 4)
        elif kind == "active_users":
            w = m["window_days"]
            for account_id in usage:
                values[account_id] = dau.get(account_id, {}).get(w, 0)
        elif kind == "meetings_attended":
            w = m["window_days"]
            for account_id, by_window in meetings.items():
                attended, held = by_window[w]
                if held:
                    values[account_id] = round(attended / held, 4)
        elif kind == "ticket_count":
            default = 0
            for account_id, t in tickets.items():
                values[account_id] = t["count"][m["window_days"]]
        elif kind == "ticket_csat":
            for account_id, t in tickets.items():
                avg = t["csat"][m["window_days"]]
                if avg is not None:
                    values[account_id] = round(avg, 2)
        elif kind == "open_ticket_age":
            default = 0
            for account_id, t in tickets.items():
                oldest = t["oldest_open"]
                values[account_id] = max((chunk.now - oldest).days, 0) if oldest else 0
        elif kind == "nps_latest":
            for account_id, answers in chunk.surveys(m.get("survey") or "nps").items():
                latest_score, _latest_id = answers[0]
                values[account_id] = latest_score
        elif kind == "property":
            is_number = measure_value_kind(m, customer_type=chunk.customer_type)[0] == "number"
            prop = m["property"]
            for account_id, row in props.items():
                values[account_id] = _property_value(row.get(prop), is_number=is_number)
        elif kind == "days_until":
            prop = m["property"]
            days: dict[str, int | None] = {}  # many accounts share a date: parse each text once
            for account_id, row in props.items():
                raw = row.get(prop)
                if raw.__class__ is str and raw in days:
                    left = days[raw]
                else:
                    day = _to_date(raw)
                    left = None if day is None else (day - chunk.today).days
                    if raw.__class__ is str:
                        days[raw] = left
                if left is not None:
                    values[account_id] = left
        elif kind == "associated_property":
            is_number = measure_value_kind(m, customer_type=chunk.customer_type)[0] == "number"
            for account_id, raw in chunk.latest_associated(m["object_type"], m["property"]).items():
                values[account_id] = _property_value(raw, is_number=is_number)
        columns.append((key, values, default))
    return columns
