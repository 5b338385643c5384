"""A contact's page view arrives by the Segment API, shows in the CSM's Feed, and the CSM follows it
up with a task (prefilled with the contact and the company) that shows on the record's timeline;
then "Log a call" lands on the contact's page with the call form open, and the call logged there
shows on the timelines of the contact and the company."""

import base64
import json

import pytest
from playwright.sync_api import expect

from tend.core.policy import SYSTEM
from tend.crm.models import Association, ObjectType
from tend.crm.services import record_create
from tend.directory.services import token_create, user_create
from tend.engagement.models import Call, Task

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_page_view_from_segment_is_followed_up_with_a_task_from_the_feed(new_page, live_server):
    csm = user_create(email="csm@example.com", full_name="Casey CSM", has_service_seat=True, time_zone="Europe/Berlin")
    acme = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme", "csm": csm.pk, "domain": "acme.example"},
    )
    jane = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="contacts"),
        properties={"name": "Jane Doe", "email": "jane@acme.example"},
    )
    Association.objects.create(from_record=jane, to_record=acme, label="primary")
    Association.objects.create(from_record=acme, to_record=jane, label="primary")
    _token, key = token_create(user=csm, name="segment", write=True)

    page = new_page(csm)
    page.goto("/feed/")
    expect(page.get_by_test_id("feed-empty")).to_be_visible()

    response = page.request.post(
        f"{live_server.url}/api/v1/ingest/page",
        data=json.dumps(
            {
                "messageId": "page-1",
                "userId": "jane@acme.example",
                "name": "Pricing",
                "properties": {"url": "https://acme.example/pricing", "title": "Pricing"},
            }
        ),
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
            "Content-Type": "application/json",
        },
    )
    assert response.status == 200, response.text()

    page.goto("/feed/")
    row = page.get_by_test_id("feed-row").filter(has_text="Jane Doe")
    expect(row).to_contain_text("Viewed a page")
    expect(row.get_by_test_id("feed-asset")).to_have_attribute("href", "https://acme.example/pricing")
    expect(row.get_by_test_id("feed-company")).to_have_text("Acme")

    row.hover()
    row.get_by_test_id("follow-task").click()
    panel = page.get_by_test_id("task-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("record-picker-selected")).to_contain_text("Jane Doe")
    expect(panel.get_by_test_id("record-picker-selected")).to_contain_text("Acme")
    panel.get_by_test_id("task-subject").fill("Ask Jane about the pricing page")
    panel.get_by_test_id("task-create").click()
    expect(panel.get_by_test_id("task-created")).to_contain_text("Ask Jane about the pricing page")

    task = Task.objects.get(subject="Ask Jane about the pricing page")
    assert set(task.records.values_list("pk", flat=True)) == {jane.pk, acme.pk}

    page.goto(row.get_by_test_id("feed-contact").get_attribute("href"))
    expect(page).to_have_url(f"{live_server.url}/records/contacts/{jane.pk}/")
    expect(page.get_by_test_id("timeline")).to_contain_text("Ask Jane about the pricing page")
    page.goto(f"/records/companies/{acme.pk}/")
    expect(page.get_by_test_id("timeline")).to_contain_text("Ask Jane about the pricing page")

    page.goto("/feed/")
    row = page.get_by_test_id("feed-row").filter(has_text="Jane Doe")
    row.hover()
    row.get_by_test_id("follow-call").click()
    form = page.get_by_test_id("call-form")
    expect(form).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/records/contacts/{jane.pk}/")  # a reload opens nothing again
    expect(form.get_by_test_id("record-picker-selected")).to_contain_text("Jane Doe")
    expect(form.get_by_test_id("record-picker-selected")).to_contain_text("Acme")
    form.get_by_test_id("call-title").fill("Called Jane about pricing")
    form.get_by_test_id("log-save").click()
    expect(form).to_be_hidden()
    expect(page.get_by_test_id("timeline")).to_contain_text("Called Jane about pricing")
    call = Call.objects.get(title="Called Jane about pricing")
    assert set(call.records.values_list("pk", flat=True)) == {jane.pk, acme.pk}
    page.goto(f"/records/companies/{acme.pk}/")
    expect(page.get_by_test_id("timeline")).to_contain_text("Called Jane about pricing")
