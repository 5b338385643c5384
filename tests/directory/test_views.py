"""Sign-in by email, language and time zone preferences, View as."""

import pytest

from tend.core.web import VIEW_AS_SESSION_KEY
from tend.directory.models import User
from tend.directory.services import user_create

pytestmark = pytest.mark.django_db


def test_sign_in_with_email_and_password(client, csm):
    response = client.post("/login/", {"username": "CSM@example.com", "password": "pw-123456789"})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200


def test_wrong_password_says_so_and_signs_nobody_in(client, csm):
    response = client.post("/login/", {"username": "csm@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert client.get("/customers/").status_code == 302


def test_preferences_save_language_and_time_zone(client, csm):
    client.force_login(csm)
    response = client.post("/me/preferences/", {"language": "ja", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    csm.refresh_from_db()
    assert (csm.language, csm.time_zone) == ("ja", "Asia/Tokyo")
    page = client.get("/customers/")
    assert '<html lang="ja">' in page.content.decode()


def test_invalid_preferences_change_nothing(client, csm):
    client.force_login(csm)
    response = client.post("/me/preferences/", {"language": "fr", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("is-invalid") == 2
    csm.refresh_from_db()
    assert (csm.language, csm.time_zone) == ("en", "UTC")


def test_view_as_needs_the_settings_permission(client, csm, viewer):
    client.force_login(csm)
    assert client.get("/view-as/").status_code == 403
    client.post("/view-as/", {"user": viewer.pk})
    assert VIEW_AS_SESSION_KEY not in client.session


def test_view_as_and_stop(client, csm):
    manager = user_create(
        email="m@example.com", password="pw-123456789", manage_cs_settings=True, has_service_seat=True
    )
    client.force_login(manager)
    assert client.post("/view-as/", {"user": csm.pk}).status_code == 302
    assert client.session[VIEW_AS_SESSION_KEY] == csm.pk
    assert "Viewing as Casey CSM" in client.get("/customers/").content.decode()
    client.post("/view-as/", {"stop": "1"})
    assert VIEW_AS_SESSION_KEY not in client.session


def test_inactive_view_as_target_falls_back_to_self(client, csm):
    manager = user_create(
        email="m@example.com", password="pw-123456789", manage_cs_settings=True, has_service_seat=True
    )
    client.force_login(manager)
    client.post("/view-as/", {"user": csm.pk})
    User.objects.filter(pk=csm.pk).update(is_active=False)
    assert "Viewing as" not in client.get("/customers/").content.decode()
