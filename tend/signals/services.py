"""Writes of the signals app: product-usage ingestion (Segment spec) with its daily rollups, the
signals settings, and NPS / survey responses.

Ingestion works in bulk, a constant number of statements per batch whatever its size: one query for
the message ids already stored, one for the accounts the batch names (remembered per process and
checked by primary key), one for the users it must map; then the events, active users, event users
and rollups each in one set-based INSERT … ON CONFLICT (`tend.core.bulk`: `unnest` arrays on
PostgreSQL, a prepared `executemany` on SQLite; `bulk_create`'s per-row compiler cost would cap
ingestion far below 20k events/s). Rollups are added to, not re-read from the events, so a batch
costs the same however many events its accounts sent before; only events really inserted are
added, so replays and duplicates never count twice (`rollups_recompute` rebuilds them from the
events if ever needed).
"""

import datetime as dt
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.core import bulk, clock, policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.crm.models import _SAFE_KEY, ChangeSource, PropertyType, Record
from tend.crm.registry import registry_for
from tend.health.marks import mark_accounts_dirty
from tend.workspace.models import SettingsChange
from tend.workspace.services import workspace_settings

from .models import DailyActiveUser, DailyEventUser, DailyUsage, SignalsSettings, UsageEvent, UsageIdentity

UTC = dt.UTC
KINDS = ("track", "identify", "group", "page", "screen")
USAGE_KINDS = ("track", "page", "screen")  # what counts as activity (identify / group do not)
MAX_TEXT = 200
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500
# Events may come from clocks a little ahead; a day ahead is a bug, not skew.
MAX_FUTURE = dt.timedelta(days=1)
INSERT_CHUNK = 500  # survey responses per INSERT
SURVEY_SOURCE = ChangeSource.SYSTEM


# --------------------------------------------------------------------------- settings


def signals_settings() -> SignalsSettings:
    """The settings row, created with the defaults on first use."""
    current = SignalsSettings.objects.first()
    if current is None:
        current = SignalsSettings.objects.create()
    return current


def key_property_choices() -> list[tuple[str, str]]:
    """(name, label) of the properties that may identify an account in usage events: the unique
    single-line text properties of the customer object."""
    registry = registry_for(workspace_settings().customer_object_type)
    return [
        (s.name, str(s.label))
        for s in registry.value_specs()
        if s.unique and s.type == PropertyType.TEXT and not s.is_column
    ]


def settings_update_usage(*, actor, account_key_property: str) -> SignalsSettings:
    """Which customer property the groupId of usage events names (e.g. the company domain)."""
    policy.require(actor, policy.Action.MANAGE_CS_SETTINGS)
    name = (account_key_property or "").strip() if isinstance(account_key_property, str) else ""
    if name not in dict(key_property_choices()):
        raise ValidationFailed.single(
            "accountKeyProperty",
            _("Choose a unique single-line text property of the customer object."),
        )
    with transaction.atomic():
        current = SignalsSettings.objects.select_for_update().filter(pk=signals_settings().pk).get()
        before = current.account_key_property
        if before != name:
            current.account_key_property = name
            current.save()
            SettingsChange.objects.create(
                section="usage",
                old_value={"accountKeyProperty": before},
                new_value={"accountKeyProperty": name},
                changed_by=_actor_user(actor),
                changed_at=clock.now(),
            )
    return current


def _actor_user(actor):
    return getattr(actor, "user", actor)


# --------------------------------------------------------------------------- ingestion: parsing


class PayloadTooLarge(Exception):
    """The request body is over the batch size limit."""


