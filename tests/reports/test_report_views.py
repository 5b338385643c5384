"""The report screens: the chart fragment (exact data, locale formats, the KPI number, the empty
state, dashboard filters, bounded queries), drill links into the tabs, the report page, the
library, the builder (refusals by field with nothing saved, the live preview) and the actions."""

import datetime as dt
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tend.core.policy import SYSTEM, Actor
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for
from tend.crm.services import record_create
from tend.directory.models import Team
from tend.directory.services import user_create
from tend.engagement.kinds import KINDS
from tend.engagement.services import engagement_create
from tend.reports import services
from tend.reports.data import Category, ReportData, Series
from tend.reports.kpis import KPIS, Kpi
from tend.reports.models import Report, SummaryReport

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_built_ins")]

NOW = dt.datetime(2026, 6, 15, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo, 04:00 in London
HX = {"HTTP_HX_REQUEST": "true"}
BY_STAGE = {"groupBy": "cs_stage"}


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def people(db):
    """Mia manages CS settings; Yuki (East, Tokyo) and Otto (West) are CSMs."""
    mia = user_create(
        email="mia@example.com",
        full_name="Mia Manager",
        has_service_seat=True,
        manage_cs_settings=True,
        time_zone="Europe/London",
    )
    yuki = user_create(email="yuki@example.com", full_name="Yuki Tanaka", has_service_seat=True, time_zone="Asia/Tokyo")
    otto = user_create(email="otto@example.com", full_name="Otto Outside", has_service_seat=True)
    east = Team.objects.create(name="East")
    east.members.add(yuki)
    west = Team.objects.create(name="West")
    west.members.add(otto)
    return mia, yuki, otto, east, west


@pytest.fixture
def book(people):
    """Five companies: three of Yuki's (two active, one at risk), two of Otto's (one active, one without a stage)."""
    _mia, yuki, otto, *_ = people
    companies = ObjectType.objects.get(name="companies")
    rows = [
        ("Acme", {"cs_stage": "active", "mrr": 1000, "csm": yuki.pk, "contract_start_date": "2026-06-02"}),
        ("Globex", {"cs_stage": "active", "mrr": 2500.5, "csm": yuki.pk, "contract_start_date": "2026-06-10"}),
        ("Initech", {"cs_stage": "at_risk", "mrr": 500, "csm": yuki.pk, "contract_start_date": "2026-05-14"}),
        ("Umbrella", {"cs_stage": "active", "mrr": 4000, "csm": otto.pk, "contract_start_date": "2026-04-02"}),
        ("Hooli", {"csm": otto.pk}),
    ]
    return {
        name: record_create(actor=SYSTEM, object_type=companies, properties={"name": name, **props})
        for name, props in rows
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report(owner, name="Stages", definition=None, chart="bar", source="companies", **kw) -> Report:
    return services.report_create(
        actor=Actor(owner),
        name=name,
        source=source,
        definition=BY_STAGE if definition is None else definition,
        chart=chart,
        **kw,
    )


def spec_of(response) -> dict:
    """The chart's JSON spec, as reports.js reads it."""
    found = re.search(r'<script type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert found, response.content.decode()[:2000]
    return json.loads(found.group(1))


def table_of(response) -> list[list[str]]:
    """The table view's rows as text (header row first)."""
    html = response.content.decode()
    table = re.search(r'<table[^>]*data-testid="report-table".*?</table>', html, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def chart(client, rep, **params):
    return client.get(reverse("report-chart", args=[rep.pk]), params, **HX)


# --------------------------------------------------------------------------- the chart fragment


def test_the_chart_fragment_draws_the_reports_data_for_someone_it_is_shared_with(people, book):
    mia, yuki, *_rest = people
    east = _rest[1]
    rep = report(mia, definition=BY_STAGE, access="teams", team_ids=[east.pk], description="By lifecycle")
    response = chart(signed_in(yuki), rep)
    assert response.status_code == 200
    spec = spec_of(response)
    assert (spec["type"], spec["format"], spec["categoryTitle"]) == ("bar", "number", "CS stage")
    assert spec["categories"] == ["Active", "At risk", "(No value)"]
    assert spec["keys"] == ["active", "at_risk", ""]
    assert [(s["name"], s["values"], s["labels"]) for s in spec["series"]] == [
        ("Count of Companies", [3, 1, 1], ["3", "1", "1"])
    ]
    assert spec["drill"] == f"/reports/{rep.pk}/drill/"
    assert spec["drillable"] == [True, True, True]
    assert table_of(response) == [
        ["CS stage", "Count of Companies"],
        ["Active", "3"],
        ["At risk", "1"],
        ["(No value)", "1"],
    ]
    assert f'href="/reports/{rep.pk}/"' in response.content.decode()  # the title opens the report


def test_values_read_in_the_viewers_locale(people, book, translated):
    mia, *_ = people
    mia.language = "de"
    mia.save(update_fields=["language"])
    rep = report(mia, definition={"measure": {"type": "sum", "property": "mrr"}, "groupBy": "cs_stage"})
    response = chart(signed_in(mia), rep)
    spec = spec_of(response)
    assert spec["locale"] == "de"
    assert spec["format"] == "currency"
    assert spec["series"][0]["values"] == [7500.5, 500, 0]
    assert spec["series"][0]["labels"] == ["7.500,50\xa0$", "500,00\xa0$", "0,00\xa0$"]
    assert table_of(response)[1] == ["Aktiv", "7.500,50\xa0$"]


def test_a_csm_outside_the_reports_team_gets_404_everywhere(people, book):
    mia, _yuki, otto, east, _west = people
    rep = report(mia, access="teams", team_ids=[east.pk])
    client = signed_in(otto)
    for name in ("report-chart", "report-detail", "report-export-csv", "report-export-xlsx", "report-drill"):
        assert client.get(reverse(name, args=[rep.pk]), {"category": "active"}).status_code == 404, name
    assert client.get(reverse("report-edit", args=[rep.pk])).status_code == 404
    assert client.post(reverse("report-archive", args=[rep.pk])).status_code == 404
    assert client.post(reverse("report-summary-add", args=[rep.pk])).status_code == 404
    assert client.get(reverse("report-chart", args=[999999])).status_code == 404
    rep.refresh_from_db()
    assert rep.archived_at is None
    assert not SummaryReport.objects.exists()


def test_the_dashboard_filters_narrow_the_chart(people, book):
    mia, yuki, _otto, _east, west = people
    rep = report(
        mia, access="everyone", definition={"dateBucket": {"property": "contract_start_date", "unit": "month"}}
    )
    client = signed_in(mia)
    spec = spec_of(chart(client, rep, range="custom", start="2026-05-01", end="2026-06-30"))
    assert (spec["keys"], spec["series"][0]["values"]) == (["2026-05-01", "2026-06-01"], [1, 2])
    assert spec["drill"] == f"/reports/{rep.pk}/drill/?range=custom&start=2026-05-01&end=2026-06-30"
    spec = spec_of(chart(client, rep, range="last_6_months", team=west.pk))
    assert spec["categories"] == ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"]
    assert spec["series"][0]["values"] == [0, 0, 0, 1, 0, 0]
    spec = spec_of(chart(client, rep, range="this_month", owner=yuki.pk))
    assert (spec["keys"], spec["series"][0]["values"]) == (["2026-06-01"], [2])


def test_bad_filter_parameters_are_explained_in_the_card(people, book):
    mia, *_ = people
    rep = report(mia)
    response = chart(signed_in(mia), rep, range="fortnight")
    assert response.status_code == 422
    assert "Choose a date range" in response.content.decode()
    response = chart(signed_in(mia), rep, range="custom", start="2026-13-01", end="2026-06-01")
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()


def test_the_kpi_number_shows_its_change_against_the_previous_period(people, book):
    mia, *_ = people
    rep = report(mia, definition={"dateBucket": {"property": "contract_start_date", "unit": "month"}}, chart="kpi")
    html = chart(signed_in(mia), rep).content.decode()
    assert re.search(r'data-testid="report-kpi-value">2</div>', html)  # June so far; May had 1
    assert 'data-testid="report-kpi-period">06/01/2026 – 06/15/2026</span>' in html
    change = re.search(r'data-testid="report-kpi-change">(.*?)</div>', html, re.S).group(1)
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", change)).strip() == "▲ Up 100% vs 1 in the previous period"
    assert "data-report-chart" not in html


def test_a_kpi_without_data_says_so(people, book):
    mia, *_ = people
    filters = {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "churned"}]}]}
    rep = report(mia, chart="kpi", definition={"measure": {"type": "avg", "property": "mrr"}, "filters": filters})
    html = chart(signed_in(mia), rep).content.decode()
    assert re.search(r'data-testid="report-kpi-value">No data</div>', html)
    assert "report-kpi-change" not in html


