"""The demo's usage and NPS data: a mix of rising and falling accounts, deterministic."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Sum

from tend.crm.models import Record
from tend.usage.models import DailyActiveUser, DailyUsage, SurveyResponse, UsageEvent
from tend.usage.queries import account_nps

NOW = dt.datetime(2026, 3, 11, 23, 30, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def demo(companies: int = 40):
    call_command("demo", "--companies", str(companies), "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


def logins(account_id: int, start: int, stop: int) -> int:
    today = NOW.date()
    return (
        DailyUsage.objects.filter(
            account_id=account_id,
            event="Logged In",
            day__gt=today - dt.timedelta(days=stop),
            day__lte=today - dt.timedelta(days=start),
        ).aggregate(n=Sum("count"))["n"]
        or 0
    )


def snapshot():
    by_domain = dict(Record.objects.filter(object_type__name="companies").values_list("pk", "properties__domain"))
    return sorted(
        (by_domain[a], d, e, c, u)
        for a, d, e, c, u in DailyUsage.objects.values_list("account", "day", "event", "count", "users")
    ), sorted((by_domain[a], s) for a, s in SurveyResponse.objects.values_list("account", "score"))


def test_demo_usage_is_a_mix_and_consistent():
    demo()
    companies = Record.objects.filter(object_type__name="companies")
    falling = rising = 0
    for company in companies:
        recent, before = logins(company.pk, 0, 30), logins(company.pk, 30, 60)
        if before and recent <= before / 2:
            falling += 1
        if recent > before:
            rising += 1
    assert (falling, rising) == (10, 22)
    # The rollups agree with the stored events.
    assert DailyUsage.objects.aggregate(n=Sum("count"))["n"] == UsageEvent.objects.count()
    assert DailyActiveUser.objects.count() == 14994
    # Churned accounts have nothing in the last 30 days.
    for company in companies.filter(properties__cs_stage="churned"):
        assert logins(company.pk, 0, 30) == 0
    # Every account with answers carries its latest one as its nps property.
    nps = account_nps(companies.values_list("pk", flat=True))
    assert len(nps) == 40
    # 27 accounts answered more than once; 11 of them fell by 3 points or more (a churn signal).
    assert sum(v["change"] is not None for v in nps.values()) == 27
    assert sum(v["change"] is not None and v["change"] <= -3 for v in nps.values()) == 11
    for company in companies.filter(pk__in=list(nps)):
        assert company.properties["nps"] == nps[company.pk]["latest"]


def test_demo_usage_is_deterministic():
    demo(12)
    first = snapshot()
    call_command("demo", "--reset", "--companies", "12", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert snapshot() == first
