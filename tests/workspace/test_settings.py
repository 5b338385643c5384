"""The workspace settings screens: who may open them, saving each section with its audit row,
invalid combinations that change nothing, the htmx reload of property choices, the audit log."""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.core.policy import Actor
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm import schema
from tend.crm.models import ObjectType, Pipeline
from tend.cs_settings import services
from tend.cs_settings.models import SettingsChange, WorkspaceSettings
from tend.cs_settings.queries import workspace_settings
from tend.directory.services import user_create

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
URLS = {"customers": "/settings/", "services": "/settings/services/", "revenue": "/settings/revenue/"}
HTMX = {"HTTP_HX_REQUEST": "true"}


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def manager(db):
    """Not a super admin, but holds “Manage Customer Success settings”; lives in Tokyo."""
    return user_create(
        email="manager@example.com",
        password="pw-123456789",
        full_name="Mia Manager",
        manage_cs_settings=True,
        time_zone="Asia/Tokyo",
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client(manager):
    return client_for(manager)


def custom_object(admin, name: str, label: str, *, props=(), pipeline: str | None = None) -> ObjectType:
    actor = Actor(admin)
    object_type = schema.object_type_create(actor=actor, name=name, label_singular=label, label_plural=f"{label}s")
    for prop_name, prop_label, prop_type in props:
        schema.property_create(actor=actor, object_type=object_type, name=prop_name, label=prop_label, type=prop_type)
    if pipeline:
        schema.pipeline_create(actor=actor, object_type=object_type, label=pipeline, stages=[{"label": "Open"}])
    return object_type


@pytest.fixture
def subscriptions(admin):
    """A custom object with a user, a date and a text property and one pipeline."""
    return custom_object(
        admin,
        "subscriptions",
        "Subscription",
        props=[
            ("account_manager", "Account manager", "user"),
            ("end_date", "End date", "date"),
            ("plan", "Plan", "text"),
        ],
        pipeline="Subscription lifecycle",
    )


def pipeline(label: str) -> Pipeline:
    return Pipeline.objects.get(label=label)


def state() -> tuple[dict, int]:
    """Everything a settings write could change: the settings row and the size of the audit log."""
    workspace_settings()
    return WorkspaceSettings.objects.values().get(), SettingsChange.objects.count()


class _Page(HTMLParser):
    """Collects each <select>'s option values and each element's text by id."""

    def __init__(self):
        super().__init__()
        self.options: dict[str, list[str]] = {}
        self.selected: dict[str, str] = {}
        self.checked: dict[str, bool] = {}
        self.texts: dict[str, str] = {}
        self._select = None
        self._open: list[tuple[str, str | None]] = []
        self.has_disabled_fieldset = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs.get("id")
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(attrs.get("value"))
            if "selected" in attrs:
                self.selected[self._select] = attrs.get("value")
        elif tag == "input" and attrs.get("type") in ("checkbox", "radio"):
            self.checked[attrs.get("id")] = "checked" in attrs
        elif tag == "fieldset" and "disabled" in attrs:
            self.has_disabled_fieldset = True
        if tag not in ("input", "option", "br", "hr", "meta", "link"):
            self._open.append((tag, attrs.get("id")))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        while self._open:
            open_tag, _id = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _tag, element_id in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data


def parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def error_at(response, field_id: str) -> str:
    return parse(response).texts.get(f"settings-{field_id}-error", "").strip()


# --------------------------------------------------------------------------- permissions


class TestPermissions:
    @pytest.mark.parametrize("url", URLS.values())
    @pytest.mark.parametrize("who", ["admin", "manager"])
    def test_admins_and_settings_managers_open_every_section(self, request, url, who):
        response = client_for(request.getfixturevalue(who)).get(url)
        assert response.status_code == 200
        assert 'data-testid="settings-form"' in response.content.decode()

    @pytest.mark.parametrize("url", URLS.values())
    @pytest.mark.parametrize("who", ["csm", "viewer"])
    def test_others_get_the_explanation_page(self, request, url, who):
        response = client_for(request.getfixturevalue(who)).get(url)
        assert response.status_code == 403
        body = response.content.decode()
        assert 'data-testid="forbidden"' in body
        assert "You need the “Manage Customer Success settings” permission." in body
        assert 'data-testid="settings-form"' not in body

    def test_a_csm_cannot_save_either(self, csm):
        before = state()
        response = client_for(csm).post(URLS["customers"], {"objectType": "contacts", "csmProperty": "owner"})
        assert response.status_code == 403
        assert state() == before

    def test_htmx_requests_get_the_explanation_fragment(self, csm):
        response = client_for(csm).get(
            URLS["customers"], {"objectType": "contacts", "fragment": "object-fields"}, **HTMX
        )
        assert response.status_code == 403
        body = response.content.decode()
        assert 'data-testid="forbidden"' in body and "<html" not in body

    def test_signed_out_visitors_are_sent_to_sign_in(self, db):
        response = Client().get(URLS["customers"])
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    def test_the_gear_icon_links_here_for_settings_managers_only(self, manager, csm):
        assert 'href="/settings/"' in client_for(manager).get(URLS["services"]).content.decode()
        assert 'href="/settings/"' not in client_for(csm).get("/me/preferences/").content.decode()


# --------------------------------------------------------------------------- saving


class TestCustomers:
    def test_the_form_shows_the_saved_settings(self, client):
        page = parse(client.get(URLS["customers"]))
        assert page.selected["settings-objectType"] == "companies"
        assert page.selected["settings-csmProperty"] == "csm"
        assert page.selected["settings-renewalProperty"] == "renewal_date"
        # Only objects that may represent customers are offered.
        assert page.options["settings-objectType"] == ["companies", "contacts"]

    def test_saving_writes_the_settings_and_an_audit_row(self, client, manager):
        workspace_settings()
        response = client.post(
            URLS["customers"],
            {"objectType": "companies", "csmProperty": "owner", "renewalProperty": "contract_start_date"},
        )
        assert response.status_code == 302
        assert response["Location"] == URLS["customers"]
        ws = workspace_settings()
        assert (ws.customer_object_type.name, ws.customer_csm_property, ws.customer_renewal_property) == (
            "companies",
            "owner",
            "contract_start_date",
        )
        change = SettingsChange.objects.get()
        assert (change.section, change.changed_by) == ("customers", manager)
        assert change.old_value == {"objectType": "companies", "csmProperty": "csm", "renewalProperty": "renewal_date"}
        assert change.new_value == {
            "objectType": "companies",
            "csmProperty": "owner",
            "renewalProperty": "contract_start_date",
        }

    def test_the_success_message_and_the_audit_entry_show_after_saving(self, client):
        response = client.post(
            URLS["customers"], {"objectType": "contacts", "csmProperty": "owner", "renewalProperty": ""}, follow=True
        )
        body = response.content.decode()
        assert "The customer settings are saved." in body
        assert 'Object: <span class="text-body-secondary">Companies</span>' in body
        assert "Contacts" in body
        assert 'Renewal date property: <span class="text-body-secondary">Renewal date</span>' in body

    def test_a_custom_object_can_represent_customers(self, client, subscriptions):
        response = client.post(
            URLS["customers"],
            {"objectType": "subscriptions", "csmProperty": "account_manager", "renewalProperty": "end_date"},
        )
        assert response.status_code == 302
        assert workspace_settings().customer_object_type == subscriptions

    def test_saving_the_same_values_writes_no_audit_row(self, client):
        workspace_settings()
        response = client.post(
            URLS["customers"], {"objectType": "companies", "csmProperty": "csm", "renewalProperty": "renewal_date"}
        )
        assert response.status_code == 302
        assert SettingsChange.objects.count() == 0


class TestServices:
    def test_saving_writes_the_settings_and_an_audit_row(self, client, manager):
        workspace_settings()
        maintenance, onboarding = pipeline("Maintenance"), pipeline("Onboarding")
        response = client.post(
            URLS["services"],
            {
                "objectType": "services",
                "csmProperty": "csm",
                "renewalProperty": "renewal_date",
                "pipelines": [str(maintenance.pk), str(onboarding.pk)],
                "defaultPipeline": str(maintenance.pk),
            },
        )
        assert response.status_code == 302
        ws = workspace_settings()
        assert (ws.services_renewal_property, ws.services_pipelines, ws.services_default_pipeline) == (
            "renewal_date",
            [maintenance.pk, onboarding.pk],
            maintenance,
        )
        change = SettingsChange.objects.get()
        assert (change.section, change.changed_by) == ("services", manager)
        assert change.old_value == {
            "objectType": "services",
            "csmProperty": "csm",
            "renewalProperty": "",
            "pipelines": [],
            "defaultPipeline": None,
        }
        assert change.new_value == {
            "objectType": "services",
            "csmProperty": "csm",
            "renewalProperty": "renewal_date",
            "pipelines": [maintenance.pk, onboarding.pk],
            "defaultPipeline": maintenance.pk,
        }

    def test_the_form_offers_only_service_objects_and_their_pipelines(self, client, subscriptions):
        page = parse(client.get(URLS["services"]))
        assert page.options["settings-objectType"] == ["services", "subscriptions"]
        onboarding, maintenance = pipeline("Onboarding"), pipeline("Maintenance")
        assert page.options["settings-defaultPipeline"] == ["", str(onboarding.pk), str(maintenance.pk)]
        assert page.checked == {
            f"settings-pipelines-{onboarding.pk}": False,
            f"settings-pipelines-{maintenance.pk}": False,
        }


class TestRevenue:
    def test_saving_two_objects_with_the_second_shown_first(self, client, manager, subscriptions):
        workspace_settings()
        sales = pipeline("Sales pipeline")
        lifecycle = pipeline("Subscription lifecycle")
        response = client.post(
            URLS["revenue"],
            {
                "rev-0-objectType": "deals",
                "rev-0-csmProperty": "csm",
                "rev-0-renewalProperty": "close_date",
                "rev-0-pipelines": [str(sales.pk)],
                "rev-0-defaultPipeline": str(sales.pk),
                "rev-1-objectType": "subscriptions",
                "rev-1-csmProperty": "account_manager",
                "rev-1-renewalProperty": "end_date",
                "rev-1-defaultPipeline": str(lifecycle.pk),
                "first": "1",
            },
        )
        assert response.status_code == 302
        expected = [
            {
                "objectType": "subscriptions",
                "csmProperty": "account_manager",
                "renewalProperty": "end_date",
                "pipelines": [],
                "defaultPipeline": lifecycle.pk,
            },
            {
                "objectType": "deals",
                "csmProperty": "csm",
                "renewalProperty": "close_date",
                "pipelines": [sales.pk],
                "defaultPipeline": sales.pk,
            },
        ]
        assert workspace_settings().revenue_objects == expected
        change = SettingsChange.objects.get()
        assert (change.section, change.changed_by, change.new_value) == ("revenue", manager, expected)
        assert change.old_value == [
            {
                "objectType": "deals",
                "csmProperty": "csm",
                "renewalProperty": "contract_end_date",
                "pipelines": [],
                "defaultPipeline": None,
            }
        ]

    def test_the_form_shows_the_saved_order_first(self, client, admin, subscriptions):
        services.settings_update_revenue(
            actor=Actor(admin),
            objects=[{"objectType": "subscriptions"}, {"objectType": "deals", "csmProperty": "csm"}],
        )
        page = parse(client.get(URLS["revenue"]))
        assert page.selected["settings-rev-0-objectType"] == "subscriptions"
        assert page.selected["settings-rev-1-objectType"] == "deals"
        assert page.selected["settings-rev-1-csmProperty"] == "csm"
        assert page.checked["settings-first-0"] is True
        # The second object may be left empty; only revenue objects are offered.
        assert page.options["settings-rev-1-objectType"] == ["", "deals", "subscriptions"]

    def test_leaving_the_second_object_empty_keeps_one(self, client):
        workspace_settings()
        response = client.post(
            URLS["revenue"], {"rev-0-objectType": "deals", "rev-0-csmProperty": "", "rev-1-objectType": ""}
        )
        assert response.status_code == 302
        assert [o["objectType"] for o in workspace_settings().revenue_objects] == ["deals"]


# --------------------------------------------------------------------------- invalid input


class TestInvalidCombinations:
    """Each error is shown at its field; the settings and the audit log stay as they were."""

    def assert_refused(self, response, before, field_id: str, message: str):
        assert response.status_code == 422
        assert error_at(response, field_id) == message
        assert "Nothing was saved." in response.content.decode()
        assert state() == before

    def test_a_csm_property_that_is_not_a_user(self, client):
        before = state()
        response = client.post(
            URLS["customers"], {"objectType": "companies", "csmProperty": "mrr", "renewalProperty": ""}
        )
        self.assert_refused(response, before, "csmProperty", "Choose a user property of Companies.")

    def test_a_missing_csm_property(self, client):
        before = state()
        response = client.post(URLS["customers"], {"objectType": "companies", "csmProperty": ""})
        self.assert_refused(response, before, "csmProperty", "Choose a property.")

    def test_a_renewal_property_that_is_not_a_date(self, client):
        before = state()
        response = client.post(
            URLS["customers"], {"objectType": "companies", "csmProperty": "csm", "renewalProperty": "last_activity_at"}
        )
        self.assert_refused(response, before, "renewalProperty", "Choose a date property of Companies.")
        # The user's other choices are kept in the re-rendered form.
        assert parse(response).selected["settings-csmProperty"] == "csm"

    def test_deals_cannot_represent_customers(self, client):
        before = state()
        response = client.post(URLS["customers"], {"objectType": "deals", "csmProperty": "csm"})
        self.assert_refused(response, before, "objectType", "This object cannot be chosen here.")

    def test_an_object_cannot_be_customers_and_revenue(self, client, subscriptions):
        client.post(URLS["revenue"], {"rev-0-objectType": "subscriptions"})
        before = state()
        response = client.post(URLS["customers"], {"objectType": "subscriptions", "csmProperty": "account_manager"})
        self.assert_refused(response, before, "objectType", "This object already represents revenue.")

    def test_a_default_pipeline_not_among_those_shown(self, client):
        before = state()
        onboarding, maintenance = pipeline("Onboarding"), pipeline("Maintenance")
        response = client.post(
            URLS["services"],
            {
                "objectType": "services",
                "csmProperty": "csm",
                "pipelines": [str(onboarding.pk)],
                "defaultPipeline": str(maintenance.pk),
            },
        )
        self.assert_refused(
            response, before, "defaultPipeline", "The default pipeline must be one of the pipelines shown."
        )
        page = parse(response)
        assert page.checked[f"settings-pipelines-{onboarding.pk}"] is True
        assert page.selected["settings-defaultPipeline"] == str(maintenance.pk)

    def test_a_pipeline_of_another_object(self, client):
        before = state()
        sales = pipeline("Sales pipeline")
        response = client.post(
            URLS["services"], {"objectType": "services", "csmProperty": "csm", "pipelines": [str(sales.pk)]}
        )
        self.assert_refused(response, before, "pipelines", "Choose pipelines of this object.")

    def test_a_default_pipeline_that_is_not_an_id(self, client):
        before = state()
        response = client.post(
            URLS["services"], {"objectType": "services", "csmProperty": "csm", "defaultPipeline": "x"}
        )
        self.assert_refused(
            response, before, "defaultPipeline", "The default pipeline must be one of the pipelines shown."
        )

    def test_two_identical_revenue_objects(self, client):
        before = state()
        response = client.post(URLS["revenue"], {"rev-0-objectType": "deals", "rev-1-objectType": "deals"})
        self.assert_refused(response, before, "rev-1-objectType", "Choose two different objects.")

    def test_three_revenue_objects(self, client, admin, subscriptions):
        custom_object(admin, "contracts", "Contract")
        before = state()
        response = client.post(
            URLS["revenue"],
            {"rev-0-objectType": "deals", "rev-1-objectType": "subscriptions", "rev-2-objectType": "contracts"},
        )
        assert response.status_code == 422
        assert '<li data-field="objects">Choose one or two revenue objects.</li>' in response.content.decode()
        assert state() == before

    def test_no_revenue_object(self, client):
        before = state()
        response = client.post(URLS["revenue"], {"rev-0-objectType": "", "rev-1-objectType": ""})
        assert response.status_code == 422
        assert '<li data-field="objects">Choose one or two revenue objects.</li>' in response.content.decode()
        assert state() == before

    def test_errors_land_on_the_slot_they_belong_to_when_the_order_is_swapped(self, client, subscriptions):
        before = state()
        response = client.post(
            URLS["revenue"],
            {
                "rev-0-objectType": "deals",
                "rev-1-objectType": "subscriptions",
                "rev-1-csmProperty": "plan",
                "first": "1",
            },
        )
        self.assert_refused(response, before, "rev-1-csmProperty", "Choose a user property of Subscriptions.")
        page = parse(response)
        assert error_at(response, "rev-0-csmProperty") == ""
        assert page.checked["settings-first-1"] is True

    def test_a_revenue_renewal_property_that_is_not_a_date(self, client):
        before = state()
        response = client.post(URLS["revenue"], {"rev-0-objectType": "deals", "rev-0-renewalProperty": "amount"})
        self.assert_refused(response, before, "rev-0-renewalProperty", "Choose a date property of Deals.")


# --------------------------------------------------------------------------- htmx reload


class TestPropertyChoices:
    def fragment(self, client, url, params):
        response = client.get(url, {**params, "fragment": "object-fields"}, **HTMX)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" not in body and 'data-testid="settings-form"' not in body
        return parse(response)

    def test_companies_offer_their_user_and_date_properties_only(self, client):
        page = self.fragment(client, URLS["customers"], {"objectType": "companies"})
        assert page.options["settings-csmProperty"] == ["", "owner", "csm"]
        assert page.options["settings-renewalProperty"] == ["", "contract_start_date", "renewal_date"]
        assert "settings-objectType" not in page.options

    def test_changing_the_object_reloads_its_properties(self, client):
        page = self.fragment(client, URLS["customers"], {"objectType": "contacts"})
        # Contacts have no CSM or date property of their own: only the owner, and no renewal date.
        assert page.options["settings-csmProperty"] == ["", "owner"]
        assert page.options["settings-renewalProperty"] == [""]
        assert page.selected == {"settings-csmProperty": "", "settings-renewalProperty": ""}

    def test_a_custom_object_offers_its_own_properties_with_the_same_name_kept(self, client, subscriptions):
        page = self.fragment(client, URLS["revenue"], {"rev-1-objectType": "subscriptions"})
        assert page.options == {
            "settings-rev-1-csmProperty": ["", "owner", "account_manager"],
            "settings-rev-1-renewalProperty": ["", "end_date"],
            "settings-rev-1-defaultPipeline": ["", str(pipeline("Subscription lifecycle").pk)],
        }

    def test_a_shared_property_name_stays_selected(self, client):
        # Deals → services: both have a "csm" user property, so the choice is kept.
        page = self.fragment(client, URLS["services"], {"objectType": "services"})
        assert page.selected["settings-csmProperty"] == "csm"
        maintenance = pipeline("Maintenance")
        assert page.options["settings-defaultPipeline"] == ["", str(pipeline("Onboarding").pk), str(maintenance.pk)]

    def test_an_object_not_allowed_here_offers_nothing(self, client):
        page = self.fragment(client, URLS["customers"], {"objectType": "deals"})
        assert page.options == {}

    def test_without_htmx_the_whole_page_shows_the_chosen_object(self, client):
        response = client.get(URLS["customers"], {"objectType": "contacts"})
        page = parse(response)
        assert page.selected["settings-objectType"] == "contacts"
        assert page.options["settings-csmProperty"] == ["", "owner"]


# --------------------------------------------------------------------------- audit log and view-as


class TestAuditLog:
    def test_entries_show_who_when_in_the_viewers_time_zone_and_what(self, client, time_machine):
        time_machine.move_to(NOW, tick=False)
        client.post(
            URLS["customers"], {"objectType": "companies", "csmProperty": "owner", "renewalProperty": "renewal_date"}
        )
        body = client.get(URLS["customers"]).content.decode()
        assert '<time datetime="2026-03-02T18:30:00+09:00">' in body
        assert "Times are in your time zone (Asia/Tokyo)." in body
        assert "Mia Manager" in body
        assert 'CSM property: <span class="text-body-secondary">CSM</span>' in body
        assert "Owner" in body

    def test_each_section_shows_its_own_entries(self, client):
        client.post(URLS["customers"], {"objectType": "contacts", "csmProperty": "owner"})
        assert 'data-testid="settings-change"' in client.get(URLS["customers"]).content.decode()
        assert 'data-testid="settings-change"' not in client.get(URLS["services"]).content.decode()

    def test_revenue_entries_name_the_object_position(self, client, subscriptions):
        client.post(URLS["revenue"], {"rev-0-objectType": "deals", "rev-1-objectType": "subscriptions"})
        body = client.get(URLS["revenue"]).content.decode()
        assert 'Revenue object 2 · Object: <span class="text-body-secondary">—</span>' in body
        assert (
            'Revenue object 1 · Renewal date property: <span class="text-body-secondary">Contract end date</span>'
            in body
        )

    def test_the_log_shows_at_most_twenty_entries(self, client):
        for i in range(22):
            client.post(URLS["customers"], {"objectType": "companies", "csmProperty": ("csm", "owner")[i % 2]})
        assert client.get(URLS["customers"]).content.decode().count('data-testid="settings-change"') == 20

    @pytest.mark.parametrize("section", ["services", "revenue"])
    def test_the_page_does_not_query_per_entry(self, client, admin, section):
        actor = Actor(admin)
        maintenance, sales = pipeline("Maintenance"), pipeline("Sales pipeline")

        def change(i):
            if section == "services":
                services.settings_update_services(
                    actor=actor,
                    object_type="services",
                    csm_property=("csm", "owner")[i % 2],
                    pipelines=[maintenance.pk],
                    default_pipeline=maintenance.pk,
                )
            else:
                services.settings_update_revenue(
                    actor=actor,
                    objects=[{"objectType": "deals", "csmProperty": ("csm", "owner")[i % 2], "pipelines": [sales.pk]}],
                )

        def queries_for_page():
            with CaptureQueriesContext(connection) as captured:
                assert client.get(URLS[section]).status_code == 200
            return len(captured)

        change(0)
        few = queries_for_page()
        for i in range(1, 12):
            change(i)
        assert queries_for_page() == few


class TestViewAs:
    @pytest.fixture
    def viewing_as(self, admin, csm):
        client = client_for(admin)
        session = client.session
        session[VIEW_AS_SESSION_KEY] = csm.pk
        session.save()
        return client

    def test_the_page_is_read_only(self, viewing_as):
        response = viewing_as.get(URLS["customers"])
        assert response.status_code == 200
        assert 'data-testid="settings-read-only"' in response.content.decode()
        assert parse(response).has_disabled_fieldset

    def test_saving_is_refused_and_changes_nothing(self, viewing_as):
        before = state()
        response = viewing_as.post(URLS["customers"], {"objectType": "contacts", "csmProperty": "owner"}, follow=True)
        assert "You are viewing as another user; settings are read-only." in response.content.decode()
        assert state() == before
