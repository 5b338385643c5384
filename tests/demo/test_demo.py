"""`tend demo`: a deterministic, coherent demo workspace built around "now".

Time stands still at NOW, a Wednesday 23:30 UTC: it is already Thursday in Tokyo, Berlin and
Rome and still Wednesday in the Americas, so "today" differs by user, as it does for real.
"""

import datetime as dt
import io
import zoneinfo
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from tend.core.policy import SYSTEM, Actor, Scope
from tend.core.web import Viewing
from tend.crm import queries, services, values
from tend.crm.filters import compile_search
from tend.crm.models import Association, ChangeSource, ObjectType, PropertyChange, Record
from tend.crm.registry import registry_for
from tend.demo import generate
from tend.demo.team import DEMO_PASSWORD, DEMO_USERS
from tend.directory.models import Team, User
from tend.engagement.models import Call, Email, Meeting, Note, Task
from tend.health.models import BookScoreDay, HealthAlert, HealthScore, HealthScoreHistory
from tend.health.queries import health_summary
from tend.summary.queries import customer_view_cards
from tend.summary.scope import Scope as SummaryScope
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 11, 23, 30, tzinfo=dt.UTC)
COMPANIES = 30
SEATED_CSMS = [u.email for u in DEMO_USERS if u.role == "csm" and u.seat]
WITH_A_DAY = [u.email for u in DEMO_USERS if u.role != "admin"]  # the manager and every CSM


@pytest.fixture(autouse=True)
def fast_and_frozen(settings, time_machine):
    # The production hasher is slow on purpose; the demo hashes its shared password once anyway.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    time_machine.move_to(NOW, tick=False)


def demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def workspace():
    demo("--companies", str(COMPANIES))
    return {u.email: u for u in User.objects.all()}


def of_type(name: str):
    return Record.objects.filter(object_type__name=name)


def local(user: User, at: dt.datetime) -> dt.datetime:
    return at.astimezone(zoneinfo.ZoneInfo(user.time_zone))


def snapshot() -> dict:
    """Everything the seed decides, with user ids replaced by emails (ids differ between runs)."""
    email = dict(User.objects.values_list("pk", "email"))

    def props(p: dict) -> dict:
        return {k: email[v] if k == "csm" else v for k, v in p.items()}

    return {
        "records": sorted(
            (
                r.object_type.name,
                r.name,
                email[r.owner_id],
                r.stage.label if r.stage else "",
                sorted(props(r.properties).items()),
            )  # fmt: skip
            for r in Record.objects.select_related("object_type", "stage")
        ),
        "tasks": sorted((t.subject, email[t.assignee_id], t.status, t.due_at) for t in Task.objects.all()),
        "meetings": sorted((m.title, email[m.owner_id], m.outcome, m.start_at) for m in Meeting.objects.all()),
        "history": sorted(
            (c.record.name, c.property_name, *(email.get(v, v) if user_valued else v for v in values), c.changed_at)
            for c in PropertyChange.objects.select_related("record")
            for user_valued, values in [(c.property_name in ("owner", "csm"), (c.old_value, c.new_value))]
        ),
        "counts": [
            model.objects.count() for model in (User, Team, Record, Association, Task, Meeting, Note, Call, Email)
        ],
        "health history": sorted(
            (p.record.name, p.at, p.score, p.status, p.reason)
            for p in HealthScoreHistory.objects.select_related("record")
        ),
        "book days": sorted((email[d.user_id], d.day, round(d.total, 6), d.count) for d in BookScoreDay.objects.all()),
        "alerts": sorted(
            (a.record.name, a.kind, a.signal, a.title, email.get(a.user_id), a.raised_at, a.expires_at)
            for a in HealthAlert.objects.select_related("record")
        ),
    }


# --------------------------------------------------------------------------- the team


