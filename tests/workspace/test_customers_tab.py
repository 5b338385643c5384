"""The Customers tab: built-in views, quick and advanced filters, sorting, paging, query counts."""

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.core.policy import SYSTEM, Actor
from tend.crm.models import ObjectType, PropertyChange, Record
from tend.crm.services import record_create, record_update
from tend.cs_settings.queries import workspace_settings
from tend.directory.services import user_create
from tend.workspace import services

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


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


def names(response):
    return [row["record"].name for row in response.context["screen"].rows]


class TestAccess:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get("/customers/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")

    def test_without_workspace_access_gets_an_explanation(self, client):
        user = user_create(email="nope@example.com", password="pw-123456789", cs_workspace_access=False)
        client.force_login(user)
        response = client.get("/customers/")
        assert response.status_code == 403
        assert "Customer Success workspace" in response.content.decode()

    def test_super_admin_without_seat_gets_an_explanation(self, client):
        admin = user_create(
            email="root@example.com", password="pw-123456789", is_superuser=True, has_service_seat=False
        )
        client.force_login(admin)
        response = client.get("/customers/")
        assert response.status_code == 403
        assert "Service seat" in response.content.decode()


class TestBuiltInViews:
    def test_owned_by_me_shows_my_customers_only(self, signed_in, csm, viewer):
        company("Mine A", csm=csm.pk)
        company("Theirs", csm=viewer.pk)
        company("Mine B", csm=csm.pk)
        response = signed_in.get("/customers/")
        assert response.status_code == 200
        assert names(response) == ["Mine A", "Mine B"]

    def test_assigned_in_the_last_30_days_uses_property_history(self, signed_in, csm, viewer):
        with time_machine.travel(NOW - dt.timedelta(days=45)):
            old = company("Long mine", csm=csm.pk)
            moved = company("Moved to me", csm=viewer.pk)
        with time_machine.travel(NOW - dt.timedelta(days=3)):
            record_update(actor=SYSTEM, record=moved, properties={"csm": csm.pk}, source="system")
            company("New mine", csm=csm.pk)
        with time_machine.travel(NOW):
            response = signed_in.get("/customers/?view=assigned30")
        assert sorted(names(response)) == ["Moved to me", "New mine"]
        assert PropertyChange.objects.filter(record=old, property_name="csm").count() == 1

    def test_empty_state_says_what_to_do(self, signed_in):
        response = signed_in.get("/customers/")
        assert 'data-testid="empty-state"' in response.content.decode()


class TestFilteringSortingPaging:
    def test_quick_filter_last_activity(self, signed_in, csm):
        company("Quiet", csm=csm.pk)
        active = company("Busy", csm=csm.pk)
        Record.objects.filter(pk=active.pk).update(last_activity_at=NOW - dt.timedelta(days=2))
        with time_machine.travel(NOW):
            assert names(signed_in.get("/customers/?activity=7")) == ["Busy"]
            assert names(signed_in.get("/customers/?activity=none")) == ["Quiet"]

    def test_advanced_filters_from_the_builder(self, signed_in, csm):
        company("Risky", csm=csm.pk, cs_stage="at_risk", mrr=500)
        company("Fine", csm=csm.pk, cs_stage="active", mrr=900)
        company("Small risk", csm=csm.pk, cs_stage="at_risk", mrr=50)
        filters = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "cs_stage", "operator": "IN", "values": ["at_risk"]},
                        {"propertyName": "mrr", "operator": "GTE", "value": 100},
                    ]
                },
                {"filters": [{"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "fin"}]},
            ]
        }
        response = signed_in.get("/customers/", {"view": "owned", "filters": json.dumps(filters)})
        assert sorted(names(response)) == ["Fine", "Risky"]

    def test_invalid_filter_shows_the_reason(self, signed_in):
        filters = {"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "GT", "value": "lots"}]}]}
        response = signed_in.get("/customers/", {"filters": json.dumps(filters)})
        assert response.status_code == 422
        assert "filterGroups[0].filters[0].value" in response.content.decode()

    def test_sort_by_any_column(self, signed_in, csm):
        for name, mrr in (("B", 20), ("A", 30), ("C", 10)):
            company(name, csm=csm.pk, mrr=mrr)
        assert names(signed_in.get("/customers/?sort=mrr&dir=desc")) == ["A", "B", "C"]
        assert names(signed_in.get("/customers/?sort=name&dir=asc")) == ["A", "B", "C"]

    def test_pages_of_25_with_bounded_queries(self, signed_in, csm):
        for i in range(30):
            company(f"C{i:02d}", csm=csm.pk, mrr=i, cs_stage="active")
        signed_in.get("/customers/")
        with CaptureQueriesContext(connection) as first_page:
            response = signed_in.get("/customers/?sort=name")
        assert len(response.context["screen"].rows) == 25
        with CaptureQueriesContext(connection) as second_page:
            response = signed_in.get("/customers/?sort=name&page=2")
        assert names(response) == [f"C{i}" for i in range(25, 30)]
        assert len(first_page.captured_queries) == len(second_page.captured_queries)
        assert len(first_page.captured_queries) <= 14


class TestSavedViewsThroughTheTab:
    def test_save_as_then_open_the_view(self, signed_in, csm):
        company("Risky", csm=csm.pk, cs_stage="at_risk")
        company("Fine", csm=csm.pk, cs_stage="active")
        filters = json.dumps(
            {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "at_risk"}]}]}
        )
        response = signed_in.post(
            "/customers/views/",
            {
                "name": "At risk",
                "visibility": "private",
                "filters": filters,
                "sorts": "[]",
                "columns": "name,mrr,cs_stage",
            },
        )
        assert response.status_code == 302
        view = csm.saved_views.get()
        page = signed_in.get(f"/customers/?view={view.pk}")
        assert names(page) == ["Risky"]
        assert [h.name for h in page.context["screen"].headers] == ["name", "mrr", "cs_stage"]

    def test_save_as_with_errors_shows_them_at_the_field(self, signed_in, csm):
        response = signed_in.post(
            "/customers/views/",
            {"name": "", "visibility": "everyone", "filters": "{}", "sorts": "[]"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 422
        body = response.content.decode()
        assert "is-invalid" in body and "Give the view a name." in body
        assert not csm.saved_views.exists()

    def test_view_as_is_read_only(self, client, csm):
        manager = user_create(
            email="m@example.com", password="pw-123456789", has_service_seat=True, manage_cs_settings=True
        )
        company("CSM's", csm=csm.pk)
        client.force_login(manager)
        client.post("/view-as/", {"user": csm.pk})
        response = client.get("/customers/")
        assert names(response) == ["CSM's"]
        assert 'data-testid="view-as-banner"' in response.content.decode()
        assert 'data-testid="save-as"' not in response.content.decode()
        refused = client.post(
            "/customers/views/", {"name": "x", "visibility": "private", "filters": "{}", "sorts": "[]"}
        )
        assert refused.status_code == 302
        assert not manager.saved_views.exists()

    def test_default_views_appear_in_the_views_bar(self, client):
        manager = user_create(
            email="m@example.com", password="pw-123456789", has_service_seat=True, manage_cs_settings=True
        )
        view = services.view_create(
            actor=Actor(manager),
            tab="customers",
            object_type=workspace_settings().customer_object_type,
            name="Renewing soon",
            visibility="everyone",
        )
        client.force_login(manager)
        response = client.post(
            f"/customers/views/{view.pk}/default/", {"is_default": "on", "description": "Next 90 days"}
        )
        assert response.status_code == 302
        page = client.get("/customers/")
        assert [v.name for v in page.context["default_views"]] == ["Renewing soon"]
