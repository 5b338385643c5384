"""The Dashboards tab (who adds, who sees, the confirmation, order, removal), one dashboard (its grid
added to, reordered, resized and emptied through the services; the filters in every tile's URL;
404 for a dashboard one may not see), the library, View as, and bounded queries per page."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.core.policy import Actor
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.directory.models import Team
from tend.directory.services import user_create
from tend.reports import services
from tend.reports.models import Dashboard, DashboardItem, TabDashboard

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
CONFIRM = "Confirm that these users will be given view access to this dashboard."


@pytest.fixture(autouse=True)
def of_our_own(without_built_ins):
    """The tab and the library as these tests build them."""


@pytest.fixture
def people(db):
    """Mia manages the CS settings; Yuki is in team East; Otto, a CSM too, is in West."""
    mia = user_create(email="mia@example.com", full_name="Mia Manager", has_service_seat=True, manage_cs_settings=True)
    yuki = user_create(email="yuki@example.com", full_name="Yuki Tanaka", has_service_seat=True)
    otto = user_create(email="otto@example.com", full_name="Otto Outside", has_service_seat=True)
    east = Team.objects.create(name="East")
    east.members.add(yuki)
    west = Team.objects.create(name="West")
    west.members.add(otto)
    return {"mia": mia, "yuki": yuki, "otto": otto, "east": east, "west": west}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report(owner, name="Stages", **kw):
    return services.report_create(
        actor=Actor(owner), name=name, source="companies", definition={"groupBy": "cs_stage"}, chart="bar", **kw
    )


def dashboard(owner, name="Renewals", **kw):
    return services.dashboard_create(actor=Actor(owner), name=name, **kw)


def tab_names(response) -> list[str]:
    return [e.dashboard.name for e in response.context["entries"]]


def tiles(response) -> list[tuple[int, int, int]]:
    """(report id, width, height) of each tile, in the page's order."""
    html = response.content.decode()
    found = re.findall(r'id="tile-(\d+)" data-item="\d+" data-width="(\d+)" data-height="(\d+)"', html)
    items = {i.pk: i.report_id for i in DashboardItem.objects.all()}
    return [(items[int(pk)], int(w), int(h)) for pk, w, h in found]


def chart_urls(response) -> list[str]:
    html = response.content.decode()
    return [unescape(u) for u in re.findall(r'hx-get="(/reports/\d+/chart/[^"]*)"', html)]


def field_errors(response) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="error-([\w-]+)">([^<]*)<', response.content.decode())


def picked(html) -> list[tuple[str, bool]]:
    """The picker's custom reports (the built-in KPIs aside), and whether each is on the dashboard."""
    rows = re.findall(r'data-testid="picker-report">(.*?)</li>', html, re.S)
    out = []
    for row in rows:
        name = re.search(r'<div class="fw-semibold text-truncate">([^<]+)', row).group(1).strip()
        if "Built in" not in row:
            out.append((name, "On this dashboard" in row))
    return out


def positions(board) -> list[tuple[str, int, int, int]]:
    return [
        (i.report.name, i.position, i.width, i.height)
        for i in DashboardItem.objects.filter(dashboard=board).select_related("report").order_by("position", "id")
    ]


def add_to_tab(client, board, *, hx=False, **data):
    return client.post(reverse("dashboards-tab-add"), {"dashboard": board.pk, **data}, **(HX if hx else {}))


# ---- the Dashboards tab: who adds, who sees ------------------------------------------------------


def test_a_settings_manager_adds_a_dashboard_for_team_east_and_only_east_sees_it(people):
    mia, yuki, otto, east = people["mia"], people["yuki"], people["otto"], people["east"]
    board = dashboard(mia)  # private: the tab is what shares it
    response = add_to_tab(signed_in(mia), board, access="teams", teams=[east.pk], confirm="1")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboards/?d={board.pk}"
    entry = TabDashboard.objects.get()
    assert (entry.dashboard_id, entry.access, entry.team_ids, entry.added_by_id) == (
        board.pk,
        "teams",
        [east.pk],
        mia.pk,
    )

    # Yuki (East) sees it on the tab, selected by default, and may open it.
    response = signed_in(yuki).get("/dashboards/")
    assert tab_names(response) == ["Renewals"]
    assert response.context["selected"].dashboard_id == board.pk
    assert signed_in(yuki).get(f"/dashboards/{board.pk}/").status_code == 200

    # Otto (West) does not: the tab is empty for him and the dashboard answers 404.
    client = signed_in(otto)
    response = client.get("/dashboards/")
    assert tab_names(response) == []
    assert "No dashboards have been shared with you yet" in response.content.decode()
    assert 'data-testid="tab-add"' not in response.content.decode()
    assert client.get(f"/dashboards/{board.pk}/").status_code == 404
    assert client.get(f"/dashboards/?d={board.pk}").status_code == 404


