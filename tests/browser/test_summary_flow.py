"""The Summary tab in a real Chromium: yuki (a CSM in Tokyo, in Japanese) signs in onto her
Summary, completes a task from the tasks card and follows "See more" to the Tasks tab; her manager
sees the team, views the Summary as yuki (read-only) and stops; a super admin without a Service
seat lands on the Summary, the one tab they have."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from playwright.sync_api import expect

from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.models import Task
from tend.health.models import HealthAlert

pytestmark = pytest.mark.django_db(transaction=True)

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
# A Wednesday, 10:00 in Tokyo (01:00 UTC): "today" and "tomorrow" are Tokyo's days, not UTC's.
NOW = dt.datetime(2027, 3, 10, 10, 0, tzinfo=TOKYO)
TODAY_TASKS = ("Acme kickoff call", "Acme renewal quote")


def _tokyo(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=TOKYO)


@pytest.fixture
def now():
    # Ticking, so that the browser's waits and the server's clock move on together.
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def team(db, now, translated):
    manager = user_create(
        email="mia@example.com",
        password="pw-123456789",
        full_name="Mia Manager",
        has_service_seat=True,
        manage_cs_settings=True,
        time_zone="Europe/Berlin",
    )
    yuki = user_create(
        email="yuki@example.com",
        password="pw-123456789",
        full_name="Yuki Sato",
        has_service_seat=True,
        language="ja",
        time_zone="Asia/Tokyo",
        manager=manager,
    )
    acme = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme", "csm": yuki.pk},
        source="system",
    )
    due = {
        TODAY_TASKS[0]: _tokyo(10, 15),
        TODAY_TASKS[1]: _tokyo(10, 23, 30),  # 14:30 UTC: today in Tokyo and in UTC
        "Acme health review": _tokyo(8, 9),  # overdue
        "Acme QBR prep": _tokyo(11, 0, 30),  # tomorrow in Tokyo, still "today" in UTC (15:30)
    }
    created = NOW - dt.timedelta(days=3)
    Task.objects.bulk_create(
        [
            Task(subject=subject, assignee=yuki, due_at=at, created_at=created, updated_at=created)
            for subject, at in due.items()
        ]
    )
    for task in Task.objects.all():
        task.records.add(acme)
    raised = NOW - dt.timedelta(days=2)
    HealthAlert.objects.create(
        record=acme,
        kind=HealthAlert.Kind.STATUS_CHANGE,
        priority=HealthAlert.Priority.HIGH,
        title="Health changed from Neutral to At risk",
        evidence={"from_status": "neutral", "to_status": "at_risk", "from_score": 55.0, "to_score": 30.0},
        user=yuki,
        raised_at=raised,
        expires_at=raised + dt.timedelta(days=14),
    )
    return {"manager": manager, "yuki": yuki, "acme": acme}


def _cards_loaded(page) -> None:
    """Every card has replaced its loading placeholder."""
    for name in ("alerts", "tasks", "views", "schedule", "health", "reports"):
        expect(page.get_by_test_id(f"summary-{name}")).to_be_visible()
    expect(page.locator("[data-testid=summary-page] [aria-busy=true]")).to_have_count(0)


def test_yuki_lands_on_her_summary_in_japanese_completes_a_task_and_sees_more(new_page, team):
    # given: yuki signs in from the login page
    page = new_page(locale="ja-JP")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.locator("#id_username").fill("yuki@example.com")
    page.locator("#id_password").fill("pw-123456789")
    page.locator("form button[type=submit]").click()

    # then: she lands on the Summary, in Japanese, and every card loads
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("サマリー")
    expect(page.get_by_role("navigation").get_by_role("link", name="サマリー")).to_have_class(re.compile("active"))
    _cards_loaded(page)
    expect(page.get_by_test_id("summary-page").get_by_role("heading", level=2)).to_have_text(
        ["アラート", "タスク", "顧客ビュー", "ヘルススコアの概要", "今日の予定", "レポート"]
    )
    expect(page.get_by_test_id("summary-scope")).to_have_count(0)  # she manages no one
    expect(page.get_by_test_id("summary-view-as")).to_have_count(0)  # nor may she View as
    alerts = page.get_by_test_id("summary-alert")
    expect(alerts).to_have_count(1)
    expect(alerts.get_by_test_id("alert-record")).to_have_text("Acme")
    expect(alerts.get_by_test_id("alert-title")).to_have_text("ヘルスが ニュートラル から リスクあり に変化しました")
    expect(alerts.get_by_test_id("dismiss-alert")).to_be_visible()

    tasks = page.get_by_test_id("summary-tasks")
    today = tasks.get_by_test_id("summary-tasks-today")
    expect(today.get_by_role("heading")).to_have_text("今日が期限")
    expect(today.get_by_test_id("summary-tasks-count")).to_have_text("2")
    expect(today.get_by_test_id("summary-task")).to_have_text([re.compile(s) for s in TODAY_TASKS])
    expect(tasks.get_by_test_id("summary-tasks-overdue").get_by_test_id("summary-tasks-count")).to_have_text("1")
    expect(tasks.get_by_test_id("summary-tasks-overdue")).to_contain_text("Acme health review")
    tomorrow = tasks.get_by_test_id("summary-tasks-tomorrow")
    expect(tomorrow.get_by_test_id("summary-tasks-count")).to_have_text("1")
    expect(tomorrow).to_contain_text("Acme QBR prep")
    expect(tomorrow).to_contain_text("0:30")

    # when: she completes the first of today's tasks from the card
    today.get_by_test_id("summary-task").filter(has_text=TODAY_TASKS[0]).get_by_test_id("summary-task-complete").click()

    # then: the card re-renders with the count one lower and an Undo note
    expect(tasks.get_by_test_id("summary-task-done")).to_contain_text(TODAY_TASKS[0])
    today = page.get_by_test_id("summary-tasks-today")
    expect(today.get_by_test_id("summary-tasks-count")).to_have_text("1")
    expect(today.get_by_test_id("summary-task")).to_have_text([re.compile(TODAY_TASKS[1])])
    assert Task.objects.get(subject=TODAY_TASKS[0]).status == Task.Status.COMPLETED

    # Undo puts it back; completing it again leaves one task due today
    tasks.get_by_test_id("summary-task-done").get_by_role("button").click()
    expect(tasks.get_by_test_id("summary-task-done")).to_have_count(0)
    expect(today.get_by_test_id("summary-tasks-count")).to_have_text("2")
    assert Task.objects.get(subject=TODAY_TASKS[0]).status == Task.Status.NOT_STARTED
    today.get_by_test_id("summary-task").filter(has_text=TODAY_TASKS[0]).get_by_test_id("summary-task-complete").click()
    expect(tasks.get_by_test_id("summary-task-done")).to_contain_text(TODAY_TASKS[0])
    expect(today.get_by_test_id("summary-tasks-count")).to_have_text("1")

    # when: she follows "See more" on Due today
    expect(today.get_by_test_id("summary-tasks-more")).to_have_text("もっと見る")
    today.get_by_test_id("summary-tasks-more").click()

    # then: the Tasks tab opens on that view, with the count the card showed
    expect(page).to_have_url(re.compile(r"/tasks/\?view=today$"))
    expect(page.get_by_test_id("view-today")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("count-today")).to_have_text("1")
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    expect(page.get_by_test_id("task-row")).to_contain_text(TODAY_TASKS[1])


def test_a_manager_sees_the_team_then_views_the_summary_as_yuki_read_only(new_page, team):
    manager, yuki = team["manager"], team["yuki"]
    # given: the manager signs in; the Summary opens on their team
    page = new_page(manager)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary")
    expect(page.locator("#scope-team")).to_be_checked()
    _cards_loaded(page)
    expect(page.get_by_test_id("summary-alert")).to_have_count(1)
    expect(page.get_by_test_id("summary-alert").get_by_test_id("alert-record")).to_have_text("Acme")
    # Due today is the manager's Berlin day: yuki's 00:30 tomorrow in Tokyo is 16:30 today in Berlin
    today = page.get_by_test_id("summary-tasks-today")
    expect(today.get_by_test_id("summary-tasks-count")).to_have_text("3")
    expect(today.get_by_test_id("summary-task")).to_have_text(
        [re.compile(f"{subject}.*Yuki Sato", re.DOTALL) for subject in (*TODAY_TASKS, "Acme QBR prep")]
    )
    expect(page.get_by_test_id("summary-tasks-tomorrow").get_by_test_id("summary-tasks-count")).to_have_text("0")
    expect(today.get_by_test_id("summary-tasks-more")).to_have_attribute("href", "/tasks/?view=team&due=today")
    expect(page.get_by_test_id("summary-person")).to_be_visible()

    # when: they choose yuki in the Summary's View as select
    view_as = page.get_by_test_id("summary-view-as").locator("select")
    view_as.select_option(str(yuki.pk))

    # then: yuki's Summary, read-only
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary of Yuki Sato")
    expect(page.get_by_test_id("summary-read-only")).to_contain_text("Yuki Sato")
    expect(page.get_by_test_id("view-as-banner")).to_contain_text("Yuki Sato")
    expect(view_as).to_have_value(str(yuki.pk))
    _cards_loaded(page)
    expect(page.get_by_test_id("summary-scope")).to_have_count(0)  # yuki manages no one
    expect(page.get_by_test_id("summary-alert")).to_have_count(1)
    today = page.get_by_test_id("summary-tasks-today")
    expect(today.get_by_test_id("summary-tasks-count")).to_have_text("2")
    expect(today.get_by_test_id("summary-task")).to_have_text([re.compile(s) for s in TODAY_TASKS])
    expect(page.get_by_test_id("summary-task-complete")).to_have_count(0)
    expect(page.get_by_test_id("dismiss-alert")).to_have_count(0)
    expect(today.get_by_test_id("summary-tasks-more")).to_have_attribute("href", "/tasks/?view=today")

    # when: they choose themselves in the select again
    view_as.select_option(str(manager.pk))

    # then: back to their own Summary, able to act
    expect(page.get_by_role("alert")).to_contain_text("You are back to your own workspace.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary")
    expect(page.get_by_test_id("view-as-banner")).to_have_count(0)
    expect(page.get_by_test_id("summary-read-only")).to_have_count(0)
    expect(page.locator("#scope-team")).to_be_checked()
    expect(page.get_by_test_id("summary-task-complete")).to_have_count(3 + 1)
    expect(page.get_by_test_id("dismiss-alert")).to_have_count(1)
    assert Task.objects.filter(status=Task.Status.COMPLETED).count() == 0


def test_a_super_admin_without_a_seat_lands_on_the_summary(new_page, now):
    admin = user_create(email="root@example.com", password="pw-123456789", full_name="Ruth Root", is_superuser=True)
    page = new_page(admin)
    response = page.goto("/")
    assert response.status == 200
    expect(page.get_by_test_id("summary-page")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary")
    _cards_loaded(page)
    nav = page.get_by_role("navigation").locator("#tabs .navbar-nav").first
    expect(nav.get_by_role("link")).to_have_text(["Summary", "Health"])
    expect(page.get_by_test_id("summary-tasks-more")).to_have_count(0)
    expect(page.get_by_test_id("summary-tasks-count")).to_have_text(["0", "0", "0"])
