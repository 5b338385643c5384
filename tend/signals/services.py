"""Writes of the signals app: product-usage ingestion (Segment spec) with its daily rollups, the
signals settings, and NPS / survey responses.

Ingestion works in bulk: one query for the message ids already stored, one for the accounts the
batch names, one for the users it must map; then one multi-row INSERT … ON CONFLICT DO NOTHING per
500 events (bulk_create's per-row compiler cost would cap ingestion well below 20k events/s), and
the rollup rows of the touched (account, day) pairs recomputed from the events in one
INSERT … SELECT … ON CONFLICT DO UPDATE — recomputing, not incrementing, so that replays, duplicates
and events arriving out of order can never make a rollup drift.
"""

import datetime as dt
import gzip
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, Forbidden, ValidationFailed
from tend.crm.models import ChangeSource, PropertyType, Record
from tend.crm.registry import registry_for
from tend.health.marks import mark_accounts_dirty
from tend.workspace.models import SettingsChange
from tend.workspace.services import workspace_settings

from .models import DailyActiveUser, DailyUsage, SignalsSettings, UsageEvent, UsageIdentity

UTC = dt.UTC
KINDS = ("track", "identify", "group", "page", "screen")
USAGE_KINDS = ("track", "page", "screen")  # what counts as activity (identify / group do not)
MAX_TEXT = 200
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500
# Events may come from clocks a little ahead; a day ahead is a bug, not skew.
MAX_FUTURE = dt.timedelta(days=1)
INSERT_CHUNK = 500  # rows per INSERT statement (SQLite allows 32,766 parameters)
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
    traits: dict | None
    timestamp: dt.datetime
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
    payload_name = "traits" if msg_kind in ("identify", "group") else "properties"
    properties = msg.get(payload_name)
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        fail(payload_name, _("%(name)s must be a JSON object.") % {"name": payload_name}, message_id)
        return None
    if len(properties) and len(json.dumps(properties, default=str)) > MAX_PROPERTIES_BYTES:
        fail(payload_name, _("%(name)s are larger than 32 KB.") % {"name": payload_name}, message_id)
        return None
    if msg_kind in ("page", "screen"):
        name = _text(msg.get("name"))
        if name and "name" not in properties:
            properties = {**properties, "name": name[:MAX_TEXT]}
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
    return _Message(
        index=index,
        message_id=message_id,
        kind=msg_kind,
        event=event,
        user_id=user_id or "",
        user_key=user_key,
        properties=properties,
        traits=traits,
        timestamp=timestamp,
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
    if parsed:
        with transaction.atomic():
            _store(parsed, now, result, statuses)
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


def _store(parsed: list[_Message], now: dt.datetime, result: IngestResult, statuses: dict[int, str]) -> None:
    # Duplicates: within the batch (the first wins) and against what is stored.
    fresh: dict[str, _Message] = {}
    for m in parsed:
        if m.message_id in fresh:
            statuses[m.index] = "duplicate"
            result.duplicates += 1
        else:
            fresh[m.message_id] = m
    stored = (
        set(UsageEvent.objects.filter(message_id__in=list(fresh)).values_list("message_id", flat=True).iterator())
        if fresh
        else set()
    )
    for message_id in stored:
        m = fresh.pop(message_id)
        statuses[m.index] = "duplicate"
        result.duplicates += 1
    todo = list(fresh.values())
    if not todo:
        return
    _map_accounts(todo, now)
    inserted = _insert_events(todo, now)
    usage_keys: set[tuple[int, dt.date]] = set()
    active: set[tuple[int, dt.date, str]] = set()
    for m in todo:
        if m.message_id not in inserted:  # a concurrent request stored it first
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
        if m.kind in USAGE_KINDS:
            day = m.timestamp.date()
            active.add((m.account_id, day, m.user_key))
            if m.kind == "track":
                usage_keys.add((m.account_id, day))
    # Identify calls are about people, not accounts: "unmatched" counts usage that could not be
    # attributed, so an identify without a known account is simply accepted.
    for m in todo:
        if m.kind == "identify" and statuses[m.index] == "unmatched":
            statuses[m.index] = "accepted"
    if active:
        _insert_active_users(sorted(active))
    if usage_keys:
        rollups_recompute(sorted(usage_keys))
    if result.account_ids:
        mark_accounts_dirty(result.account_ids, reason="usage")


def _map_accounts(todo: list[_Message], now: dt.datetime) -> None:
    """groupId (group calls, context.groupId, properties.groupId) → account by the key property;
    otherwise the account remembered for the userId. Group calls and matched group ids are
    remembered, in batch order, so a group call maps the same user's later messages."""
    key_property = signals_settings().account_key_property
    customer_type_id = workspace_settings().customer_object_type_id
    group_keys = {m.group_key for m in todo if m.group_key}
    by_key: dict[str, int] = {}
    if group_keys:
        rows = Record.objects.filter(
            object_type_id=customer_type_id,
            archived_at__isnull=True,
            **{f"properties__{key_property}__in": sorted(group_keys)},
        ).values_list("pk", f"properties__{key_property}")
        by_key = {str(value): pk for pk, value in rows}
    user_keys = {m.user_key for m in todo}
    identities = {
        i.user_key: i
        for i in UsageIdentity.objects.filter(user_key__in=sorted(user_keys)).only(
            "pk", "user_key", "account_id", "traits"
        )
    }
    remembered = {k: i.account_id for k, i in identities.items()}
    changed: dict[str, UsageIdentity] = {}
    for m in todo:
        account = by_key.get(m.group_key) if m.group_key else None
        if account is None and not m.explicit_group:
            account = remembered.get(m.user_key)
        m.account_id = account
        if m.group_key and account is not None and m.kind != "identify" and remembered.get(m.user_key) != account:
            remembered[m.user_key] = account
            identity = identities.get(m.user_key) or UsageIdentity(user_key=m.user_key, traits={})
            identities[m.user_key] = identity
            identity.account_id = account
            changed[m.user_key] = identity
        if m.kind == "identify" and m.traits:
            identity = identities.get(m.user_key) or UsageIdentity(
                user_key=m.user_key, traits={}, account_id=remembered.get(m.user_key)
            )
            identities[m.user_key] = identity
            identity.traits = {**(identity.traits or {}), **m.traits}
            changed[m.user_key] = identity
    if changed:
        _upsert_identities(list(changed.values()), now)


def _upsert_identities(identities: list[UsageIdentity], now: dt.datetime) -> None:
    """INSERT … ON CONFLICT (user_key) DO UPDATE, as bulk_create(update_conflicts=True) would, without
    its per-row compiler cost (a first batch from a new source names ~1,000 new users)."""
    qn = connection.ops.quote_name
    table = qn(UsageIdentity._meta.db_table)
    one = "(%s, %s, %s::jsonb, %s)" if connection.vendor == "postgresql" else "(%s, %s, %s, %s)"
    at = _db_datetime(now)
    with connection.cursor() as cursor:
        for start in range(0, len(identities), INSERT_CHUNK):
            chunk = identities[start : start + INSERT_CHUNK]
            params = [
                p
                for i in chunk
                for p in (i.user_key, i.account_id, json.dumps(i.traits or {}, ensure_ascii=False, default=str), at)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({qn('user_key')}, {qn('account_id')}, {qn('traits')}, {qn('updated_at')}) "
                f"VALUES {', '.join([one] * len(chunk))} ON CONFLICT ({qn('user_key')}) DO UPDATE SET "
                f"{qn('account_id')} = excluded.{qn('account_id')}, {qn('traits')} = excluded.{qn('traits')}, "
                f"{qn('updated_at')} = excluded.{qn('updated_at')}",
                params,
            )


def _db_datetime(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _db_date(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _insert_events(todo: list[_Message], now: dt.datetime) -> set[str]:
    """Multi-row INSERT … ON CONFLICT (message_id) DO NOTHING RETURNING message_id: the ids
    really inserted (a concurrent request may have stored one of them meanwhile)."""
    qn = connection.ops.quote_name
    table = qn(UsageEvent._meta.db_table)
    cols = ("message_id", "kind", "event", "account_id", "user_key", "properties", "timestamp", "received_at")
    pg = connection.vendor == "postgresql"
    one = "(%s, %s, %s, %s, %s, %s::jsonb, %s, %s)" if pg else "(%s, %s, %s, %s, %s, %s, %s, %s)"
    received = _db_datetime(now)
    inserted: set[str] = set()
    if not pg:
        # SQLite: the transaction began IMMEDIATE, so it has held the write lock since before the
        # duplicate check; nobody can have stored these ids meanwhile, and a prepared executemany
        # is several times cheaper than a long multi-row statement.
        rows = [
            (
                m.message_id,
                m.kind,
                m.event,
                m.account_id,
                m.user_key,
                json.dumps(m.properties, ensure_ascii=False, default=str),
                _db_datetime(m.timestamp),
                received,
            )
            for m in todo
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(qn(c) for c in cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
                f" ON CONFLICT ({qn('message_id')}) DO NOTHING",
                rows,
            )
        return {m.message_id for m in todo}
    with connection.cursor() as cursor:
        for start in range(0, len(todo), INSERT_CHUNK):
            chunk = todo[start : start + INSERT_CHUNK]
            params: list = []
            for m in chunk:
                params.extend(
                    (
                        m.message_id,
                        m.kind,
                        m.event,
                        m.account_id,
                        m.user_key,
                        json.dumps(m.properties, ensure_ascii=False, default=str),
                        _db_datetime(m.timestamp),
                        received,
                    )
                )
            sql = (
                f"INSERT INTO {table} ({', '.join(qn(c) for c in cols)}) VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({qn('message_id')}) DO NOTHING RETURNING {qn('message_id')}"
            )
            cursor.execute(sql, params)
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted


def _insert_active_users(rows: list[tuple[int, dt.date, str]]) -> None:
    qn = connection.ops.quote_name
    table = qn(DailyActiveUser._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK * 2):
            chunk = rows[start : start + INSERT_CHUNK * 2]
            params = [p for account, day, user in chunk for p in (account, _db_date(day), user)]
            cursor.execute(
                f"INSERT INTO {table} ({qn('account_id')}, {qn('day')}, {qn('user_key')}) VALUES "
                f"{', '.join(['(%s, %s, %s)'] * len(chunk))} "
                f"ON CONFLICT ({qn('account_id')}, {qn('day')}, {qn('user_key')}) DO NOTHING",
                params,
            )


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def rollups_recompute(pairs: Iterable[tuple[int, dt.date]]) -> None:
    """Recompute the DailyUsage rows of the given (account, UTC day) pairs from the stored track
    events: one INSERT … SELECT … ON CONFLICT DO UPDATE per chunk of pairs (idempotent)."""
    pairs = list(pairs)
    qn = connection.ops.quote_name
    events = qn(UsageEvent._meta.db_table)
    usage = qn(DailyUsage._meta.db_table)
    pg = connection.vendor == "postgresql"
    one = "(%s::bigint, %s::timestamptz, %s::timestamptz)" if pg else "(%s, %s, %s)"
    day = _day_sql("e.timestamp")
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), INSERT_CHUNK):
            chunk = pairs[start : start + INSERT_CHUNK]
            params: list = []
            for account, d in chunk:
                lo = dt.datetime.combine(d, dt.time(), tzinfo=UTC)
                params.extend((account, _db_datetime(lo), _db_datetime(lo + dt.timedelta(days=1))))
            cursor.execute(
                f"WITH t(a, lo, hi) AS (VALUES {', '.join([one] * len(chunk))}) "
                f"INSERT INTO {usage} ({qn('account_id')}, {qn('day')}, {qn('event')}, {qn('count')}, {qn('users')}) "
                f"SELECT e.{qn('account_id')}, {day}, e.{qn('event')}, COUNT(*), COUNT(DISTINCT e.{qn('user_key')}) "
                f"FROM {events} e JOIN t ON e.{qn('account_id')} = t.a "
                f"AND e.{qn('timestamp')} >= t.lo AND e.{qn('timestamp')} < t.hi "
                f"WHERE e.{qn('kind')} = 'track' "
                f"GROUP BY e.{qn('account_id')}, {day}, e.{qn('event')} "
                f"ON CONFLICT ({qn('account_id')}, {qn('day')}, {qn('event')}) "
                f"DO UPDATE SET {qn('count')} = excluded.{qn('count')}, {qn('users')} = excluded.{qn('users')}",
                params,
            )


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
