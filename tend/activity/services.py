"""Writes of contact activity: a batch recorded row by row (each row stored whole or reported, the
good rows kept, idempotent by id), the rows other apps have already resolved (Segment, email
tracking, sequences), and a user's dismissals from their Feed."""

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tend.core import bulk, clock, policy
from tend.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from tend.core.policy import Actor

from .models import Activity, ActivityDismissal, ActivitySource, ActivityType
from .queries import contacts_by_email, contacts_by_id, primary_companies
from .write import ActivityRow, rows_insert

MAX_BATCH = 1000
MAX_TEXT = 200
MAX_URL = 2000
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_FUTURE = dt.timedelta(days=1)
TYPE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


@dataclass
class RecordOutcome:
    """What happened to each row of a batch: accepted (stored now), duplicate (its id was stored
    before, or earlier in the batch) or error (with the field and why)."""

    accepted: int = 0
    duplicates: int = 0
    errors: list[FieldError] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": [e.as_dict() for e in self.errors],
            "results": self.results,
        }


def _require_write(actor: Actor) -> None:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    if not actor.can_write:
        raise Forbidden(_("This API token is read-only; send activity with a write token."))


def _parse_time(raw: object) -> dt.datetime:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError
    text = raw.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _text(raw: object, where: str, name: str, errors: list[FieldError], *, limit: int = MAX_TEXT) -> str | None:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors.append(FieldError(f"{where}{name}", _("%(name)s must be a string.") % {"name": name}))
        return None
    value = raw.strip()
    if len(value) > limit:
        errors.append(
            FieldError(f"{where}{name}", _("%(name)s may have at most %(n)d characters.") % {"name": name, "n": limit})
        )
        return None
    if "\x00" in value:
        errors.append(FieldError(f"{where}{name}", _("%(name)s may not contain the NUL character.") % {"name": name}))
        return None
    return value


@dataclass(slots=True)
class _Item:
    index: int
    external_id: str
    type: str
    label: str
    contact_id: int | None
    email: str | None
    asset_name: str
    asset_url: str
    occurred_at: dt.datetime
    source: str
    properties_json: str


