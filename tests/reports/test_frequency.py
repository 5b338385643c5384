"""The Frequency filter (issue 18: churn rate monthly and quarterly): a periodic KPI computed per
the chosen unit (the nearest it has), a date bucket following it without its saved definition
changing, reports without periods ignoring it, a bad frequency refused by field everywhere, and
the dashboard's saved frequency in its tiles' URLs."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tend.core.errors import ValidationFailed
from tend.core.policy import Actor
from tend.reports import queries, services
from tend.reports.models import Dashboard, Report

from . import test_kpis_churn
from .conftest import at, customer

pytestmark = pytest.mark.django_db
book = test_kpis_churn.book  # Ann's six customers and their churns (expected values in test_per_quarter)
HALF_YEAR = {"date_range": "custom", "start": "2026-01-01", "end": "2026-06-15"}
BY_START = {"dateBucket": {"property": "contract_start_date", "unit": "month"}}
BY_STAGE = {"groupBy": "cs_stage"}


def churn_report() -> Report:
    return Report.objects.get(built_in=True, kpi="churn_rate")


def run(user, report: Report, **filters):
    return queries.report_data(Actor(user), user, report, queries.Filters(**filters))


def custom(owner, definition, name="Starts", chart="bar", **kw) -> Report:
    return services.report_create(
        actor=Actor(owner), name=name, source="companies", definition=definition, chart=chart, **kw
    )


@pytest.fixture
def starts(csms):
    """Five contracts of Ben's, started in January, February, April, May and June 2026."""
    _ann, ben = csms
    for name, day in (("S1", "2026-01-15"), ("S2", "2026-02-03"), ("S3", "2026-04-20"), ("S4", "2026-05-30")):
        customer(name, created=at("2026-01-01"), csm=ben.pk, contract_start_date=day)
    customer("S5", created=at("2026-01-01"), csm=ben.pk, contract_start_date="2026-06-10")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def chart_urls(response) -> list[str]:
    return [unescape(u) for u in re.findall(r'hx-get="(/reports/\d+/chart/[^"]*)"', response.content.decode())]


def options_of(response, select_id: str) -> list[tuple[str, str]]:
    html = response.content.decode()
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert select, html[:2000]
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(0))


# ---- the KPIs ------------------------------------------------------------------------------------


def test_the_churn_rate_by_quarter(book, now, csms):
    ann, _ben = csms
    report = churn_report()

    monthly = run(ann, report, **HALF_YEAR)
    quarterly = run(ann, report, **HALF_YEAR, frequency="quarter")

    assert [c.label for c in monthly.categories] == [
        "Jan 2026",
        "Feb 2026",
        "Mar 2026",
        "Apr 2026",
        "May 2026",
        "Jun 2026",
    ]
    # Q1: A B C F at its start, A C F churn; Q2: B and C, C churns (test_kpis_churn.py::test_per_quarter).
    assert [(c.key, c.label) for c in quarterly.categories] == [("2026-01-01", "Q1 2026"), ("2026-04-01", "Q2 2026")]
    assert quarterly.extra == {"active": [4, 2], "churned": [3, 1]}
    assert quarterly.series[0].values == [0.75, 0.5]
    assert (quarterly.value, quarterly.previous, quarterly.category_title) == (0.75, None, "Quarter")
    assert quarterly.notes == []
    report.refresh_from_db()
    assert report.definition == {"unit": "month"}  # the built-in report stays monthly


def test_a_kpi_takes_the_nearest_unit_it_has(book, now, csms):
    ann, _ben = csms
    report = churn_report()

    weekly = run(ann, report, **HALF_YEAR, frequency="week")
    yearly = run(ann, report, **HALF_YEAR, frequency="year")

    assert len(weekly.categories) == 6 and weekly.extra == run(ann, report, **HALF_YEAR).extra
    assert weekly.notes == ["This KPI has no daily or weekly figures: it is shown by month."]
    assert [c.label for c in yearly.categories] == ["Q1 2026", "Q2 2026"]
    assert yearly.notes == ["This KPI has no yearly figures: it is shown by quarter."]


def test_a_kpi_of_the_state_now_ignores_the_frequency(book, now, csms):
    ann, _ben = csms
    report = Report.objects.get(built_in=True, kpi="health_distribution")

    plain, quarterly = run(ann, report), run(ann, report, frequency="quarter")

    assert [(c.key, c.label) for c in quarterly.categories] == [(c.key, c.label) for c in plain.categories]
    assert quarterly.series[0].values == plain.series[0].values
    assert quarterly.notes == plain.notes