def test_adding_without_the_confirmation_is_a_field_error_and_adds_nothing(people):
    mia, east = people["mia"], people["east"]
    board = dashboard(mia)
    response = add_to_tab(signed_in(mia), board, access="teams", teams=[east.pk], hx=True)
    assert response.status_code == 422
    assert field_errors(response) == [("confirm", CONFIRM)]
    html = response.content.decode()
    assert 'data-testid="tab-add-form"' in html and "<html" not in html  # the dialog's form, not a page
    assert re.search(rf'<option value="{east.pk}" selected>East</option>', html)  # the choices are kept
    assert TabDashboard.objects.count() == 0


def test_teams_access_needs_a_team_and_a_missing_dashboard_is_named(people):
    mia = people["mia"]
    board = dashboard(mia)
    response = add_to_tab(signed_in(mia), board, access="teams", confirm="1")
    assert response.status_code == 422
    assert field_errors(response) == [("teams", "Choose at least one existing team.")]
    response = signed_in(mia).post(reverse("dashboards-tab-add"), {"dashboard": "999999", "access": "everyone"})
    assert field_errors(response) == [("dashboard", "Choose a dashboard.")]
    assert TabDashboard.objects.count() == 0


def test_without_the_settings_permission_nobody_adds_to_the_tab(people):
    yuki = people["yuki"]
    board = dashboard(yuki)
    response = add_to_tab(signed_in(yuki), board, access="everyone", confirm="1")
    assert response.status_code == 403
    assert "Manage Customer Success settings" in response.content.decode()
    assert TabDashboard.objects.count() == 0
    assert 'data-testid="tab-add"' not in signed_in(yuki).get("/dashboards/").content.decode()


def test_the_empty_tab_tells_a_settings_manager_to_add_a_dashboard(people):
    html = signed_in(people["mia"]).get("/dashboards/").content.decode()
    assert 'data-testid="dashboards-empty"' in html
    assert "Put your team's dashboards here" in html
    assert html.count('data-bs-target="#tab-add-dialog"') == 2  # the header's button and the empty state's
    assert re.search(r'class="nav-link active[^"]*" href="/dashboards/"', html)


def test_the_add_dialog_offers_the_dashboards_the_manager_sees_and_not_those_on_the_tab(people):
    mia, yuki = people["mia"], people["yuki"]
    on_tab = dashboard(mia, "On the tab", access="everyone")
    services.tab_dashboard_add(actor=Actor(mia), dashboard=on_tab, access="everyone", confirmed=True)
    dashboard(mia, "Mine")
    dashboard(yuki, "Yuki's private")
    response = signed_in(mia).get("/dashboards/")
    assert [d.name for d in response.context["candidates"]] == ["Mine"]


def test_everyone_on_the_tab_sees_it_and_the_selected_one_follows_d(people):
    mia, otto = people["mia"], people["otto"]
    first, second = dashboard(mia, "Churn"), dashboard(mia, "Onboarding")
    client = signed_in(mia)
    for board in (first, second):
        assert add_to_tab(client, board, access="everyone", confirm="1").status_code == 302
    response = signed_in(otto).get(f"/dashboards/?d={second.pk}")
    assert tab_names(response) == ["Churn", "Onboarding"]
    assert response.context["dashboard"].pk == second.pk
    assert re.search(
        rf'class="nav-link[^"]* active" href="\?d={second.pk}" aria-current="page"', response.content.decode()
    )