def _clean(index: int, raw: object, where: str, now: dt.datetime, errors: list[FieldError]) -> _Item | None:
    before = len(errors)
    if not isinstance(raw, dict):
        errors.append(FieldError(where.rstrip(".") or "body", _("Each activity must be a JSON object.")))
        return None
    external_id = _text(raw.get("id"), where, "id", errors)
    if external_id == "":
        errors.append(
            FieldError(
                f"{where}id", _("Give each activity an id (retries with the same id are stored once)."), "required"
            )
        )
    kind = _text(raw.get("type"), where, "type", errors, limit=64)
    label = _text(raw.get("label"), where, "label", errors)
    if kind == "":
        errors.append(FieldError(f"{where}type", _("Give the activity's type."), "required"))
    elif kind is not None and kind not in ActivityType.values:
        if not TYPE_KEY.match(kind):
            errors.append(
                FieldError(
                    f"{where}type",
                    _("type is a built-in type or a custom key of lower-case letters, digits and underscores."),
                )
            )
        elif label == "":
            errors.append(FieldError(f"{where}label", _("A custom activity type needs a label."), "required"))
    contact_id, email = None, None
    raw_contact = raw.get("contactId")
    if raw_contact is not None:
        if isinstance(raw_contact, bool) or not isinstance(raw_contact, int | str) or not str(raw_contact).isdigit():
            errors.append(FieldError(f"{where}contactId", _("contactId must be a record id.")))
        else:
            contact_id = int(raw_contact)
    else:
        email_text = _text(raw.get("contactEmail"), where, "contactEmail", errors)
        if email_text == "":
            errors.append(
                FieldError(f"{where}contactId", _("Give the contact: contactId or contactEmail."), "required")
            )
        elif email_text is not None:
            email = email_text.lower()
    asset = raw.get("asset") if raw.get("asset") is not None else {}
    if not isinstance(asset, dict):
        errors.append(FieldError(f"{where}asset", _("asset must be a JSON object with a name and a url.")))
        asset = {}
    asset_name = _text(asset.get("name"), f"{where}asset.", "name", errors)
    asset_url = _text(asset.get("url"), f"{where}asset.", "url", errors, limit=MAX_URL)
    if asset_url and not asset_url.lower().startswith(("http://", "https://", "/")):
        errors.append(FieldError(f"{where}asset.url", _("url must be an http(s) address.")))
    occurred_at = now
    if raw.get("occurredAt") is not None:
        try:
            occurred_at = _parse_time(raw.get("occurredAt"))
        except (ValueError, TypeError, OverflowError):
            errors.append(
                FieldError(
                    f"{where}occurredAt", _("occurredAt must be an ISO 8601 date and time, e.g. 2026-05-01T09:30:00Z.")
                )
            )
        else:
            if occurred_at > now + MAX_FUTURE:
                errors.append(FieldError(f"{where}occurredAt", _("occurredAt is more than a day in the future.")))
            elif occurred_at.year < 2000:
                errors.append(FieldError(f"{where}occurredAt", _("occurredAt is before the year 2000.")))
    source = raw.get("source", ActivitySource.API.value)
    if source not in ActivitySource.values:
        errors.append(
            FieldError(
                f"{where}source", _("source must be one of %(values)s.") % {"values": ", ".join(ActivitySource.values)}
            )
        )
    properties = raw.get("properties")
    properties_json = "{}"
    if properties is not None:
        if not isinstance(properties, dict):
            errors.append(FieldError(f"{where}properties", _("properties must be a JSON object.")))
        else:
            properties_json = _to_json(properties)
            if len(properties_json.encode()) > MAX_PROPERTIES_BYTES:
                errors.append(FieldError(f"{where}properties", _("properties are larger than 32 KB.")))
            elif "\\u0000" in properties_json:
                errors.append(FieldError(f"{where}properties", _("properties may not contain the NUL character.")))
    if len(errors) > before:
        return None
    assert external_id is not None and kind is not None and asset_name is not None and asset_url is not None
    return _Item(
        index,
        external_id,
        kind,
        (label or "") if kind not in ActivityType.values else "",
        contact_id,
        email,
        asset_name,
        asset_url,
        occurred_at,
        str(source),
        properties_json,
    )