def test_no_matching_records_is_an_empty_state_saying_what_to_do(people, book):
    mia, *_ = people
    rep = report(mia, definition={"dateBucket": {"property": "contract_start_date", "unit": "month"}})
    html = chart(signed_in(mia), rep, range="last_year").content.decode()
    assert "No records match this report's filters in this period" in html
    assert "Choose a longer date range, or edit the report's filters." in html
    assert "data-report-chart" not in html


def test_the_chart_fragment_runs_a_bounded_number_of_queries(people, book, django_assert_max_num_queries):
    mia, yuki, *_ = people
    rep = report(mia, access="everyone", definition={"groupBy": "cs_stage", "breakdown": "csm"}, chart="stacked_bar")
    client = signed_in(yuki)
    chart(client, rep)  # warm the caches of the first request (content types, sessions)
    # session, user, report, its teams; object type, properties, workspace settings; the one
    # aggregate; the users' names; the settings again for the drill's tab
    with django_assert_max_num_queries(10):
        first = chart(client, rep, range="this_year")
    companies = ObjectType.objects.get(name="companies")
    for i in range(30):
        record_create(
            actor=SYSTEM, object_type=companies, properties={"name": f"More {i}", "cs_stage": "active", "csm": yuki.pk}
        )
    with django_assert_max_num_queries(10):
        second = chart(client, rep, range="this_year")
    assert [(s["name"], s["values"]) for s in spec_of(first)["series"]] == [
        ("Otto Outside", [1, 0, 1]),
        ("Yuki Tanaka", [2, 1, 0]),
    ]
    assert [s["values"] for s in spec_of(second)["series"]] == [[1, 0, 1], [32, 1, 0]]


