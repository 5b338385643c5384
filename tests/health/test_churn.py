"""Every churn signal firing at its boundary and not firing just past it, with evidence and dedup."""

import datetime as dt

import pytest

from tend.engagement.models import Meeting
from tend.health.models import ChurnSignalRule, HealthAlert
from tend.health.recompute.run import recompute
from tend.usage.models import SurveyResponse

from .conftest import NOW, TODAY, activate, make_company, make_record, nps, usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(csm_actor, at_now):
    return activate(csm_actor)


def signals(company, key):
    return list(HealthAlert.objects.filter(record=company, kind="churn_signal", signal=key))


def test_logins_drop_fires_at_half_and_not_above(profile, csm):
    at_half = make_company("Half", csm=csm.pk)
    above = make_company("Above")
    for company, last in ((at_half, 5), (above, 6)):
        usage(company, "Logged In", days_ago=40, count=10)  # previous 30 days: 10
        usage(company, "Logged In", days_ago=3, count=last)  # last 30 days

    recompute()

    [alert] = signals(at_half, "logins_drop")
    assert alert.evidence == {"last": 5, "previous": 10, "window_days": 30, "events": ["Logged In"]}
    assert (alert.priority, alert.user_id) == ("high", csm.pk)
    assert signals(above, "logins_drop") == []


def test_logins_drop_needs_the_minimum_before(profile):
    few = make_company("Few")
    usage(few, "Logged In", days_ago=40, count=3)
    recompute()
    assert signals(few, "logins_drop") == []


def test_a_signal_is_not_raised_again_while_active(profile):
    company = make_company("A")
    usage(company, "Logged In", days_ago=40, count=10)
    recompute()
    recompute()
    assert len(signals(company, "logins_drop")) == 1


def _ticket(company, created_at):
    make_record("tickets", company, created_at=created_at)


def test_tickets_spike_fires_at_twice_last_month(profile):
    spike, calm = make_company("Spike"), make_company("Calm")
    last_month = NOW.replace(day=1) - dt.timedelta(days=10)
    for _ in range(2):
        _ticket(spike, last_month)
        _ticket(calm, last_month)
    for _ in range(4):
        _ticket(spike, NOW - dt.timedelta(days=1))
    for _ in range(3):
        _ticket(calm, NOW - dt.timedelta(days=1))

    recompute()

    [alert] = signals(spike, "tickets_spike")
    assert alert.evidence == {"this_month": 4, "last_month": 2, "fact": "2026-06"}
    assert signals(calm, "tickets_spike") == []


def test_nps_drop_of_three_fires_two_does_not(profile):
    drop3, drop2 = make_company("Three"), make_company("Two")
    nps(drop3, 9, days_ago=60)
    nps(drop3, 6, days_ago=1)
    nps(drop2, 9, days_ago=60)
    nps(drop2, 7, days_ago=1)

    recompute()

    [alert] = signals(drop3, "nps_drop")
    assert (alert.evidence["from"], alert.evidence["to"]) == (9, 6)
    # the evidence names both answers: when each was given, and the latest as the fact
    earlier, latest = SurveyResponse.objects.filter(account=drop3).order_by("responded_at")
    assert (alert.evidence["from_at"], alert.evidence["to_at"]) == (
        earlier.responded_at.isoformat(),
        latest.responded_at.isoformat(),
    )
    assert alert.evidence["fact"] == f"response:{latest.pk}"
    assert signals(drop2, "nps_drop") == []


def _meeting(company, days_ago, outcome):
    m = Meeting.objects.create(
        title="Check-in",
        start_at=NOW - dt.timedelta(days=days_ago),
        end_at=NOW - dt.timedelta(days=days_ago),
        outcome=outcome,
        created_at=NOW,
        updated_at=NOW,
    )
    m.records.add(company)
    return m


def test_two_consecutive_no_shows_fire(profile):
    missed, mixed = make_company("Missed"), make_company("Mixed")
    _meeting(missed, 30, "attended")
    a = _meeting(missed, 20, "no_show")
    b = _meeting(missed, 10, "no_show")
    _meeting(mixed, 20, "no_show")
    _meeting(mixed, 10, "attended")
    _meeting(mixed, 5, "cancelled")

    recompute()

    [alert] = signals(missed, "meetings_missed")
    assert [m["id"] for m in alert.evidence["meetings"]] == [b.pk, a.pk]
    assert signals(mixed, "meetings_missed") == []


def test_key_contact_left_fires_once_per_fact(profile, at_now):
    left, stayed = make_company("Left"), make_company("Stayed")
    make_record("contacts", left, name="Kim", key_contact=True, left_company=True)
    make_record("contacts", left, name="Lee", key_contact=False, left_company=True)
    make_record("contacts", stayed, name="Sam", key_contact=True, left_company=False)

    recompute()

    [alert] = signals(left, "key_contact_left")
    assert [c["name"] for c in alert.evidence["contacts"]] == ["Kim"]
    assert signals(stayed, "key_contact_left") == []
    # expired 14 days later: the same fact is not raised again
    at_now.move_to(NOW + dt.timedelta(days=15))
    recompute()
    assert len(signals(left, "key_contact_left")) == 1


def test_renewal_within_90_days_is_informational(profile):
    soon = make_company("Soon", renewal_date=(TODAY + dt.timedelta(days=90)).isoformat())
    later = make_company("Later", renewal_date=(TODAY + dt.timedelta(days=91)).isoformat())

    recompute()

    [alert] = signals(soon, "renewal_soon")
    assert (alert.priority, alert.evidence["days"]) == ("info", 90)
    assert signals(later, "renewal_soon") == []


def test_a_disabled_rule_does_not_fire(profile):
    ChurnSignalRule.objects.filter(key="renewal_soon").update(enabled=False)
    soon = make_company("Soon", renewal_date=(TODAY + dt.timedelta(days=10)).isoformat())
    recompute()
    assert signals(soon, "renewal_soon") == []
