"""A CSM works the Services and Revenue boards in a real Chromium: drag a service card into a
stage that needs a property, fill the dialog and see it land; drag again, cancel, see it return;
switch revenue object and pipeline."""

import re

import pytest
from playwright.sync_api import expect

from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType, Pipeline, Record
from tend.crm.services import record_create
from tend.cs_settings.queries import workspace_settings
from tend.directory.services import user_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(db):
    csm = user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    onboarding = Pipeline.objects.get(object_type__name="services", label="Onboarding")
    first = onboarding.stages.get(label="Kickoff prep")
    acme = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="services"),
        properties={"name": "Acme onboarding", "stage": first.pk, "csm": csm.pk},
        source="system",
    )
    sales = Pipeline.objects.get(object_type__name="deals", label="Sales pipeline")
    record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="deals"),
        properties={"name": "Globex deal", "stage": sales.stages.get(label="Qualified to buy").pk, "amount": 1000},
        source="system",
    )
    ws = workspace_settings()
    ws.revenue_objects = [
        {"objectType": "deals", "csmProperty": "csm", "renewalProperty": "contract_end_date", "pipelines": []},
        {"objectType": "tickets", "csmProperty": "", "renewalProperty": "", "pipelines": []},
    ]
    ws.save()
    return {"csm": csm, "acme": acme, "onboarding": onboarding}


def drag(page, card, column):
    """Drag with real mouse steps (SortableJS listens to pointer events)."""
    source = card.bounding_box()
    target = column.locator(".board-cards").bounding_box()
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    page.mouse.down()
    x, y = target["x"] + target["width"] / 2, target["y"] + 30
    for step in range(1, 11):
        page.mouse.move(
            source["x"] + (x - source["x"]) * step / 10,
            source["y"] + (y - source["y"]) * step / 10,
        )
        page.wait_for_timeout(30)
    page.mouse.up()


def column(page, label):
    return page.get_by_test_id("board-column").filter(has=page.get_by_role("heading", name=label, exact=True))


def test_drag_cards_through_stages_and_switch_revenue_object(new_page, data):
    page = new_page(data["csm"])
    page.set_viewport_size({"width": 1900, "height": 900})  # all six Onboarding stages side by side
    page.goto("/services/")
    kickoff_prep, kickoff_done = column(page, "Kickoff prep"), column(page, "Kickoff done")
    expect(kickoff_prep.get_by_test_id("board-card")).to_have_count(1)

    # Kickoff done requires a kickoff date: the dialog asks for it, the card stays until it is given.
    drag(page, kickoff_prep.get_by_test_id("board-card").first, kickoff_done)
    dialog = page.get_by_test_id("move-dialog")
    expect(dialog).to_be_visible()
    expect(kickoff_prep.get_by_test_id("board-card")).to_have_count(1)
    dialog.get_by_label("Kickoff date").fill("2026-11-20")
    dialog.get_by_test_id("move-submit").click()
    expect(kickoff_done.get_by_test_id("board-card")).to_have_count(1)
    expect(kickoff_prep.get_by_test_id("board-card")).to_have_count(0)
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    data["acme"].refresh_from_db()
    assert data["acme"].stage.label == "Kickoff done"
    assert data["acme"].properties["kickoff_date"] == "2026-11-20"

    # Onboarding complete requires the goal status: cancel, and the card is back where it was.
    complete = column(page, "Onboarding complete")
    drag(page, kickoff_done.get_by_test_id("board-card").first, complete)
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("move-cancel").click()
    expect(dialog).to_be_hidden()
    expect(kickoff_done.get_by_test_id("board-card")).to_have_count(1)
    expect(complete.get_by_test_id("board-card")).to_have_count(0)
    assert Record.objects.get(pk=data["acme"].pk).stage.label == "Kickoff done"

    # Clicking a card opens the preview side panel.
    kickoff_done.get_by_test_id("card-link").first.click()
    expect(page.locator("#side-panel")).to_be_visible()
    expect(page.locator("#side-panel-body")).to_contain_text("Acme onboarding")
    page.keyboard.press("Escape")

    # Pipeline switcher.
    page.get_by_test_id("pipeline-switcher").select_option(label="Maintenance")
    expect(page.get_by_role("heading", name="Waiting on customer")).to_be_visible()

    # Revenue: deals board with totals, then the other revenue object.
    page.goto("/revenue/")
    qualified = column(page, "Qualified to buy")
    expect(qualified.get_by_test_id("board-card")).to_contain_text("Globex deal")
    expect(qualified.get_by_test_id("column-weighted")).to_have_text("400")
    page.get_by_test_id("object-switcher").get_by_role("link", name="Tickets").click()
    expect(page).to_have_url(re.compile(r"object=tickets"))
    expect(page.get_by_role("heading", name="Waiting on us")).to_be_visible()
