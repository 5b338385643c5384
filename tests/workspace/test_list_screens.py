"""Every list screen on the kit: whole pages and their htmx fragment, the shared saved-view
endpoint, capped counts, the health badge and money in the reader's language."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker

from tend.core import listkit
from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType, Pipeline
from tend.crm.services import record_create
from tend.directory.services import user_update_preferences
from tend.health.models import HealthScore
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list"}
RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
SCREENS = ["/customers/", "/services/?layout=table", "/services/", "/tasks/"]


def company(name, **props):
    return record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": name, **props},
        source="system",
    )


@pytest.fixture
def signed_in(client, csm):
    client.force_login(csm)
    return client


@pytest.mark.parametrize("url", SCREENS)
class TestFragments:
    def test_a_plain_request_gets_the_whole_page(self, signed_in, url):
        body = signed_in.get(url).content.decode()
        assert body.lstrip().startswith("<!doctype html>")
        assert body.count('<div id="list" data-testid="list">') == 1

    def test_an_htmx_request_from_the_list_gets_only_the_list(self, signed_in, url):
        response = signed_in.get(url, **FRAGMENT)
        body = response.content.decode()
        assert response.status_code == 200
        assert body.lstrip().startswith('<div id="list" data-testid="list">')
        assert "<html" not in body and "navbar" not in body

    def test_a_history_restore_gets_the_whole_page(self, signed_in, url):
        body = signed_in.get(url, **RESTORE).content.decode()
        assert body.lstrip().startswith("<!doctype html>")

    def test_an_htmx_request_for_another_target_gets_the_whole_page(self, signed_in, url):
        body = signed_in.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="side-panel-body").content.decode()
        assert body.lstrip().startswith("<!doctype html>")


class TestLinksKeepTheState:
    def test_sort_and_page_links_keep_filters_search_and_quick_filters(self, signed_in, csm):
        for i in range(30):
            company(f"Acme {i:02}", csm=csm.pk)
        response = signed_in.get("/customers/", {"q": "Acme", "activity": "none", "sort": "name", "dir": "asc"})
        screen = response.context["screen"]
        assert screen.next_link == "view=owned&q=Acme&sort=name&dir=asc&activity=none&page=2"
        name = next(h for h in screen.headers if h.name == "name")
        assert (name.sorted_dir, name.link) == ("asc", "view=owned&q=Acme&sort=name&dir=desc&activity=none")
        second = signed_in.get("/customers/?" + screen.next_link, **FRAGMENT)
        assert [r["record"].name for r in second.context["screen"].rows] == [f"Acme {i:02}" for i in range(25, 30)]

    def test_a_board_keeps_its_object_pipeline_and_layout_on_every_link(self, signed_in):
        pipeline = Pipeline.objects.get(object_type__name="services", label="Onboarding")
        response = signed_in.get("/services/", {"layout": "table", "q": "x", "sort": "name"})
        state = response.context["state"]
        assert state.view_link("mine") == f"pipeline={pipeline.pk}&layout=table&view=mine"
        assert state.sort_link("name") == f"pipeline={pipeline.pk}&layout=table&view=all&q=x&sort=name&dir=desc"


class TestCappedCount:
    def test_past_the_cap_the_total_reads_more_than(self, signed_in, csm, monkeypatch):
        monkeypatch.setattr(listkit, "COUNT_CAP", 3)
        for i in range(5):
            company(f"Co {i}", csm=csm.pk)
        response = signed_in.get("/customers/")
        page = response.context["screen"].page
        assert (page.paginator.count, page.paginator.capped, len(page.object_list)) == (4, True, 4)
        assert "1–4 of more than 3" in response.content.decode()

    def test_under_the_cap_the_count_is_exact(self, signed_in, csm):
        for i in range(3):
            company(f"Co {i}", csm=csm.pk)
        response = signed_in.get("/customers/")
        assert response.context["screen"].page.paginator.capped is False
        assert "3 records" in response.content.decode()


class TestCells:
    def test_owned_by_me_shows_the_health_score_with_its_status_badge(self, signed_in, csm):
        acme = company("Acme", csm=csm.pk)
        company("Unscored", csm=csm.pk)
        baker.make(HealthScore, record=acme, score=72.0, status="healthy", computed_at=timezone.now())
        body = signed_in.get("/customers/").content.decode()
        assert re.findall(r'data-testid="sort-(\w+)"', body)[:4] == ["name", "csm", "cs_stage", "health_score"]
        badges = re.findall(r'<span class="badge text-bg-(\w+)" data-testid="health-score-cell">([^<]+)<', body)
        assert badges == [("success", "72")]

    def test_money_is_written_in_the_workspace_currency_for_the_reader(self, signed_in, csm):
        company("Acme", csm=csm.pk, mrr=1200)
        assert (
            '<td class="text-end text-nowrap" data-kind="money">$1,200.00</td>'
            in signed_in.get("/customers/").content.decode()
        )
        user_update_preferences(user=csm, language="de", time_zone="Europe/Berlin")
        assert (
            '<td class="text-end text-nowrap" data-kind="money">1.200,00\xa0$</td>'
            in signed_in.get("/customers/").content.decode()
        )


class TestOneSavedViewEndpoint:
    @pytest.mark.parametrize(
        ("url", "tab", "page"),
        [
            ("/customers/views/", "customers", "/customers/"),
            ("/tasks/views/", "tasks", "/tasks/"),
            ("/boards/services/views/", "services", "/services/"),
        ],
    )
    def test_save_as_a_new_view_of_each_tab(self, signed_in, csm, url, tab, page):
        response = signed_in.post(url, {"name": "Mine", "visibility": "private", "filters": "{}", "sorts": "[]"})
        view = SavedView.objects.get(name="Mine")
        assert (view.tab, view.owner) == (tab, csm)
        assert response.status_code == 302 and response["Location"] == f"{page}?view={view.pk}"

    def test_an_htmx_save_redirects_the_browser(self, signed_in):
        response = signed_in.post("/tasks/views/", {"name": "Mine", "visibility": "private"}, HTTP_HX_REQUEST="true")
        view = SavedView.objects.get(name="Mine")
        assert response["HX-Redirect"] == f"/tasks/?view={view.pk}"

    def test_filters_that_are_not_json_are_refused_and_nothing_is_saved(self, signed_in):
        response = signed_in.post("/tasks/views/", {"name": "Bad", "visibility": "private", "filters": "{nope"})
        assert response.status_code == 422
        assert not SavedView.objects.filter(name="Bad").exists()

    def test_a_tab_no_app_owns_is_not_found(self, signed_in):
        response = signed_in.post(reverse("board-view-create", args=["revenue-nothing"]), {"name": "X"})
        assert response.status_code == 404
        assert not SavedView.objects.exists()


def menu_groups(body: str) -> dict[str, list[str]]:
    """The "All views" menu as rendered: each group's key → the labels of its views, in order."""
    menu = body[body.index('data-testid="views-menu"') :]
    menu = menu[: menu.index('data-testid="views-none"')]
    groups = {}
    for chunk in menu.split('data-testid="views-group-')[1:]:
        key = chunk[: chunk.index('"')]
        groups[key] = re.findall(r'data-testid="menu-view-[^"]+"><span class="views-menu-name">([^<]*)</span>', chunk)
    return groups