# --------------------------------------------------------------------------- drill


def _drill(client, rep, **params):
    response = client.get(reverse("report-drill", args=[rep.pk]), params)
    assert response.status_code == 302, response.content[:300]
    url = urlsplit(response["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    return url.path, query, json.loads(query.pop("filters"))


def _listed(source: str, body: dict, user) -> set[str]:
    registry = registry_for(ObjectType.objects.get(name=source))
    where = compile_search(body, registry, user=user).where
    return set(
        Record.objects.filter(object_type__name=source, archived_at__isnull=True)
        .filter(where)
        .values_list("name", flat=True)
    )


def test_a_bar_opens_the_customers_tab_with_the_reports_filter_and_the_bars(people, book):
    mia, yuki, *_ = people
    mine = {"propertyName": "csm", "operator": "EQ", "value": yuki.pk}
    rich = {"propertyName": "mrr", "operator": "GT", "value": 2000}
    filters = {"filterGroups": [{"filters": [mine]}, {"filters": [rich]}]}
    rep = report(mia, definition={"groupBy": "cs_stage", "filters": filters})
    path, query, body = _drill(signed_in(mia), rep, category="active")
    assert (path, query) == ("/customers/", {"view": "all"})
    stage = {"propertyName": "cs_stage", "operator": "EQ", "value": "active"}
    assert body == {"filterGroups": [{"filters": [mine, stage]}, {"filters": [rich, stage]}]}
    assert _listed("companies", body, mia) == {"Acme", "Globex", "Umbrella"}
    everything = report(mia, definition=BY_STAGE)
    _path, _query, body = _drill(signed_in(mia), everything, category="")
    assert body == {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "NOT_HAS_PROPERTY"}]}]}
    assert _listed("companies", body, mia) == {"Hooli"}