def test_the_demo_team_works_in_several_time_zones_and_languages(workspace):
    users = workspace
    assert sorted(users) == sorted(u.email for u in DEMO_USERS)
    admin, manager = users["admin@demo.tend"], users["manager@demo.tend"]
    assert (admin.is_superuser, admin.has_service_seat) == (True, True)
    assert (manager.is_superuser, manager.manage_cs_settings, manager.has_service_seat) == (False, True, True)
    csms = [users[e] for e in SEATED_CSMS]
    assert [(u.email, u.time_zone, u.language) for u in csms] == [
        ("yuki@demo.tend", "Asia/Tokyo", "ja"),
        ("lena@demo.tend", "Europe/Berlin", "de"),
        ("giulia@demo.tend", "Europe/Rome", "it"),
        ("marcus@demo.tend", "America/New_York", "en"),
        ("priya@demo.tend", "America/Los_Angeles", "en"),
    ]
    assert all(u.manager_id == manager.pk and not u.manage_cs_settings for u in csms)
    seatless = [u for u in users.values() if not u.has_service_seat]
    assert [(u.email, u.manager_id) for u in seatless] == [("sam@demo.tend", manager.pk)]
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    teams = {t.name: sorted(m.email for m in t.members.all()) for t in Team.objects.all()}
    assert teams == {
        "Enterprise CS": ["giulia@demo.tend", "lena@demo.tend", "manager@demo.tend", "yuki@demo.tend"],
        "Growth CS": ["marcus@demo.tend", "priya@demo.tend", "sam@demo.tend"],
    }


# --------------------------------------------------------------------------- companies and their records


def test_companies_carry_the_customer_success_properties(workspace):
    seated = {workspace[e].pk for e in SEATED_CSMS}
    companies = list(of_type("companies"))
    assert len(companies) == COMPANIES
    today = NOW.date()
    for company in companies:
        p = company.properties
        assert company.owner_id == p["csm"] and p["csm"] in seated
        assert p["contract_plan"] in ("starter", "growth", "enterprise")
        assert p["cs_stage"] in ("onboarding", "active", "at_risk", "churned")
        renewal = dt.date.fromisoformat(p["renewal_date"])
        assert -30 <= (renewal - today).days <= 400
        assert dt.date.fromisoformat(p["contract_start_date"]) < renewal
        assert p["mrr"] > 0 and p["employees"] > 0
        assert p["domain"].endswith(".example") and p["external_id"].startswith("acct-")
        assert {"industry", "country", "city"} <= set(p)
        assert company.created_at <= NOW and company.last_activity_at <= NOW
    assert len({c.properties["domain"] for c in companies}) == COMPANIES
    assert len({c.properties["external_id"] for c in companies}) == COMPANIES
    stages = Counter(c.properties["cs_stage"] for c in companies)
    assert stages == {"active": 23, "onboarding": 5, "at_risk": 1, "churned": 1}


def test_every_stored_value_is_canonical_and_every_stage_requirement_is_met(workspace):
    user_ids = set(User.objects.values_list("pk", flat=True))
    for object_type in ObjectType.objects.all():
        specs = {s.name: s for s in registry_for(object_type).value_specs()}
        for record in Record.objects.filter(object_type=object_type).select_related("stage"):
            for name, value in record.properties.items():
                spec = specs[name]
                clean = values.clean_value(spec.type, value, options=list(spec.options), user_ids=lambda ids: user_ids)
                assert clean == value, (object_type.name, name, value)
            if record.stage is not None:
                assert record.pipeline_id == record.stage.pipeline_id
                missing = [n for n in record.stage.required_properties if n not in record.properties]
                assert missing == [], (record.name, record.stage.label)
    # Bulk-written datetimes read back and compare exactly as ORM-written ones do.
    company = of_type("companies").order_by("id").first()
    assert Record.objects.filter(pk=company.pk, created_at=company.created_at).exists()
    assert Record.objects.filter(pk=company.pk, last_activity_at__lte=NOW).exists()


