"""Sending email from a record through a real SMTP server: the message as received, variables,
refusals (nothing logged), templates, and open / click tracking."""

import datetime as dt

import pytest
from django.core import signing
from django.test import Client

from tend.core.errors import ValidationFailed
from tend.core.policy import Actor
from tend.crm import services as crm
from tend.directory.services import user_create
from tend.engagement.mail import library, sending, tracking
from tend.engagement.models import Email, EmailTemplate
from tests.smtp import free_port

from .conftest import record

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def sender(db):
    return user_create(
        email="kenji@example.com",
        password="pw-123456789",
        full_name="Kenji Tanaka",
        has_service_seat=True,
        language="de",
    )


@pytest.fixture
def acme(sender):
    return record("companies", name="Müller GmbH", renewal_date="2026-09-30", csm=sender.pk)


@pytest.fixture
def juergen(acme):
    contact = record("contacts", name="Jürgen Müller", first_name="Jürgen", email="Juergen@Mueller.example")
    crm.association_link(acme, contact)
    crm.association_link(contact, acme)
    return contact


def _send(sender, record, **kw):
    args = {"to": ["juergen@mueller.example"], "cc": [], "subject": "Hallo", "body": "Text"} | kw
    return sending.email_send(actor=Actor(sender), record=record, base_url="http://tend.test", **args)


def test_the_message_as_the_server_receives_it(smtp_server, sender, acme, juergen, clock):
    email = _send(
        sender,
        acme,
        cc=["chef@mueller.example, 山田 <yamada@example.jp>"],
        subject="Verlängerung für {{ company.name }} – 更新のご案内",
        body="Hallo {{ contact.first_name }},\nIhre Verlängerung ist am {{ company.renewal_date }}.\n"
        "よろしくお願いします。\n{{ csm.name }}",
    )

    [received] = smtp_server.received
    message = received.message
    assert sorted(received.rcpt_tos) == ["chef@mueller.example", "juergen@mueller.example", "yamada@example.jp"]
    assert message["From"] == '"Kenji Tanaka (via Tend)" <tend@localhost>'
    assert message["Reply-To"] == "Kenji Tanaka <kenji@example.com>"
    assert message["To"] == "juergen@mueller.example"
    assert message["Cc"] == "chef@mueller.example, yamada@example.jp"
    assert received.header("Subject") == "Verlängerung für Müller GmbH – 更新のご案内"
    assert message["Message-ID"] == email.message_id
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    # Dates read in the sender's language (de): 30.09.2026.
    assert message.get_content() == (
        "Hallo Jürgen,\nIhre Verlängerung ist am 30.09.2026.\nよろしくお願いします。\nKenji Tanaka\n"
    )
    assert b"=?utf-8?" in received.raw.split(b"\r\n\r\n", 1)[0]  # the subject is encoded, not raw 8-bit

    email.refresh_from_db()
    assert (email.subject, email.direction, email.owner_id) == (
        "Verlängerung für Müller GmbH – 更新のご案内",
        Email.Direction.OUTBOUND,
        sender.pk,
    )
    assert email.to_addresses == ["juergen@mueller.example"]
    assert email.cc_addresses == ["chef@mueller.example", "yamada@example.jp"]
    assert email.occurred_at == NOW
    assert sorted(email.records.values_list("pk", flat=True)) == sorted([acme.pk, juergen.pk])


def test_an_unknown_variable_is_refused_and_nothing_is_sent(smtp_server, sender, acme, juergen):
    with pytest.raises(ValidationFailed) as excinfo:
        _send(sender, acme, subject="Hi {{ contact.nickname }}", body="{{ company.name }} {{ weather.today }}")

    assert [(e.field, e.message) for e in excinfo.value.errors] == [
        ("subject", "Unknown variable {{ contact.nickname }}."),
        ("body", "Unknown variable {{ weather.today }}."),
    ]
    assert smtp_server.received == []
    assert Email.objects.count() == 0


