"""The demo's contact activity: 60 days of it for the detailed companies' contacts, each row on
the contact's primary company, deterministic, and drawn from its own stream (the rest of the demo
is what it was without it)."""

import datetime as dt
from collections import Counter

import pytest

from tend.activity.models import Activity
from tend.crm.models import Association
from tend.demo import generate

from .test_demo import NOW, demo, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(settings, time_machine):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    time_machine.move_to(NOW, tick=False)


def activity() -> list[tuple]:
    return sorted(
        (a.type, a.asset_name, a.asset_url, a.occurred_at, a.contact.name, a.company.name)
        for a in Activity.objects.select_related("contact", "company")
    )


def test_sixty_days_of_page_views_forms_emails_and_meetings_on_the_primary_company():
    demo("--companies", "12", "--seed", "7")
    rows = list(Activity.objects.all())
    kinds = Counter(a.type for a in rows)
    assert set(kinds) == {"page_viewed", "form_submitted", "email_opened", "email_clicked", "meeting_booked"}
    assert kinds["page_viewed"] > kinds["form_submitted"] > 0
    assert all(NOW - dt.timedelta(days=61) <= a.occurred_at <= NOW for a in rows)
    primary = dict(
        Association.objects.filter(label="primary", from_record__object_type__name="contacts").values_list(
            "from_record_id", "to_record_id"
        )
    )
    assert all(primary[a.contact_id] == a.company_id for a in rows)


def test_the_same_seed_draws_the_same_activity_and_leaves_the_rest_as_it_was(monkeypatch):
    demo("--companies", "12", "--seed", "7")
    first, everything = activity(), snapshot()
    demo("--companies", "12", "--seed", "7", "--reset")
    assert activity() == first
    monkeypatch.setattr(generate, "write_contact_activity", lambda **kwargs: Counter())
    demo("--companies", "12", "--seed", "7", "--reset")
    assert Activity.objects.count() == 0
    without = snapshot()
    everything["counts"] = without["counts"] = None
    assert without == everything