def test_pipelines_are_populated(workspace):
    stages = Counter(
        (r.object_type.name, r.pipeline.label, r.stage.label)
        for r in Record.objects.filter(stage__isnull=False).select_related("object_type", "pipeline", "stage")
    )
    assert stages == {
        ("deals", "Sales pipeline", "Appointment scheduled"): 2,
        ("deals", "Sales pipeline", "Qualified to buy"): 11,
        ("deals", "Sales pipeline", "Contract sent"): 4,
        ("deals", "Sales pipeline", "Closed won"): COMPANIES,  # every company's own contract
        ("deals", "Sales pipeline", "Closed lost"): 1,
        ("tickets", "Support pipeline", "New"): 9,
        ("tickets", "Support pipeline", "Waiting on us"): 10,
        ("tickets", "Support pipeline", "Closed"): 16,
        ("services", "Onboarding", "Kickoff done"): 2,
        ("services", "Onboarding", "Initial setup done"): 2,
        ("services", "Onboarding", "Training done"): 1,
        ("services", "Onboarding", "Onboarding complete"): 11,
        ("services", "Maintenance", "Scheduled"): 1,
        ("services", "Maintenance", "Done"): 1,
    }
    won = of_type("deals").filter(stage__label="Closed won")
    assert all(d.properties["amount"] > 0 and "close_date" in d.properties for d in won)
    kicked_off = of_type("services").filter(stage__label="Kickoff done")
    assert all("kickoff_date" in s.properties for s in kicked_off)
    complete = of_type("services").filter(stage__label="Onboarding complete")
    assert complete.exists() and all(s.properties["goal_status"] for s in complete)
    assert set(Record.objects.values_list("object_type__name", flat=True)) == {
        "companies",
        "contacts",
        "deals",
        "tickets",
        "services",
    }


def test_contacts_and_records_are_associated_both_ways(workspace):
    contacts_per_company: Counter[int] = Counter()
    for company in of_type("companies"):
        links = Association.objects.filter(from_record=company)
        contacts = [a for a in links if a.to_record.object_type.name == "contacts"]
        contacts_per_company[len(contacts)] += 1
        assert [a.label for a in contacts].count("primary") == 1
        for link in links:
            assert Association.objects.filter(from_record=link.to_record, to_record=company, label=link.label).exists()
    assert contacts_per_company == {1: 5, 2: 14, 3: 7, 4: 4}  # companies by their number of contacts
    orphans = Record.objects.exclude(object_type__name="companies").exclude(associations_from__isnull=False)
    assert orphans.count() == 0
    emails = list(of_type("contacts").values_list("properties__email", flat=True))
    assert len(emails) == len(set(emails))


def test_owner_and_csm_assignments_are_recorded_over_the_last_60_days(workspace):
    for company in of_type("companies"):
        changes = {c.property_name: c for c in company.property_changes.all()}
        for name in ("owner", "csm"):
            change = changes[name]
            assert change.new_value == company.owner_id
            assert change.source == ChangeSource.SYSTEM
            assert NOW - dt.timedelta(days=60) <= change.changed_at <= NOW
    recent = PropertyChange.objects.filter(property_name="csm", changed_at__gte=NOW - dt.timedelta(days=30))
    assert recent.count() == 16


# --------------------------------------------------------------------------- each CSM's day


# Each user's open tasks by day in their own time zone: (due today, tomorrow, overdue, later).
TASK_DAYS = {
    "manager@demo.tend": (3, 2, 3, 4),
    "yuki@demo.tend": (3, 2, 3, 9),
    "lena@demo.tend": (3, 2, 3, 8),
    "giulia@demo.tend": (3, 2, 3, 4),
    "marcus@demo.tend": (3, 2, 3, 4),
    "priya@demo.tend": (3, 2, 4, 6),
    "sam@demo.tend": (3, 2, 3, 4),
}


def test_tasks_are_due_overdue_today_and_tomorrow_in_each_users_own_time_zone(workspace):
    assert {email: check_tasks(workspace[email]) for email in WITH_A_DAY} == TASK_DAYS


def check_tasks(user: User) -> tuple[int, int, int, int]:
    today = local(user, NOW).date()
    open_tasks = Task.objects.filter(assignee=user).exclude(status=Task.Status.COMPLETED)
    by_day = Counter((local(user, t.due_at).date() - today).days for t in open_tasks)
    # The daily tasks fall in the user's working hours, wherever they are.
    due_today = [local(user, t.due_at) for t in open_tasks if local(user, t.due_at).date() == today]
    assert all(9 <= at.hour < 18 for at in due_today)
    assert Task.objects.filter(assignee=user, status=Task.Status.COMPLETED, completed_at__isnull=False).exists()
    overdue = sum(n for day, n in by_day.items() if day < 0)
    return by_day[0], by_day[1], overdue, sum(n for day, n in by_day.items() if day > 1)


