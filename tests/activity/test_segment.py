"""Contact activity from the Segment endpoints: the userId names a contact by email or by an
external-id property (a setting, audit-logged), track events by the event mapping, page calls."""

import datetime as dt
import json

import pytest
import time_machine

from tend.activity.models import Activity
from tend.core.errors import ValidationFailed
from tend.core.policy import SYSTEM
from tend.crm.schema import property_create
from tend.cs_settings.models import SettingsChange
from tend.usage.models import UsageEvent
from tend.usage.settings import settings_update_activity, usage_settings

from .conftest import contact_of

NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def batch(client, messages):
    return client.post("/api/v1/ingest/batch", json.dumps({"batch": messages}), content_type="application/json")


def test_by_email_page_calls_and_mapped_track_events_become_activity(segment, jane, acme):
    response = batch(
        segment,
        [
            {
                "type": "page",
                "messageId": "p1",
                "userId": "JANE@acme.example",
                "name": "Pricing",
                "properties": {"url": "https://acme.example/pricing", "title": "Pricing"},
                "timestamp": "2026-03-11T08:00:00Z",
            },
            {"type": "track", "messageId": "t1", "userId": "jane@acme.example", "event": "Form Submitted",
             "properties": {"title": "Trial request"}, "timestamp": "2026-03-11T09:00:00Z"},
            {"type": "track", "messageId": "t2", "userId": "jane@acme.example", "event": "Logged In",
             "timestamp": "2026-03-11T09:00:00Z"},
            {"type": "track", "messageId": "t3", "userId": "someone@else.example", "event": "Form Submitted",
             "timestamp": "2026-03-11T09:00:00Z"},
        ],
    )  # fmt: skip
    assert response.status_code == 200
    assert UsageEvent.objects.count() == 4  # usage is stored as before
    rows = list(
        Activity.objects.order_by("occurred_at").values_list(
            "external_id", "type", "contact_id", "company_id", "asset_name", "asset_url", "source"
        )
    )
    assert rows == [
        ("segment:p1", "page_viewed", jane.pk, acme.pk, "Pricing", "https://acme.example/pricing", "segment"),
        ("segment:t1", "form_submitted", jane.pk, acme.pk, "Trial request", "", "segment"),
    ]
    batch(segment, [{"type": "page", "messageId": "p1", "userId": "jane@acme.example", "name": "Pricing"}])
    assert Activity.objects.count() == 2  # a replay adds nothing


def test_by_external_id_with_a_custom_event_mapping(segment, admin_actor, contacts, acme):
    property_create(actor=SYSTEM, object_type=contacts, name="app_user_id", label="App user id", type="text")
    bob = contact_of(contacts, acme, "Bob Roe", "bob@acme.example", app_user_id="u-42")
    settings_update_activity(
        actor=admin_actor,
        contact_match="property",
        contact_property="app_user_id",
        events=[("Webinar Attended", "webinar_attended"), ("Doc Opened", "document_viewed")],
        page_views=False,
    )
    batch(
        segment,
        [
            {"type": "track", "messageId": "w1", "userId": "u-42", "event": "Webinar Attended"},
            {"type": "track", "messageId": "w2", "userId": "u-42", "event": "Doc Opened",
             "properties": {"name": "Onboarding guide", "url": "https://docs.example/guide"}},
            {"type": "track", "messageId": "w3", "userId": "bob@acme.example", "event": "Doc Opened"},
            {"type": "page", "messageId": "w4", "userId": "u-42", "name": "Home"},
            {"type": "track", "messageId": "w5", "userId": "u-42", "event": "Form Submitted"},
        ],
    )  # fmt: skip
    got = {a.external_id: (a.type, a.type_label, a.contact_id, a.asset_name) for a in Activity.objects.all()}
    assert got == {
        "segment:w1": ("webinar_attended", "Webinar Attended", bob.pk, "Webinar Attended"),
        "segment:w2": ("document_viewed", "Viewed a document", bob.pk, "Onboarding guide"),
    }


def test_the_mapping_is_validated_and_audit_logged(admin_actor, csm_actor):
    with pytest.raises(ValidationFailed) as exc:
        settings_update_activity(
            actor=admin_actor,
            contact_match="property",
            contact_property="nope",
            events=[("X", "Bad Type")],
            page_views=True,
        )
    assert [e.field for e in exc.value.errors] == ["activityContactProperty", "activityEvents[0].type"]
    assert SettingsChange.objects.count() == 0
    settings_update_activity(
        actor=admin_actor, contact_match="email", events=[("Demo Booked", "meeting_booked")], page_views=True
    )
    change = SettingsChange.objects.get()
    assert (change.section, change.changed_by_id) == ("usage", admin_actor.user.pk)
    assert change.new_value["activityEvents"] == {"Demo Booked": "meeting_booked"}
    assert "Form Submitted" in change.old_value["activityEvents"]
    assert usage_settings().activity_events == {"Demo Booked": "meeting_booked"}
    from tend.core.errors import Forbidden

    with pytest.raises(Forbidden):
        settings_update_activity(actor=csm_actor, contact_match="email", events=[], page_views=True)


def test_the_settings_page_saves_the_mapping(client, admin):
    client.force_login(admin)
    response = client.post(
        "/settings/usage/",
        {
            "action": "activity",
            "activityContactMatch": "email",
            "event_name": ["Form Submitted", "Trial Started", ""],
            "event_type": ["form_submitted", "trial_started", ""],
            "activityPageViews": "1",
        },
    )
    assert response.status_code == 302
    assert usage_settings().activity_events == {"Form Submitted": "form_submitted", "Trial Started": "trial_started"}
    page = client.get("/settings/usage/").content.decode()
    assert "Trial Started" in page
    bad = client.post(
        "/settings/usage/",
        {"action": "activity", "activityContactMatch": "email", "event_name": ["X"], "event_type": ["Nope!"]},
    )
    assert bad.status_code == 422
    assert 'data-testid="activity-settings-errors"' in bad.content.decode()
