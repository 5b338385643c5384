"""Password reset by email, end to end through a real SMTP server: the link in the received mail
sets a new password once; the email is in the user's language; unknown addresses learn nothing."""

import re

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from tend.directory.services import user_create

pytestmark = pytest.mark.django_db


def test_a_forgotten_password_is_reset_through_the_emailed_link(smtp_server, translated):
    user = user_create(email="anna@example.de", password="old-password-1", full_name="Anna Schmidt", language="de")
    client = Client()
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()

    response = client.post("/password-reset/", {"email": "Anna@Example.de"})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent/")

    [received] = smtp_server.received
    assert received.rcpt_tos == ["anna@example.de"]
    assert received.header("Subject") == "Setzen Sie Ihr Tend-Passwort zurück"
    body = received.message.get_content()
    assert body.startswith("Hallo Anna Schmidt,")
    link = re.search(r"http://testserver(/reset/[^/\s]+/[^/\s]+/)", body).group(1)

    form = client.get(link, follow=True)
    assert 'data-testid="password-set-form"' in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-pw-42", "new_password2": "brand-new-pw-42"}
    )
    assert (done.status_code, done["Location"]) == (302, "/reset/done/")
    assert authenticate(username="anna@example.de", password="brand-new-pw-42") == user
    assert authenticate(username="anna@example.de", password="old-password-1") is None

    again = client.get(link, follow=True)
    assert 'data-testid="password-link-invalid"' in again.content.decode()


def test_an_unknown_address_sends_nothing_and_says_the_same(smtp_server):
    response = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent/")
    assert smtp_server.received == []