def test_a_stacked_segment_adds_its_series_and_the_date_range_in_the_viewers_zone(people, book):
    mia, yuki, *_ = people
    rep = report(mia, access="everyone", definition={"groupBy": "cs_stage", "breakdown": "csm"}, chart="stacked_bar")
    _path, _query, body = _drill(signed_in(yuki), rep, category="active", series=str(yuki.pk), range="this_month")
    assert body == {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "cs_stage", "operator": "EQ", "value": "active"},
                    {"propertyName": "csm", "operator": "EQ", "value": yuki.pk},
                    # this month so far in Tokyo: 1–15 June
                    {
                        "propertyName": "created_at",
                        "operator": "BETWEEN",
                        "value": "2026-05-31T15:00:00Z",
                        "highValue": "2026-06-15T14:59:59Z",
                    },
                ]
            }
        ]
    }
    assert _listed("companies", body, yuki) == {"Acme", "Globex"}
    _path, _query, body = _drill(signed_in(yuki), rep, category="active", team=people[4].pk)
    assert body["filterGroups"][0]["filters"][-1] == {"propertyName": "csm", "operator": "IN", "values": [people[2].pk]}


def test_each_source_opens_its_own_tab_and_others_open_nothing(people, book):
    mia, yuki, *_ = people
    deals = ObjectType.objects.get(name="deals")
    record_create(actor=SYSTEM, object_type=deals, properties={"name": "Renewal", "owner": yuki.pk})
    services_type = ObjectType.objects.get(name="services")
    record_create(actor=SYSTEM, object_type=services_type, properties={"name": "Onboarding", "owner": yuki.pk})
    engagement_create(actor=Actor(yuki), kind=KINDS["tasks"], properties={"subject": "Call Acme", "assignee": yuki.pk})
    client = signed_in(mia)
    owner = [{"propertyName": "owner", "operator": "EQ", "value": yuki.pk}]
    for source, path, query in (
        ("deals", "/revenue/", {"object": "deals", "layout": "table", "view": "all"}),
        ("services", "/services/", {"layout": "table", "view": "all"}),
    ):
        rep = report(mia, source=source, definition={"groupBy": "owner"})
        assert _drill(client, rep, category=str(yuki.pk)) == (path, query, {"filterGroups": [{"filters": owner}]})
    rep = report(mia, source="tasks", definition={"groupBy": "assignee"})
    assert _drill(client, rep, category=str(yuki.pk)) == (
        "/tasks/",
        {"view": "open"},
        {"filterGroups": [{"filters": [{"propertyName": "assignee", "operator": "EQ", "value": yuki.pk}]}]},
    )
    record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="contacts"),
        properties={"name": "Ann Acme", "email": "a@acme.test"},
    )
    contacts = report(mia, source="contacts", definition={"groupBy": "owner"})
    assert spec_of(chart(client, contacts))["drill"] == ""
    assert client.get(reverse("report-drill", args=[contacts.pk]), {"category": ""}).status_code == 404
    assert client.get(reverse("report-drill", args=[rep.pk]), {"category": "nope"}).status_code == 404


# --------------------------------------------------------------------------- the report page


def test_the_report_page_says_what_it_is_and_who_sees_it(people, book):
    mia, yuki, _otto, east, _west = people
    filters = {
        "filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "IN", "values": ["active", "at_risk"]}]}]
    }
    rep = report(
        mia,
        definition={"groupBy": "csm", "filters": filters},
        access="teams",
        team_ids=[east.pk],
        description="Whose accounts",
    )
    response = signed_in(yuki).get(reverse("report-detail", args=[rep.pk]), {"range": "this_year"})
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        'data-testid="report-name">Stages</h1>',
        'data-testid="report-description">Whose accounts</p>',
        'data-testid="report-source">Companies</dd>',
        'data-testid="report-owner">Mia Manager</dd>',
        "Teams: East",
        'data-testid="report-filter-summary">CS stage is any of Active, At risk</dd>',
        f'href="/reports/{rep.pk}/export.csv?range=this_year"',
        f'href="/reports/{rep.pk}/export.xlsx?range=this_year"',
        '<option value="this_year" selected>This year</option>',
    ):
        assert text in html, text
    assert table_of(response)[1:] == [["Otto Outside", "1"], ["Yuki Tanaka", "3"]]
    # Yuki may not edit a report shared by a settings manager: no Edit, no Archive
    assert 'data-testid="report-edit"' not in html and 'data-testid="report-archive"' not in html
    mine = signed_in(mia).get(reverse("report-detail", args=[rep.pk])).content.decode()
    assert 'data-testid="report-edit"' in mine and 'data-testid="report-archive-confirm"' in mine
    fragment = signed_in(yuki).get(reverse("report-detail", args=[rep.pk]), {"range": "this_year"}, **HX)
    assert fragment.content.decode().lstrip().startswith('<div id="report-body"')