def test_a_contact_variable_needs_a_contact_recipient(smtp_server, sender, acme, juergen):
    with pytest.raises(ValidationFailed) as excinfo:
        _send(sender, acme, to=["someone@else.example"], body="Hi {{ contact.first_name }}")
    assert [(e.field, e.message) for e in excinfo.value.errors] == [
        ("body", "{{ contact.first_name }} needs a contact among the To recipients.")
    ]
    assert smtp_server.received == []


def test_a_refused_recipient_is_an_error_and_nothing_is_logged(smtp_server, sender, acme, juergen):
    smtp_server.refuse.add("juergen@mueller.example")

    with pytest.raises(ValidationFailed) as excinfo:
        _send(sender, acme)

    assert [(e.field, e.code) for e in excinfo.value.errors] == [("send", "send_failed")]
    assert excinfo.value.errors[0].message == (
        "The mail server refused the recipients juergen@mueller.example; nothing was sent."
    )
    assert smtp_server.received == []
    assert Email.objects.count() == 0


def test_a_server_that_is_down_is_an_error_and_nothing_is_logged(settings, sender, acme, juergen):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5

    with pytest.raises(ValidationFailed) as excinfo:
        _send(sender, acme)

    assert excinfo.value.errors[0].message == (
        "The mail server refused the connection (is it running? see TEND_EMAIL_URL); nothing was sent."
    )
    assert Email.objects.count() == 0


def test_invalid_typed_addresses_are_errors_by_the_field(smtp_server, sender, acme, juergen):
    with pytest.raises(ValidationFailed) as excinfo:
        _send(sender, acme, to=["not-an-address"], cc=["also@bad@example"])
    assert [(e.field, e.message) for e in excinfo.value.errors] == [
        ("to", "“not-an-address” is not a valid email address."),
        ("cc", "“also@bad@example” is not a valid email address."),
    ]
    assert smtp_server.received == []


def test_the_composer_sends_and_the_timeline_shows_it(smtp_server, sender, acme, juergen, clock):
    client = Client()
    client.force_login(sender)
    url = f"/records/companies/{acme.pk}/email/"

    form = client.get(url, headers={"HX-Request": "true"})
    assert form.status_code == 200
    assert 'value="juergen@mueller.example" id="to-1" checked' in form.content.decode()

    refused = client.post(
        url, {"to": ["juergen@mueller.example"], "subject": "{{ x.y }}", "body": "b", "action": "send"}
    )
    assert refused.status_code == 422
    assert "Unbekannte Variable" in refused.content.decode() or "Unknown variable" in refused.content.decode()
    assert smtp_server.received == []

    sent = client.post(
        url,
        {"to": ["juergen@mueller.example"], "subject": "Hallo {{ contact.first_name }}", "body": "b", "action": "send"},
    )
    assert sent.status_code == 204
    assert "tend:activity-changed" in sent["HX-Trigger"]
    assert smtp_server.received[0].header("Subject") == "Hallo Jürgen"
    timeline = client.get(f"/records/companies/{acme.pk}/timeline/", headers={"HX-Request": "true"})
    assert "Hallo Jürgen" in timeline.content.decode()


def test_a_template_is_saved_and_starts_an_email(smtp_server, sender, acme, juergen):
    actor = Actor(sender)
    template = library.email_template_create(
        actor=actor, name="Renewal", subject="Renewal of {{ company.name }}", body="Dear {{ contact.first_name }}"
    )
    with pytest.raises(ValidationFailed) as excinfo:
        library.email_template_create(actor=actor, name="Bad", subject="S", body="{{ contact.shoe_size }}")
    assert [(e.field, e.code) for e in excinfo.value.errors] == [("body", "unknown_variable")]
    assert EmailTemplate.objects.count() == 1

    client = Client()
    client.force_login(sender)
    form = client.get(f"/records/companies/{acme.pk}/email/?template={template.pk}", headers={"HX-Request": "true"})
    assert 'value="Renewal of {{ company.name }}"' in form.content.decode()

    _send(sender, acme, subject=template.subject, body=template.body)
    message = smtp_server.received[0].message
    assert (smtp_server.received[0].header("Subject"), message.get_content()) == (
        "Renewal of Müller GmbH",
        "Dear Jürgen\n",
    )