def test_a_settings_manager_reorders_and_removes_the_tab_s_dashboards(people):
    mia, yuki = people["mia"], people["yuki"]
    boards = [dashboard(mia, name) for name in ("A", "B", "C")]
    entries = [
        services.tab_dashboard_add(actor=Actor(mia), dashboard=b, access="everyone", confirmed=True) for b in boards
    ]
    client = signed_in(mia)
    order = [entries[2].pk, entries[0].pk, entries[1].pk]
    assert client.post(reverse("dashboards-tab-order"), {"entry": order}).status_code == 204
    assert tab_names(client.get("/dashboards/")) == ["C", "A", "B"]

    # Not every entry once: refused, the order stays.
    response = client.post(reverse("dashboards-tab-order"), {"entry": [entries[0].pk]})
    assert response.status_code == 422
    assert tab_names(client.get("/dashboards/")) == ["C", "A", "B"]
    # Nobody else reorders or removes.
    assert signed_in(yuki).post(reverse("dashboards-tab-order"), {"entry": order[::-1]}).status_code == 403
    assert signed_in(yuki).post(reverse("dashboards-tab-remove", args=[entries[0].pk])).status_code == 403
    assert tab_names(client.get("/dashboards/")) == ["C", "A", "B"]

    response = client.post(reverse("dashboards-tab-remove", args=[entries[0].pk]))
    assert (response.status_code, response["Location"]) == (302, "/dashboards/")
    assert tab_names(client.get("/dashboards/")) == ["C", "B"]
    assert Dashboard.objects.filter(pk=boards[0].pk, archived_at__isnull=True).exists()  # the dashboard stays


def test_the_tab_shows_a_manager_who_sees_each_dashboard(people):
    mia, east, west = people["mia"], people["east"], people["west"]
    board = dashboard(mia)
    services.tab_dashboard_add(
        actor=Actor(mia), dashboard=board, access="teams", team_ids=[east.pk, west.pk], confirmed=True
    )
    html = signed_in(mia).get("/dashboards/").content.decode()
    assert "On the tab for the members of East, West." in html


def test_viewing_as_a_csm_shows_their_tab_read_only(people):
    mia, yuki, otto, east = people["mia"], people["yuki"], people["otto"], people["east"]
    for_east = dashboard(mia, "East only")
    services.tab_dashboard_add(actor=Actor(mia), dashboard=for_east, access="teams", team_ids=[east.pk], confirmed=True)
    client = signed_in(mia)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = otto.pk
    session.save()
    response = client.get("/dashboards/")
    assert tab_names(response) == []  # what Otto sees, not what Mia does
    assert 'data-testid="tab-add"' not in response.content.decode()
    other = dashboard(mia, "Another")
    assert add_to_tab(client, other, access="everyone", confirm="1").status_code == 403
    assert TabDashboard.objects.count() == 1
    session[VIEW_AS_SESSION_KEY] = yuki.pk
    session.save()
    assert tab_names(client.get("/dashboards/")) == ["East only"]


# ---- one dashboard: the grid ---------------------------------------------------------------------


def test_the_grid_is_added_to_reordered_resized_and_emptied_through_the_services(people):
    mia = people["mia"]
    board = dashboard(mia)
    stages, owners, churn = report(mia, "Stages"), report(mia, "Owners"), report(mia, "Churn")
    client = signed_in(mia)
    add = reverse("dashboard-item-add", args=[board.pk])
    response = client.post(add, {"report": stages.pk, "width": "4", "height": "2", "edit": "1"}, **HX)
    assert response.status_code == 200
    assert 'id="dashboard-grid"' in response.content.decode() and "<html" not in response.content.decode()
    client.post(add, {"report": owners.pk, "edit": "1"}, **HX)
    response = client.post(add, {"report": churn.pk, "width": "12", "edit": "1"}, **HX)
    assert tiles(response) == [(stages.pk, 4, 2), (owners.pk, 6, 1), (churn.pk, 12, 1)]
    assert positions(board) == [("Stages", 0, 4, 2), ("Owners", 1, 6, 1), ("Churn", 2, 12, 1)]
    assert response.content.decode().count('data-testid="tile-edit-bar"') == 3

    items = {i.report_id: i.pk for i in DashboardItem.objects.all()}
    order = reverse("dashboard-items-order", args=[board.pk])
    response = client.post(order, {"item": [items[churn.pk], items[stages.pk], items[owners.pk]]})
    assert response.status_code == 204
    assert positions(board) == [("Churn", 0, 12, 1), ("Stages", 1, 4, 2), ("Owners", 2, 6, 1)]
    response = client.post(order, {"item": [items[churn.pk]]}, **HX)
    assert response.status_code == 422
    assert "List every report of the dashboard once." in response.content.decode()
    assert positions(board) == [("Churn", 0, 12, 1), ("Stages", 1, 4, 2), ("Owners", 2, 6, 1)]

    resize = reverse("dashboard-item-resize", args=[board.pk, items[owners.pk]])
    response = client.post(resize, {"width": "8", "height": "2", "edit": "1"}, **HX)
    assert response.status_code == 200
    assert tiles(response) == [(owners.pk, 8, 2)]
    assert 'class="col-12 col-lg-8 dashboard-tile tile-h2"' in response.content.decode()
    response = client.post(resize, {"width": "5", "height": "3"}, **HX)
    assert response.status_code == 422
    assert "Choose a width of 3, 4, 6, 8 or 12 columns." in response.content.decode()
    assert positions(board) == [("Churn", 0, 12, 1), ("Stages", 1, 4, 2), ("Owners", 2, 8, 2)]

    response = client.post(reverse("dashboard-item-remove", args=[board.pk, items[stages.pk]]), {"edit": "1"}, **HX)
    assert tiles(response) == [(churn.pk, 12, 1), (owners.pk, 8, 2)]
    assert positions(board) == [("Churn", 0, 12, 1), ("Owners", 2, 8, 2)]
    page = client.get(f"/dashboards/{board.pk}/")
    assert tiles(page) == [(churn.pk, 12, 1), (owners.pk, 8, 2)]
    assert 'data-testid="tile-edit-bar"' not in page.content.decode()  # not in edit mode