def test_a_built_in_kpi_report_says_its_computation_is_built_in(people, monkeypatch):
    mia, *_ = people
    data = ReportData(
        categories=[Category("2026-05-01", "May 2026"), Category("2026-06-01", "Jun 2026")],
        series=[Series("churn", "Churn rate", [0.05, 0.025], format="percent")],
        chart="line",
        category_title="Month",
    )
    monkeypatch.setitem(
        KPIS, "test_churn", Kpi("test_churn", "Churn", "Lost customers", "line", "companies", lambda scope: data)
    )
    rep = Report.objects.create(
        name="Churn",
        source="companies",
        kpi="test_churn",
        chart="line",
        access="everyone",
        built_in=True,
        created_at=NOW,
        updated_at=NOW,
    )
    response = signed_in(mia).get(reverse("report-detail", args=[rep.pk]))
    html = response.content.decode()
    assert "its computation is built in and cannot be edited. See the formula in the documentation" in html
    assert 'data-testid="report-owner">Tend (built in)</dd>' in html
    assert table_of(response)[1:] == [["May 2026", "5%"], ["Jun 2026", "2.5%"]]
    assert '<option value="last_12_months" selected>' in html


def test_a_kpi_slice_opens_its_customers_within_the_dashboards_csms(people, book, monkeypatch):
    mia, yuki, *_ = people
    active = [{"propertyName": "cs_stage", "operator": "EQ", "value": "active"}]
    data = ReportData(
        categories=[Category("active", "Active", drill=active)],
        series=[Series("customers", "Customers", [3])],
        chart="donut",
        drill_url="/customers/?view=all",
    )
    monkeypatch.setitem(
        KPIS, "test_stages", Kpi("test_stages", "Stages", "Customers", "donut", "companies", lambda scope: data)
    )
    rep = Report.objects.create(
        name="Stages", source="companies", kpi="test_stages", chart="donut", access="everyone", built_in=True,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip

    _path, _query, body = _drill(signed_in(mia), rep, category="active")
    assert body == {"filterGroups": [{"filters": active}]}
    _path, _query, body = _drill(signed_in(mia), rep, category="active", owner=yuki.pk)
    mine = {"propertyName": "csm", "operator": "IN", "values": [yuki.pk]}
    assert body == {"filterGroups": [{"filters": [*active, mine]}]}
    assert _listed("companies", body, mia) == {"Acme", "Globex"}


def test_archive_and_add_to_my_summary(people, book):
    mia, yuki, *_ = people
    reports = [report(yuki, name=f"R{i}") for i in range(6)]
    client = signed_in(yuki)
    for rep in reports[:5]:
        assert client.post(reverse("report-summary-add", args=[rep.pk])).status_code == 302
    response = client.post(reverse("report-summary-add", args=[reports[5].pk]), follow=True)
    assert "Your Summary shows at most 5 reports; remove one first." in response.content.decode()
    assert list(SummaryReport.objects.filter(user=yuki).values_list("report__name", flat=True)) == [
        "R0",
        "R1",
        "R2",
        "R3",
        "R4",
    ]
    response = client.post(reverse("report-archive", args=[reports[0].pk]))
    assert response["Location"] == reverse("reports")
    reports[0].refresh_from_db()
    assert reports[0].archived_at == NOW
    assert client.get(reverse("report-detail", args=[reports[0].pk])).status_code == 404


def test_viewing_as_a_csm_changes_nothing_of_theirs(people, book):
    mia, yuki, *_ = people
    mia.is_superuser = True
    mia.save(update_fields=["is_superuser"])
    rep = report(yuki, name="Yuki's")
    client = signed_in(mia)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = yuki.pk
    session.save()
    assert client.get(reverse("report-detail", args=[rep.pk])).status_code == 200
    client.post(reverse("report-archive", args=[rep.pk]))
    client.post(reverse("report-summary-add", args=[rep.pk]))
    rep.refresh_from_db()
    assert rep.archived_at is None and not SummaryReport.objects.exists()


# --------------------------------------------------------------------------- the library


def test_the_library_lists_what_the_user_may_see_with_search_and_pages(people):
    mia, yuki, otto, east, _west = people
    report(mia, name="Shared with East", access="teams", team_ids=[east.pk])
    report(mia, name="Mia's own")
    report(otto, name="Otto's own")
    for i in range(26):
        report(yuki, name=f"Yuki {i:02d}")
    client = signed_in(yuki)

    def names(**params):
        html = client.get(reverse("reports"), params).content.decode()
        return re.findall(r'class="report-name" href="/reports/\d+/">([^<]+)</a>', html), html

    shown, html = names()
    assert shown[:2] == ["Shared with East", "Yuki 00"] and len(shown) == 25
    assert "1–25 of 27" in html
    shown, _html = names(page=2)
    assert shown == ["Yuki 24", "Yuki 25"]
    assert names(show="shared")[0] == ["Shared with East"]
    assert names(q="yuki 1")[0] == [f"Yuki {i}" for i in range(10, 20)]
    shown, html = names(q="nothing like it")
    assert shown == [] and "No report is named like “nothing like it”." in html
    fragment = client.get(reverse("reports"), {"q": "east"}, **HX).content.decode()
    assert fragment.lstrip().startswith('<div id="library">')


def test_an_empty_library_invites_to_create_one(people):
    _mia, _yuki, otto, *_ = people
    html = signed_in(otto).get(reverse("reports")).content.decode()
    assert 'data-testid="library-empty"' in html and "Create your first report" in html


# --------------------------------------------------------------------------- the builder


def _form(**overrides) -> dict:
    body = {
        "source": "companies",
        "name": "Customers by stage",
        "description": "",
        "measure": "count",
        "group_by": "cs_stage",
        "date_property": "",
        "date_unit": "month",
        "breakdown": "",
        "chart": "bar",
        "filters": "",
        "access": "private",
    }
    return {**body, **overrides}


def _slot(html: str, slot: str) -> str:
    found = re.search(rf'id="error-{slot}"[^>]*>(.*?)</div>', html, re.S)
    return unescape(found.group(1)).strip() if found else ""


def test_choosing_a_source_comes_first(people):
    _mia, yuki, *_ = people
    html = signed_in(yuki).get(reverse("report-new")).content.decode()
    sources = re.findall(r'href="/reports/new/\?source=([a-z_]+)"', html)
    assert sources[0] == "companies" and {"contacts", "deals", "tasks", "meetings", "nps"} <= set(sources)
    builder = signed_in(yuki).get(reverse("report-new"), {"source": "companies"})
    assert builder.status_code == 200
    assert '<option value="mrr">MRR</option>' in builder.content.decode()  # a number to sum
    assert signed_in(yuki).get(reverse("report-new"), {"source": "planets"}).status_code == 404


def test_a_measure_the_property_cannot_take_is_refused_next_to_its_field_and_nothing_is_saved(people, book):
    _mia, yuki, *_ = people
    before = Report.objects.count()
    response = signed_in(yuki).post(reverse("report-new"), _form(measure="sum", measure_number_property="name"))
    assert response.status_code == 422
    html = response.content.decode()
    assert _slot(html, "measure_property") == "Name cannot be used to sum or average: its type is “Single-line text”."
    assert "Nothing was saved." in html
    response = signed_in(yuki).post(reverse("report-new"), _form(name="", group_by="no_such_thing"))
    html = response.content.decode()
    assert _slot(html, "group_by") == "Unknown property no_such_thing."
    assert _slot(html, "name") == "Enter a name."
    assert Report.objects.count() == before


def test_sharing_without_the_settings_permission_is_refused_on_its_field(people, book):
    _mia, yuki, *_ = people
    before = Report.objects.count()
    html = signed_in(yuki).post(reverse("report-new"), _form(access="everyone")).content.decode()
    assert _slot(html, "access") == (
        "Sharing with everyone or with teams needs the “Manage Customer Success settings” permission."
    )
    assert Report.objects.count() == before


def test_a_valid_report_is_saved_and_opens(people, book):
    mia, _yuki, _otto, east, _west = people
    filters = {"filterGroups": [{"filters": [{"propertyName": "csm", "operator": "IS_ME"}]}]}
    body = _form(measure="sum", measure_number_property="mrr", breakdown="csm", chart="stacked_bar", access="teams")
    body |= {"teams": [str(east.pk)], "filters": json.dumps(filters), "description": "Money by stage"}
    response = signed_in(mia).post(reverse("report-new"), body)
    saved = Report.objects.get(name="Customers by stage")
    assert response["Location"] == reverse("report-detail", args=[saved.pk])
    assert (saved.chart, saved.access, saved.team_ids, saved.description, saved.owner) == (
        "stacked_bar",
        "teams",
        [east.pk],
        "Money by stage",
        mia,
    )
    assert saved.definition == {
        "filters": filters,
        "measure": {"type": "sum", "property": "mrr"},
        "groupBy": "cs_stage",
        "dateBucket": None,
        "breakdown": "csm",
    }


def test_the_preview_draws_a_valid_definition_and_nothing_is_saved(people, book):
    _mia, yuki, *_ = people
    before = Report.objects.count()
    body = _form(group_by="", date_property="contract_start_date", date_unit="month", chart="line")
    response = signed_in(yuki).post(reverse("report-preview"), body, **HX)
    assert response.status_code == 200
    spec = spec_of(response)
    assert spec["type"] == "line" and spec["drill"] == ""
    assert list(zip(spec["keys"], spec["series"][0]["values"], strict=True)) == [
        ("2026-04-01", 1),
        ("2026-05-01", 1),
        ("2026-06-01", 2),
        ("", 1),
    ]
    html = response.content.decode()
    assert 'id="error-measure_property" hx-swap-oob="true"></div>' in html  # the errors cleared
    assert Report.objects.count() == before


def test_the_preview_puts_each_error_next_to_its_field(people, book):
    _mia, yuki, *_ = people
    filters = {"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "GT", "value": "lots"}]}]}
    body = _form(measure="avg", measure_number_property="cs_stage", chart="line", filters=json.dumps(filters))
    html = signed_in(yuki).post(reverse("report-preview"), body, **HX).content.decode()
    assert "data-report-chart" not in html
    assert _slot(html, "measure_property") == "CS stage cannot be used to sum or average: its type is “Pick one”."
    assert _slot(html, "chart") == "Line and area charts need a date bucket."
    assert _slot(html, "filters") != ""
    assert (
        'id="filter-summary" hx-swap-oob="innerHTML"><div class="border rounded px-2 py-1 bg-body-tertiary">MRR is greater than lots</div>'
        in html
    )


def test_editing_keeps_what_is_not_changed_and_refuses_by_field(people, book):
    mia, yuki, *_ = people
    rep = report(yuki, name="Mine", description="First")
    client = signed_in(yuki)
    page = client.get(reverse("report-edit", args=[rep.pk])).content.decode()
    assert 'value="Mine"' in page and '<option value="cs_stage" selected>' in page
    response = client.post(
        reverse("report-edit", args=[rep.pk]), _form(name="Renamed", chart="donut", description="First")
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.name, rep.chart, rep.access) == ("Renamed", "donut", "private")
    response = client.post(reverse("report-edit", args=[rep.pk]), _form(name="Again", chart="line"))
    assert response.status_code == 422
    assert _slot(response.content.decode(), "chart") == "Line and area charts need a date bucket."
    rep.refresh_from_db()
    assert (rep.name, rep.chart) == ("Renamed", "donut")
    # a report shared by a settings manager is theirs to edit
    shared = report(mia, access="everyone")
    assert client.get(reverse("report-edit", args=[shared.pk])).status_code == 403
    assert client.post(reverse("report-edit", args=[shared.pk]), _form(name="Taken")).status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Stages"