def test_frequencies_a_report_can_have(csms):
    ann, _ben = csms
    assert queries.frequencies_of(churn_report()) == ["month", "quarter"]
    assert queries.frequencies_of(Report.objects.get(built_in=True, kpi="health_distribution")) == []
    assert queries.frequencies_of(custom(ann, BY_START)) == ["day", "week", "month", "quarter", "year"]
    assert queries.frequencies_of(custom(ann, BY_STAGE)) == []


# ---- custom reports --------------------------------------------------------------------------


def test_a_date_bucket_follows_the_frequency_and_its_definition_stays(starts, now, csms):
    ann, _ben = csms
    report = custom(ann, BY_START)

    monthly = run(ann, report, **HALF_YEAR)
    quarterly = run(ann, report, **HALF_YEAR, frequency="quarter")
    yearly = run(ann, report, frequency="year")

    assert [c.key for c in monthly.categories] == [f"2026-0{m}-01" for m in range(1, 7)]
    assert monthly.series[0].values == [1, 1, 0, 1, 1, 1]
    assert [(c.key, c.label) for c in quarterly.categories] == [("2026-01-01", "Q1 2026"), ("2026-04-01", "Q2 2026")]
    assert quarterly.series[0].values == [2, 3]
    assert quarterly.categories[1].drill == [
        {"propertyName": "contract_start_date", "operator": "BETWEEN", "value": "2026-04-01", "highValue": "2026-06-30"}
    ]
    assert [(c.key, c.label) for c in yearly.categories] == [("2026-01-01", "2026")]
    assert yearly.series[0].values == [5]
    report.refresh_from_db()
    assert report.definition["dateBucket"] == {"property": "contract_start_date", "unit": "month"}


def test_a_report_without_a_date_bucket_ignores_the_frequency(starts, now, csms):
    ann, _ben = csms
    report = custom(ann, BY_STAGE)

    plain, quarterly = run(ann, report), run(ann, report, frequency="quarter")

    assert [(c.key, c.label) for c in quarterly.categories] == [(c.key, c.label) for c in plain.categories]
    assert quarterly.series[0].values == plain.series[0].values == [5]


def test_a_bad_frequency_is_refused_naming_the_field(csms):
    with pytest.raises(ValidationFailed) as excinfo:
        queries.filters_from("last_month", "", "", None, None, "hourly")

    assert [(e.field, e.message) for e in excinfo.value.errors] == [
        ("frequency", "Choose a frequency: day, week, month, quarter, year.")
    ]
    assert queries.filters_from("", "", "", None, None, "quarter") == queries.Filters(frequency="quarter")


# ---- a dashboard's filters ------------------------------------------------------------------------


def test_a_dashboard_keeps_a_valid_frequency_and_refuses_another(csms):
    ann, _ben = csms
    board = services.dashboard_create(actor=Actor(ann), name="Quarters", filters={"frequency": "quarter"})
    assert board.filters == {"frequency": "quarter"}

    with pytest.raises(ValidationFailed) as excinfo:
        services.dashboard_update(
            actor=Actor(ann), dashboard=board, changes={"filters": {"dateRange": "this_year", "frequency": "hourly"}}
        )

    assert [e.field for e in excinfo.value.errors] == ["filters.frequency"]
    assert Dashboard.objects.get(pk=board.pk).filters == {"frequency": "quarter"}


def test_the_saved_frequency_goes_into_every_tile_and_the_bar_offers_what_the_reports_have(csms):
    ann, _ben = csms
    board = services.dashboard_create(
        actor=Actor(ann), name="Quarters", filters={"dateRange": "last_12_months", "frequency": "quarter"}
    )
    stages, starts = custom(ann, BY_STAGE, name="Stages"), custom(ann, BY_START)
    services.dashboard_add_report(actor=Actor(ann), dashboard=board, report=stages)
    client = signed_in(ann)

    response = client.get(f"/dashboards/{board.pk}/")
    assert chart_urls(response) == [f"/reports/{stages.pk}/chart/?range=last_12_months&frequency=quarter"]
    assert options_of(response, "filter-frequency") == [
        ("", "Each report's own"),
        ("month", "Monthly"),
        ("quarter", "Quarterly"),
    ]
    assert '<option value="quarter" selected>' in response.content.decode()

    services.dashboard_add_report(actor=Actor(ann), dashboard=board, report=starts)
    response = client.get(f"/dashboards/{board.pk}/", {"range": "this_year", "frequency": "week"})
    assert chart_urls(response)[1] == f"/reports/{starts.pk}/chart/?range=this_year&frequency=week"
    assert [key for key, _label in options_of(response, "filter-frequency")] == [
        "",
        "day",
        "week",
        "month",
        "quarter",
        "year",
    ]


