"""Reports and dashboards in a real Chromium (issue 18): the manager builds a report in the builder,
watching the live preview, and shares it with team East; puts it on a new dashboard from the
picker and adds the dashboard to the Dashboards tab for East (refused until the view access is
confirmed). A CSM of East sees the dashboard and the report's numbers there; a CSM of West sees
neither, not even by their URLs. Yuki adds a report to her Summary, keeps it over a reload and
removes it. A measure on a property that cannot take it is refused next to its field."""

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from tend.core.policy import SYSTEM, Actor
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.models import Team
from tend.directory.services import user_create
from tend.reports import services
from tend.reports.models import Dashboard, Report, SummaryReport, TabDashboard

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
REPORT = "MRR by CS stage"
DASHBOARD = "East book"
# What the report shows for the companies below: the sum of their MRR by CS stage, in the stages' order.
MRR_BY_STAGE = [["CS stage", "Sum of MRR"], ["Onboarding", "$250.00"], ["Active", "$3,500.00"], ["At risk", "$500.00"]]
CONFIRM = "Confirm that these users will be given view access to this dashboard."


@pytest.fixture(autouse=True)
def patient_expect():
    """Expectations wait up to 10 s here (a busy machine is slow); the default again afterwards."""
    expect.set_options(timeout=10_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def now():
    # Ticking, so that the browser's waits and the server's clock move on together.
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def people(db, now):
    """Mia manages CS settings; Yuki is a CSM of team East, Otto a CSM of team West; four companies.
    The built-in KPI dashboard that `migrate` puts on the tab is removed, so that the tab shows what
    the flow puts on it (the built-in KPI reports stay)."""
    Dashboard.objects.exclude(built_in="").delete()
    mia = user_create(
        email="mia@example.com",
        password="pw-123456789",
        full_name="Mia Manager",
        has_service_seat=True,
        manage_cs_settings=True,
    )
    yuki = user_create(email="yuki@example.com", password="pw-123456789", full_name="Yuki Sato", has_service_seat=True)
    otto = user_create(email="otto@example.com", password="pw-123456789", full_name="Otto West", has_service_seat=True)
    east = Team.objects.create(name="East")
    east.members.add(yuki)
    west = Team.objects.create(name="West")
    west.members.add(otto)
    companies = ObjectType.objects.get(name="companies")
    for name, stage, mrr, csm in (
        ("Acme", "active", 1000, yuki),
        ("Globex", "active", 2500, otto),
        ("Initech", "at_risk", 500, yuki),
        ("Umbrella", "onboarding", 250, otto),
    ):
        record_create(
            actor=SYSTEM,
            object_type=companies,
            properties={"name": name, "cs_stage": stage, "mrr": mrr, "csm": csm.pk},
            source="system",
        )
    return {"mia": mia, "yuki": yuki, "otto": otto, "east": east, "west": west}


def expect_table(table, rows: list[list[str]]) -> None:
    expect(table.locator("tr")).to_have_count(len(rows))
    for row, cells in zip(table.locator("tr").all(), rows, strict=True):
        expect(row.locator("th, td")).to_have_text(cells)


def test_the_manager_builds_a_report_and_shares_a_dashboard_with_east_only(new_page, people):
    mia, east = people["mia"], people["east"]
    page = new_page(mia)

    # given: the manager starts a report from the library and picks the Companies source
    page.goto("/reports/")
    page.get_by_test_id("report-create").click()
    expect(page).to_have_url(re.compile(r"/reports/new/$"))
    page.wait_for_load_state()
    page.get_by_test_id("report-source").get_by_role("link", name="Companies", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports/new/\?source=companies$"))
    page.wait_for_load_state()  # htmx listens for the form's changes once its deferred script ran
    builder = page.get_by_test_id("report-builder")
    preview = page.get_by_test_id("builder-preview")
    # a new report starts as bars: the companies counted by create date, month by month
    expect(preview.get_by_test_id("report-chart")).to_have_attribute("data-chart-type", "bar")

    # when: she sums the MRR — the preview says what is missing next to the field, until it is chosen
    page.get_by_test_id("builder-name").fill(REPORT)
    page.get_by_test_id("builder-measure").select_option(label="Sum")
    expect(page.locator("#error-measure_property")).to_have_text("Choose a number or currency property.")
    expect(preview.get_by_test_id("builder-preview-invalid")).to_contain_text("Choose a number or currency property.")
    page.get_by_test_id("builder-number-property").select_option(label="MRR")
    expect(page.locator("#error-measure_property")).to_have_text("")
    # no date, grouped by CS stage, as a donut
    page.get_by_test_id("builder-date-property").select_option(label="No date")
    page.get_by_test_id("builder-group-by").select_option(label="CS stage")
    builder.get_by_test_id("builder-charts").get_by_text("Donut", exact=True).click()

    # then: the live preview draws the donut of the exact sums, its table the same numbers
    chart = preview.get_by_test_id("report-chart")
    expect(chart).to_have_attribute("data-chart-type", "donut")
    expect(chart.get_by_test_id("report-chart-title")).to_have_text(REPORT)
    expect(chart.locator("[data-report-canvas] canvas")).to_have_count(1)
    chart.get_by_test_id("report-table-toggle").click()
    expect_table(chart.get_by_test_id("report-table"), MRR_BY_STAGE)
    assert Report.objects.filter(name=REPORT).count() == 0  # the preview saves nothing

    # when: she shares it with team East and saves
    page.get_by_test_id("builder-access-teams").check()
    builder.get_by_label("East", exact=True).check()
    page.get_by_test_id("builder-save").click()

    # then: the report's page, with the chart and the table of the exact numbers
    expect(page).to_have_url(re.compile(r"/reports/\d+/$"))
    page.wait_for_load_state()
    report = Report.objects.get(name=REPORT)
    assert page.url.endswith(f"/reports/{report.pk}/")
    expect(page.get_by_role("alert")).to_contain_text(f"“{REPORT}” was saved.")
    expect(page.get_by_test_id("report-name")).to_have_text(REPORT)
    expect(page.get_by_test_id("report-sharing")).to_have_text("Teams: East")
    expect(page.get_by_test_id("report-chart")).to_have_attribute("data-chart-type", "donut")
    expect(page.locator("[data-report-canvas] canvas")).to_have_count(1)
    expect_table(page.get_by_role("region", name="Table").get_by_test_id("report-table"), MRR_BY_STAGE)
    assert (report.owner, report.access, report.team_ids, report.chart) == (mia, "teams", [east.pk], "donut")
    assert report.definition == {
        "filters": {},
        "measure": {"type": "sum", "property": "mrr"},
        "groupBy": "cs_stage",
        "dateBucket": None,
        "breakdown": None,
    }

    # when: she creates a dashboard in the library, shared with East
    page.goto("/dashboards/library/")
    page.get_by_test_id("create-dashboard").click()
    form = page.get_by_test_id("dashboard-form")
    expect(form).to_be_visible()
    form.get_by_test_id("dashboard-name").fill(DASHBOARD)
    form.get_by_test_id("access-teams").check()
    form.get_by_test_id("dashboard-teams").select_option(label="East")
    form.get_by_test_id("dashboard-submit").click()

    # then: it opens in edit mode, empty; she adds the report from the picker
    expect(page).to_have_url(re.compile(r"/dashboards/\d+/\?edit=1$"))
    page.wait_for_load_state()
    dashboard = Dashboard.objects.get(name=DASHBOARD)
    assert page.url.endswith(f"/dashboards/{dashboard.pk}/?edit=1")
    expect(page.get_by_test_id("dashboard-empty")).to_be_visible()
    expect(page.get_by_test_id("dashboard-access")).to_have_text("Shared with East")
    page.get_by_test_id("add-report").click()
    picker = page.get_by_test_id("add-report-dialog")
    # the picker lists the reports she sees (the built-in KPIs too); she narrows them by name
    expect(picker.get_by_test_id("picker-report").filter(has_text=REPORT)).to_be_visible()
    picker.get_by_test_id("report-search").fill("MRR by")
    choice = picker.get_by_test_id("picker-report").filter(has_text=REPORT)
    expect(picker.get_by_test_id("picker-report")).to_have_count(1)
    choice.get_by_test_id("picker-add").click()
    expect(picker).to_be_hidden()
    tile = page.get_by_test_id("dashboard-tile")
    expect(tile).to_have_count(1)
    expect(tile.get_by_test_id("report-chart-title")).to_have_text(REPORT)
    expect(tile.get_by_test_id("tile-edit-bar")).to_be_visible()
    page.get_by_test_id("edit-done").click()
    expect(page).to_have_url(re.compile(rf"/dashboards/{dashboard.pk}/$"))
    page.wait_for_load_state()
    expect(page.get_by_test_id("tile-edit-bar")).to_have_count(0)
    expect(page.get_by_test_id("dashboard-tile").get_by_test_id("report-chart")).to_have_attribute(
        "data-chart-type", "donut"
    )
    assert list(dashboard.items.values_list("report__name", flat=True)) == [REPORT]

    # when: she adds it to the Dashboards tab for East without confirming the view access
    page.goto("/dashboards/")
    expect(page.get_by_test_id("dashboards-empty")).to_be_visible()
    page.get_by_test_id("tab-add").click()
    dialog = page.get_by_test_id("tab-add-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("tab-add-dashboard").select_option(label=f"{DASHBOARD} — Mia Manager")
    dialog.get_by_test_id("tab-access-teams").check()
    dialog.get_by_test_id("tab-add-teams").select_option(label="East")
    dialog.get_by_test_id("tab-add-submit").click()

    # then: refused, with the message by the box, and nothing is added
    expect(dialog.get_by_test_id("error-confirm")).to_have_text(CONFIRM)
    expect(dialog.get_by_test_id("tab-add-errors")).to_have_text("Nothing was added. Check the fields below.")
    expect(dialog.get_by_test_id("tab-add-dashboard")).to_have_value(str(dashboard.pk))
    expect(dialog.get_by_test_id("tab-access-teams")).to_be_checked()
    assert TabDashboard.objects.count() == 0
    page.reload()
    expect(page.get_by_test_id("dashboards-empty")).to_be_visible()

    # when: she ticks the box this time
    page.get_by_test_id("tab-add").click()
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("tab-add-dashboard").select_option(label=f"{DASHBOARD} — Mia Manager")
    dialog.get_by_test_id("tab-access-teams").check()
    dialog.get_by_test_id("tab-add-teams").select_option(label="East")
    dialog.get_by_test_id("tab-add-confirm").check()
    dialog.get_by_test_id("tab-add-submit").click()

    # then: the dashboard is on the tab, for the members of East
    expect(page).to_have_url(re.compile(rf"/dashboards/\?d={dashboard.pk}$"))
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text(f"“{DASHBOARD}” was added to the Dashboards tab.")
    expect(page.get_by_test_id("dashboard-tab")).to_have_text([DASHBOARD])
    expect(page.get_by_test_id("tab-audience")).to_have_text("On the tab for the members of East.")
    entry = TabDashboard.objects.get()
    assert (entry.dashboard, entry.access, [t.name for t in entry.teams.all()]) == (dashboard, "teams", ["East"])

    # A CSM of East finds it on the Dashboards tab, the report's numbers in its tile.
    east_page = new_page(people["yuki"])
    east_page.goto("/dashboards/")
    expect(east_page.get_by_test_id("dashboard-tab")).to_have_text([DASHBOARD])
    expect(east_page.get_by_test_id("tab-add")).to_have_count(0)
    tile = east_page.get_by_test_id("dashboard-tile")
    expect(tile).to_have_count(1)
    expect(tile.get_by_test_id("report-chart-title")).to_have_text(REPORT)
    expect(tile.locator("[data-report-canvas] canvas")).to_have_count(1)
    tile.get_by_test_id("report-table-toggle").click()
    expect_table(tile.get_by_test_id("report-table"), MRR_BY_STAGE)
    expect(east_page.get_by_test_id("edit-dashboard")).to_have_count(0)  # view access only

    # A CSM of West does not: the tab is empty, and neither URL opens.
    west_page = new_page(people["otto"])
    west_page.goto("/dashboards/")
    expect(west_page.get_by_test_id("dashboards-empty")).to_contain_text("No dashboards have been shared with you yet")
    expect(west_page.get_by_test_id("dashboard-tab")).to_have_count(0)
    assert west_page.goto(f"/dashboards/?d={dashboard.pk}").status == 404
    assert west_page.goto(f"/dashboards/{dashboard.pk}/").status == 404
    expect(west_page.get_by_test_id("dashboard")).to_have_count(0)
    assert west_page.goto(f"/reports/{report.pk}/").status == 404
    expect(west_page.get_by_test_id("report-page")).to_have_count(0)
    west_page.goto("/dashboards/library/")
    expect(west_page.get_by_test_id("library-row")).to_have_count(0)
    west_page.goto("/reports/?show=shared")
    expect(west_page.get_by_test_id("library-row")).to_have_count(0)


def test_yuki_adds_a_report_to_her_summary_keeps_it_over_a_reload_and_removes_it(new_page, people):
    yuki, otto = people["yuki"], people["otto"]
    shared = services.report_create(
        actor=Actor(people["mia"]),
        name=REPORT,
        source="companies",
        definition={"measure": {"type": "sum", "property": "mrr"}, "groupBy": "cs_stage"},
        chart="bar",
        access="teams",
        team_ids=[people["east"].pk],
    )
    services.report_create(
        actor=Actor(otto),
        name="Companies by CS stage",
        source="companies",
        definition={"groupBy": "cs_stage"},
        chart="bar",
    )
    page = new_page(yuki)
    page.goto("/")
    card = page.get_by_test_id("summary-reports")
    expect(card.get_by_test_id("summary-reports-empty")).to_be_visible()

    # when: she opens the picker: her choices are the reports she sees, the built-in KPIs among them
    card.get_by_test_id("summary-report-add").click()
    picker = card.get_by_test_id("summary-report-picker")
    expect(picker).to_be_visible()
    expect(picker.get_by_test_id("summary-report-choice").filter(has_text=REPORT)).to_have_count(1)
    expect(picker.get_by_test_id("summary-report-choice").filter(has_text="Net revenue retention")).to_have_count(1)
    # she narrows them by name
    picker.get_by_role("searchbox").fill("CS stage")

    # then: the report shared with East is offered, not Otto's private one
    choices = picker.get_by_test_id("summary-report-choice")
    expect(choices).to_have_count(1)
    expect(choices).to_contain_text(REPORT)

    # when: she adds it
    choices.get_by_test_id("summary-report-choose").click()

    # then: it is on her Summary with its chart and numbers
    card = page.get_by_test_id("summary-reports")
    tile = card.get_by_test_id("summary-report")
    expect(tile).to_have_count(1)
    expect(card.get_by_test_id("summary-reports-count")).to_have_text("1 of 5")
    expect(tile.get_by_test_id("report-chart-title")).to_have_text(REPORT)
    expect(tile.get_by_test_id("report-chart")).to_have_attribute("data-chart-type", "bar")
    expect(tile.locator("[data-report-canvas] canvas")).to_have_count(1)
    tile.get_by_test_id("report-table-toggle").click()
    expect_table(tile.get_by_test_id("report-table"), MRR_BY_STAGE)
    assert list(SummaryReport.objects.filter(user=yuki).values_list("report_id", flat=True)) == [shared.pk]

    # a reload keeps it
    page.reload()
    card = page.get_by_test_id("summary-reports")
    expect(card.get_by_test_id("summary-report")).to_have_count(1)
    expect(card.get_by_test_id("summary-report").get_by_test_id("report-chart-title")).to_have_text(REPORT)
    expect(card.locator("[data-report-canvas] canvas")).to_have_count(1)

    # when: she removes it, the card is empty again, and stays so
    card.get_by_test_id("summary-report-remove").click()
    expect(page.get_by_test_id("summary-reports").get_by_test_id("summary-reports-empty")).to_be_visible()
    expect(page.get_by_test_id("summary-report")).to_have_count(0)
    assert not SummaryReport.objects.filter(user=yuki).exists()
    page.reload()
    expect(page.get_by_test_id("summary-reports").get_by_test_id("summary-reports-empty")).to_be_visible()


def test_the_builder_refuses_a_measure_the_property_cannot_take_and_saves_nothing(new_page, people):
    page = new_page(people["mia"])
    page.goto("/reports/new/?source=companies")
    before = Report.objects.count()
    page.get_by_test_id("builder-name").fill("Sum of names")
    page.get_by_test_id("builder-measure").select_option(label="Sum")
    # The form offers only number and currency properties to sum; a tampered form posts a text one.
    page.get_by_test_id("builder-number-property").evaluate("select => select.add(new Option('Name', 'name'))")
    page.get_by_test_id("builder-number-property").select_option("name")

    # the preview refuses it next to the field
    message = "Name cannot be used to sum or average: its type is “Single-line text”."
    expect(page.locator("#error-measure_property")).to_have_text(message)
    expect(page.get_by_test_id("builder-preview-invalid")).to_contain_text(message)
    expect(page.get_by_test_id("builder-preview").get_by_test_id("report-chart")).to_have_count(0)

    # and so does the save: the builder again, the error by its field, nothing saved
    page.get_by_test_id("builder-save").click()
    expect(page.get_by_test_id("builder-errors")).to_contain_text("Nothing was saved. Correct the following:")
    expect(page.get_by_test_id("builder-errors")).to_contain_text(message)
    expect(page.locator("#error-measure_property")).to_have_text(message)
    expect(page.get_by_test_id("builder-number-property")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_test_id("builder-name")).to_have_value("Sum of names")
    expect(page).to_have_url(re.compile(r"/reports/new/$"))
    page.wait_for_load_state()
    assert Report.objects.count() == before
