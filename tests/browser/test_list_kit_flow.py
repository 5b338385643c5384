"""The list kit in a real Chromium: sorting, paging, quick and advanced filters and switching views
change the table in place (an htmx fragment, no page load), put the state in the address bar so
that a reload or a shared link shows the same rows, and Back returns to the rows before. On the
Customers tab, on Tasks (with a bulk change refreshing rows and counts) and on a board's table."""

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from model_bakery import baker
from playwright.sync_api import expect

from tend.core import clock
from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType, Pipeline, Record
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.models import Task
from tend.health.models import HealthScore

pytestmark = pytest.mark.django_db(transaction=True)


# ---- helpers ------------------------------------------------------------------------------------


def mark(page):
    """A value that only survives if the page is not loaded again."""
    page.evaluate("window.__marker = 1")


def assert_same_page(page):
    assert page.evaluate("window.__marker") == 1, "the page was loaded again"


def settled(page, action):
    """Run `action` and wait until htmx has swapped and settled the list fragment."""
    page.evaluate(
        """() => {
            window.__listSettled = false;
            if (window.__onListSettle) document.removeEventListener("htmx:afterSettle", window.__onListSettle);
            window.__onListSettle = (e) => { if (e.target.id === "list") window.__listSettled = true; };
            document.addEventListener("htmx:afterSettle", window.__onListSettle);
        }"""
    )
    action()
    page.wait_for_function("window.__listSettled === true")


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def names(page, testid="records-table"):
    return page.get_by_test_id(testid).get_by_test_id("record-link").all_inner_texts()


def no_backdrop(page):
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bmodal-open\b"))
    expect(page.locator(".modal.show")).to_have_count(0)


# ---- the Customers tab --------------------------------------------------------------------------


@pytest.fixture
def customers(db):
    """30 companies of the CSM ("Company 01" … "Company 30", MRR 100 … 3000, every third at risk,
    the first ten created two months ago), one company of someone else, one health score."""
    csm = user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    other = user_create(email="other@example.com", password="pw-123456789", full_name="Olga Other")
    companies = ObjectType.objects.get(name="companies")
    records = {}
    for i in range(1, 31):
        stage = "at_risk" if i % 3 == 0 else "active"
        records[i] = record_create(
            actor=SYSTEM,
            object_type=companies,
            properties={"name": f"Company {i:02d}", "csm": csm.pk, "cs_stage": stage, "mrr": i * 100},
            source="system",
        )
    record_create(
        actor=SYSTEM,
        object_type=companies,
        properties={"name": "Not mine", "csm": other.pk, "cs_stage": "at_risk", "mrr": 50},
        source="system",
    )
    two_months_ago = clock.now() - dt.timedelta(days=60)
    Record.objects.filter(pk__in=[records[i].pk for i in range(1, 11)]).update(created_at=two_months_ago)
    HealthScore.objects.filter(record__in=records.values()).delete()  # only the one below, whatever ran on create
    baker.make(HealthScore, record=records[1], score=72.0, status="healthy", computed_at=clock.now())
    return {"csm": csm, "records": records}


def company_names(numbers):
    return [f"Company {n:02d}" for n in numbers]


