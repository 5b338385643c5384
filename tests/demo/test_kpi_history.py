"""The demo's 18 months of history behind the CS KPIs: cs_stage and MRR changes for every company,
onboarding services and tickets walking through their stages, NPS answers every month.

Time stands still at NOW (as in test_demo): the 18 months are October 2024 to March 2026.
"""

import datetime as dt
import io
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from tend.crm.models import PropertyChange, Record, Stage
from tend.usage.models import SurveyResponse

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 11, 23, 30, tzinfo=dt.UTC)
HORIZON = dt.datetime(2024, 10, 1, tzinfo=dt.UTC)  # the first of the 18 months
COMPANIES = 200  # enough churns to see their spread; every company is detailed


@pytest.fixture(autouse=True)
def fast_and_frozen(settings, time_machine):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    time_machine.move_to(NOW, tick=False)


def demo(*args) -> None:
    call_command("demo", *args, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def workspace():
    demo("--companies", str(COMPANIES))


def of_type(name: str):
    return Record.objects.filter(object_type__name=name)


def changes(prop: str, type_name: str) -> dict[int, list[PropertyChange]]:
    """Each record's changes of `prop`, oldest first."""
    out: dict[int, list] = defaultdict(list)
    for change in PropertyChange.objects.filter(property_name=prop, record__object_type__name=type_name).order_by(
        "changed_at", "id"
    ):
        out[change.record_id].append(change)
    return out


def month(at: dt.datetime) -> tuple[int, int]:
    return at.year, at.month


LAST_18_MONTHS = {(2024, m) for m in (10, 11, 12)} | {(2025, m) for m in range(1, 13)} | {(2026, m) for m in (1, 2, 3)}


def assert_a_chain(history: list[PropertyChange], current) -> None:
    """Each change starts from where the one before ended, and the last ends at today's value."""
    for before, after in zip(history, history[1:], strict=False):
        assert after.old_value == before.new_value, (before, after)
        assert before.changed_at < after.changed_at, (before, after)
    assert history[-1].new_value == current


def test_every_company_has_an_mrr_history_ending_at_its_mrr(workspace):
    mrr = changes("mrr", "companies")
    companies = list(of_type("companies"))
    for company in companies:
        history = mrr[company.pk]
        if not history:  # a young account, or one that churned early on, may not have changed
            young = company.created_at > NOW - dt.timedelta(days=120)
            assert young or company.properties["cs_stage"] == "churned", company.name
            continue
        assert_a_chain(history, company.properties["mrr"])
        assert history[0].changed_at >= max(HORIZON, company.created_at)
        assert all(c.old_value > 0 and c.new_value > 0 and c.old_value != c.new_value for c in history)
    per_company = sum(len(h) for h in mrr.values()) / len(companies)
    assert 7 <= per_company <= 13
    ups = sum(c.new_value > c.old_value for h in mrr.values() for c in h)
    downs = sum(c.new_value < c.old_value for h in mrr.values() for c in h)
    assert ups > downs > 0  # expansions and contractions, more of the first
    twice = [pk for pk, h in mrr.items() if h and max(Counter(month(c.changed_at) for c in h).values()) >= 2]
    assert len(twice) >= 10


def test_cs_stage_history_leads_to_each_companys_stage(workspace):
    stages = changes("cs_stage", "companies")
    for company in of_type("companies"):
        history = stages[company.pk]
        current = company.properties["cs_stage"]
        if current == "onboarding":
            assert history == [], company.name  # onboarding since it was created
            continue
        assert history[0].old_value == "onboarding", company.name
        assert_a_chain(history, current)
        assert history[0].changed_at > company.created_at
        if current == "churned":
            assert history[-1].changed_at >= HORIZON
    came_back = [h for h in stages.values() if any(c.old_value == "churned" for c in h)]
    assert came_back and all(h[-1].new_value in ("active", "at_risk") for h in came_back)


def test_churn_is_spread_over_the_18_months_at_a_gentle_rate(workspace):
    churns = PropertyChange.objects.filter(property_name="cs_stage", new_value="churned", changed_at__gte=HORIZON)
    by_month = Counter(month(c.changed_at) for c in churns)
    assert set(by_month) <= LAST_18_MONTHS
    assert len(by_month) >= 12
    assert max(by_month.values()) <= 3 * sum(by_month.values()) / len(by_month)
    # Every churned company churned once, after it had been a customer for two months at least.
    churned = of_type("companies").filter(properties__cs_stage="churned")
    for company in churned:
        last = company.property_changes.filter(property_name="cs_stage").order_by("-changed_at").first()
        assert last.new_value == "churned" and last.changed_at >= company.created_at + dt.timedelta(days=60)


def test_onboarding_services_walk_through_their_stages(workspace):
    stages = list(Stage.objects.filter(pipeline__label="Onboarding").order_by("display_order"))
    order = {s.pk: i for i, s in enumerate(stages)}
    complete = stages[-1]
    history = changes("stage", "services")
    services = list(of_type("services").filter(pipeline__label="Onboarding").select_related("stage"))
    days = []
    for service in services:
        start = dt.date.fromisoformat(service.properties["start_date"])
        walk = history[service.pk]
        assert dt.date.fromisoformat(service.properties["target_end_date"]) == start + dt.timedelta(days=59)
        if service.stage == stages[0]:
            assert walk == [] and service.stage_entered_at == service.created_at
            continue
        assert_a_chain(walk, service.stage_id)
        assert [order[c.new_value] for c in walk] == list(range(1, order[service.stage_id] + 1))
        assert walk[0].old_value == stages[0].pk and walk[0].changed_at.date() >= start
        assert service.stage_entered_at == walk[-1].changed_at <= NOW
        assert service.properties["kickoff_date"] == walk[0].changed_at.date().isoformat()
        if service.stage == complete:
            days.append((walk[-1].changed_at.date() - start).days)
    starts = {month(dt.datetime.fromisoformat(s.properties["start_date"])) for s in services}
    assert len(starts & LAST_18_MONTHS) >= 12
    # Most finish near the 59 days of their stages' targets, some early and some late.
    assert len(days) >= 30
    near = [d for d in days if 45 <= d <= 75]
    assert len(near) > len(days) / 2 and min(days) < 45 and max(days) > 75
    still_open = [s for s in services if s.stage != complete]
    assert still_open and all(s.created_at > NOW - dt.timedelta(days=70) for s in still_open)


def test_tickets_are_created_and_closed_over_the_months(workspace):
    history = changes("stage", "tickets")
    closed_stage = Stage.objects.get(pipeline__label="Support pipeline", label="Closed")
    tickets = list(of_type("tickets").select_related("stage"))
    hours = []
    for ticket in tickets:
        walk = history[ticket.pk]
        if ticket.stage.label == "New":
            assert walk == []
            continue
        assert_a_chain(walk, ticket.stage_id)
        assert ticket.created_at < walk[0].changed_at and ticket.stage_entered_at == walk[-1].changed_at <= NOW
        if ticket.stage == closed_stage:
            closed_at = dt.datetime.fromisoformat(ticket.properties["closed_at"].replace("Z", "+00:00"))
            assert closed_at == walk[-1].changed_at
            hours.append((closed_at - ticket.created_at).total_seconds() / 3600)
        else:
            assert "closed_at" not in ticket.properties
    closed = [t for t in tickets if t.stage == closed_stage]
    assert len({month(t.created_at) for t in closed} & LAST_18_MONTHS) >= 15
    assert all(t.created_at >= HORIZON for t in closed)
    assert min(hours) >= 0.5 and max(hours) <= 160  # hours to days
    assert sum(h < 24 for h in hours) > len(hours) / 2 > sum(h > 48 for h in hours) > 0


def test_nps_is_answered_every_month_and_improves(workspace):
    answers = list(SurveyResponse.objects.filter(survey="nps"))
    assert all(a.responded_at <= NOW and a.account_id and a.contact_id for a in answers)
    by_month = defaultdict(list)
    for a in answers:
        by_month[month(a.responded_at)].append(a.score)
    assert LAST_18_MONTHS <= set(by_month)

    def nps(months) -> float:
        scores = [s for m in months for s in by_month[m]]
        return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)

    first_half = sorted(LAST_18_MONTHS)[:9]
    assert nps(first_half) + 20 < nps(sorted(LAST_18_MONTHS)[9:])
    # Each answer comes from a contact of its account.
    contacts = defaultdict(set)
    for company, contact in Record.objects.filter(
        object_type__name="companies", associations_from__to_record__object_type__name="contacts"
    ).values_list("pk", "associations_from__to_record"):
        contacts[company].add(contact)
    assert all(a.contact_id in contacts[a.account_id] for a in answers)


def history_snapshot() -> dict:
    names = dict(Record.objects.values_list("pk", "name"))
    kinds = {"mrr", "cs_stage", "stage"}
    return {
        "changes": sorted(
            (names[c.record_id], c.property_name, str(c.old_value), str(c.new_value), c.changed_at)
            for c in PropertyChange.objects.filter(property_name__in=kinds)
        ),
        "answers": sorted((names[a.account_id], a.score, a.responded_at) for a in SurveyResponse.objects.all()),
        "records": sorted(
            (r.name, r.created_at, r.stage_entered_at, r.properties.get("start_date"), r.properties.get("closed_at"))
            for r in Record.objects.all()
        ),
    }


def test_the_same_seed_builds_the_same_history():
    demo("--companies", "40", "--seed", "7")
    first = history_snapshot()
    demo("--companies", "40", "--seed", "7", "--reset")
    assert history_snapshot() == first
    demo("--companies", "40", "--seed", "8", "--reset")
    assert history_snapshot()["changes"] != first["changes"]