def test_a_bad_frequency_is_said_and_the_dashboard_s_own_filters_are_shown(csms):
    ann, _ben = csms
    board = services.dashboard_create(actor=Actor(ann), name="Quarters", filters={"frequency": "quarter"})
    stages = custom(ann, BY_STAGE, name="Stages")
    services.dashboard_add_report(actor=Actor(ann), dashboard=board, report=stages)

    response = signed_in(ann).get(f"/dashboards/{board.pk}/", {"range": "", "frequency": "hourly"})

    assert response.status_code == 200
    assert (
        'data-testid="filter-error">Choose a frequency: day, week, month, quarter, year.' in response.content.decode()
    )
    assert chart_urls(response) == [f"/reports/{stages.pk}/chart/?frequency=quarter"]


def test_save_filters_stores_the_frequency_shown(csms):
    ann, _ben = csms
    board = services.dashboard_create(actor=Actor(ann), name="Quarters")

    response = signed_in(ann).post(
        reverse("dashboard-save-filters", args=[board.pk]),
        {"range": "last_12_months", "start": "", "end": "", "owner": "", "team": "", "frequency": "quarter"},
    )

    assert response.status_code == 302
    board.refresh_from_db()
    assert board.filters == {"dateRange": "last_12_months", "frequency": "quarter"}


# ---- the report's pages, its drill, its exports and the API ------------------------------------------


def test_the_chart_fragment_and_the_report_page_keep_the_frequency(starts, now, csms):
    ann, _ben = csms
    report = custom(ann, BY_START)
    client = signed_in(ann)
    params = {"range": "custom", "start": "2026-01-01", "end": "2026-06-15", "frequency": "quarter"}

    fragment = client.get(reverse("report-chart", args=[report.pk]), params, HTTP_HX_REQUEST="true")
    spec = json.loads(re.search(r'<script type="application/json">(.*?)</script>', fragment.content.decode(), re.S)[1])
    assert (spec["categories"], spec["series"][0]["values"]) == (["Q1 2026", "Q2 2026"], [2, 3])
    assert (
        spec["drill"] == f"/reports/{report.pk}/drill/?range=custom&start=2026-01-01&end=2026-06-15&frequency=quarter"
    )
    assert 'data-testid="report-chart-range">2026-01-01 – 2026-06-15 · Quarterly<' in fragment.content.decode()

    page = client.get(reverse("report-detail", args=[report.pk]), params)
    assert options_of(page, "report-frequency") == [
        ("", "The report's own (Monthly)"),
        ("day", "Daily"),
        ("week", "Weekly"),
        ("month", "Monthly"),
        ("quarter", "Quarterly"),
        ("year", "Yearly"),
    ]
    assert '<option value="quarter" selected>' in page.content.decode()
    query = "?range=custom&start=2026-01-01&end=2026-06-15&frequency=quarter"
    assert page.context["export_csv"] == reverse("report-export-csv", args=[report.pk]) + query

    csv = client.get(reverse("report-export-csv", args=[report.pk]), params).content.decode("utf-8-sig")
    assert csv.splitlines()[1:] == ["2026-01-01,2", "2026-04-01,3"]

    bad = client.get(reverse("report-chart", args=[report.pk]), {"frequency": "hourly"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    assert "Choose a frequency: day, week, month, quarter, year." in bad.content.decode()

    stages = client.get(reverse("report-detail", args=[custom(ann, BY_STAGE, name="Stages").pk]))
    assert 'id="report-frequency"' not in stages.content.decode()


def test_a_quarter_opens_that_quarter_s_records(starts, now, csms):
    ann, _ben = csms
    report = custom(ann, BY_START)

    response = signed_in(ann).get(
        reverse("report-drill", args=[report.pk]), {"frequency": "quarter", "category": "2026-04-01"}
    )

    assert response.status_code == 302
    body = json.loads(parse_qs(urlsplit(response["Location"]).query)["filters"][0])
    between = {"propertyName": "contract_start_date", "operator": "BETWEEN"}
    assert body == {"filterGroups": [{"filters": [{**between, "value": "2026-04-01", "highValue": "2026-06-30"}]}]}


def test_the_api_takes_a_frequency_and_names_a_bad_one(api, csm):
    report = Report.objects.get(built_in=True, kpi="churn_rate")

    data = api.get(f"/api/v1/reports/{report.pk}/data", {"range": "this_year", "frequency": "quarter"})
    bad = api.get(f"/api/v1/reports/{report.pk}/data", {"frequency": "hourly"})

    assert data.status_code == 200
    assert data.json()["categoryTitle"] == "Quarter"
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["frequency"]