def test_customers_sort_and_page_in_place_with_a_shareable_url_and_back(new_page, customers):
    page = new_page(customers["csm"])
    page.goto("/customers/")
    table = page.get_by_test_id("records-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("list-total")).to_have_text("1–25 of 30")
    assert names(page)[:2] == company_names([1, 2])
    mark(page)

    # Sort by MRR (ascending), then again (descending): the header toggles, the URL follows.
    settled(page, lambda: table.get_by_test_id("sort-mrr").click())
    expect(page).to_have_url(re.compile(r"sort=mrr&dir=asc"))
    assert names(page)[:3] == company_names([1, 2, 3])
    expect(table.locator("th[aria-sort=ascending]")).to_have_text("MRR")
    settled(page, lambda: page.get_by_test_id("records-table").get_by_test_id("sort-mrr").click())
    expect(page).to_have_url(re.compile(r"sort=mrr&dir=desc"))
    assert names(page)[:3] == company_names([30, 29, 28])
    expect(page.get_by_test_id("records-table").locator("th[aria-sort=descending]")).to_have_text("MRR")
    assert_same_page(page)

    # Next page: the last five, still sorted.
    settled(page, lambda: page.get_by_test_id("next-page").click())
    expect(page).to_have_url(re.compile(r"page=2"))
    assert query(page)["sort"] == ["mrr"] and query(page)["dir"] == ["desc"]
    expect(rows).to_have_count(5)
    assert names(page) == company_names([5, 4, 3, 2, 1])
    expect(page.get_by_test_id("list-total")).to_have_text("26–30 of 30")
    expect(page.get_by_test_id("previous-page")).to_be_visible()
    assert_same_page(page)

    # The URL is the state: a reload (or the link sent to a colleague) shows the same rows.
    shared = page.url
    page.reload()
    expect(rows).to_have_count(5)
    assert names(page) == company_names([5, 4, 3, 2, 1])
    other_tab = new_page(customers["csm"])
    other_tab.goto(shared)
    expect(other_tab.get_by_test_id("records-table").locator("tbody tr")).to_have_count(5)
    assert names(other_tab) == company_names([5, 4, 3, 2, 1])

    # Back: page 1 sorted descending, then ascending, then the table as it first was.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("records-table").get_by_test_id("record-link").first).to_have_text("Company 30")
    page.go_back()
    expect(page).to_have_url(re.compile(r"dir=asc"))
    expect(page.get_by_test_id("records-table").get_by_test_id("record-link").nth(2)).to_have_text("Company 03")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.get_by_test_id("records-table").locator("th[aria-sort]")).to_have_count(0)
    expect(rows).to_have_count(25)
    assert names(page)[:2] == company_names([1, 2])

    # Forward again, and the restored page still sorts in place.
    page.go_forward()
    expect(page).to_have_url(re.compile(r"sort=mrr&dir=asc"))
    expect(page.get_by_test_id("records-table").locator("th[aria-sort=ascending]")).to_have_text("MRR")
    mark(page)
    settled(page, lambda: page.get_by_test_id("records-table").get_by_test_id("sort-name").click())
    expect(page).to_have_url(re.compile(r"sort=name&dir=asc"))
    assert names(page)[:2] == company_names([1, 2])
    assert_same_page(page)