def activities_record(*, actor: Actor, items: Sequence[object], where_prefix: str = "activities") -> RecordOutcome:
    """Record a batch of contact activity sent to the API. Each row is checked on its own (id,
    type — built-in or a custom key with a label —, contactId or contactEmail, occurredAt, asset,
    source, properties); a bad row is reported by field and nothing of it is stored, the good rows
    are. Idempotent by id: a row whose id was stored before is a duplicate and changes nothing."""
    _require_write(actor)
    if not isinstance(items, list):
        raise ValidationFailed.single(where_prefix, _("activities must be a list."))
    if not items:
        raise ValidationFailed.single(where_prefix, _("Send at least one activity."), "required")
    if len(items) > MAX_BATCH:
        raise ValidationFailed.single(
            where_prefix, _("Send at most %(n)d activities at once.") % {"n": MAX_BATCH}, "too_many"
        )
    now = clock.now()
    outcome = RecordOutcome()
    status: dict[int, str] = {}
    cleaned: list[_Item] = []
    for i, raw in enumerate(items):
        row_errors: list[FieldError] = []
        item = _clean(i, raw, f"{where_prefix}[{i}].", now, row_errors)
        if item is None:
            outcome.errors.extend(row_errors)
            status[i] = "error"
        else:
            cleaned.append(item)
    known_ids = contacts_by_id({c.contact_id for c in cleaned if c.contact_id is not None})
    by_email = contacts_by_email({c.email for c in cleaned if c.email})
    resolved: list[_Item] = []
    for c in cleaned:
        if c.contact_id is not None and c.contact_id not in known_ids:
            outcome.errors.append(
                FieldError(
                    f"{where_prefix}[{c.index}].contactId", _("No contact %(id)s.") % {"id": c.contact_id}, "not_found"
                )
            )
            status[c.index] = "error"
        elif c.contact_id is None:
            found = by_email.get(c.email or "")
            if found is None:
                outcome.errors.append(
                    FieldError(
                        f"{where_prefix}[{c.index}].contactEmail",
                        _("No contact has the email %(email)s.") % {"email": c.email},
                        "not_found",
                    )
                )
                status[c.index] = "error"
            else:
                c.contact_id = found
                resolved.append(c)
        else:
            resolved.append(c)
    companies = primary_companies({c.contact_id for c in resolved if c.contact_id is not None})
    fresh: dict[str, _Item] = {}
    for c in resolved:
        if c.external_id in fresh:
            status[c.index] = "duplicate"
        else:
            fresh[c.external_id] = c
    rows = [
        ActivityRow(
            external_id=c.external_id,
            type=c.type,
            label=c.label,
            contact_id=c.contact_id,  # type: ignore[arg-type]  # resolved above
            company_id=companies.get(c.contact_id),  # type: ignore[arg-type]
            occurred_at=c.occurred_at,
            source=c.source,
            asset_name=c.asset_name,
            asset_url=c.asset_url,
            properties_json=c.properties_json,
        )
        for c in fresh.values()
    ]
    stored = activities_store(actor=actor, rows=rows, now=now)
    for c in fresh.values():
        status[c.index] = "accepted" if c.external_id in stored else "duplicate"
    outcome.accepted = sum(1 for s in status.values() if s == "accepted")
    outcome.duplicates = sum(1 for s in status.values() if s == "duplicate")
    outcome.errors.sort(key=lambda e: _row_of(e.field))
    ids = [raw.get("id") if isinstance(raw, dict) else None for raw in items]
    outcome.results = [{"index": i, "id": ids[i], "status": status.get(i, "error")} for i in range(len(items))]
    return outcome


def _row_of(field_name: str) -> int:
    match = re.search(r"\[(\d+)\]", field_name)
    return int(match.group(1)) if match else -1


def activities_store(*, actor: Actor, rows: Sequence[ActivityRow], now: dt.datetime | None = None) -> set[str]:
    """Store rows whose contact and company are resolved (Segment, email tracking, sequences, the
    API above), set-based; rows whose external id is already stored are skipped. Returns the
    external ids stored now. Inside a caller's transaction it joins it."""
    _require_write(actor)
    if not rows:
        return set()
    now = now or clock.now()
    if transaction.get_connection().in_atomic_block:
        return rows_insert(rows, now)
    with bulk.write_turn(), transaction.atomic():
        return rows_insert(rows, now)


def _dismissable(actor: Actor, activity_id: int) -> Activity:
    policy.require(actor, policy.Action.USE_WORK_TABS)
    if not actor.can_write:
        raise Forbidden(_("This API token is read-only."))
    activity = Activity.objects.filter(pk=activity_id).first()
    if activity is None:
        raise NotFound(_("No such activity."))
    return activity


def activity_dismiss(*, actor: Actor, activity_id: int) -> Activity:
    """Remove an activity from the actor's own Feed (others still see it); dismissing twice is once."""
    activity = _dismissable(actor, activity_id)
    ActivityDismissal.objects.get_or_create(user=actor.user, activity=activity, defaults={"dismissed_at": clock.now()})
    return activity


def activity_undismiss(*, actor: Actor, activity_id: int) -> Activity:
    """Undo a dismissal: the activity is back in the actor's Feed."""
    activity = _dismissable(actor, activity_id)
    ActivityDismissal.objects.filter(user=actor.user, activity=activity).delete()
    return activity
