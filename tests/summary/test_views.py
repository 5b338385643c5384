"""The Summary tab: the frame for everyone with workspace access, each card (the same counts as
the tabs they open, time zones at midnight, 14-day alert expiry, paging past 25 alerts), the
manager's team scope, View as read-only, and bounded queries per card."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.core.policy import Actor
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm.models import ObjectType, Record
from tend.directory.services import user_create
from tend.engagement.models import Meeting, Task
from tend.health import books
from tend.health.models import HealthAlert, HealthScore
from tend.workspace.models import SavedView

from ..health.conftest import activate
from ..tasks.conftest import make_task

pytestmark = pytest.mark.django_db

# 23:30 in Tokyo on 2 March (14:30 UTC); 09:30 in New York on 2 March.
NOW = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def person(email, name, *, zone="Asia/Tokyo", manager=None, seat=True, **extra):
    user = user_create(email=email, full_name=name, time_zone=zone, has_service_seat=seat, **extra)
    if manager is not None:
        user.manager = manager
        user.save(update_fields=["manager"])
    return user


@pytest.fixture
def yuki(db):
    return person("yuki@example.com", "Yuki Tanaka")


@pytest.fixture
def morgan(db):
    """A manager (manages CS settings) who owns no accounts."""
    return person("morgan@example.com", "Morgan Lee", zone="Europe/London", manage_cs_settings=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card(client, name, **params):
    response = client.get(reverse("summary-card", args=[name]), params, **HX)
    assert response.status_code == 200, response.content[:500]
    return response


def company(name, csm=None, owner=None):
    return Record.objects.create(
        object_type=ObjectType.objects.get(name="companies"),
        name=name,
        owner=owner,
        created_at=NOW,
        updated_at=NOW,
        properties={"csm": csm.pk} if csm else {},
    )


def alert(record, *, days_ago=0.0, user=None, kind="status_change", title="Health changed", minutes=0):
    """An alert as the recompute raises it: with whose book its record is in (`health.books`)."""
    raised = NOW - dt.timedelta(days=days_ago, minutes=minutes)
    created = HealthAlert.objects.create(
        record=record,
        kind=kind,
        priority="high",
        title=title,
        evidence={},
        user=user,
        raised_at=raised,
        expires_at=raised + dt.timedelta(days=14),
    )
    books.restamp_alerts([record.pk])
    return created


def tokyo(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def counts_of(response) -> dict[str, int]:
    html = response.content.decode()
    return {
        key: int(n)
        for key, n in re.findall(
            r'data-testid="summary-tasks-(today|overdue|tomorrow)".*?data-testid="summary-tasks-count">(\d+)<',
            html,
            re.S,
        )
    }


def more_links(response) -> dict[str, str]:
    html = response.content.decode().replace("&amp;", "&")
    return dict(
        re.findall(
            r'data-testid="summary-tasks-(today|overdue|tomorrow)".*?href="([^"]+)" data-testid="summary-tasks-more"',
            html,
            re.S,
        )
    )


# ---- the frame ---------------------------------------------------------------------------------


def test_home_is_the_summary_with_every_card_loading_on_its_own(yuki):
    response = signed_in(yuki).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="summary-page"' in html
    for name in ("alerts", "tasks", "views", "schedule", "health", "reports"):
        assert f'hx-get="/summary/cards/{name}/"' in html
    assert re.search(r'class="nav-link active[^"]*" href="/"', html)


def test_a_super_admin_without_a_seat_lands_on_the_summary_and_sees_no_work_tabs(db):
    admin = person("root@example.com", "Root", seat=False, is_superuser=True)
    client = signed_in(admin)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/customers/"' not in html and 'href="/tasks/"' not in html
    make_task(admin, subject="Sign the contract", due_at=NOW + dt.timedelta(minutes=10))
    tasks = card(client, "tasks").content.decode()
    assert "Sign the contract" in tasks
    assert "summary-tasks-more" not in tasks  # the Tasks tab is not theirs: no dead links
    assert "summary-task-complete" not in tasks  # nor may they change records


def test_an_unknown_card_is_not_found(yuki):
    assert signed_in(yuki).get("/summary/cards/nope/").status_code == 404


def test_without_workspace_access_the_summary_explains(db):
    outsider = user_create(email="out@example.com", full_name="Out", cs_workspace_access=False)
    response = signed_in(outsider).get("/")
    assert response.status_code == 403


# ---- tasks -------------------------------------------------------------------------------------


def test_tasks_card_counts_are_the_tasks_tab_counts_around_midnight_in_tokyo(yuki):
    make_task(yuki, subject="Late tonight", due_at=tokyo(2, 23, 45))  # today, not yet due
    make_task(yuki, subject="This morning", due_at=tokyo(2, 9))  # due today and overdue
    make_task(yuki, subject="Yesterday", due_at=tokyo(1, 18))  # overdue
    make_task(yuki, subject="Just after midnight", due_at=tokyo(3, 0, 0))  # tomorrow in Tokyo
    make_task(yuki, subject="Day after", due_at=tokyo(4, 10))
    make_task(yuki, subject="Done", due_at=tokyo(2, 23, 50), status=Task.Status.COMPLETED)
    client = signed_in(yuki)
    response = card(client, "tasks")
    assert counts_of(response) == {"today": 2, "overdue": 2, "tomorrow": 1}
    overdue = response.content.decode().split('data-testid="summary-tasks-overdue"')[1]
    assert overdue.index("Yesterday") < overdue.index("This morning")  # the Tasks tab's order: due first
    tab = client.get("/tasks/").content.decode()
    tab_counts = {k: int(n) for k, n in re.findall(r'data-testid="count-(\w+)">(\d+)<', tab)}
    assert {k: tab_counts[k] for k in ("today", "overdue", "tomorrow")} == counts_of(response)
    assert more_links(response) == {
        "today": "/tasks/?view=today",
        "overdue": "/tasks/?view=overdue",
        "tomorrow": "/tasks/?view=tomorrow",
    }


def test_the_same_moment_is_another_day_in_new_york(db):
    nora = person("nora@example.com", "Nora", zone="America/New_York")
    make_task(nora, subject="Tokyo's tomorrow", due_at=tokyo(3, 0, 0))  # 10:00 on 2 March in New York
    make_task(nora, subject="NY midnight", due_at=dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.UTC))  # 00:00 on 3 March
    response = card(signed_in(nora), "tasks")
    assert counts_of(response) == {"today": 1, "overdue": 0, "tomorrow": 1}


def test_see_more_opens_the_tasks_tab_on_exactly_that_view(yuki):
    for i in range(7):
        make_task(yuki, subject=f"Call {i}", due_at=tokyo(2, 23, 40))
    client = signed_in(yuki)
    response = card(client, "tasks")
    assert len(re.findall(r'data-testid="summary-task"', response.content.decode())) == 5  # the first few
    tab = client.get(more_links(response)["today"])
    assert tab.context["screen"].page.paginator.count == counts_of(response)["today"] == 7


def test_completing_a_task_from_the_card_updates_it_and_offers_undo(yuki):
    task = make_task(yuki, subject="Send the QBR deck", due_at=tokyo(2, 23, 45))
    client = signed_in(yuki)
    response = client.post(reverse("summary-task-complete", args=[task.pk]), {"done": "1"}, **HX)
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert counts_of(response)["today"] == 0
    assert 'data-testid="summary-task-done"' in response.content.decode()
    client.post(reverse("summary-task-complete", args=[task.pk]), {"done": "0"}, **HX)
    task.refresh_from_db()
    assert task.status != Task.Status.COMPLETED


def test_view_as_is_read_only(yuki, morgan):
    task = make_task(yuki, subject="Yuki's call", due_at=tokyo(2, 23, 45))
    client = signed_in(morgan)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = yuki.pk
    session.save()
    page = client.get("/").content.decode()
    assert "Yuki Tanaka" in page and 'data-testid="summary-read-only"' in page
    tasks = card(client, "tasks").content.decode()
    assert "Yuki&#x27;s call" in tasks or "Yuki's call" in tasks
    assert "summary-task-complete" not in tasks
    assert "11:45 p.m." in tasks  # her day, in her zone (not the London viewer's 2:45 p.m.)
    alert(company("Acme", csm=yuki))
    assert "dismiss-alert" not in card(client, "alerts").content.decode()
    response = client.post(reverse("summary-task-complete", args=[task.pk]), {"done": "1"}, **HX)
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status != Task.Status.COMPLETED


def test_the_view_as_dropdown_is_offered_to_those_who_may(yuki, morgan):
    assert 'data-testid="summary-view-as"' in signed_in(morgan).get("/").content.decode()
    assert 'data-testid="summary-view-as"' not in signed_in(yuki).get("/").content.decode()


# ---- alerts ------------------------------------------------------------------------------------


def test_alerts_newest_first_on_my_book_and_expire_after_14_days(yuki):
    mine, theirs = company("Mine", csm=yuki), company("Theirs")
    alert(mine, days_ago=13.9, title="Nearly expired")
    alert(mine, days_ago=1, title="Recent", kind="churn_signal")
    alert(theirs, title="Not mine")
    client = signed_in(yuki)
    response = card(client, "alerts")
    assert [a.title for a in response.context["alerts"]] == ["Recent", "Nearly expired"]
    churn = card(client, "alerts", kind="churn_signal")
    assert [a.title for a in churn.context["alerts"]] == ["Recent"]
    assert dict((k, n) for k, _label, n in churn.context["kind_counts"]) == {"status_change": 1, "churn_signal": 1}
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        assert [a.title for a in card(client, "alerts").context["alerts"]] == ["Recent"]
    with time_machine.travel(NOW + dt.timedelta(days=14), tick=False):
        assert 'data-testid="summary-alerts-empty"' in card(signed_in(yuki), "alerts").content.decode()


def test_more_than_25_alerts_are_paged_never_capped(yuki):
    book = [company(f"Account {i}", csm=yuki) for i in range(3)]
    for i in range(31):
        alert(book[i % 3], minutes=i, title=f"Alert {i}")
    client = signed_in(yuki)
    first = card(client, "alerts")
    assert first.context["page"].paginator.count == 31
    assert "31" in first.content.decode()
    seen = []
    for page in range(1, 8):
        seen += [a.title for a in card(client, "alerts", page=page).context["alerts"]]
    assert seen == [f"Alert {i}" for i in range(31)]


def test_past_its_cap_the_card_says_more_than_and_links_to_every_alert(yuki, monkeypatch):
    monkeypatch.setattr("tend.summary.views.ALERTS_CAP", 10)
    book = [company(f"Account {i}", csm=yuki) for i in range(3)]
    for i in range(12):
        alert(book[i % 3], minutes=i, title=f"Alert {i}")
    response = card(signed_in(yuki), "alerts")
    html = response.content.decode()
    assert response.context["page"].paginator.num_pages == 3  # the first 11 of them, 5 a page
    assert "1–5 of more than 10" in html
    assert 'data-testid="summary-alerts-kind-status_change"' in html and "10+</span>" in html
    assert reverse("health-alerts") in html  # the Alerts page lists all 12


def test_dismissing_from_the_card(yuki):
    raised = alert(company("Mine", csm=yuki))
    client = signed_in(yuki)
    response = client.post(reverse("health-alert-dismiss", args=[raised.pk]), **HX)
    assert response.status_code == 200
    assert 'data-testid="summary-alerts-empty"' in card(client, "alerts").content.decode()


# ---- the team scope ----------------------------------------------------------------------------


@pytest.fixture
def team(morgan, yuki):
    """Morgan manages Yuki and Sam; Kim reports to Sam (so to Morgan too); Olga is elsewhere."""
    yuki.manager = morgan
    yuki.save(update_fields=["manager"])
    sam = person("sam@example.com", "Sam Park", manager=morgan)
    kim = person("kim@example.com", "Kim Ito", manager=sam)
    olga = person("olga@example.com", "Olga Other")
    return {"yuki": yuki, "sam": sam, "kim": kim, "olga": olga}


def test_a_manager_sees_the_team_by_default_recursively(morgan, team):
    make_task(team["yuki"], subject="Yuki today", due_at=NOW + dt.timedelta(minutes=5))
    make_task(team["kim"], subject="Kim today", due_at=NOW + dt.timedelta(minutes=6))
    make_task(team["olga"], subject="Olga today", due_at=NOW + dt.timedelta(minutes=7))
    alert(company("Yuki's", csm=team["yuki"]), title="On Yuki's book")
    alert(company("Kim's", csm=team["kim"]), title="On Kim's book")
    alert(company("Olga's", csm=team["olga"]), title="On Olga's book")
    client = signed_in(morgan)
    page = client.get("/").content.decode()
    assert 'data-testid="summary-scope"' in page
    assert 'hx-get="/summary/cards/tasks/?scope=team"' in page
    tasks = card(client, "tasks", scope="team")
    assert counts_of(tasks)["today"] == 2
    assert sorted(a.title for a in card(client, "alerts", scope="team").context["alerts"]) == [
        "On Kim's book",
        "On Yuki's book",
    ]
    # "See more" opens the Tasks tab's team view, due today: the same count
    link = more_links(tasks)["today"]
    assert parse_qs(urlsplit(link).query) == {"view": ["team"], "due": ["today"]}
    assert client.get(link).context["screen"].page.paginator.count == 2
    # "Me": the manager's own (empty) book
    assert counts_of(card(client, "tasks", scope="me"))["today"] == 0
    assert card(client, "alerts", scope="me").context["alerts"] == []


def test_the_person_filter_narrows_the_team_and_ignores_outsiders(morgan, team):
    make_task(team["yuki"], subject="Yuki today", due_at=NOW + dt.timedelta(minutes=5))
    make_task(team["sam"], subject="Sam today", due_at=NOW + dt.timedelta(minutes=6))
    client = signed_in(morgan)
    narrowed = card(client, "tasks", scope="team", person=team["sam"].pk)
    assert counts_of(narrowed)["today"] == 1 and "Sam today" in narrowed.content.decode()
    link = more_links(narrowed)["today"]
    assert parse_qs(urlsplit(link).query)["person"] == [str(team["sam"].pk)]
    assert client.get(link).context["screen"].page.paginator.count == 1
    # someone outside the team is no filter at all
    assert counts_of(card(client, "tasks", scope="team", person=team["olga"].pk))["today"] == 2


def test_a_csm_has_no_team_scope(yuki):
    assert 'data-testid="summary-scope"' not in signed_in(yuki).get("/").content.decode()
    make_task(yuki, subject="Mine", due_at=NOW + dt.timedelta(minutes=5))
    assert counts_of(card(signed_in(yuki), "tasks", scope="team"))["today"] == 1  # their own book


def test_team_views_on_the_tabs(morgan, team):
    company("Yuki's", csm=team["yuki"])
    company("Kim's", csm=team["kim"])
    company("Olga's", csm=team["olga"])
    client = signed_in(morgan)
    customers = client.get("/customers/")  # a manager opens on the team's view
    assert customers.context["state"].view_key == "team"
    assert sorted(r["record"].name for r in customers.context["screen"].rows) == ["Kim's", "Yuki's"]
    only_kim = client.get("/customers/", {"view": "team", "person": team["kim"].pk})
    assert [r["record"].name for r in only_kim.context["screen"].rows] == ["Kim's"]
    # a CSM has no team view: asking for it falls back to their own
    assert signed_in(team["olga"]).get("/customers/?view=team").status_code == 302
    make_task(team["kim"], subject="Kim open")
    tasks = client.get("/tasks/", {"view": "team"})
    assert [r["task"].subject for r in tasks.context["screen"].rows] == ["Kim open"]


def test_a_manager_dismisses_an_alert_of_the_team(morgan, team):
    raised = alert(company("Kim's", csm=team["kim"]))
    response = signed_in(morgan).post(reverse("health-alert-dismiss", args=[raised.pk]), **HX)
    assert response.status_code == 200
    raised.refresh_from_db()
    assert raised.dismissed_at is not None


# ---- customer views ----------------------------------------------------------------------------


def default_view(owner, name, position, filters=None, description=""):
    return SavedView.objects.create(
        tab="customers",
        name=name,
        owner=owner,
        visibility=SavedView.Visibility.EVERYONE,
        filters=filters or {},
        columns=["name", "csm", "renewal_date"],
        is_default=True,
        default_position=position,
        description=description,
    )


def test_customer_view_cards_follow_the_admins_order_at_most_six(yuki, morgan):
    for i in range(3):
        company(f"Mine {i}", csm=yuki)
    company("Not mine")
    mine = {"filterGroups": [{"filters": [{"propertyName": "csm", "operator": "IS_ME"}]}]}
    for i in range(7):
        default_view(morgan, f"View {i}", 10 - i, mine if i == 6 else None, description=f"About {i}")
    SavedView.objects.create(tab="customers", name="Private", owner=yuki, filters={})
    response = card(signed_in(yuki), "views")
    cards = response.context["view_cards"]
    assert [c.name for c in cards] == ["View 6", "View 5", "View 4", "View 3", "View 2", "View 1"]
    assert cards[0].count == 3 and cards[1].count == 4
    assert cards[0].description == "About 6"
    assert sorted(r["record"].name for r in cards[0].rows) == ["Mine 0", "Mine 1", "Mine 2"]
    # the card's count is the count of the view it links to
    tab = signed_in(yuki).get(cards[0].url)
    assert tab.context["screen"].page.paginator.count == cards[0].count


def test_no_default_views_says_what_to_do(yuki):
    assert 'data-testid="summary-views-empty"' in card(signed_in(yuki), "views").content.decode()


# ---- schedule ----------------------------------------------------------------------------------


def test_todays_meetings_and_tasks_in_the_viewers_zone(yuki):
    Meeting.objects.create(
        title="Kick-off",
        start_at=tokyo(2, 23, 0),
        end_at=tokyo(2, 23, 30),
        owner=yuki,
        meeting_url="https://meet.example.com/abc",
        created_at=NOW,
        updated_at=NOW,
    )
    Meeting.objects.create(
        title="Tomorrow's", start_at=tokyo(3, 0, 30), end_at=tokyo(3, 1), owner=yuki, created_at=NOW, updated_at=NOW
    )
    make_task(yuki, subject="Prepare", due_at=tokyo(2, 8))
    response = card(signed_in(yuki), "schedule")
    titles = [i.title for i in response.context["items"]]
    assert titles == ["Prepare", "Kick-off"]
    html = response.content.decode()
    assert 'href="https://meet.example.com/abc"' in html and "summary-launch" in html
    assert "11 p.m." in html  # her zone's time, not the server's 14:00 UTC


def test_an_empty_day_says_so(yuki):
    assert 'data-testid="summary-schedule-empty"' in card(signed_in(yuki), "schedule").content.decode()


# ---- health ------------------------------------------------------------------------------------


def score(record, profile, value, status):
    """A score as the recompute writes it: the row and its books' copies (`health.books`)."""
    HealthScore.objects.create(
        record=record,
        profile=profile,
        version=profile.active_version,
        score=value,
        status=status,
        computed_at=NOW,
    )
    books.copy_scores([record.pk])