def test_customers_quick_filter_and_advanced_filters_in_place(new_page, customers):
    page = new_page(customers["csm"])
    page.goto("/customers/")
    rows = page.get_by_test_id("records-table").locator("tbody tr")
    expect(rows).to_have_count(25)
    mark(page)

    # Quick filter: created in the last 7 days (the select submits its form).
    settled(page, lambda: page.locator("#quick-created").select_option("7"))
    expect(page).to_have_url(re.compile(r"created=7"))
    expect(rows).to_have_count(20)
    expect(page.get_by_test_id("list-total")).to_have_text("20 records")
    assert names(page)[0] == "Company 11"
    expect(page.locator("#quick-created")).to_have_value("7")
    assert_same_page(page)
    page.reload()
    expect(rows).to_have_count(20)
    expect(page.locator("#quick-created")).to_have_value("7")
    mark(page)

    # Advanced filters from the dialog: CS stage is any of [At risk], on top of the quick filter.
    page.get_by_test_id("advanced-filters").click()
    expect(page.locator("#filters-modal")).to_be_visible()
    page.get_by_test_id("add-group").click()
    row = page.get_by_test_id("filter-row").first
    row.get_by_test_id("filter-property").select_option("cs_stage")
    row.get_by_test_id("filter-operator").select_option("IN")
    row.get_by_test_id("filter-values").select_option(["at_risk"])
    settled(page, lambda: page.get_by_test_id("apply-filters").click())
    at_risk_recent = company_names([12, 15, 18, 21, 24, 27, 30])
    expect(rows).to_have_count(7)
    assert names(page) == at_risk_recent
    no_backdrop(page)
    assert_same_page(page)
    params = query(page)
    assert params["created"] == ["7"]
    assert json.loads(params["filters"][0]) == {
        "filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "IN", "values": ["at_risk"]}]}]
    }
    expect(page.get_by_test_id("advanced-filters")).to_contain_text("1")

    # Shareable: a reload shows the same seven.
    page.reload()
    expect(rows).to_have_count(7)
    assert names(page) == at_risk_recent

    # Back: the quick filter alone again (20 rows), then no filter at all.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"filters="))
    expect(rows).to_have_count(20)
    expect(page.locator("#quick-created")).to_have_value("7")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(rows).to_have_count(25)
    expect(page.locator("#quick-created")).to_have_value("")
    no_backdrop(page)

    # After Back the dialog still works, and closes cleanly again.
    mark(page)
    page.get_by_test_id("advanced-filters").click()
    expect(page.locator("#filters-modal")).to_be_visible()
    page.get_by_test_id("add-group").click()
    row = page.get_by_test_id("filter-row").first
    row.get_by_test_id("filter-property").select_option("cs_stage")
    row.get_by_test_id("filter-operator").select_option("IN")
    row.get_by_test_id("filter-values").select_option(["at_risk"])
    settled(page, lambda: page.get_by_test_id("apply-filters").click())
    expect(rows).to_have_count(10)
    no_backdrop(page)
    assert_same_page(page)


def test_customers_switching_views_in_place_and_back(new_page, customers):
    page = new_page(customers["csm"])
    page.goto("/customers/?sort=mrr&dir=desc")
    expect(page.get_by_test_id("records-table").get_by_test_id("record-link").first).to_have_text("Company 30")
    mark(page)
    # A view brings its own sort: the link drops ours.
    settled(page, lambda: page.get_by_test_id("view-assigned30").click())
    expect(page).to_have_url(re.compile(r"\?view=assigned30$"))
    expect(page.get_by_test_id("view-assigned30")).to_have_attribute("aria-current", "page")
    assert_same_page(page)
    page.go_back()
    expect(page).to_have_url(re.compile(r"sort=mrr&dir=desc"))
    expect(page.get_by_test_id("view-owned")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("records-table").get_by_test_id("record-link").first).to_have_text("Company 30")


def test_the_health_score_wears_its_badge_in_owned_by_me(new_page, customers):
    page = new_page(customers["csm"])
    page.goto("/customers/")
    expect(page.get_by_test_id("view-owned")).to_have_attribute("aria-current", "page")
    table = page.get_by_test_id("records-table")
    header_texts = table.locator("thead th").all_inner_texts()
    assert "Health score" in [h.strip() for h in header_texts]
    column = [h.strip() for h in header_texts].index("Health score")
    scored = table.locator("tbody tr").filter(has=page.get_by_role("link", name="Company 01", exact=True))
    cell = scored.locator("td").nth(column)
    badge = cell.get_by_test_id("health-score-cell")
    expect(badge).to_have_text("72")
    expect(badge).to_have_class(re.compile(r"\bbadge\b.*\btext-bg-success\b"))
    # Only the scored company wears one.
    expect(table.get_by_test_id("health-score-cell")).to_have_count(1)
    # And it keeps it when the table is sorted in place.
    settled(page, lambda: table.get_by_test_id("sort-mrr").click())
    expect(page.get_by_test_id("records-table").get_by_test_id("health-score-cell")).to_have_text("72")


# ---- the Tasks tab ------------------------------------------------------------------------------


