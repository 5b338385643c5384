"""A CSM clears their day in a real Chromium: creates a task and another one from the side panel
("Create and add another"), then completes every overdue renewal task at once with "select all
N tasks matching the filter"."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from tend.core import clock
from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.models import Task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(db):
    csm = user_create(
        email="csm@example.com",
        password="pw-123456789",
        full_name="Casey CSM",
        has_service_seat=True,
        time_zone="Europe/Berlin",
    )
    acme = record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name="companies"), properties={"name": "Acme"}, source="system"
    )
    yesterday = clock.now() - dt.timedelta(days=1)
    Task.objects.bulk_create(
        [
            Task(subject=f"{prefix} {i}", assignee=csm, due_at=yesterday, created_at=yesterday, updated_at=yesterday)
            for prefix, n in (("Renewal check", 30), ("Onboarding call", 3))
            for i in range(n)
        ]
    )
    return {"csm": csm, "acme": acme}


def test_create_and_add_another_then_bulk_complete_all_matching(new_page, data):
    page = new_page(data["csm"])
    page.goto("/tasks/?view=overdue")
    expect(page.get_by_test_id("count-overdue")).to_have_text("33")

    # Create a task for Acme, and another one straight after
    page.get_by_test_id("create-task").click()
    panel = page.get_by_test_id("task-panel")
    expect(panel).to_be_visible()
    panel.get_by_test_id("task-subject").fill("Call Acme about renewal")
    panel.get_by_test_id("task-type").select_option("call")
    panel.get_by_test_id("task-priority").select_option("high")
    panel.get_by_test_id("task-due-input").fill("2030-05-04T09:30")
    panel.get_by_test_id("record-picker-search").fill("Acm")
    panel.get_by_test_id("record-picker-results").get_by_role("button", name="Acme").click()
    panel.get_by_test_id("task-create-another").click()
    expect(panel.get_by_test_id("task-created")).to_contain_text("Call Acme about renewal")
    expect(panel.get_by_test_id("task-subject")).to_have_value("")
    expect(panel.get_by_test_id("record-picker-selected")).to_contain_text("Acme")  # kept for the next task
    panel.get_by_test_id("task-subject").fill("Send Acme the renewal quote")
    panel.get_by_test_id("task-create").click()
    expect(page.get_by_test_id("tasks-feedback-message")).to_contain_text("Send Acme the renewal quote")
    expect(page.get_by_test_id("count-upcoming")).to_have_text("1")
    expect(page.get_by_test_id("count-open")).to_have_text("35")
    created = Task.objects.exclude(subject__startswith="Renewal").exclude(subject__startswith="Onboarding")
    assert sorted(created.values_list("subject", flat=True)) == [
        "Call Acme about renewal",
        "Send Acme the renewal quote",
    ]
    first = created.get(subject="Call Acme about renewal")
    assert (first.type, first.priority) == ("call", "high")
    assert first.due_at == dt.datetime(2030, 5, 4, 7, 30, tzinfo=dt.UTC)  # 09:30 in Berlin (summer time)
    assert all(list(t.records.all()) == [data["acme"]] for t in created)

    # Filter the overdue tasks to the renewal checks: 30 tasks, 25 on the first page
    page.get_by_test_id("task-search").fill("Renewal check")
    page.get_by_test_id("task-search").press("Enter")
    # The list is swapped in place: wait for the filtered rows (the unfiltered page has 25 rows too).
    expect(page.get_by_test_id("list-total")).to_have_text("1–25 of 30")
    expect(page.get_by_test_id("task-row")).to_have_count(25)
    page.get_by_test_id("select-page").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("25 tasks selected")
    page.get_by_test_id("select-all-matching").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text("30 tasks selected")
    page.get_by_test_id("bulk-complete").click()
    expect(page.get_by_test_id("tasks-feedback-message")).to_have_text("30 tasks changed.")  # after the refresh
    expect(page.get_by_test_id("count-overdue")).to_have_text("3")
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    assert Task.objects.filter(subject__startswith="Renewal check", status="completed").count() == 30
    assert Task.objects.filter(subject__startswith="Onboarding call", status="not_started").count() == 3


def test_one_click_complete_in_place_and_bulk_delete_with_confirmation(new_page, data):
    page = new_page(data["csm"])
    page.goto("/tasks/?view=overdue&q=Onboarding")
    rows = page.get_by_test_id("task-row")
    expect(rows).to_have_count(3)

    # One click completes the row in place; a second click reopens it
    row = rows.filter(has_text="Onboarding call 0")
    row.get_by_test_id("complete-toggle").click()
    expect(row.get_by_test_id("task-status")).to_have_text("Completed")
    assert Task.objects.get(subject="Onboarding call 0").status == "completed"
    row.get_by_test_id("complete-toggle").click()
    expect(row.get_by_test_id("task-status")).to_have_text("Not started")
    assert Task.objects.get(subject="Onboarding call 0").status == "not_started"

    # Delete two tasks, confirming in the dialog
    rows.nth(0).get_by_test_id("select-task").check()
    rows.nth(1).get_by_test_id("select-task").check()
    page.get_by_test_id("bulk-delete").click()
    expect(page.locator("#bulk-delete-modal")).to_contain_text("Delete 2 tasks?")
    page.get_by_test_id("bulk-delete-confirm").click()
    expect(page.get_by_test_id("tasks-feedback-message")).to_have_text("2 tasks changed.")
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    assert Task.objects.filter(subject__startswith="Onboarding call", archived_at__isnull=True).count() == 1
