"""The Services and Revenue tabs: boards, tables, stage moves, paging and query counts."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.core.policy import SYSTEM
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm.models import ObjectType, Pipeline, PropertyChange, Record
from tend.crm.services import record_create
from tend.cs_settings.queries import workspace_settings
from tend.directory.services import user_create
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def onboarding():
    return Pipeline.objects.get(object_type__name="services", label="Onboarding")


@pytest.fixture
def sales():
    return Pipeline.objects.get(object_type__name="deals", label="Sales pipeline")


def stage(pipeline, label):
    return pipeline.stages.get(label=label)


def service(name, pipeline, stage_label="Kickoff prep", **props):
    return record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="services"),
        properties={"name": name, "stage": stage(pipeline, stage_label).pk, **props},
        source="system",
    )


def deal(name, pipeline, stage_label, **props):
    return record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="deals"),
        properties={"name": name, "stage": stage(pipeline, stage_label).pk, **props},
        source="system",
    )


@pytest.fixture
def signed_in(client, csm):
    client.force_login(csm)
    return client


def column(response, label):
    return next(c for c in response.context["columns"] if c["stage"].label == label)


def move(client, record, target, **values):
    data = {"record": record.pk, "stage": target.pk, "state": f"pipeline={target.pipeline_id}"}
    data.update({f"properties.{k}": v for k, v in values.items()})
    return client.post("/boards/services/move/", data)


class TestAccess:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get("/services/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")

    def test_super_admin_without_seat_gets_an_explanation(self, client):
        admin = user_create(
            email="root@example.com", password="pw-123456789", is_superuser=True, has_service_seat=False
        )
        client.force_login(admin)
        for url in ("/services/", "/revenue/"):
            response = client.get(url)
            assert response.status_code == 403
            assert "Service seat" in response.content.decode()

    def test_nav_shows_the_tabs_to_users_of_the_work_tabs(self, signed_in):
        page = signed_in.get("/customers/").content.decode()
        assert 'href="/services/"' in page and 'href="/revenue/"' in page


class TestServicesBoard:
    def test_starts_on_the_default_pipeline(self, signed_in, onboarding):
        maintenance = Pipeline.objects.get(object_type__name="services", label="Maintenance")
        ws = workspace_settings()
        ws.services_default_pipeline = maintenance
        ws.save()
        response = signed_in.get("/services/")
        assert response.status_code == 200
        assert response.context["board_state"].pipeline == maintenance
        assert [c["stage"].label for c in response.context["columns"]] == [
            "Scheduled",
            "In progress",
            "Waiting on customer",
            "Done",
        ]

    def test_only_pipelines_chosen_in_the_settings(self, signed_in, onboarding):
        ws = workspace_settings()
        ws.services_pipelines = [onboarding.pk]
        ws.save()
        maintenance = Pipeline.objects.get(object_type__name="services", label="Maintenance")
        response = signed_in.get(f"/services/?pipeline={maintenance.pk}")
        assert [p.label for p in response.context["pipelines"]] == ["Onboarding"]
        assert response.context["board_state"].pipeline == onboarding

    def test_cards_show_days_in_stage_and_late_flag(self, signed_in, onboarding):
        with time_machine.travel(NOW - dt.timedelta(days=5), tick=False):
            service("Acme onboarding", onboarding)  # Kickoff prep: target 3 days
        with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
            service("Beta onboarding", onboarding)
        response = signed_in.get("/services/")
        cards = {c["record"].name: c for c in column(response, "Kickoff prep")["cards"]}
        assert (cards["Acme onboarding"]["days"], cards["Acme onboarding"]["late"]) == (5, True)
        assert (cards["Beta onboarding"]["days"], cards["Beta onboarding"]["late"]) == (2, False)
        assert response.content.decode().count('data-testid="late-badge"') == 1

    def test_empty_board_says_what_to_do(self, signed_in, onboarding):
        response = signed_in.get("/services/")
        assert "No records in this pipeline yet" in response.content.decode()

    def test_name_search_and_renewal_filter(self, signed_in, onboarding):
        service("Acme onboarding", onboarding, renewal_date="2026-12-10")
        service("Beta onboarding", onboarding, renewal_date="2027-06-01")
        ws = workspace_settings()
        ws.services_renewal_property = "renewal_date"
        ws.save()
        response = signed_in.get("/services/?q=Acme")
        assert [c["record"].name for c in column(response, "Kickoff prep")["cards"]] == ["Acme onboarding"]
        response = signed_in.get("/services/?renew=30")
        assert [c["record"].name for c in column(response, "Kickoff prep")["cards"]] == ["Acme onboarding"]

    def test_table_layout(self, signed_in, onboarding):
        service("Acme onboarding", onboarding)
        response = signed_in.get("/services/?layout=table")
        assert response.status_code == 200
        assert [r["record"].name for r in response.context["screen"].rows] == ["Acme onboarding"]

    def test_save_as_view_for_the_services_tab(self, signed_in, csm):
        response = signed_in.post(
            "/boards/services/views/", {"name": "Mine late", "filters": "{}", "sorts": "[]", "columns": "name"}
        )
        saved = SavedView.objects.get()
        assert (saved.tab, saved.name, saved.owner) == ("services", "Mine late", csm)
        assert response.status_code == 302 and response["Location"] == f"/services/?view={saved.pk}"
        assert signed_in.get(response["Location"]).context["state"].saved == saved


class TestPagingAndQueries:
    def test_a_column_loads_its_first_page_then_pages_on(self, signed_in, onboarding):
        for i in range(25):
            with time_machine.travel(NOW - dt.timedelta(days=30 - i), tick=False):
                service(f"S{i:02}", onboarding)
        response = signed_in.get("/services/")
        first = column(response, "Kickoff prep")
        assert (first["count"], len(first["cards"]), first["more"]) == (25, 20, True)
        assert 'hx-trigger="intersect once"' in response.content.decode()
        kickoff = stage(onboarding, "Kickoff prep")
        more = signed_in.get(f"/boards/services/column/{kickoff.pk}/?pipeline={onboarding.pk}&offset=20")
        assert [c["record"].name for c in more.context["col"]["cards"]] == ["S20", "S21", "S22", "S23", "S24"]
        assert more.context["col"]["more"] is False

    def test_query_count_does_not_grow_with_records(self, signed_in, onboarding):
        def count_queries():
            with CaptureQueriesContext(connection) as ctx:
                assert signed_in.get("/services/").status_code == 200
            return len(ctx.captured_queries)

        count_queries()  # the first request creates the settings row
        for i in range(5):
            service(f"A{i}", onboarding, "Kickoff prep")
            service(f"B{i}", onboarding, "Kickoff done", kickoff_date="2026-11-01")
        few = count_queries()
        for i in range(45):
            service(f"C{i}", onboarding, "Kickoff prep")
            service(f"D{i}", onboarding, "Kickoff done", kickoff_date="2026-11-01")
        assert count_queries() == few


class TestMove:
    def test_a_stage_without_requirements_moves_and_records_history(self, signed_in, onboarding, csm):
        record = service("Acme onboarding", onboarding)
        target = stage(onboarding, "Initial setup done")
        response = move(signed_in, record, target)
        assert response.status_code == 200
        record.refresh_from_db()
        assert record.stage == target
        change = PropertyChange.objects.filter(record=record, property_name="stage").latest("id")
        assert (change.new_value, change.source, change.changed_by) == (target.pk, "ui", csm)
        # the affected columns come back out-of-band, showing the truth
        body = response.content.decode()
        assert f'id="stage-col-{target.pk}" hx-swap-oob="outerHTML"' in body
        assert f'id="stage-col-{stage(onboarding, "Kickoff prep").pk}" hx-swap-oob="outerHTML"' in body

    def test_required_property_asks_with_a_dialog_then_moves(self, signed_in, onboarding):
        record = service("Acme onboarding", onboarding)
        source, target = record.stage, stage(onboarding, "Kickoff done")
        response = move(signed_in, record, target)
        assert response.status_code == 422
        body = response.content.decode()
        assert 'data-testid="move-dialog"' in body
        assert 'name="properties.kickoff_date"' in body and 'type="date"' in body
        record.refresh_from_db()
        assert record.stage == source
        assert not PropertyChange.objects.filter(record=record, property_name="stage", source="ui").exists()

        response = move(signed_in, record, target, kickoff_date="2026-11-20")
        assert response.status_code == 200
        record.refresh_from_db()
        assert (record.stage, record.properties["kickoff_date"]) == (target, "2026-11-20")
        changes = dict(
            PropertyChange.objects.filter(record=record, source="ui").values_list("property_name", "new_value")
        )
        assert changes == {"stage": target.pk, "kickoff_date": "2026-11-20"}

    def test_an_invalid_value_asks_again_and_changes_nothing(self, signed_in, onboarding):
        record = service("Acme onboarding", onboarding)
        response = move(signed_in, record, stage(onboarding, "Kickoff done"), kickoff_date="not a date")
        assert response.status_code == 422
        assert 'data-testid="move-dialog"' in response.content.decode()
        record.refresh_from_db()
        assert record.stage.label == "Kickoff prep" and "kickoff_date" not in record.properties

    def test_an_enumeration_is_asked_with_its_options(self, signed_in, onboarding):
        record = service("Acme onboarding", onboarding)
        response = move(signed_in, record, stage(onboarding, "Onboarding complete"))
        body = response.content.decode()
        assert response.status_code == 422
        assert '<select class="form-select" id="move-goal_status"' in body and 'value="achieved"' in body

    def test_without_a_seat_the_move_is_refused(self, client, viewer, onboarding):
        record = service("Acme onboarding", onboarding)
        client.force_login(viewer)
        response = move(client, record, stage(onboarding, "Initial setup done"))
        assert response.status_code == 403
        assert "Service seat" in response.content.decode()
        record.refresh_from_db()
        assert record.stage.label == "Kickoff prep"
        assert not PropertyChange.objects.filter(record=record, source="ui").exists()

    def test_view_as_refuses_the_move(self, client, admin, csm, onboarding):
        record = service("Acme onboarding", onboarding)
        client.force_login(admin)
        session = client.session
        session[VIEW_AS_SESSION_KEY] = csm.pk
        session.save()
        response = move(client, record, stage(onboarding, "Initial setup done"))
        assert response.status_code == 403
        assert "viewing as another user" in response.content.decode()
        record.refresh_from_db()
        assert record.stage.label == "Kickoff prep"

    def test_a_stage_of_another_pipeline_is_not_found(self, signed_in, onboarding):
        record = service("Acme onboarding", onboarding)
        maintenance = Pipeline.objects.get(object_type__name="services", label="Maintenance")
        response = move(signed_in, record, maintenance.stages.first())
        assert response.status_code == 404
        assert Record.objects.get(pk=record.pk).stage.label == "Kickoff prep"


class TestRevenue:
    def test_totals_and_weighted_totals_by_stage(self, signed_in, sales):
        deal("Big", sales, "Qualified to buy", amount=1000)
        deal("Small", sales, "Qualified to buy", amount=500)
        deal("Sent", sales, "Contract sent", amount=200)
        response = signed_in.get("/revenue/?object=deals")
        qualified = column(response, "Qualified to buy")
        assert (qualified["count"], qualified["total"], qualified["weighted"]) == (2, 1500, 600)
        sent = column(response, "Contract sent")
        assert (sent["count"], sent["total"], sent["weighted"]) == (1, 200, 160)

    def test_cards_follow_the_view_sort_and_otherwise_time_in_stage(self, signed_in, sales):
        with time_machine.travel(NOW - dt.timedelta(days=3), tick=False):
            deal("Oldest small", sales, "Qualified to buy", amount=100)
        deal("Big", sales, "Qualified to buy", amount=900)
        deal("Middle", sales, "Qualified to buy", amount=500)
        unsorted = column(signed_in.get("/revenue/?object=deals"), "Qualified to buy")
        assert [c["record"].name for c in unsorted["cards"]] == ["Oldest small", "Big", "Middle"]
        by_amount = column(signed_in.get("/revenue/?object=deals&sort=amount&dir=desc"), "Qualified to buy")
        assert [c["record"].name for c in by_amount["cards"]] == ["Big", "Middle", "Oldest small"]
        stage_id = stage(sales, "Qualified to buy").pk
        more = signed_in.get(f"/boards/revenue-deals/column/{stage_id}/?object=deals&sort=amount&dir=asc&offset=1")
        assert [c["record"].name for c in more.context["col"]["cards"]] == ["Middle", "Big"]

    def test_object_switcher_between_revenue_objects(self, signed_in, sales):
        ws = workspace_settings()
        ws.revenue_objects = [
            {"objectType": "deals", "csmProperty": "", "renewalProperty": "close_date", "pipelines": []},
            {"objectType": "tickets", "csmProperty": "", "renewalProperty": "", "pipelines": []},
        ]
        ws.save()
        response = signed_in.get("/revenue/")
        assert response.context["board"].tab == "revenue-deals"
        assert 'data-testid="object-switcher"' in response.content.decode()
        response = signed_in.get("/revenue/?object=tickets")
        assert response.context["board"].tab == "revenue-tickets"
        assert response.context["board_state"].pipeline.label == "Support pipeline"

    def test_renewing_in_the_next_days(self, signed_in, sales):
        deal("Soon", sales, "Appointment scheduled", contract_end_date="2026-12-15")
        deal("Later", sales, "Appointment scheduled", contract_end_date="2027-02-01")
        response = signed_in.get("/revenue/?object=deals&renew=30&layout=table")
        assert [r["record"].name for r in response.context["screen"].rows] == ["Soon"]
        response = signed_in.get("/revenue/?object=deals&renew=90&layout=table&sort=name")
        assert [r["record"].name for r in response.context["screen"].rows] == ["Later", "Soon"]
