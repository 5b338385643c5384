"""Parsing an ingestion request into messages (the Segment spec): limits, timestamps with Segment's
clock-skew correction, and a report for each bad message."""

import datetime as dt
import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.core import bulk
from tend.core.errors import ValidationFailed

KINDS = ("track", "identify", "group", "page", "screen")


USAGE_KINDS = ("track", "page", "screen")  # what counts as activity (identify / group do not)


MAX_TEXT = 200


MAX_PROPERTIES_BYTES = 32 * 1024


MAX_BATCH_BYTES = 500 * 1024


MAX_BATCH_MESSAGES = 2500


# Events may come from clocks a little ahead; a day ahead is a bug, not skew.
MAX_FUTURE = dt.timedelta(days=1)


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


def parse_timestamp(raw: object) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 (no offset means UTC, as Segment reads it)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError
    text = raw.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(slots=True)
class Message:
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


# One encoder for every message: `json.dumps` with options builds a new encoder per call.
to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(int(value)) if isinstance(value, int) or value.is_integer() else str(value)
    return value.strip() if isinstance(value, str) else None


def _derived_message_id(msg: dict[str, Any]) -> str:
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


def parse_message(
    index: int,
    msg: object,
    *,
    kind: str | None,
    sent_at_default: object,
    now: dt.datetime,
    errors: list[dict[str, Any]],
) -> Message | None:
    def fail(field_name: str, message: str, message_id: str | None = None) -> None:
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
        raw_event = msg.get("event")
        if not isinstance(raw_event, str) or not raw_event.strip():
            fail("event", _("A track call needs an event name."), message_id)
            return None
        event = raw_event.strip()
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
    properties_json = to_json(properties) if properties else "{}"
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
    return Message(
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