def test_only_those_who_may_edit_a_dashboard_see_edit_mode_and_change_it(people):
    mia, yuki = people["mia"], people["yuki"]
    shared = dashboard(mia, access="everyone")  # a shared dashboard belongs to the settings managers
    stages = report(mia, access="everyone")
    services.dashboard_add_report(actor=Actor(mia), dashboard=shared, report=stages)
    client = signed_in(yuki)
    response = client.get(f"/dashboards/{shared.pk}/?edit=1")
    assert response.status_code == 200
    assert response.context["can_edit"] is False and response.context["editing"] is False
    html = response.content.decode()
    assert 'data-testid="edit-dashboard"' not in html and 'data-testid="add-report"' not in html
    item = DashboardItem.objects.get()
    assert client.post(reverse("dashboard-item-add", args=[shared.pk]), {"report": stages.pk}).status_code == 403
    assert client.post(reverse("dashboard-item-remove", args=[shared.pk, item.pk])).status_code == 403
    assert (
        client.post(reverse("dashboard-item-resize", args=[shared.pk, item.pk]), {"width": 12, "height": 1}).status_code
        == 403
    )
    assert client.post(reverse("dashboard-items-order", args=[shared.pk]), {"item": [item.pk]}).status_code == 403
    assert positions(shared) == [("Stages", 0, 6, 1)]
    manager_page = signed_in(mia).get(f"/dashboards/{shared.pk}/").content.decode()
    assert 'data-testid="edit-dashboard"' in manager_page


def test_a_report_one_may_not_see_cannot_be_added(people):
    mia, yuki = people["mia"], people["yuki"]
    mine = dashboard(yuki)
    hidden = report(mia, "Mia's private")
    response = signed_in(yuki).post(reverse("dashboard-item-add", args=[mine.pk]), {"report": hidden.pk})
    assert response.status_code == 404
    assert DashboardItem.objects.count() == 0


def test_the_picker_lists_the_reports_one_sees_searched_by_name(people):
    mia, yuki = people["mia"], people["yuki"]
    mine = dashboard(yuki)
    churn = report(yuki, "Churn by month")
    report(yuki, "Renewals")
    report(mia, "Mia's private")
    services.dashboard_add_report(actor=Actor(yuki), dashboard=mine, report=churn)
    client = signed_in(yuki)
    url = reverse("dashboard-report-picker", args=[mine.pk])
    html = client.get(url, **HX).content.decode()
    assert picked(html) == [("Churn by month", True), ("Renewals", False)]  # not Mia's private one
    assert picked(client.get(url, {"q": "renew"}, **HX).content.decode()) == [("Renewals", False)]
    assert 'data-testid="picker-empty"' in client.get(url, {"q": "zzz"}, **HX).content.decode()