def test_today_differs_by_time_zone():
    """The premise of the test above: at NOW Tokyo is a day ahead of New York."""
    tokyo, new_york = (zoneinfo.ZoneInfo(z) for z in ("Asia/Tokyo", "America/New_York"))
    assert NOW.astimezone(tokyo).date() == NOW.astimezone(new_york).date() + dt.timedelta(days=1)


# Each user's meetings this week (Monday to Sunday in their zone): (held, still to come).
MEETING_WEEK = {
    "manager@demo.tend": (4, 2),
    "yuki@demo.tend": (3, 3),
    "lena@demo.tend": (3, 3),
    "giulia@demo.tend": (3, 3),
    "marcus@demo.tend": (4, 2),
    "priya@demo.tend": (4, 2),
    "sam@demo.tend": (4, 2),
}


def test_meetings_fill_this_week_some_already_held_for_everyone(workspace):
    assert {email: check_meetings(workspace[email]) for email in WITH_A_DAY} == MEETING_WEEK


def check_meetings(user: User) -> tuple[int, int]:
    today = local(user, NOW).date()
    monday = today - dt.timedelta(days=today.weekday())
    this_week = [m for m in Meeting.objects.filter(owner=user) if monday <= local(user, m.start_at).date() < monday + dt.timedelta(days=7)]  # fmt: skip
    assert any(local(user, m.start_at).date() == today for m in this_week)
    past = [m for m in this_week if m.start_at < NOW]
    future = [m for m in this_week if m.start_at > NOW]
    assert {m.outcome for m in past} <= {"attended", "no_show"}
    assert {m.outcome for m in future} == {"scheduled"}
    assert all(m.records.exists() for m in this_week)
    assert len(past) + len(future) == len(this_week)  # none starts exactly now
    return len(past), len(future)


def test_engagements_link_records_and_move_last_activity(workspace):
    for model in (Note, Call, Email, Meeting, Task):
        assert model.objects.exists(), model
        assert not model.objects.filter(records__isnull=True).exists(), model
    for note in Note.objects.prefetch_related("records"):
        assert note.created_at <= NOW
        for company in note.records.all():
            assert company.last_activity_at >= note.created_at


def test_nothing_is_logged_in_the_future_just_after_utc_midnight(time_machine):
    """At 00:30 UTC in January it is still 16:30 yesterday in California: "past" stays past."""
    now = dt.datetime(2026, 1, 14, 0, 30, tzinfo=dt.UTC)
    time_machine.move_to(now, tick=False)
    demo("--companies", str(COMPANIES))
    for model, field in ((Note, "created_at"), (Call, "occurred_at"), (Email, "occurred_at")):
        assert not model.objects.filter(**{f"{field}__gt": now}).exists(), model
    assert not Meeting.objects.filter(start_at__gt=now).exclude(outcome="scheduled").exists()
    assert not Meeting.objects.filter(start_at__lte=now, outcome="scheduled").exists()
    assert not Task.objects.filter(completed_at__gt=now).exists()
    assert not PropertyChange.objects.filter(changed_at__gt=now).exists()
    assert not Record.objects.filter(created_at__gt=now).exists()
    assert not Record.objects.filter(last_activity_at__gt=now).exists()


# --------------------------------------------------------------------------- health over time


def test_every_account_has_90_days_of_score_history_in_its_status_band(workspace):
    scores = {s.record_id: s for s in HealthScore.objects.all()}
    assert len(scores) == COMPANIES
    days = {NOW.date() - dt.timedelta(days=d) for d in range(90)}
    points: dict[int, list] = {}
    for point in HealthScoreHistory.objects.order_by("at"):
        points.setdefault(point.record_id, []).append(point)
    assert set(points) == set(scores)
    bands = {"healthy": (70, 100), "neutral": (40, 69.9), "at_risk": (0, 39.9)}
    for record_id, history in points.items():
        assert {p.at.date() for p in history} == days and len(history) == 90
        assert history[-1].score == scores[record_id].score and history[-1].status == scores[record_id].status
        for p in history:
            low, high = bands[p.status]
            assert low <= p.score <= high, (record_id, p.at, p.score, p.status)
        changes = [(a.status, b.status) for a, b in zip(history, history[1:], strict=False) if a.status != b.status]
        assert len(changes) == sum(p.reason == "status_change" for p in history) <= 1


