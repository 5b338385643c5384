"""Contact activity from Segment calls: a track call whose event the settings map to an activity
type, or a page call (when page views are on), whose userId names a contact — by email or by an
external-id property of contacts. Read before the write transaction; stored with the events."""

from tend.activity.models import ActivitySource, ActivityType
from tend.activity.queries import contacts_by_email, contacts_by_property, primary_companies
from tend.activity.write import ActivityRow
from tend.usage.settings import usage_settings

from .parse import MAX_TEXT, Message

MAX_URL = 2000


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def activity_rows(messages: list[Message]) -> dict[str, ActivityRow]:
    """{message id: the activity it is}, for the messages that are a known contact's activity."""
    current = usage_settings()
    events = current.activity_events if isinstance(current.activity_events, dict) else {}
    typed: list[tuple[Message, str]] = []
    for m in messages:
        if not m.user_id:
            continue
        if m.kind == "track" and m.event in events:
            typed.append((m, str(events[m.event])))
        elif m.kind == "page" and current.activity_page_views:
            typed.append((m, ActivityType.PAGE_VIEWED.value))
    if not typed:
        return {}
    keys = {m.user_id for m, _t in typed}
    if current.activity_contact_match == "property":
        contacts = contacts_by_property(current.activity_contact_property, keys)
    else:
        by_email = contacts_by_email(keys)
        contacts = {k: by_email[k.lower()] for k in keys if k.lower() in by_email}
    if not contacts:
        return {}
    companies = primary_companies(contacts.values())
    rows: dict[str, ActivityRow] = {}
    for m, kind in typed:
        contact = contacts.get(m.user_id)
        if contact is None:
            continue
        props = m.properties
        name = _text(props.get("title"), MAX_TEXT) or _text(props.get("name"), MAX_TEXT)
        rows[m.message_id] = ActivityRow(
            external_id=f"segment:{m.message_id}",
            type=kind,
            label="" if kind in ActivityType.values else m.event[:MAX_TEXT],
            contact_id=contact,
            company_id=companies.get(contact),
            occurred_at=m.timestamp,
            source=ActivitySource.SEGMENT.value,
            asset_name=name or (m.event if m.kind == "track" else _text(props.get("path"), MAX_TEXT)),
            asset_url=_text(props.get("url"), MAX_URL),
            properties_json=m.properties_json,
        )
    return rows