class TestAllViewsMenu:
    @pytest.fixture
    def others(self, db):
        from tend.directory.services import user_create

        return user_create(email="mia@example.com", password="pw-123456789", full_name="Mia Manager")

    @pytest.mark.parametrize(
        ("url", "tab"), [("/customers/", "customers"), ("/tasks/", "tasks"), ("/services/", "services")]
    )
    def test_every_view_the_user_may_open_is_in_the_menu_and_no_other(self, signed_in, csm, others, url, tab):
        # Given: 25 views of the CSM's own, one shared by another user, one default, another's
        # private view, and a view of another tab
        for i in range(25):
            baker.make(SavedView, tab=tab, owner=csm, name=f"Mine {i:02d}", visibility="private")
        baker.make(SavedView, tab=tab, owner=csm, name="Mine shared", visibility="everyone")
        baker.make(SavedView, tab=tab, owner=others, name="Team pipeline", visibility="everyone")
        baker.make(SavedView, tab=tab, owner=others, name="Renewals", visibility="everyone", is_default=True)
        baker.make(SavedView, tab=tab, owner=others, name="Mia's secret", visibility="private")
        baker.make(SavedView, tab="other", owner=csm, name="Elsewhere", visibility="private")
        # When
        body = signed_in.get(url).content.decode()
        # Then
        groups = menu_groups(body)
        # the built-in and default views are the bar's tabs, in the bar's order
        tabs = re.findall(r'data-testid="view-[^"]+">([^<]+?)(?: <span|</a>)', body)
        assert groups["default"] == tabs and tabs[-1] == "Renewals" and len(tabs) > 1
        assert groups["mine"] == [*(f"Mine {i:02d}" for i in range(25)), "Mine shared"]
        assert groups["shared"] == ["Team pipeline"]
        assert "Mia&#x27;s secret" not in body and "Elsewhere" not in body

    def test_each_entry_opens_its_view_and_says_whose_it_is(self, signed_in, csm, others):
        mine = baker.make(SavedView, tab="customers", owner=csm, name="Mine", visibility="private")
        theirs = baker.make(SavedView, tab="customers", owner=others, name="Theirs", visibility="everyone")
        body = signed_in.get(f"/customers/?view={mine.pk}").content.decode()
        assert (
            f'<a class="dropdown-item active" href="?view={mine.pk}" '
            f'data-search="Mine private" x-show="shows($el)" aria-current="page" data-testid="menu-view-{mine.pk}">'
        ) in body
        assert f'href="?view={theirs.pk}" data-search="Theirs Mia Manager"' in body

    def test_with_no_saved_view_the_menu_says_how_to_make_one(self, signed_in):
        body = signed_in.get("/customers/").content.decode()
        assert list(menu_groups(body)) == ["default"]
        assert "No saved views yet." in body