def test_a_dashboard_one_may_not_see_is_404_everywhere(people):
    mia, otto = people["mia"], people["otto"]
    private = dashboard(mia)
    client = signed_in(otto)
    for url in (
        f"/dashboards/{private.pk}/",
        f"/dashboards/{private.pk}/settings/",
        f"/dashboards/{private.pk}/reports/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("dashboard-item-add", args=[private.pk]), {"report": 1}).status_code == 404
    assert client.post(reverse("dashboard-archive", args=[private.pk])).status_code == 404
    assert client.get("/dashboards/999999/").status_code == 404


# ---- the filters -----------------------------------------------------------------------------------


def _board_with_two_reports(who, **filters):
    board = dashboard(who, filters=filters or None)
    first, second = report(who, "First"), report(who, "Second")
    for r in (first, second):
        services.dashboard_add_report(actor=Actor(who), dashboard=board, report=r)
    return board, first, second


def test_every_tile_loads_its_chart_with_the_dashboard_s_default_filters(people):
    mia = people["mia"]
    board, first, second = _board_with_two_reports(mia, dateRange="last_90_days", owner=people["yuki"].pk)
    response = signed_in(mia).get(f"/dashboards/{board.pk}/")
    yuki = people["yuki"].pk
    assert chart_urls(response) == [
        f"/reports/{first.pk}/chart/?range=last_90_days&owner={yuki}",
        f"/reports/{second.pk}/chart/?range=last_90_days&owner={yuki}",
    ]
    html = response.content.decode()
    assert html.count('hx-trigger="load"') == 2  # each tile on its own
    assert response.context["filters"].is_default is True
    assert 'data-testid="filter-reset"' not in html


def test_the_page_s_query_string_sets_every_tile_s_filters(people):
    mia, east = people["mia"], people["east"]
    board, first, second = _board_with_two_reports(mia, dateRange="last_12_months")
    client = signed_in(mia)
    response = client.get(
        f"/dashboards/{board.pk}/",
        {"range": "custom", "start": "2026-01-01", "end": "2026-03-31", "owner": "", "team": east.pk},
    )
    expected = f"range=custom&start=2026-01-01&end=2026-03-31&team={east.pk}"
    assert chart_urls(response) == [f"/reports/{first.pk}/chart/?{expected}", f"/reports/{second.pk}/chart/?{expected}"]
    html = response.content.decode()
    assert 'data-testid="filter-reset"' in html
    assert re.search(rf'<option value="{east.pk}" selected>East</option>', html)

    # An owner and a team: the person wins. Start and end only count for a custom range.
    response = client.get(
        f"/dashboards/{board.pk}/", {"range": "this_year", "start": "2026-01-01", "owner": mia.pk, "team": east.pk}
    )
    assert chart_urls(response)[0] == f"/reports/{first.pk}/chart/?range=this_year&owner={mia.pk}"
    # Cleared filters stay cleared (the defaults are not put back): the report's own dates.
    response = client.get(f"/dashboards/{board.pk}/", {"range": "", "owner": ""})
    assert chart_urls(response)[0] == f"/reports/{first.pk}/chart/"


def test_a_bad_filter_is_said_and_the_dashboard_s_own_filters_are_shown(people):
    mia = people["mia"]
    board, first, _second = _board_with_two_reports(mia, dateRange="last_month")
    response = signed_in(mia).get(f"/dashboards/{board.pk}/", {"range": "custom", "start": "01/02/2026", "end": ""})
    assert response.status_code == 200
    assert 'data-testid="filter-error">Enter a date as YYYY-MM-DD.' in response.content.decode()
    assert chart_urls(response)[0] == f"/reports/{first.pk}/chart/?range=last_month"


def test_the_filters_bar_answers_with_the_dashboard_and_its_clean_address(people):
    mia = people["mia"]
    board, first, _second = _board_with_two_reports(mia)
    response = signed_in(mia).get(
        f"/dashboards/{board.pk}/",
        {"range": "last_30_days", "start": "", "end": "", "owner": "", "team": ""},
        HTTP_HX_TARGET="dashboard",
        **HX,
    )
    html = response.content.decode()
    assert html.startswith('<section id="dashboard"') and "<html" not in html
    assert response["HX-Push-Url"] == f"/dashboards/{board.pk}/?range=last_30_days"
    assert chart_urls(response)[0] == f"/reports/{first.pk}/chart/?range=last_30_days"


def test_the_tab_keeps_the_selected_dashboard_with_its_filters(people):
    mia = people["mia"]
    board, first, _second = _board_with_two_reports(mia)
    services.tab_dashboard_add(actor=Actor(mia), dashboard=board, access="everyone", confirmed=True)
    response = signed_in(mia).get(
        "/dashboards/", {"d": board.pk, "range": "this_quarter"}, HTTP_HX_TARGET="dashboard", **HX
    )
    assert response["HX-Push-Url"] == f"/dashboards/?d={board.pk}&range=this_quarter"
    assert f'<input type="hidden" name="d" value="{board.pk}">' in response.content.decode()
    assert chart_urls(response)[0] == f"/reports/{first.pk}/chart/?range=this_quarter"


def test_edits_keep_the_filters_in_the_tiles_they_redraw(people):
    mia = people["mia"]
    board, first, second = _board_with_two_reports(mia)
    item = DashboardItem.objects.get(report=first)
    client = signed_in(mia)
    filters = {"range": "last_6_months", "start": "", "end": "", "owner": mia.pk, "team": "", "edit": "1"}
    response = client.post(
        reverse("dashboard-item-resize", args=[board.pk, item.pk]), {**filters, "width": 3, "height": 1}, **HX
    )
    assert chart_urls(response) == [f"/reports/{first.pk}/chart/?range=last_6_months&owner={mia.pk}"]
    third = report(mia, "Third")
    response = client.post(reverse("dashboard-item-add", args=[board.pk]), {**filters, "report": third.pk}, **HX)
    assert chart_urls(response)[2] == f"/reports/{third.pk}/chart/?range=last_6_months&owner={mia.pk}"


def test_an_editor_saves_the_filters_shown_as_the_dashboard_s_defaults(people):
    mia, east = people["mia"], people["east"]
    board, *_ = _board_with_two_reports(mia)
    response = signed_in(mia).post(
        reverse("dashboard-save-filters", args=[board.pk]),
        {"range": "custom", "start": "2026-01-01", "end": "2026-06-30", "owner": "", "team": east.pk},
    )
    assert response.status_code == 302
    board.refresh_from_db()
    assert board.filters == {"dateRange": "custom", "start": "2026-01-01", "end": "2026-06-30", "team": east.pk}


def test_a_tile_s_url_answers_with_the_report_s_chart(people):
    """The tiles' contract with the report pages: GET /reports/<id>/chart/ with the dashboard's filters."""
    mia = people["mia"]
    board, first, _second = _board_with_two_reports(mia, dateRange="last_90_days", owner=mia.pk)
    client = signed_in(mia)
    url = chart_urls(client.get(f"/dashboards/{board.pk}/"))[0]
    response = client.get(url, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-chart"' in html and f'data-report-id="{first.pk}"' in html


# ---- the library ---------------------------------------------------------------------------------


def test_the_library_lists_what_one_may_open_with_owner_sharing_and_size(people):
    mia, yuki, east = people["mia"], people["yuki"], people["east"]
    teams = dashboard(mia, "For East", access="teams", team_ids=[east.pk])
    services.dashboard_add_report(actor=Actor(mia), dashboard=teams, report=report(mia, access="everyone"))
    dashboard(mia, "Everyone's", access="everyone")
    dashboard(yuki, "Yuki's own")
    dashboard(mia, "Mia's private")
    response = signed_in(yuki).get("/dashboards/library/")
    rows = [(d.name, d.owner.full_name, d.n_reports) for d in response.context["dashboards"] if not d.built_in]
    assert rows == [("Everyone's", "Mia Manager", 0), ("For East", "Mia Manager", 1), ("Yuki's own", "Yuki Tanaka", 0)]
    html = response.content.decode()
    access = [re.sub(r"<[^>]+>", "", a).strip() for a in re.findall(r'data-testid="library-access">(.*?)</td>', html)]
    built_in = sum(1 for d in response.context["dashboards"] if d.built_in)
    assert access[built_in:] == ["Everyone", "East", "Private"]
    editable = {d.name: d.can_edit for d in response.context["dashboards"]}
    assert (editable["Everyone's"], editable["Yuki's own"]) == (False, True)


def test_the_library_pages_and_searches(people):
    yuki = people["yuki"]
    for i in range(30):
        dashboard(yuki, f"Board {i:02d}")
    client = signed_in(yuki)
    first = client.get("/dashboards/library/", {"q": "board"})
    assert [d.name for d in first.context["dashboards"]] == [f"Board {i:02d}" for i in range(25)]
    assert 'href="?q=board&page=2" data-testid="next-page"' in first.content.decode()
    second = client.get("/dashboards/library/", {"q": "board", "page": 2})
    assert [d.name for d in second.context["dashboards"]] == [f"Board {i:02d}" for i in range(25, 30)]
    empty = client.get("/dashboards/library/", {"q": "nothing like it"})
    assert "No dashboard matches “nothing like it”" in empty.content.decode()


def test_creating_a_shared_dashboard_needs_the_settings_permission(people):
    yuki, mia = people["yuki"], people["mia"]
    before = Dashboard.objects.count()
    response = signed_in(yuki).post(reverse("dashboard-create"), {"name": "Team view", "access": "everyone"}, **HX)
    assert response.status_code == 422
    assert field_errors(response) == [
        ("access", "Sharing with everyone or with teams needs the “Manage Customer Success settings” permission.")
    ]
    assert "<html" not in response.content.decode()  # the dialog's form
    assert Dashboard.objects.count() == before

    response = signed_in(yuki).post(reverse("dashboard-create"), {"name": " ", "access": "private"})
    assert field_errors(response) == [("name", "Enter a name.")]
    response = signed_in(yuki).post(
        reverse("dashboard-create"), {"name": "My book", "description": "Mine", "access": "private"}
    )
    created = Dashboard.objects.get(name="My book")
    assert response["Location"] == f"/dashboards/{created.pk}/?edit=1"
    assert (created.owner_id, created.access, created.description) == (yuki.pk, "private", "Mine")
    response = signed_in(mia).post(
        reverse("dashboard-create"), {"name": "East", "access": "teams", "teams": [people["east"].pk]}, **HX
    )
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/dashboards/")
    assert Dashboard.objects.get(name="East").team_ids == [people["east"].pk]


def test_an_owner_renames_and_archives_their_dashboard(people):
    yuki, otto = people["yuki"], people["otto"]
    board = dashboard(yuki)
    client = signed_in(yuki)
    form = client.get(reverse("dashboard-settings", args=[board.pk]), **HX)
    assert 'value="Renewals"' in form.content.decode() and "<html" not in form.content.decode()
    response = client.post(
        reverse("dashboard-settings", args=[board.pk]),
        {"name": "Renewals Q3", "description": "Next quarter", "access": "private", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/dashboards/library/"  # never off the site
    board.refresh_from_db()
    assert (board.name, board.description) == ("Renewals Q3", "Next quarter")
    assert signed_in(otto).post(reverse("dashboard-archive", args=[board.pk])).status_code == 404
    response = client.post(reverse("dashboard-archive", args=[board.pk]))
    assert response["Location"] == "/dashboards/library/"
    assert client.get(f"/dashboards/{board.pk}/").status_code == 404
    names = [d.name for d in client.get("/dashboards/library/").context["dashboards"]]
    assert "Renewals Q3" not in names


# ---- bounded queries ------------------------------------------------------------------------------


def _grow(owner, board, n):
    for i in range(n):
        services.dashboard_add_report(actor=Actor(owner), dashboard=board, report=report(owner, f"R{i}"))


@pytest.mark.parametrize("page", ["tab", "dashboard", "edit", "library"])
def test_each_page_runs_a_bounded_number_of_queries(page, people, django_assert_max_num_queries):
    mia, east = people["mia"], people["east"]
    board = dashboard(mia, access="teams", team_ids=[east.pk], filters={"dateRange": "last_month", "team": east.pk})
    services.tab_dashboard_add(actor=Actor(mia), dashboard=board, access="teams", team_ids=[east.pk], confirmed=True)
    url = {
        "tab": "/dashboards/",
        "dashboard": f"/dashboards/{board.pk}/",
        "edit": f"/dashboards/{board.pk}/?edit=1",
        "library": "/dashboards/library/",
    }[page]
    _grow(mia, board, 2)
    client = signed_in(mia)
    client.get(url)  # warm what a first request fills (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _grow(mia, board, 10)
    for i in range(5):
        dashboard(mia, f"More {i}", access="everyone")
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    if page != "library":
        assert len(tiles(response)) == 12
    assert len(few) <= 16