def test_every_book_has_an_average_over_the_last_90_days(workspace):
    for email in SEATED_CSMS:
        csm = workspace[email]
        book = HealthScore.objects.filter(record__owner=csm)
        summary = health_summary(actor=Actor(csm), user=csm)
        over_time = summary["over_time"]
        assert len(over_time) == 90  # one a day, in the CSM's own time zone
        assert over_time[-1] == (local(csm, NOW).date(), summary["average"])
        day = BookScoreDay.objects.get(user=csm, day=NOW.date() - dt.timedelta(days=30))
        assert day.count == book.count()
        month_ago = HealthScoreHistory.objects.filter(record__owner=csm, at=NOW - dt.timedelta(days=30)).values_list(
            "score", flat=True
        )
        assert day.total == pytest.approx(sum(month_ago))


def test_every_csm_has_active_alerts_of_both_kinds():
    demo("--companies", "100")  # books of about 20 accounts: each with a churn signal or more
    users = {u.email: u for u in User.objects.all()}
    worse = Counter()
    for email in SEATED_CSMS:
        csm = users[email]
        active = HealthAlert.objects.active(NOW).for_user(csm)
        assert active.filter(kind="churn_signal").exists(), email
        changes = list(active.filter(kind="status_change"))
        assert len(changes) == 3, email
        for alert in changes:
            assert NOW - dt.timedelta(days=13) <= alert.raised_at < NOW
            assert alert.expires_at == alert.raised_at + dt.timedelta(days=14)
            assert alert.dismissed_at is None and alert.record.owner_id == csm.pk
            # The record's history shows the change at that moment, and its score now is the new status.
            point = HealthScoreHistory.objects.get(record=alert.record, reason="status_change")
            before = HealthScoreHistory.objects.filter(record=alert.record, at__lt=point.at).order_by("-at").first()
            assert point.at == alert.raised_at
            assert (before.status, point.status) == (alert.evidence["from_status"], alert.evidence["to_status"])
            assert (before.score, point.score) == (alert.evidence["from_score"], alert.evidence["to_score"])
            assert HealthScore.objects.get(record=alert.record).status == alert.evidence["to_status"]
        worse.update(a.evidence["worse"] for a in changes)
    # Two of each CSM's changes got worse and one better, where their book has a status to fall
    # from (one book here is all healthy: its three got better).
    assert worse == {True: 9, False: 6}


# --------------------------------------------------------------------------- the command


def test_the_same_seed_builds_the_same_workspace():
    demo("--companies", "12", "--seed", "7")
    first = snapshot()
    demo("--companies", "12", "--seed", "7", "--reset")
    assert snapshot() == first
    demo("--companies", "12", "--seed", "8", "--reset")
    assert snapshot()["records"] != first["records"]


def test_the_summary_counts_what_was_built():
    out = demo("--companies", "20")
    assert "Building the demo workspace: 20 companies (seed 2026)" in out
    assert "Demo workspace ready in" in out and "companies/s" in out
    counts = {
        "companies": of_type("companies").count(),
        "contacts": of_type("contacts").count(),
        "property changes": PropertyChange.objects.count(),
        "tasks": Task.objects.count(),
    }
    assert counts["companies"] == 20
    for label, n in counts.items():
        assert f"{label} {n:,}" in out


def test_if_empty_leaves_an_existing_workspace_alone(workspace):
    before = snapshot()
    out = demo("--if-empty")
    assert out == "The workspace already has data; the demo workspace was not created.\n"
    assert snapshot() == before


def test_without_a_flag_it_refuses_to_build_over_data(workspace):
    before = snapshot()
    with pytest.raises(CommandError, match="already has companies.*--reset.*--if-empty"):
        demo()
    assert snapshot() == before


def test_reset_never_deletes_other_users_data(workspace):
    someone = User.objects.create_user("someone@example.com", "pw-123456789", cs_workspace_access=True)
    companies = ObjectType.objects.get(name="companies")
    services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "Real Co", "owner": someone.pk})
    before = snapshot()
    with pytest.raises(CommandError, match="1 companies belong to users outside the demo team.*nothing was deleted"):
        demo("--reset")
    assert snapshot() == before


