"""Open a customer's preview, edit a property inline (a bad value first), and find the change in
the property history — in English and in Japanese."""

import re

import pytest
from playwright.sync_api import expect

from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType, PropertyChange, Record
from tend.crm.services import record_create
from tend.directory.services import user_create

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "en": {"tab": "Customers", "save": "Save", "error": "Enter a number."},
    "ja": {"tab": "顧客", "save": "保存", "error": "数値を入力してください。"},
}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_preview_inline_edit_and_history(new_page, language):
    csm = user_create(
        email="csm@example.com",
        password="pw-123456789",
        full_name="Casey CSM",
        has_service_seat=True,
        language=language,
        time_zone="Asia/Tokyo" if language == "ja" else "Europe/Berlin",
    )
    acme = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme", "csm": csm.pk, "mrr": 1200, "cs_stage": "active"},
        source="system",
    )
    text = TEXT[language]
    page = new_page(csm)
    page.goto("/customers/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("navigation").get_by_role("link", name=text["tab"])).to_be_visible()

    page.get_by_test_id("record-link").filter(has_text="Acme").click()
    preview = page.get_by_test_id("record-preview")
    expect(preview).to_be_visible()

    preview.get_by_test_id("edit-mrr").click()
    editor = preview.get_by_test_id("property-edit-mrr")
    field = editor.locator("input[name=value]")
    # A number input refuses letters in the browser; send an invalid value the server must reject.
    field.evaluate("el => { el.type = 'text'; el.value = 'lots'; }")
    editor.get_by_test_id("save").click()
    expect(editor.get_by_test_id("field-error")).to_have_text(text["error"])
    assert Record.objects.get(pk=acme.pk).properties["mrr"] == 1200
    # htmx wires the swapped-in form up when it settles (20 ms later): Enter before that would be
    # the browser's own submission (a GET of the page), which a person cannot type fast enough for
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-added')")

    field.fill("1500")
    field.press("Enter")
    expect(preview.get_by_test_id("property-mrr")).to_contain_text(re.compile(r"1[,.]?500"))
    assert Record.objects.get(pk=acme.pk).properties["mrr"] == 1500

    preview.get_by_test_id("property-mrr").get_by_test_id("property-history-button").click()
    history = preview.get_by_test_id("property-mrr").get_by_test_id("property-history")
    expect(history).to_contain_text(re.compile(r"1[,.]?500"))
    expect(history).to_contain_text(re.compile(r"1[,.]?200"))
    change = PropertyChange.objects.filter(record=acme, property_name="mrr").order_by("-id").first()
    assert (change.old_value, change.new_value, change.source, change.changed_by_id) == (1200, 1500, "ui", csm.pk)
