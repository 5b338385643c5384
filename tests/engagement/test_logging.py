"""Logging notes and calls from a record: create, edit and delete through the record's forms,
who may, and the timeline (the user's time zone; a bounded number of queries)."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.core.errors import Forbidden
from tend.core.policy import SYSTEM, Actor
from tend.crm import services as crm
from tend.crm.models import ObjectType
from tend.directory.services import user_create
from tend.engagement import services
from tend.engagement.kinds import KINDS
from tend.engagement.models import Call, Note

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def tokyo_csm(db):
    return user_create(
        email="aiko@example.com", full_name="Aiko Sato", has_service_seat=True, time_zone="Asia/Tokyo", language="ja"
    )


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_note_is_written_and_shows_on_the_timeline(csm, acme):
    client = _client(csm)
    response = client.post(
        f"/records/companies/{acme.pk}/log/notes/",
        {"body": "Renewal talk went well.\nSend the offer.", "records": [acme.pk]},
        headers=HTMX,
    )

    assert response.status_code == 204
    assert "tend:activity-changed" in response["HX-Trigger"]
    note = Note.objects.get()
    assert (note.body, note.owner_id, note.created_at) == ("Renewal talk went well.\nSend the offer.", csm.pk, NOW)
    assert list(note.records.values_list("pk", flat=True)) == [acme.pk]
    timeline = client.get(f"/records/companies/{acme.pk}/timeline/", headers=HTMX).content.decode()
    assert "Renewal talk went well.<br>Send the offer." in timeline
    acme.refresh_from_db()
    assert acme.last_activity_at == NOW


def test_from_the_preview_the_panel_shows_the_record_again(csm, acme):
    response = _client(csm).post(
        f"/records/companies/{acme.pk}/log/notes/", {"body": "From the panel", "context": "panel"}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="record-preview"' in body and "From the panel" in body and "Note saved." in body


def test_an_empty_note_is_an_error_by_the_field(csm, acme):
    response = _client(csm).post(f"/records/companies/{acme.pk}/log/notes/", {"body": "  "}, headers=HTMX)
    assert response.status_code == 422
    assert 'data-testid="error-body"' in response.content.decode()
    assert Note.objects.count() == 0


def test_a_call_is_logged_in_the_users_time_zone(tokyo_csm, acme):
    client = _client(tokyo_csm)
    form = client.get(f"/records/companies/{acme.pk}/log/calls/", headers=HTMX).content.decode()
    assert 'value="2026-03-02T18:30"' in form  # now, in Tokyo

    response = client.post(
        f"/records/companies/{acme.pk}/log/calls/",
        {
            "title": "Check-in",
            "outcome": "connected",
            "direction": "outbound",
            "duration": "25",
            "occurred_at": "2026-03-02T17:00",
            "body": "Talked about seats",
            "records": [acme.pk],
        },
        headers=HTMX,
    )

    assert response.status_code == 204
    call = Call.objects.get()
    assert (call.title, call.outcome, call.duration_seconds, call.owner_id) == (
        "Check-in",
        "connected",
        1500,
        tokyo_csm.pk,
    )
    assert call.occurred_at == dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    timeline = client.get(f"/records/companies/{acme.pk}/timeline/", headers=HTMX).content.decode()
    assert "25 分" in timeline and "Check-in" in timeline  # in her language


def test_a_call_in_the_future_or_a_bad_duration_is_refused(csm, acme):
    response = _client(csm).post(
        f"/records/companies/{acme.pk}/log/calls/",
        {"outcome": "connected", "direction": "outbound", "duration": "abc", "occurred_at": "2026-03-05T09:00"},
        headers=HTMX,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'data-testid="error-duration"' in body and 'data-testid="error-occurred_at"' in body
    assert Call.objects.count() == 0


def _note(user, record, body="Mine"):
    return services.engagement_create(
        actor=Actor(user), kind=KINDS["notes"], properties={"body": body}, associations=[record.pk]
    )


def test_the_owner_edits_and_deletes_their_note(csm, acme):
    note = _note(csm, acme)
    client = _client(csm)

    edited = client.post(f"/records/companies/{acme.pk}/log/notes/{note.pk}/edit/", {"body": "Rewritten"}, headers=HTMX)
    assert edited.status_code == 204
    note.refresh_from_db()
    assert note.body == "Rewritten"

    deleted = client.post(f"/records/companies/{acme.pk}/log/notes/{note.pk}/delete/", headers=HTMX)
    assert deleted.status_code == 204
    note.refresh_from_db()
    assert note.archived_at == NOW
    assert "Rewritten" not in client.get(f"/records/companies/{acme.pk}/timeline/", headers=HTMX).content.decode()


def test_another_csm_may_not_change_it_but_a_settings_manager_may(csm, acme):
    note = _note(csm, acme)
    other = user_create(email="other@example.com", password="pw-123456789", has_service_seat=True)
    manager = user_create(email="m@example.com", has_service_seat=True, manage_cs_settings=True)

    refused = _client(other).post(
        f"/records/companies/{acme.pk}/log/notes/{note.pk}/edit/", {"body": "Hijack"}, headers=HTMX
    )
    assert refused.status_code == 403
    with pytest.raises(Forbidden):
        services.engagement_archive(actor=Actor(other), engagement=note)
    note.refresh_from_db()
    assert (note.body, note.archived_at) == ("Mine", None)
    timeline = _client(other).get(f"/records/companies/{acme.pk}/timeline/", headers=HTMX).content.decode()
    assert 'data-testid="entry-actions"' not in timeline

    assert (
        _client(manager).post(f"/records/companies/{acme.pk}/log/notes/{note.pk}/delete/", headers=HTMX).status_code
        == 204
    )
    note.refresh_from_db()
    assert note.archived_at == NOW


def test_a_viewer_without_a_seat_cannot_log(viewer, acme):
    response = _client(viewer).post(f"/records/companies/{acme.pk}/log/notes/", {"body": "x"}, headers=HTMX)
    assert response.status_code == 403
    assert Note.objects.count() == 0


def test_a_note_of_another_record_is_not_found_here(csm, acme):
    other = crm.record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name="companies"), properties={"name": "Other"}
    )
    note = _note(csm, other)
    response = _client(csm).post(f"/records/companies/{acme.pk}/log/notes/{note.pk}/delete/", headers=HTMX)
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.archived_at is None


def _timeline_queries(client, record) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/records/companies/{record.pk}/timeline/", headers=HTMX).status_code == 200
    return len(queries)


def test_the_timeline_reads_a_bounded_number_of_queries(csm, acme):
    client = _client(csm)
    _note(csm, acme, "one")
    services.engagement_create(actor=Actor(csm), kind=KINDS["calls"], properties={"title": "c"}, associations=[acme.pk])
    few = _timeline_queries(client, acme)
    for i in range(15):
        _note(csm, acme, f"note {i}")
        services.engagement_create(
            actor=Actor(csm), kind=KINDS["calls"], properties={"title": f"c{i}"}, associations=[acme.pk]
        )
    assert _timeline_queries(client, acme) == few
