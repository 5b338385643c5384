"""A manager assigns a task to Yuki; her bell shows 1; she opens it and lands on the task's
record; the badge is gone."""

import re

import pytest
from playwright.sync_api import expect

from tend.core.policy import SYSTEM, Actor
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.kinds import KINDS
from tend.engagement.services import engagement_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_assigned_task_rings_the_bell_and_opens_its_record(new_page):
    manager = user_create(email="maria@example.com", full_name="Maria Rossi", has_service_seat=True)
    yuki = user_create(email="yuki@example.jp", full_name="Yuki Tanaka", has_service_seat=True)
    acme = record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name="companies"), properties={"name": "Acme"}, source="system"
    )
    engagement_create(
        actor=Actor(manager),
        kind=KINDS["tasks"],
        properties={"subject": "Prepare the QBR", "assignee": yuki.pk},
        associations=[acme.pk],
    )

    page = new_page(yuki)
    page.goto("/")
    expect(page.get_by_test_id("bell-badge")).to_have_text("1")
    page.get_by_test_id("bell").click()
    item = page.get_by_test_id("bell-panel").get_by_test_id("notification")
    expect(item).to_contain_text("Maria Rossi assigned you a task on Acme: Prepare the QBR")
    item.get_by_test_id("notification-open").click()

    expect(page).to_have_url(re.compile(rf"/records/companies/{acme.pk}/$"))
    expect(page.get_by_test_id("bell")).to_be_visible()
    expect(page.get_by_test_id("bell-badge")).to_have_count(0)
