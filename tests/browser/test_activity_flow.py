"""From a company's page a CSM logs a call and writes a note (both appear on the timeline at
once), then sends an email from a template to a contact, which a real SMTP server receives."""

import pytest
from playwright.sync_api import expect

from tend.core.policy import SYSTEM, Actor
from tend.crm.models import ObjectType
from tend.crm.services import association_link, record_create
from tend.directory.services import user_create
from tend.engagement.mail import library
from tend.engagement.models import Call, Email, Note

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_a_call_write_a_note_and_send_an_email(new_page, smtp_server):
    csm = user_create(email="casey@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    acme = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme", "csm": csm.pk},
        source="system",
    )
    dana = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="contacts"),
        properties={"name": "Dana Diaz", "first_name": "Dana", "email": "dana@acme.example"},
        source="system",
    )
    association_link(acme, dana)
    association_link(dana, acme)
    library.email_template_create(
        actor=Actor(csm),
        name="Check-in",
        subject="How is {{ company.name }} doing?",
        body="Hi {{ contact.first_name }},\nhow are things?",
    )
    page = new_page(csm)
    page.goto(f"/records/companies/{acme.pk}/")
    timeline = page.get_by_test_id("timeline")

    page.get_by_test_id("log-call").click()
    form = page.get_by_test_id("call-form")
    form.get_by_test_id("call-title").fill("Quarterly check-in")
    form.get_by_test_id("call-duration").fill("20")
    form.get_by_test_id("call-notes").fill("Happy with the rollout")
    form.get_by_test_id("log-save").click()
    expect(timeline.get_by_test_id("activity-calls")).to_contain_text("Quarterly check-in")
    expect(timeline.get_by_test_id("activity-calls")).to_contain_text("20 min")

    page.get_by_test_id("log-note").click()
    page.get_by_test_id("note-body").fill("Send the renewal offer in May")
    page.get_by_test_id("note-form").get_by_test_id("log-save").click()
    expect(timeline.get_by_test_id("activity-notes")).to_contain_text("Send the renewal offer in May")

    page.get_by_test_id("send-email").click()
    composer = page.get_by_test_id("email-form")
    expect(composer.get_by_test_id("email-to-option")).to_be_checked()
    # htmx wires up the swapped-in composer when it settles; a change before that would go unheard.
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-added')")
    composer.get_by_test_id("email-template").select_option(label="Check-in")
    expect(page.get_by_test_id("email-subject")).to_have_value("How is {{ company.name }} doing?")
    page.get_by_test_id("email-send").click()
    expect(timeline.get_by_test_id("activity-emails")).to_contain_text("How is Acme doing?")

    [received] = smtp_server.received
    assert received.rcpt_tos == ["dana@acme.example"]
    assert received.header("Subject") == "How is Acme doing?"
    assert received.message.get_content() == "Hi Dana,\nhow are things?\n"
    assert (Call.objects.get().duration_seconds, Note.objects.get().body) == (1200, "Send the renewal offer in May")
    assert Email.objects.get().message_id == received.message["Message-ID"]