def test_health_summary_per_status_with_links_and_a_profile_choice(yuki, morgan):
    standard = activate(Actor(morgan), name="Standard")
    a, b, c = company("A", csm=yuki), company("B", csm=yuki), company("C")
    score(a, standard, 80, "healthy")
    score(b, standard, 30, "at_risk")
    score(c, standard, 90, "healthy")  # not in her book
    client = signed_in(yuki)
    response = card(client, "health")
    summary = response.context["summary"]
    assert summary["count"] == 2 and summary["average"] == 55
    statuses = {s["key"]: s for s in summary["statuses"]}
    assert statuses["healthy"]["count"] == 1 and statuses["healthy"]["share"] == 0.5
    url = statuses["at_risk"]["url"]
    assert parse_qs(urlsplit(url).query)["view"] == ["owned"]
    assert [r["record"].name for r in client.get(url).context["screen"].rows] == ["B"]
    assert 'data-testid="summary-health-profile"' not in response.content.decode()
    second = activate(Actor(morgan), name="Enterprise")
    score(a, second, 40, "neutral")
    response = card(client, "health")
    assert 'data-testid="summary-health-profile"' in response.content.decode()
    assert response.context["summary"]["count"] == 2  # the first profile's
    chosen = card(client, "health", profile=second.pk).context["summary"]
    assert chosen["count"] == 1 and chosen["average"] == 40


# ---- bounded queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alerts", "tasks", "views", "schedule", "health", "reports"])
def test_each_card_runs_a_bounded_number_of_queries(name, morgan, team, django_assert_max_num_queries):
    def grow(n):
        for i in range(n):
            for member in ("yuki", "kim"):
                user = team[member]
                record = company(f"{member} {i}", csm=user)
                alert(record, minutes=i)
                task = make_task(user, subject=f"{member} task {i}", due_at=NOW + dt.timedelta(minutes=i % 20))
                task.records.add(record)
                Meeting.objects.create(
                    title=f"Meet {i}",
                    start_at=NOW,
                    end_at=NOW + dt.timedelta(minutes=30),
                    owner=morgan,
                    created_at=NOW,
                    updated_at=NOW,
                )

    for i in range(3):
        default_view(morgan, f"View {i}", i)
    grow(2)
    client = signed_in(morgan)
    card(client, name)  # warm the caches a first request fills (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        card(client, name)
    grow(12)
    with django_assert_max_num_queries(len(few)):
        card(client, name)
    assert len(few) <= 20