@pytest.fixture
def tasks(db):
    csm = user_create(
        email="csm@example.com",
        password="pw-123456789",
        full_name="Casey CSM",
        has_service_seat=True,
        time_zone="Europe/Berlin",
    )
    yesterday = clock.now() - dt.timedelta(days=1)
    next_week = clock.now() + dt.timedelta(days=7)
    Task.objects.bulk_create(
        [
            Task(subject=f"{prefix} {i:02d}", assignee=csm, due_at=due, created_at=yesterday, updated_at=yesterday)
            for prefix, n, due in (
                ("Renewal check", 30, yesterday),
                ("Onboarding call", 3, yesterday),
                ("Quarterly review", 2, next_week),
            )
            for i in range(n)
        ]
    )
    return {"csm": csm}


def subjects(page):
    return page.get_by_test_id("task-link").all_inner_texts()


def test_tasks_sort_page_filter_in_place_and_back(new_page, tasks):
    page = new_page(tasks["csm"])
    page.goto("/tasks/?view=overdue")
    rows = page.get_by_test_id("task-row")
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("count-overdue")).to_have_text("33")
    mark(page)

    # Sort by subject, descending on the second click.
    settled(page, lambda: page.get_by_test_id("tasks-table").get_by_test_id("sort-subject").click())
    expect(page).to_have_url(re.compile(r"view=overdue&sort=subject&dir=asc"))
    assert subjects(page)[:4] == ["Onboarding call 00", "Onboarding call 01", "Onboarding call 02", "Renewal check 00"]
    settled(page, lambda: page.get_by_test_id("tasks-table").get_by_test_id("sort-subject").click())
    expect(page).to_have_url(re.compile(r"sort=subject&dir=desc"))
    assert subjects(page)[:2] == ["Renewal check 29", "Renewal check 28"]
    assert_same_page(page)

    # Page 2: the last eight.
    settled(page, lambda: page.get_by_test_id("next-page").click())
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(8)
    assert subjects(page) == [
        "Renewal check 04",
        "Renewal check 03",
        "Renewal check 02",
        "Renewal check 01",
        "Renewal check 00",
        "Onboarding call 02",
        "Onboarding call 01",
        "Onboarding call 00",
    ]
    assert_same_page(page)
    page.reload()
    expect(rows).to_have_count(8)
    assert subjects(page)[0] == "Renewal check 04"

    # Back to page 1.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("task-link").first).to_have_text("Renewal check 29")
    mark(page)

    # Advanced filters: subject contains "Onboarding".
    page.get_by_test_id("advanced-filters").click()
    page.get_by_test_id("add-group").click()
    row = page.get_by_test_id("filter-row").first
    row.get_by_test_id("filter-property").select_option("subject")
    row.get_by_test_id("filter-operator").select_option("CONTAINS_TOKEN")
    row.get_by_test_id("filter-value").fill("Onboarding")
    settled(page, lambda: page.get_by_test_id("apply-filters").click())
    expect(page).to_have_url(re.compile(r"filters="))
    expect(rows).to_have_count(3)
    assert subjects(page) == ["Onboarding call 02", "Onboarding call 01", "Onboarding call 00"]  # still sorted
    no_backdrop(page)
    assert_same_page(page)
    page.reload()
    expect(rows).to_have_count(3)
    page.go_back()
    expect(rows).to_have_count(25)

    # A view from the views bar: its own rows and counts, in place.
    mark(page)
    settled(page, lambda: page.get_by_test_id("view-upcoming").click())
    expect(page).to_have_url(re.compile(r"\?view=upcoming$"))
    expect(rows).to_have_count(2)
    assert_same_page(page)


