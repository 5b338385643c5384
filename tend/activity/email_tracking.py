"""Tend's own email tracking as contact activity: an open or a click of a tracked email (announced
by engagement, tend.engagement.mail.events) is an activity of each contact it was sent to."""

import json

from tend.core.policy import SYSTEM
from tend.engagement.mail.events import CLICKED, EmailEvent

from .models import ActivitySource, ActivityType
from .queries import primary_companies
from .services import MAX_TEXT, MAX_URL, activities_store
from .write import ActivityRow


def email_event_store(event: EmailEvent) -> set[str]:
    """Store the event once per contact (a repeat of the same event id adds nothing): the tool is
    the email's subject, the asset URL the link clicked. Returns the external ids stored now."""
    kind = ActivityType.EMAIL_CLICKED if event.kind == CLICKED else ActivityType.EMAIL_OPENED
    companies = primary_companies(event.contact_ids)
    properties = json.dumps({"messageId": event.message_id}, ensure_ascii=False)
    rows = [
        ActivityRow(
            external_id=f"{event.event_id}:{contact_id}",
            type=kind.value,
            contact_id=contact_id,
            company_id=companies.get(contact_id),
            occurred_at=event.at,
            source=ActivitySource.EMAIL_TRACKING.value,
            asset_name=" ".join(event.subject.split())[:MAX_TEXT],
            asset_url=event.url[:MAX_URL],
            properties_json=properties,
        )
        for contact_id in dict.fromkeys(event.contact_ids)
    ]
    return activities_store(actor=SYSTEM, rows=rows)