def decode_body(raw: bytes, content_encoding: str = "") -> object:
    """The JSON document of an ingestion request (gzip-compressed bodies too, as some Segment
    libraries send them). Raises PayloadTooLarge or ValidationFailed (field "body")."""
    if len(raw) > MAX_BATCH_BYTES:
        raise PayloadTooLarge()
    if "gzip" in (content_encoding or "").lower():
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                raw = f.read(MAX_BATCH_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise ValidationFailed.single("body", _("The body is not valid gzip.")) from exc
        if len(raw) > MAX_BATCH_BYTES:
            raise PayloadTooLarge()
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed.single("body", _("The body is not valid JSON.")) from exc


def parse_timestamp(raw) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 (no offset means UTC, as Segment reads it)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError
    text = raw.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(slots=True)
class _Message:
    index: int
    message_id: str
    kind: str
    event: str
    user_id: str
    user_key: str
    properties: dict
    properties_json: str  # as stored
    traits: dict | None
    timestamp: dt.datetime
    timestamp_db: object  # as the database stores it (`bulk.db_datetime`)
    group_key: str | None  # the account key named by the message, if any
    explicit_group: bool  # a group call (remembers the user's account)
    account_id: int | None = None


@dataclass
class IngestResult:
    """What happened to each message of a batch."""

    accepted: int = 0
    duplicates: int = 0
    unmatched: int = 0
    errors: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # per message: {"messageId", "status"}
    account_ids: set[int] = field(default_factory=set)

    def as_dict(self, *, with_results: bool = False) -> dict:
        out = {
            "success": True,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "errors": self.errors,
        }
        if with_results:
            out["results"] = self.results
        return out


# One encoder for every message: `json.dumps` with options builds a new encoder per call.
_to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(int(value)) if isinstance(value, int) or value.is_integer() else str(value)
    return value.strip() if isinstance(value, str) else None


def _derived_message_id(msg: dict) -> str:
    """A stable id for a message sent without one, so that an exact retry is still stored once."""
    canonical = json.dumps(
        {k: msg.get(k) for k in ("type", "event", "userId", "anonymousId", "groupId", "timestamp", "properties")},
        sort_keys=True,
        default=str,
    )
    return "tend-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


# PostgreSQL's text and jsonb cannot hold the NUL character: a message with one is reported, not
# allowed to fail its whole batch.
_NUL_MESSAGE = gettext_lazy("%(name)s may not contain the NUL character (\\u0000).")
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")  # an escaped NUL, not an escaped backslash before "u0000"


def _parse_message(
    index: int, msg, *, kind: str | None, sent_at_default, now: dt.datetime, errors: list
) -> _Message | None:
    def fail(field_name: str, message: str, message_id=None) -> None:
        errors.append({"index": index, "messageId": message_id, "field": field_name, "message": message})

    if not isinstance(msg, dict):
        fail("body", _("Each message must be a JSON object."))
        return None
    raw_id = msg.get("messageId")
    message_id = _text(raw_id) if raw_id is not None else _derived_message_id(msg)
    if not message_id:
        fail("messageId", _("messageId must be a non-empty string."))
        return None
    if len(message_id) > MAX_TEXT:
        fail("messageId", _("messageId is longer than %(n)d characters.") % {"n": MAX_TEXT})
        return None
    if "\x00" in message_id:
        fail("messageId", _NUL_MESSAGE % {"name": "messageId"})
        return None
    msg_kind = msg.get("type", kind) if kind is None else kind
    if kind is not None and msg.get("type") not in (None, kind):
        fail("type", _("This endpoint takes %(kind)s calls only.") % {"kind": kind}, message_id)
        return None
    if msg_kind not in KINDS:
        fail("type", _("type must be one of track, identify, group, page, screen."), message_id)
        return None
    user_id, anonymous_id = _text(msg.get("userId")), _text(msg.get("anonymousId"))
    if msg.get("userId") is not None and user_id is None or msg.get("anonymousId") is not None and anonymous_id is None:
        fail("userId", _("userId and anonymousId must be strings."), message_id)
        return None
    if user_id:
        user_key = user_id
    elif anonymous_id:
        user_key = f"anon:{anonymous_id}"
    else:
        fail("userId", _("Send a userId or an anonymousId."), message_id)
        return None
    if len(user_key) > MAX_TEXT:
        fail("userId", _("userId and anonymousId may have at most %(n)d characters.") % {"n": MAX_TEXT}, message_id)
        return None
    if "\x00" in user_key:
        fail("userId", _NUL_MESSAGE % {"name": "userId"}, message_id)
        return None
    event = ""
    if msg_kind == "track":
        event = msg.get("event")
        if not isinstance(event, str) or not event.strip():
            fail("event", _("A track call needs an event name."), message_id)
            return None
        event = event.strip()
        if len(event) > MAX_TEXT:
            fail("event", _("The event name is longer than %(n)d characters.") % {"n": MAX_TEXT}, message_id)
            return None
        if "\x00" in event:
            fail("event", _NUL_MESSAGE % {"name": "event"}, message_id)
            return None
    payload_name = "traits" if msg_kind in ("identify", "group") else "properties"
    properties = msg.get(payload_name)
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        fail(payload_name, _("%(name)s must be a JSON object.") % {"name": payload_name}, message_id)
        return None
    if msg_kind in ("page", "screen"):
        name = _text(msg.get("name"))
        if name and "name" not in properties:
            properties = {**properties, "name": name[:MAX_TEXT]}
    properties_json = _to_json(properties) if properties else "{}"
    if len(properties_json) > MAX_PROPERTIES_BYTES // 4 and len(properties_json.encode()) > MAX_PROPERTIES_BYTES:
        fail(payload_name, _("%(name)s are larger than 32 KB.") % {"name": payload_name}, message_id)
        return None
    if "\\u0000" in properties_json and _JSON_NUL.search(properties_json):
        fail(payload_name, _NUL_MESSAGE % {"name": payload_name}, message_id)
        return None
    context = msg.get("context")
    if context is not None and not isinstance(context, dict):
        fail("context", _("context must be a JSON object."), message_id)
        return None
    group_key, explicit = None, False
    if msg_kind == "group":
        group_key = _text(msg.get("groupId"))
        if not group_key:
            fail("groupId", _("A group call needs a groupId."), message_id)
            return None
        explicit = True
    else:
        group_key = _text((context or {}).get("groupId")) or (
            _text(properties.get("groupId")) if msg_kind != "identify" else None
        )
    raw_ts = msg.get("timestamp")
    if raw_ts is None:
        raw_ts = msg.get("originalTimestamp")
    if raw_ts is None:
        timestamp = now
    else:
        try:
            timestamp = parse_timestamp(raw_ts)
        except (ValueError, TypeError, OverflowError):
            fail(
                "timestamp",
                _("timestamp must be an ISO 8601 date and time, e.g. 2026-05-01T09:30:00.000Z."),
                message_id,
            )
            return None
        raw_sent = msg.get("sentAt", sent_at_default)
        if raw_sent is not None:
            # Segment's clock-skew correction: the sender's clock may be off, the offset between
            # its sentAt and the event's timestamp is not.
            try:
                sent_at = parse_timestamp(raw_sent)
            except (ValueError, TypeError, OverflowError):
                fail("sentAt", _("sentAt must be an ISO 8601 date and time."), message_id)
                return None
            try:
                timestamp = now - (sent_at - timestamp)
            except OverflowError:
                fail("timestamp", _("timestamp is out of range."), message_id)
                return None
    if timestamp > now + MAX_FUTURE:
        fail("timestamp", _("timestamp is more than a day in the future."), message_id)
        return None
    if timestamp.year < 2000:
        fail("timestamp", _("timestamp is before the year 2000."), message_id)
        return None
    traits = properties if msg_kind == "identify" else None
    if group_key is not None and len(group_key) > MAX_TEXT:
        group_key = None
    if group_key is not None and "\x00" in group_key:
        fail("groupId", _NUL_MESSAGE % {"name": "groupId"}, message_id)
        return None
    return _Message(
        index=index,
        message_id=message_id,
        kind=msg_kind,
        event=event,
        user_id=user_id or "",
        user_key=user_key,
        properties=properties,
        properties_json=properties_json,
        traits=traits,
        timestamp=timestamp,
        timestamp_db=bulk.db_datetime(timestamp),
        group_key=group_key,
        explicit_group=explicit,
    )


# --------------------------------------------------------------------------- ingestion: the service


def _require_ingest(actor) -> None:
    if actor is None:
        return
    if isinstance(actor, policy.Actor) and not actor.can_write:
        raise Forbidden(_("This API token is read-only; send usage events with a write token."))
    policy.require(actor, policy.Action.USE_WORKSPACE)


def events_ingest(
    *, actor, messages: list, kind: str | None = None, sent_at=None, with_results: bool = False
) -> IngestResult:
    """Store a batch of Segment messages, idempotent by messageId; bad messages are reported one
    by one (index, messageId, field, reason) and the good ones kept. `kind` forces the type (the
    single-call endpoints). Returns counts of accepted, duplicate and unmatched messages."""
    _require_ingest(actor)
    if not isinstance(messages, list):
        raise ValidationFailed.single("batch", _("batch must be a list of messages."))
    if len(messages) > MAX_BATCH_MESSAGES:
        raise ValidationFailed.single(
            "batch", _("A batch may hold at most %(n)d messages.") % {"n": MAX_BATCH_MESSAGES}, "too_many"
        )
    now = clock.now()
    result = IngestResult()
    parsed: list[_Message] = []
    for i, msg in enumerate(messages):
        m = _parse_message(i, msg, kind=kind, sent_at_default=sent_at, now=now, errors=result.errors)
        if m is not None:
            parsed.append(m)
    statuses: dict[int, str] = {e["index"]: "error" for e in result.errors}
    # Everything that only reads happens before the write transaction: on SQLite it holds the
    # database's one write lock, which concurrent requests wait for.
    fresh: dict[str, _Message] = {}
    for m in parsed:
        if m.message_id in fresh:  # within the batch, the first wins
            statuses[m.index] = "duplicate"
            result.duplicates += 1
        else:
            fresh[m.message_id] = m
    if fresh:
        identities = _map_accounts(list(fresh.values()))
        with bulk.write_turn(), transaction.atomic():
            _store(fresh, identities, now, result, statuses)
    if with_results:
        result.results = [
            {
                "index": i,
                "messageId": (messages[i].get("messageId") if isinstance(messages[i], dict) else None),
                "status": statuses.get(i, "error"),
            }
            for i in range(len(messages))
        ]
    return result


def _store(
    fresh: dict[str, _Message],
    identities: "_IdentityChanges",
    now: dt.datetime,
    result: IngestResult,
    statuses: dict[int, str],
) -> None:
    todo = list(fresh.values())
    if not todo:
        return
    postgres = bulk.is_postgres()
    # PostgreSQL adds the rollups in the statement that stores the events; SQLite gets them below.
    # Either insert says which messages were new (the others were stored before: duplicates).
    inserted = _insert_events_with_rollups(todo, now) if postgres else _insert_events(todo, now)
    identities.write({m.message_id for m in todo} if inserted is None else inserted, now)
    usage: dict[tuple[int, dt.date, str], list] = {}  # (account, day, event) → [events, {users}]
    active: set[tuple[int, dt.date, str]] = set()
    for m in todo:
        if inserted is not None and m.message_id not in inserted:  # a concurrent request stored it first
            statuses[m.index] = "duplicate"
            result.duplicates += 1
            continue
        result.accepted += 1
        if m.account_id is None:
            statuses[m.index] = "unmatched"
            if m.kind != "identify":
                result.unmatched += 1
            continue
        statuses[m.index] = "accepted"
        result.account_ids.add(m.account_id)
        if not postgres and m.kind in USAGE_KINDS:
            day = m.timestamp.date()
            active.add((m.account_id, day, m.user_key))
            if m.kind == "track":
                entry = usage.setdefault((m.account_id, day, m.event), [0, set()])
                entry[0] += 1
                entry[1].add(m.user_key)
    # Identify calls are about people, not accounts: "unmatched" counts usage that could not be
    # attributed, so an identify without a known account is simply accepted.
    for m in todo:
        if m.kind == "identify" and statuses[m.index] == "unmatched":
            statuses[m.index] = "accepted"
    if active:
        _insert_active_users(sorted(active))
    if usage:
        _rollups_add(usage)
    if result.account_ids:
        mark_accounts_dirty(result.account_ids, reason="usage")


# key property → (customer object type id → {key value: record id}); verified against the record
# on every use, so a stale entry (key edited, record archived) is never trusted.
_account_keys: dict[tuple[str, int], dict[str, int]] = {}
_ACCOUNT_KEYS_MAX = 500_000


def _key_sql(key_property: str) -> str:
    if not _SAFE_KEY.match(key_property):
        raise ValueError(f"unsafe property name {key_property!r}")
    if connection.vendor == "postgresql":
        return f"(properties ->> '{key_property}')"
    return f"json_extract(properties, '$.{key_property}')"


def accounts_by_key(keys: Iterable[str]) -> dict[str, int]:
    """The customer accounts (active records of the customer object) whose account key property
    (signals settings) has these values: {value: record id}.

    Remembered keys are checked by primary key (the record still has this value, is still a
    customer and not archived); the others are looked up by value, which reads the key of every
    customer record, so it is done once per key and process, not once per batch."""
    keys = {k for k in keys if k}
    if not keys:
        return {}
    key_property = signals_settings().account_key_property
    customer_type_id = workspace_settings().customer_object_type_id
    cache = _account_keys.setdefault((key_property, customer_type_id), {})
    key_sql = _key_sql(key_property)
    table = connection.ops.quote_name(Record._meta.db_table)
    found: dict[str, int] = {}
    remembered = {cache[k]: k for k in keys if k in cache}
    with bulk.cursor() as cursor:
        if remembered:
            where, params = bulk.in_list(list(remembered))
            # By primary key only (the other conditions checked here): with more conditions the
            # planner may prefer an index on the object type and read every customer.
            cursor.execute(
                f"SELECT id, {key_sql}, object_type_id, archived_at IS NULL FROM {table} WHERE id {where}", params
            )
            for pk, value, type_id, active in cursor.fetchall():
                if active and type_id == customer_type_id and value is not None and remembered.get(pk) == str(value):
                    found[str(value)] = pk
        missing = sorted(keys - set(found))
        if missing:
            where, params = bulk.in_list(missing)
            cursor.execute(
                f"SELECT id, {key_sql} FROM {table} "
                f"WHERE object_type_id = %s AND archived_at IS NULL AND {key_sql} {where}",
                [customer_type_id, *params],
            )
            for pk, value in cursor.fetchall():
                found[str(value)] = pk
    for key in keys:
        cache.pop(key, None)
    if len(cache) + len(found) > _ACCOUNT_KEYS_MAX:
        cache.clear()
    cache.update(found)
    return found


@dataclass
class _IdentityChanges:
    """What a batch's messages say about its users, in batch order: (message id, user key, account
    id or None, traits or None). Written after the events, for the messages really stored only, so
    a replayed old group call never moves a user back."""

    effects: list[tuple[str, str, int | None, dict | None]] = field(default_factory=list)

    def write(self, stored_ids: set[str], now: dt.datetime) -> None:
        effects = [e for e in self.effects if e[0] in stored_ids]
        if not effects:
            return
        # Read again inside the write transaction: another batch may have changed these users.
        table = connection.ops.quote_name(UsageIdentity._meta.db_table)
        with bulk.cursor() as cursor:
            where, params = bulk.in_list(sorted({e[1] for e in effects}))
            cursor.execute(f"SELECT user_key, account_id, traits FROM {table} WHERE user_key {where}", params)
            rows = cursor.fetchall()
        remembered = {k: a for k, a, _t in rows}
        account_of = dict(remembered)
        traits = {k: (json.loads(t) if isinstance(t, str) else t) or {} for k, _a, t in rows}
        moved, identified = set(), set()
        for _message_id, user_key, account, new_traits in effects:
            if account is not None and account_of.get(user_key) != account:
                account_of[user_key] = account
                moved.add(user_key)
            if new_traits:
                traits[user_key] = {**traits.get(user_key, {}), **new_traits}
                identified.add(user_key)
        qn = connection.ops.quote_name
        columns = ("user_key", "account_id", "traits", "updated_at")
        types = ("text", "bigint", "jsonb", "timestamptz")
        at = bulk.db_datetime(now)
        update = f"ON CONFLICT ({qn('user_key')}) DO UPDATE SET {qn('account_id')} = excluded.{qn('account_id')}, "
        # Who is new or has new traits gets its whole row; who only moved keeps its traits.
        full = sorted(identified | (moved - set(remembered)))
        if full:
            bulk.insert_rows(
                UsageIdentity._meta.db_table,
                columns,
                [(k, account_of.get(k), _to_json(traits.get(k, {})), at) for k in full],
                pg_types=types,
                on_conflict=update + f"{qn('traits')} = excluded.{qn('traits')}, "
                f"{qn('updated_at')} = excluded.{qn('updated_at')}",
            )
        only_moved = sorted((moved & set(remembered)) - identified)
        if only_moved:
            bulk.insert_rows(
                UsageIdentity._meta.db_table,
                columns,
                [(k, account_of[k], "{}", at) for k in only_moved],
                pg_types=types,
                on_conflict=update + f"{qn('updated_at')} = excluded.{qn('updated_at')}",
            )


def _map_accounts(todo: list[_Message]) -> _IdentityChanges:
    """groupId (group calls, context.groupId, properties.groupId) → account by the key property;
    otherwise the account remembered for the userId. Group calls and matched group ids are
    remembered, in batch order, so a group call maps the same user's later messages."""
    by_key = accounts_by_key({m.group_key for m in todo if m.group_key})
    table = connection.ops.quote_name(UsageIdentity._meta.db_table)
    with bulk.cursor() as cursor:
        where, params = bulk.in_list(sorted({m.user_key for m in todo}))
        cursor.execute(f"SELECT user_key, account_id FROM {table} WHERE user_key {where}", params)
        remembered = dict(cursor.fetchall())
    changes = _IdentityChanges()
    for m in todo:
        account = by_key.get(m.group_key) if m.group_key else None
        if account is None and not m.explicit_group:
            account = remembered.get(m.user_key)
        m.account_id = account
        moves = m.group_key and account is not None and m.kind != "identify" and remembered.get(m.user_key) != account
        if moves:
            remembered[m.user_key] = account
        identifies = m.kind == "identify" and m.traits
        if moves or identifies:
            changes.effects.append(
                (m.message_id, m.user_key, account if moves else None, m.traits if identifies else None)
            )
    return changes


_EVENT_COLUMNS = ("message_id", "kind", "event", "account_id", "user_key", "properties", "timestamp", "received_at")


def _insert_events(todo: list[_Message], now: dt.datetime) -> set[str] | None:
    """SQLite: INSERT … ON CONFLICT (message_id) DO NOTHING. Returns the message ids stored, or None
    when all were (the usual case: no lookup). The transaction holds the database's write lock, so
    the rows past the last id before the insert are this insert's: a lookup of the batch's ids
    beforehand cost a tenth of the write lock's time, for the rare retried batch."""
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _EVENT_COLUMNS)
    marks = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    received = bulk.db_datetime(now)
    rows = [
        (m.message_id, m.kind, m.event, m.account_id, m.user_key, m.properties_json, m.timestamp_db, received)
        for m in todo
    ]
    with bulk.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        last_id = cursor.fetchone()[0] or 0
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT (message_id) DO NOTHING", rows)
        if cursor.rowcount == len(rows):
            return None
        cursor.execute(f"SELECT message_id FROM {table} WHERE id > %s", [last_id])
        return {row[0] for row in cursor.fetchall()}


