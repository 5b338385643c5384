"""The demo's contact activity: the last 60 days of what the detailed companies' contacts did —
pages viewed on the vendor's site and docs, forms submitted, emails opened and clicked, meetings
booked — for the Feed tab. Its own random stream, so everything else the demo draws is unchanged;
deterministic for a seed and a "now"."""

import datetime as dt
import json
import random
from collections import Counter

from django.db import transaction

from tend.activity.models import ActivitySource, ActivityType
from tend.activity.write import ActivityRow, rows_insert
from tend.core import bulk
from tend.crm.models import Association

DAYS = 60
SITE = "https://www.tend-demo.example"
PAGES = (
    ("Pricing", "/pricing"),
    ("Product tour", "/tour"),
    ("What's new", "/changelog"),
    ("Integrations", "/integrations"),
    ("Security", "/security"),
    ("Customer stories", "/customers"),
    ("Help centre: getting started", "/help/getting-started"),
    ("Help centre: reports", "/help/reports"),
    ("API reference", "/docs/api"),
)
FORMS = (("Contact sales", "/contact"), ("Webinar sign-up", "/webinars/spring"), ("Upgrade request", "/upgrade"))
EMAILS = ("Quarterly business review", "Your renewal", "New: automated reports", "Onboarding week 2", "Webinar invite")
MEETINGS = (("Book a QBR", "/meet/qbr"), ("Office hours", "/meet/office-hours"))
# Mean events per contact over the 60 days: a few contacts are busy, most are quiet.
RATES = {"page": 6.0, "form": 0.4, "email": 3.0, "meeting": 0.25}


def _contacts() -> list[tuple[int, int]]:
    """(contact id, company id) of the demo's contacts by their primary company, in id order."""
    return list(
        Association.objects.filter(
            from_record__object_type__name="contacts", to_record__object_type__name="companies", label="primary"
        )
        .order_by("from_record_id", "to_record_id")
        .values_list("from_record_id", "to_record_id")
    )


def write_contact_activity(*, seed: object, now: dt.datetime) -> Counter:
    rng = random.Random(f"{seed}/contact-activity")
    rnd = rng.random
    counts: Counter = Counter()
    rows: list[ActivityRow] = []

    def add(contact: int, company: int, kind: str, name: str, url: str, at: dt.datetime, props: dict) -> None:
        n = counts["drawn"]
        counts["drawn"] += 1
        rows.append(
            ActivityRow(
                external_id=f"demo:{contact}:{n}",
                type=kind,
                contact_id=contact,
                company_id=company,
                occurred_at=at,
                source=ActivitySource.EMAIL_TRACKING.value
                if kind.startswith("email")
                else ActivitySource.SEGMENT.value,
                asset_name=name,
                asset_url=url,
                properties_json=json.dumps(props),
            )
        )

    def when() -> dt.datetime:
        # Working hours more than nights; recent days a little busier.
        day = int((rnd() ** 1.3) * DAYS)
        minute = int(8 * 60 + rnd() * 10 * 60) if rnd() < 0.85 else int(rnd() * 24 * 60)
        return (now - dt.timedelta(days=day)).replace(hour=0, minute=0, second=0) + dt.timedelta(minutes=minute)

    def times(mean: float, busy: float) -> int:
        return int(rnd() * 2 * mean * busy + 0.5)

    for contact, company in _contacts():
        busy = 0.2 + 1.6 * rnd() ** 2
        for _ in range(times(RATES["page"], busy)):
            name, path = PAGES[int(rnd() * len(PAGES))]
            add(contact, company, ActivityType.PAGE_VIEWED, name, SITE + path, when(), {"path": path})
        for _ in range(times(RATES["form"], busy)):
            name, path = FORMS[int(rnd() * len(FORMS))]
            add(contact, company, ActivityType.FORM_SUBMITTED, name, SITE + path, when(), {})
        for _ in range(times(RATES["email"], busy)):
            subject = EMAILS[int(rnd() * len(EMAILS))]
            at = when()
            add(contact, company, ActivityType.EMAIL_OPENED, subject, "", at, {})
            if rnd() < 0.35:
                add(
                    contact,
                    company,
                    ActivityType.EMAIL_CLICKED,
                    subject,
                    SITE + "/blog",
                    at + dt.timedelta(minutes=2),
                    {},
                )
        for _ in range(times(RATES["meeting"], busy)):
            name, path = MEETINGS[int(rnd() * len(MEETINGS))]
            add(contact, company, ActivityType.MEETING_BOOKED, name, SITE + path, when(), {})
        if len(rows) >= 20_000:
            counts["contact activity"] += _write(rows, now)
    counts["contact activity"] += _write(rows, now)
    del counts["drawn"]
    return counts


def _write(rows: list[ActivityRow], now: dt.datetime) -> int:
    past = [r for r in rows if r.occurred_at <= now]  # today's working hours may be ahead of now
    rows.clear()
    with bulk.write_turn(), transaction.atomic():
        return len(rows_insert(past, now))