def test_reset_replaces_only_the_demo(workspace):
    someone = User.objects.create_user("someone@example.com", "pw-123456789", cs_workspace_access=True)
    task = Task.objects.create(subject="Mine", assignee=someone, created_at=NOW, updated_at=NOW)
    out = demo("--reset", "--companies", "5")
    assert out.startswith("Deleted the previous demo data: ")
    assert of_type("companies").count() == 5
    assert Task.objects.filter(pk=task.pk).exists() and User.objects.filter(pk=someone.pk).exists()
    assert Team.objects.count() == 2 and User.objects.count() == len(DEMO_USERS) + 1


def test_print_logins_lists_the_demo_accounts(workspace):
    out = demo("--print-logins")
    assert out.startswith("Tend: open http://127.0.0.1:8000/")
    assert f"password for all: {DEMO_PASSWORD}" in out
    for user in DEMO_USERS:
        assert f"  {user.email} " in out
    assert "super admin" in out and "CSM without a Service seat" in out
    assert of_type("companies").count() == COMPANIES  # printing builds nothing


def test_print_logins_without_the_demo_says_so():
    out = demo("--print-logins")
    assert "No demo logins in this workspace" in out
    assert Record.objects.count() == 0 and User.objects.count() == 0


def test_companies_must_be_positive():
    with pytest.raises(CommandError, match="at least 1"):
        demo("--companies", "0")
    assert User.objects.count() == 0


# --------------------------------------------------------------------------- large workspaces


def test_a_large_workspace_is_written_in_chunks_with_a_bounded_detailed_part(monkeypatch):
    monkeypatch.setattr(generate, "DETAILED_LIMIT", 20)
    progress = []
    summary = generate.generate(companies=100, chunk_size=30, on_progress=progress.append)
    assert progress == [30, 30, 30, 10]
    assert summary.companies == 100 == of_type("companies").count()
    detailed = of_type("companies").filter(associations_from__isnull=False).distinct()
    assert detailed.count() == 20  # every 5th company
    assert PropertyChange.objects.filter(property_name="csm").count() == 100
    assert summary.counts["companies"] == 100 and summary.counts["contacts"] == of_type("contacts").count()
    # Ids taken by the bulk path leave the sequence where the ORM continues from.
    record = services.record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name="companies"), properties={"name": "After"}
    )
    assert record.pk > Record.objects.exclude(pk=record.pk).order_by("-pk").first().pk


def test_the_bulk_written_data_answers_the_filter_language(workspace):
    """The CSM's everyday filter finds exactly the companies the data says it should."""
    user = workspace["yuki@demo.tend"]
    companies = ObjectType.objects.get(name="companies")
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "owner", "operator": "IS_ME"},
                    {"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": 90},
                    {"propertyName": "cs_stage", "operator": "IN", "values": ["active", "at_risk", "onboarding"]},
                ]
            }
        ],
        "sorts": [{"propertyName": "renewal_date", "direction": "ASCENDING"}],
    }
    actor = Actor(user, Scope.SESSION)
    found = list(compile_search(body, registry_for(companies), user=user).apply(queries.records_for(actor, companies)))
    today = local(user, NOW).date()
    expected = sorted(
        (
            c
            for c in of_type("companies").filter(owner=user)
            if 0 <= (dt.date.fromisoformat(c.properties["renewal_date"]) - today).days <= 90
            and c.properties["cs_stage"] != "churned"
        ),
        key=lambda c: (c.properties["renewal_date"], c.pk),
    )
    assert [c.pk for c in found] == [c.pk for c in expected]


def test_the_manager_shares_default_customer_views_that_the_summary_shows(workspace):
    defaults = SavedView.objects.filter(tab="customers", is_default=True).order_by("default_position")
    assert [v.owner.email for v in defaults] == ["manager@demo.tend"] * 4
    assert all(v.description for v in defaults)
    yuki = workspace["yuki@demo.tend"]
    cards = customer_view_cards(SummaryScope(Viewing(Actor(yuki), yuki), None, False), list(User.objects.all()))
    assert [c.name for c in cards] == [v.name for v in defaults]
    assert not any(c.error for c in cards)
    assert sum(c.count for c in cards) > 0