def test_someone_elses_private_template_is_not_theirs(sender, acme):
    other = user_create(email="o@example.com", has_service_seat=True)
    mine = library.email_template_create(actor=Actor(sender), name="Mine", subject="S", body="B")
    assert list(library.templates_for(Actor(other))) == []
    with pytest.raises(Exception) as excinfo:
        library.get_template_for_user(Actor(other), mine.pk)
    assert type(excinfo.value).__name__ == "NotFound"


# --------------------------------------------------------------------------- tracking


@pytest.fixture
def tracked(settings, smtp_server, sender, acme, juergen, clock):
    settings.TEND_EMAIL_TRACKING = True
    email = _send(sender, acme, body="Unser Angebot: https://example.com/offer?a=1&b=2.\nBis bald", track=True)
    return email, smtp_server.received[0].message


def _urls(message):
    html = message.get_body(("html",)).get_content()
    import re

    pixel = re.search(r'<img src="http://tend\.test(/t/o/[^"]+)"', html).group(1)
    click = re.search(r'<a href="http://tend\.test(/t/c/[^"]+)"', html).group(1).replace("&amp;", "&")
    return pixel, click


def test_a_tracked_email_has_a_pixel_and_rewritten_links(tracked):
    email, message = tracked
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert "https://example.com/offer" not in text.replace("u=https%3A%2F%2Fexample.com%2Foffer", "")
    assert "http://tend.test/t/c/" in text
    assert email.links == ["https://example.com/offer?a=1&b=2"]


def test_an_open_and_a_click_are_counted(tracked, clock):
    email, message = tracked
    pixel, click = _urls(message)
    client = Client()

    opened = client.get(pixel)
    assert (opened.status_code, opened["Content-Type"]) == (200, "image/gif")
    clock.shift(dt.timedelta(hours=1))
    client.get(pixel)
    redirected = client.get(click)
    assert (redirected.status_code, redirected["Location"]) == (302, "https://example.com/offer?a=1&b=2")

    email.refresh_from_db()
    assert (email.open_count, email.first_opened_at, email.last_opened_at) == (2, NOW, NOW + dt.timedelta(hours=1))
    assert (email.click_count, email.first_clicked_at) == (1, NOW + dt.timedelta(hours=1))


def test_a_tampered_token_or_another_url_is_not_found(tracked):
    email, message = tracked
    pixel, click = _urls(message)
    client = Client()
    token = click.split("/t/c/", 1)[1].split("?", 1)[0]

    assert client.get(pixel.replace(".gif", "x.gif")).status_code == 404
    assert client.get(f"/t/c/{token}?u=https://evil.example/").status_code == 404
    assert client.get(f"/t/c/{token[:-2]}xx?u=https://example.com/offer?a=1%26b=2").status_code == 404
    forged = tracking.click_token(email.message_id, "https://evil.example/")  # signed, but not in the email
    assert client.get(f"/t/c/{forged}?u=https://evil.example/").status_code == 404
    unsigned = signing.dumps({"m": email.message_id}, salt="another salt")
    assert client.get(f"/t/o/{unsigned}.gif").status_code == 404
    email.refresh_from_db()
    assert (email.open_count, email.click_count) == (0, 0)


def test_events_out_of_order_keep_first_and_last(tracked):
    email, _message = tracked
    tracking.record_email_event(email, "clicked", NOW + dt.timedelta(days=2))
    tracking.record_email_event(email, "clicked", NOW + dt.timedelta(days=1))
    email.refresh_from_db()
    assert (email.click_count, email.first_clicked_at, email.last_clicked_at) == (
        2,
        NOW + dt.timedelta(days=1),
        NOW + dt.timedelta(days=2),
    )
