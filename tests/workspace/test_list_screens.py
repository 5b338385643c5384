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