def test_tasks_bulk_complete_refreshes_rows_and_counts(new_page, tasks):
    page = new_page(tasks["csm"])
    page.goto("/tasks/?view=overdue&sort=subject&dir=asc")
    rows = page.get_by_test_id("task-row")
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("count-overdue")).to_have_text("33")
    expect(page.get_by_test_id("count-completed")).to_have_text("0")
    expect(page.get_by_test_id("bulk-bar")).to_be_hidden()  # nothing selected yet
    mark(page)

    page.get_by_test_id("select-page").check()
    expect(page.get_by_test_id("bulk-bar")).to_be_visible()
    expect(page.get_by_test_id("bulk-count")).to_have_text("25 tasks selected")
    settled(page, lambda: page.get_by_test_id("bulk-complete").click())
    expect(page.get_by_test_id("count-overdue")).to_have_text("8")
    expect(page.get_by_test_id("count-completed")).to_have_text("25")
    expect(page.get_by_test_id("count-open")).to_have_text("10")
    expect(rows).to_have_count(8)
    assert subjects(page)[:2] == ["Renewal check 22", "Renewal check 23"]
    expect(page).to_have_url(re.compile(r"view=overdue&sort=subject&dir=asc$"))
    # The message outlives the refresh of the list, and the selection is gone with the rows.
    expect(page.get_by_test_id("tasks-feedback-message")).to_have_text("25 tasks changed.")
    expect(page.get_by_test_id("bulk-bar")).to_be_hidden()
    assert_same_page(page)
    assert Task.objects.filter(status="completed").count() == 25
    assert Task.objects.filter(subject__startswith="Onboarding call", status="completed").count() == 3


# ---- a board's table layout ---------------------------------------------------------------------


@pytest.fixture
def services(db):
    csm = user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    onboarding = Pipeline.objects.get(object_type__name="services", label="Onboarding")
    first = onboarding.stages.get(label="Kickoff prep")
    for name in ("Globex onboarding", "Acme onboarding", "Initech onboarding"):
        record_create(
            actor=SYSTEM,
            object_type=ObjectType.objects.get(name="services"),
            properties={"name": name, "stage": first.pk, "csm": csm.pk},
            source="system",
        )
    return {"csm": csm, "onboarding": onboarding}


def test_board_table_layout_sorts_in_place_and_back_returns_to_the_board(new_page, services):
    page = new_page(services["csm"])
    page.goto("/services/")
    expect(page.get_by_test_id("board")).to_be_visible()
    mark(page)

    settled(page, lambda: page.get_by_test_id("layout-table").click())
    expect(page).to_have_url(re.compile(r"layout=table"))
    table = page.get_by_test_id("records-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    assert names(page) == ["Initech onboarding", "Acme onboarding", "Globex onboarding"]  # newest first

    settled(page, lambda: page.get_by_test_id("records-table").get_by_test_id("sort-name").click())
    params = query(page)
    assert (params["layout"], params["sort"], params["dir"]) == (["table"], ["name"], ["asc"])
    assert params["pipeline"] == [str(services["onboarding"].pk)]
    assert names(page) == ["Acme onboarding", "Globex onboarding", "Initech onboarding"]
    settled(page, lambda: page.get_by_test_id("records-table").get_by_test_id("sort-name").click())
    expect(page).to_have_url(re.compile(r"dir=desc"))
    assert names(page) == ["Initech onboarding", "Globex onboarding", "Acme onboarding"]
    assert_same_page(page)

    page.reload()
    assert names(page) == ["Initech onboarding", "Globex onboarding", "Acme onboarding"]

    page.go_back()
    expect(page).to_have_url(re.compile(r"dir=asc"))
    expect(page.get_by_test_id("records-table").get_by_test_id("record-link").first).to_have_text("Acme onboarding")
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"sort="))
    expect(page.get_by_test_id("records-table").get_by_test_id("record-link").first).to_have_text("Initech onboarding")
    assert names(page) == ["Initech onboarding", "Acme onboarding", "Globex onboarding"]
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"layout=table"))
    expect(page.get_by_test_id("board")).to_be_visible()
    expect(page.get_by_test_id("board-card")).to_have_count(3)