def _insert_events_with_rollups(todo: list[_Message], now: dt.datetime) -> set[str]:
    """PostgreSQL: store the events and add the newly stored ones to the rollups in one statement
    (what `_insert_events`, `_insert_active_users` and `_rollups_add` do step by step on SQLite).
    The events go by COPY into a staged table; the rows really inserted (RETURNING) feed the
    active users, the event users and the daily counts, so a duplicate is never counted. Rows are
    written in key order (message ids too: a sender retrying a batch still in progress sends the
    same ids), so concurrent batches lock them in the same order. Returns the message ids stored."""
    qn = connection.ops.quote_name
    events = qn(UsageEvent._meta.db_table)
    actives = qn(DailyActiveUser._meta.db_table)
    event_users = qn(DailyEventUser._meta.db_table)
    usage = qn(DailyUsage._meta.db_table)
    cols = ", ".join(qn(c) for c in _EVENT_COLUMNS)
    # The rows as COPY text (psycopg's `write_row` adapting each value was a tenth of a batch's CPU).
    text, received = bulk.copy_text, now.isoformat()
    rows = "".join(
        f"{text(m.message_id)}\t{m.kind}\t{text(m.event)}\t{text(None if m.account_id is None else str(m.account_id))}"
        f"\t{text(m.user_key)}\t{text(m.properties_json)}\t{m.timestamp.isoformat()}\t{received}\n"
        for m in todo
    )
    with bulk.staged(UsageEvent._meta.db_table, _EVENT_COLUMNS, rows) as (cursor, staged):
        cursor.execute(
            f"WITH stored AS (INSERT INTO {events} ({cols}) SELECT {cols} FROM {staged} ORDER BY message_id "
            "ON CONFLICT (message_id) DO NOTHING "
            "RETURNING message_id, kind, event, account_id, user_key, (timestamp AT TIME ZONE 'UTC')::date AS day), "
            "used AS (SELECT * FROM stored WHERE account_id IS NOT NULL AND kind = ANY(%s)), "
            f"active AS (INSERT INTO {actives} (account_id, day, user_key) "
            "SELECT DISTINCT account_id, day, user_key FROM used ORDER BY 1, 2, 3 "
            "ON CONFLICT (account_id, day, user_key) DO NOTHING), "
            f"added AS (INSERT INTO {event_users} (account_id, day, event, user_key) "
            "SELECT DISTINCT account_id, day, event, user_key FROM used WHERE kind = 'track' ORDER BY 1, 2, 3, 4 "
            "ON CONFLICT (account_id, day, event, user_key) DO NOTHING RETURNING account_id, day, event), "
            # One grouping of events and new users (no join: the staged rows have no statistics).
            f"rolled AS (INSERT INTO {usage} (account_id, day, event, count, users) "
            "SELECT account_id, day, event, SUM(n), SUM(u) FROM ("
            "SELECT account_id, day, event, 1 AS n, 0 AS u FROM used WHERE kind = 'track' "
            "UNION ALL SELECT account_id, day, event, 0, 1 FROM added) x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 "
            f"ON CONFLICT (account_id, day, event) DO UPDATE SET count = {usage}.count + excluded.count, "
            f"users = {usage}.users + excluded.users) "
            "SELECT message_id FROM stored",
            [list(USAGE_KINDS)],
        )
        return {row[0] for row in cursor.fetchall()}


