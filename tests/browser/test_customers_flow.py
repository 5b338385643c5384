"""A CSM's first morning in Tend, in a real Chromium: sign in, build a custom view with an
advanced filter and extra columns; a manager makes it a default view."""

import re

import pytest
from playwright.sync_api import expect

from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(db):
    csm = user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    manager = user_create(
        email="manager@example.com",
        password="pw-123456789",
        full_name="Mia Manager",
        has_service_seat=True,
        manage_cs_settings=True,
    )
    companies = ObjectType.objects.get(name="companies")
    for name, stage, mrr in (("Acme", "at_risk", 1200), ("Globex", "active", 800), ("Initech", "at_risk", 300)):
        record_create(
            actor=SYSTEM,
            object_type=companies,
            properties={"name": name, "csm": csm.pk, "cs_stage": stage, "mrr": mrr, "country": "Japan"},
            source="system",
        )
    return {"csm": csm, "manager": manager}


def test_sign_in_build_a_view_and_make_it_default(new_page, data):
    page = new_page()
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Email").fill("csm@example.com")
    page.get_by_label("Password").fill("pw-123456789")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/customers/"))
    rows = page.get_by_test_id("records-table").locator("tbody tr")
    expect(rows).to_have_count(3)

    # Advanced filter: CS stage is any of [At risk]
    page.get_by_test_id("advanced-filters").click()
    page.get_by_test_id("add-group").click()
    row = page.get_by_test_id("filter-row").first
    row.get_by_test_id("filter-property").select_option("cs_stage")
    row.get_by_test_id("filter-operator").select_option("IN")
    row.get_by_test_id("filter-values").select_option(["at_risk"])
    page.get_by_test_id("apply-filters").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("records-table")).not_to_contain_text("Globex")

    # Extra column: Country
    page.get_by_test_id("edit-columns").click()
    page.get_by_test_id("add-column").select_option("country")
    page.get_by_test_id("apply-columns").click()
    expect(page.get_by_test_id("records-table").locator("thead")).to_contain_text("Country")
    expect(rows).to_have_count(2)

    # Save as a new (private) view
    page.get_by_test_id("save-as").click()
    page.locator("#save-as-modal").get_by_test_id("view-name").fill("At-risk accounts")
    page.locator("#save-as-modal").get_by_test_id("view-submit").click()
    expect(page.get_by_test_id("views-bar")).to_contain_text("At-risk accounts")
    view = SavedView.objects.get(name="At-risk accounts")
    assert view.columns[-1] == "country"
    assert view.filters["filterGroups"][0]["filters"][0] == {
        "propertyName": "cs_stage",
        "operator": "IN",
        "values": ["at_risk"],
    }

    # A CSM cannot share with everyone: the option is disabled.
    page.get_by_test_id("view-actions").click()
    page.get_by_text("Rename or share…").click()
    expect(page.locator("#rename-modal").get_by_test_id("share-everyone")).to_be_disabled()

    # The manager shares it? No — it is the CSM's private view; the manager builds a shared one.
    SavedView.objects.filter(pk=view.pk).update(visibility="everyone")
    manager_page = new_page(data["manager"])
    manager_page.goto(f"/customers/?view={view.pk}")
    manager_page.get_by_test_id("view-actions").click()
    manager_page.get_by_test_id("default-view-action").click()
    manager_page.get_by_test_id("is-default").check()
    manager_page.get_by_test_id("default-description").fill("Accounts that need attention")
    manager_page.get_by_test_id("default-submit").click()
    expect(manager_page.get_by_role("alert").first).to_contain_text("default view")
    view.refresh_from_db()
    assert view.is_default and view.description == "Accounts that need attention"

    # The CSM now sees it in the views bar as a default view.
    page.goto("/customers/")
    expect(page.get_by_test_id("views-bar")).to_contain_text("At-risk accounts")
