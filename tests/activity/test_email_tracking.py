"""Tend's own email tracking as contact activity: opening the pixel of a real sent email (through
a live SMTP server) or clicking its link is an activity of each contact it was sent to, once per
event, and shows in the sender's Feed."""

import datetime as dt
import re

import pytest
from django.test import Client

from tend.activity.models import Activity
from tend.core.policy import SYSTEM, Actor
from tend.crm.services import record_create
from tend.engagement.mail import sending, tracking
from tend.engagement.models import Email

from .conftest import contact_of

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
OFFER = "https://example.com/offer?a=1&b=2"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def sent(settings, smtp_server, csm, companies, contacts, clock):
    """A tracked email from Acme's CSM to Jane and Bob (Cc); Ivy, also Acme's, is not sent it."""
    settings.TEND_EMAIL_TRACKING = True
    acme = record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme", "csm": csm.pk})
    people = {
        "jane": contact_of(contacts, acme, "Jane Doe", "Jane@Acme.example"),
        "bob": contact_of(contacts, acme, "Bob Roe", "bob@acme.example"),
        "ivy": contact_of(contacts, acme, "Ivy Poe", "ivy@acme.example"),
    }
    email = sending.email_send(
        actor=Actor(csm),
        record=acme,
        to=["jane@acme.example"],
        cc=["bob@acme.example"],
        subject="Your renewal offer",
        body=f"Here it is: {OFFER}\nBest",
        track=True,
        base_url="http://tend.test",
    )
    [received] = smtp_server.received
    html = received.message.get_body(("html",)).get_content()
    pixel = re.search(r'<img src="http://tend\.test(/t/o/[^"]+)"', html).group(1)
    click = re.search(r'<a href="http://tend\.test(/t/c/[^"]+)"', html).group(1).replace("&amp;", "&")
    return {"email": email, "acme": acme, "pixel": pixel, "click": click, **people}


def _activity():
    return list(
        Activity.objects.order_by("occurred_at", "contact_id").values_list(
            "type", "contact_id", "company_id", "asset_name", "asset_url", "occurred_at", "source"
        )
    )


def test_an_open_is_an_activity_of_each_recipient_and_shows_in_the_senders_feed(sent, csm, clock):
    assert Client().get(sent["pixel"]).status_code == 200

    acme, jane, bob = sent["acme"].pk, sent["jane"].pk, sent["bob"].pk
    assert _activity() == [
        ("email_opened", jane, acme, "Your renewal offer", "", NOW, "email_tracking"),
        ("email_opened", bob, acme, "Your renewal offer", "", NOW, "email_tracking"),
    ]
    client = Client()
    client.force_login(csm)
    feed = client.get("/feed/").content.decode()
    rows = re.findall(r'data-testid="feed-row" data-activity="(\d+)"', feed)
    assert len(rows) == 2
    assert "Opened an email" in feed and "Your renewal offer" in feed and "Jane Doe" in feed
    assert "Ivy Poe" not in feed


def test_a_repeat_within_the_minute_is_one_activity_a_later_open_another(sent, clock):
    client = Client()
    client.get(sent["pixel"])
    clock.shift(dt.timedelta(seconds=20))
    client.get(sent["pixel"])
    assert Activity.objects.count() == 2  # Jane and Bob, once

    clock.shift(dt.timedelta(hours=1))
    client.get(sent["pixel"])

    email = Email.objects.get(pk=sent["email"].pk)
    assert email.open_count == 3
    assert Activity.objects.filter(contact_id=sent["jane"].pk).count() == 2


def test_a_click_is_an_activity_with_the_link(sent, clock):
    response = Client().get(sent["click"])
    assert (response.status_code, response["Location"]) == (302, OFFER)

    acme, jane, bob = sent["acme"].pk, sent["jane"].pk, sent["bob"].pk
    assert _activity() == [
        ("email_clicked", jane, acme, "Your renewal offer", OFFER, NOW, "email_tracking"),
        ("email_clicked", bob, acme, "Your renewal offer", OFFER, NOW, "email_tracking"),
    ]
    # The same event told twice (a retried redirect, the same minute) changes nothing.
    tracking.record_email_event(sent["email"], "clicked", NOW + dt.timedelta(seconds=30), url=OFFER)
    assert Activity.objects.count() == 2


def test_a_bad_token_records_nothing(sent):
    assert Client().get(sent["pixel"].replace(".gif", "x.gif")).status_code == 404
    assert Activity.objects.count() == 0