def _insert_active_users(rows: list[tuple[int, dt.date, str]]) -> None:
    """SQLite: the (account, day, user) rows of the users active that day."""
    bulk.insert_rows(
        DailyActiveUser._meta.db_table,
        ("account_id", "day", "user_key"),
        [(account, bulk.db_date(day), user) for account, day, user in rows],
        pg_types=(),
        on_conflict="ON CONFLICT (account_id, day, user_key) DO NOTHING",
    )


def _rollups_add(usage: dict[tuple[int, dt.date, str], list]) -> None:
    """SQLite: add newly stored track events to their DailyUsage rows: count += the new events, and
    users += the users new to that event on that day, known by inserting them into `DailyEventUser`
    (one row per account, day, event and user). Adding rather than re-reading the events keeps a
    batch's cost independent of how many events its accounts sent before; only events really
    inserted get here, so replays and duplicates never count twice."""
    keys = sorted(usage)
    event_users = [(a, bulk.db_date(d), e, u) for a, d, e in keys for u in sorted(usage[(a, d, e)][1])]
    counts = [(a, bulk.db_date(d), e, usage[(a, d, e)][0]) for a, d, e in keys]
    usage_table = connection.ops.quote_name(DailyUsage._meta.db_table)
    users_table = connection.ops.quote_name(DailyEventUser._meta.db_table)
    with bulk.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {users_table} (account_id, day, event, user_key) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (account_id, day, event, user_key) DO NOTHING",
            event_users,
        )
        # SQLite has no INSERT in WITH: count the row's users afresh (an index range per row).
        cursor.executemany(
            f"INSERT INTO {usage_table} (account_id, day, event, count, users) "
            f"SELECT v.a, v.d, v.e, v.n, (SELECT COUNT(*) FROM {users_table} u "
            "WHERE u.account_id = v.a AND u.day = v.d AND u.event = v.e) "
            "FROM (SELECT %s AS a, %s AS d, %s AS e, %s AS n) v WHERE true "
            f"ON CONFLICT (account_id, day, event) DO UPDATE SET count = {usage_table}.count + excluded.count, "
            "users = excluded.users",
            counts,
        )


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def rollups_recompute(pairs: Iterable[tuple[int, dt.date]]) -> None:
    """Rebuild the DailyUsage and DailyEventUser rows of the given (account, UTC day) pairs from the
    stored track events (a repair: ingestion adds to the rollups as it stores events)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    qn = connection.ops.quote_name
    events = qn(UsageEvent._meta.db_table)
    usage = qn(DailyUsage._meta.db_table)
    users = qn(DailyEventUser._meta.db_table)
    day = _day_sql("e.timestamp")
    if bulk.is_postgres():
        window = "unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS t(a, lo, hi)"
    else:
        window = "(SELECT %s AS a, %s AS lo, %s AS hi) AS t"
    join = (
        f"FROM {events} e JOIN {window} ON e.account_id = t.a AND e.timestamp >= t.lo AND e.timestamp < t.hi "
        "WHERE e.kind = 'track'"
    )
    params = []
    for account, d in pairs:
        lo = dt.datetime.combine(d, dt.time(), tzinfo=UTC)
        params.append((account, bulk.db_datetime(lo), bulk.db_datetime(lo + dt.timedelta(days=1))))
    statements = [
        f"INSERT INTO {users} (account_id, day, event, user_key) SELECT DISTINCT e.account_id, {day}, e.event, "
        f"e.user_key {join} ON CONFLICT (account_id, day, event, user_key) DO NOTHING",
        f"INSERT INTO {usage} (account_id, day, event, count, users) "
        f"SELECT e.account_id, {day}, e.event, COUNT(*), COUNT(DISTINCT e.user_key) {join} "
        f"GROUP BY e.account_id, {day}, e.event "
        "ON CONFLICT (account_id, day, event) DO UPDATE SET count = excluded.count, users = excluded.users",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            if bulk.is_postgres():
                cursor.execute(sql, [list(c) for c in zip(*params, strict=True)])
            else:
                cursor.executemany(sql, params)


# --------------------------------------------------------------------------- NPS / survey responses


@dataclass
class SurveyResult:
    """Outcome of recording survey responses: how many were created, how many were already there
    (same externalId), the errors by row, and the accounts touched."""

    created: int = 0
    duplicates: int = 0
    errors: list[FieldError] = field(default_factory=list)
    responses: list = field(default_factory=list)
    account_ids: set[int] = field(default_factory=set)
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "dryRun": self.dry_run,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class _Answer:
    where: str
    contact_id: int | None
    email: str | None
    account_id: int | None
    score: int
    comment: str
    responded_at: dt.datetime
    external_id: str | None
    survey: str


def _parse_score(raw, errors: list[FieldError], where: str) -> int | None:
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if raw is None or raw == "":
        errors.append(FieldError(f"{where}score", _("Enter a score from 0 to 10."), "required"))
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 10:
        errors.append(FieldError(f"{where}score", _("The score must be a whole number from 0 to 10."), "invalid"))
        return None
    return raw


def _parse_id(raw, errors: list[FieldError], field_name: str) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    errors.append(FieldError(field_name, _("Enter a record id (a whole number)."), "invalid"))
    return None


def _clean_answer(i: int, item, where: str, now: dt.datetime, errors: list[FieldError]) -> _Answer | None:
    if not isinstance(item, dict):
        errors.append(FieldError(where.rstrip(".") or "body", _("Each response must be a JSON object.")))
        return None
    before = len(errors)
    contact_id = _parse_id(item.get("contactId"), errors, f"{where}contactId")
    account_id = _parse_id(item.get("accountId"), errors, f"{where}accountId")
    email = item.get("email")
    if email is not None and not isinstance(email, str):
        errors.append(FieldError(f"{where}email", _("Enter an email address.")))
        email = None
    email = (email or "").strip().lower() or None
    if contact_id is None and email is None and account_id is None and len(errors) == before:
        errors.append(
            FieldError(f"{where}contactId", _("Give the contact (contactId or email) or the accountId."), "required")
        )
    score = _parse_score(item.get("score"), errors, where)
    comment = item.get("comment") or ""
    if not isinstance(comment, str):
        errors.append(FieldError(f"{where}comment", _("Enter text.")))
        comment = ""
    elif len(comment) > 5000:
        errors.append(FieldError(f"{where}comment", _("Enter at most %(n)d characters.") % {"n": 5000}))
    responded_at = now
    raw_at = item.get("respondedAt")
    if raw_at not in (None, ""):
        try:
            responded_at = parse_timestamp(raw_at)
        except (ValueError, TypeError, OverflowError):
            errors.append(
                FieldError(f"{where}respondedAt", _("Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."))
            )
        else:
            if responded_at > now + dt.timedelta(minutes=5):
                errors.append(FieldError(f"{where}respondedAt", _("The response time is in the future.")))
    external_id = item.get("externalId")
    if external_id is not None and not isinstance(external_id, str | int):
        errors.append(FieldError(f"{where}externalId", _("Enter text.")))
    external_id = str(external_id).strip() if external_id not in (None, "") else None
    if external_id and len(external_id) > 200:
        errors.append(FieldError(f"{where}externalId", _("Enter at most %(n)d characters.") % {"n": 200}))
    survey = item.get("survey") or "nps"
    if not isinstance(survey, str) or len(survey) > 64:
        errors.append(FieldError(f"{where}survey", _("Enter a survey name of at most 64 characters.")))
    if len(errors) > before:
        return None
    return _Answer(where, contact_id, email, account_id, score, comment, responded_at, external_id, survey.strip())


def survey_responses_record(
    *, actor, items: list, dry_run: bool = False, source: str = "api", where_prefix: str = "responses"
) -> SurveyResult:
    """Record survey responses, all or nothing: every response is validated (contact by contactId
    or email, its company as the account unless accountId is given, score 0–10, respondedAt,
    externalId for idempotency) before anything is written; errors name each row and field and
    then nothing changes. Afterwards each touched account's `nps` property is set to its latest
    NPS answer and the accounts are marked for a health recompute."""
    from tend.crm.models import Association, ObjectType

    if actor is not None:
        policy.require(actor, policy.Action.EDIT_RECORDS)
    now = clock.now()
    result = SurveyResult(dry_run=dry_run)
    errors = result.errors
    answers = []
    for i, item in enumerate(items):
        answer = _clean_answer(i, item, f"{where_prefix}[{i}]." if where_prefix else "", now, errors)
        if answer is not None:
            answers.append(answer)
    customer_type_id = workspace_settings().customer_object_type_id
    contacts_type = ObjectType.objects.filter(name="contacts").first()
    contact_ids = {a.contact_id for a in answers if a.contact_id}
    emails = {a.email for a in answers if a.email}
    contacts_by_id, contacts_by_email = {}, {}
    if contacts_type is not None and (contact_ids or emails):
        found = Record.objects.filter(object_type=contacts_type, archived_at__isnull=True)
        for pk, email in found.filter(pk__in=sorted(contact_ids)).values_list("pk", "properties__email"):
            contacts_by_id[pk] = email
        if emails:
            for pk, email in found.filter(properties__email__in=sorted(emails)).values_list("pk", "properties__email"):
                contacts_by_email[str(email).lower()] = pk
            # Emails are compared case-insensitively; most are stored in lower case already.
            missing = emails - set(contacts_by_email)
            for email in sorted(missing)[:200]:
                pk = found.filter(properties__email__iexact=email).values_list("pk", flat=True).first()
                if pk is not None:
                    contacts_by_email[email] = pk
    for a in answers:
        if a.contact_id is not None and a.contact_id not in contacts_by_id:
            errors.append(
                FieldError(f"{a.where}contactId", _("No contact %(id)s.") % {"id": a.contact_id}, "not_found")
            )
        elif a.contact_id is None and a.email is not None:
            if a.email not in contacts_by_email:
                errors.append(
                    FieldError(
                        f"{a.where}email", _("No contact has the email %(email)s.") % {"email": a.email}, "not_found"
                    )
                )
            else:
                a.contact_id = contacts_by_email[a.email]
    companies_of: dict[int, int] = {}
    wanted = sorted({a.contact_id for a in answers if a.contact_id and a.account_id is None})
    if wanted:
        links = (
            Association.objects.filter(
                from_record_id__in=wanted,
                to_record__object_type_id=customer_type_id,
                to_record__archived_at__isnull=True,
            )
            .order_by("from_record_id", "-label", "to_record_id")  # "primary" before unlabelled
            .values_list("from_record_id", "to_record_id", "label")
        )
        for contact, company, label in links:
            if contact not in companies_of or label == "primary":
                companies_of.setdefault(contact, company)
    explicit = {a.account_id for a in answers if a.account_id}
    known_accounts = (
        set(
            Record.objects.filter(
                pk__in=sorted(explicit), object_type_id=customer_type_id, archived_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if explicit
        else set()
    )
    for a in answers:
        if a.account_id is not None:
            if a.account_id not in known_accounts:
                errors.append(
                    FieldError(
                        f"{a.where}accountId", _("No customer account %(id)s.") % {"id": a.account_id}, "not_found"
                    )
                )
        elif a.contact_id is not None:
            a.account_id = companies_of.get(a.contact_id)
            if a.account_id is None:
                errors.append(
                    FieldError(
                        f"{a.where}contactId" if a.email is None else f"{a.where}email",
                        _("This contact is not associated with a customer account; give the accountId."),
                        "no_account",
                    )
                )
    from .models import SurveyResponse

    external = {a.external_id for a in answers if a.external_id}
    existing = (
        set(SurveyResponse.objects.filter(external_id__in=sorted(external)).values_list("external_id", flat=True))
        if external
        else set()
    )
    if errors:
        errors.sort(key=_error_order)
        return result
    seen: set[str] = set()
    new = []
    user = _actor_user(actor)
    for a in answers:
        if a.external_id and (a.external_id in existing or a.external_id in seen):
            result.duplicates += 1
            continue
        if a.external_id:
            seen.add(a.external_id)
        new.append(
            SurveyResponse(
                contact_id=a.contact_id,
                account_id=a.account_id,
                survey=a.survey,
                score=a.score,
                comment=a.comment,
                responded_at=a.responded_at,
                external_id=a.external_id,
                created_at=now,
                created_by=user,
            )
        )
    result.created = len(new)
    result.account_ids = {r.account_id for r in new if r.account_id}
    if dry_run:
        result.responses = new
        return result
    with transaction.atomic():
        result.responses = SurveyResponse.objects.bulk_create(new, batch_size=INSERT_CHUNK)
        nps_accounts = {r.account_id for r in new if r.account_id and r.survey == "nps"}
        if nps_accounts:
            account_nps_sync(account_ids=nps_accounts)
        if result.account_ids:
            mark_accounts_dirty(result.account_ids, reason="nps")
    return result


def _error_order(error: FieldError):
    import re

    match = re.match(r"^\w+\[(\d+)\]", error.field)
    return (int(match.group(1)) if match else -1,)


def account_nps_sync(*, account_ids: Iterable[int]) -> int:
    """Set each account's `nps` property to its latest NPS answer (through the record services,
    so the property history shows the change, with source "system": Tend derived it from survey
    responses). Returns how many accounts changed."""
    from tend.crm.services import records_write

    from .queries import account_nps

    latest = account_nps(sorted(set(account_ids)))
    records = Record.objects.filter(pk__in=list(latest), archived_at__isnull=True).select_related("object_type")
    inputs_by_type: dict = {}
    for record in records:
        value = latest[record.pk]["latest"]
        if record.properties.get("nps") != value:
            inputs_by_type.setdefault(record.object_type, []).append((record, {"nps": value}))
    changed = 0
    for object_type, inputs in inputs_by_type.items():
        if "nps" not in registry_for(object_type).specs:
            continue
        records_write(actor=None, object_type=object_type, inputs=inputs, source=SURVEY_SOURCE)
        changed += len(inputs)
    return changed
