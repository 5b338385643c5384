"""Following up from the Feed: the record page at ?action=note|call|email opens that form in the
side panel at once, with the records the Feed passes (the contact's company) associated, and what is
saved shows on the timelines of both."""

import datetime as dt

import pytest
from django.test import Client

from tend.crm import services as crm
from tend.engagement.models import Call, Email, Note

from .conftest import record

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def acme(csm):
    return record("companies", name="Acme", csm=csm.pk)


@pytest.fixture
def jane(acme):
    contact = record("contacts", name="Jane Doe", first_name="Jane", email="jane@acme.example")
    crm.association_link(contact, acme)
    crm.association_link(acme, contact)
    return contact


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _trigger(html: str) -> str:
    """The URL the page loads into the side panel at once ('' when there is none)."""
    marker = 'data-testid="open-action"'
    if marker not in html:
        return ""
    tag = html[html.rindex("<div", 0, html.index(marker)) : html.index(marker)]
    assert 'hx-target="#side-panel-body"' in tag and 'hx-trigger="load"' in tag
    return tag.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


@pytest.mark.parametrize(("action", "path"), [("note", "log/notes/"), ("call", "log/calls/"), ("email", "email/")])
def test_the_page_opens_the_form_of_the_action_with_the_company(csm, acme, jane, action, path):
    page = _client(csm).get(f"/records/contacts/{jane.pk}/?action={action}&records={acme.pk}")

    assert page.status_code == 200
    assert _trigger(page.content.decode()) == f"/records/contacts/{jane.pk}/{path}?records={acme.pk}"


def test_no_action_a_bad_one_or_a_reader_opens_nothing(csm, viewer, acme, jane):
    assert _trigger(_client(csm).get(f"/records/contacts/{jane.pk}/").content.decode()) == ""
    assert _trigger(_client(csm).get(f"/records/contacts/{jane.pk}/?action=delete").content.decode()) == ""
    assert _trigger(_client(viewer).get(f"/records/contacts/{jane.pk}/?action=note").content.decode()) == ""
    # Its own id, or what is not an id, is not passed on.
    trigger = _trigger(
        _client(csm).get(f"/records/contacts/{jane.pk}/?action=note&records={jane.pk}&records=x").content.decode()
    )
    assert trigger == f"/records/contacts/{jane.pk}/log/notes/"


def test_a_call_logged_from_the_follow_up_shows_on_the_contact_and_the_company(csm, acme, jane):
    client = _client(csm)
    form = client.get(f"/records/contacts/{jane.pk}/log/calls/?records={acme.pk}", headers=HTMX).content.decode()
    assert 'data-testid="call-form"' in form
    assert f"{{ id: '{jane.pk}', name: 'Jane Doe'" in form and f"{{ id: '{acme.pk}', name: 'Acme'" in form

    response = client.post(
        f"/records/contacts/{jane.pk}/log/calls/",
        {
            "title": "Pricing questions",
            "body": "",
            "direction": "outbound",
            "outcome": "connected",
            "duration": "10",
            "occurred_at": "2026-03-02T09:00",
            "records": [jane.pk, acme.pk],
        },
        headers=HTMX,
    )

    assert response.status_code == 204
    call = Call.objects.get()
    assert set(call.records.values_list("pk", flat=True)) == {jane.pk, acme.pk}
    for type_name, pk in ("contacts", jane.pk), ("companies", acme.pk):
        timeline = client.get(f"/records/{type_name}/{pk}/timeline/", headers=HTMX).content.decode()
        assert "Pricing questions" in timeline


def test_a_note_form_of_a_company_that_is_not_there_keeps_the_record_only(csm, jane):
    form = _client(csm).get(f"/records/contacts/{jane.pk}/log/notes/?records=999999", headers=HTMX).content.decode()
    assert f"{{ id: '{jane.pk}', name: 'Jane Doe'" in form and "999999" not in form
    assert Note.objects.count() == 0


def test_an_email_from_the_follow_up_is_logged_on_the_company_too(smtp_server, csm, acme, jane):
    client = _client(csm)
    form = client.get(f"/records/contacts/{jane.pk}/email/?records={acme.pk}", headers=HTMX).content.decode()
    assert f'<input type="hidden" name="records" value="{acme.pk}">' in form
    assert 'data-testid="email-also"' in form

    response = client.post(
        f"/records/contacts/{jane.pk}/email/",
        {
            "to": ["jane@acme.example"],
            "subject": "Hello {{ contact.first_name }}",
            "body": "About pricing",
            "records": [str(acme.pk)],
            "action": "send",
        },
        headers=HTMX,
    )

    assert response.status_code == 204, response.content[:400]
    email = Email.objects.get()
    assert (email.subject, set(email.records.values_list("pk", flat=True))) == ("Hello Jane", {jane.pk, acme.pk})
    assert smtp_server.received[0].rcpt_tos == ["jane@acme.example"]
