"""Services need an actor: background work passes `policy.SYSTEM`, and no actor at all is a
TypeError that changes nothing (it used to skip every check)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tend.core.errors import Forbidden
from tend.core.policy import SYSTEM
from tend.crm.models import Association, Follow, PropertyChange, Record
from tend.crm.services import association_create, follow_set, record_create, record_update
from tend.engagement.kinds import KINDS
from tend.engagement.models import Task
from tend.engagement.services import engagement_create
from tend.usage.ingest.store import events_ingest
from tend.usage.models import SurveyResponse, UsageEvent
from tend.usage.surveys import survey_responses_record
from tend.workspace.models import SavedView
from tend.workspace.services import view_create

pytestmark = pytest.mark.django_db

NO_ACTOR = "An actor is required; background work acts as policy.SYSTEM."


@pytest.fixture
def acme(companies):
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"})


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Record, PropertyChange, Association, Task, SurveyResponse, UsageEvent, SavedView, Follow)
    }


def test_no_actor_writes_no_record(companies):
    with pytest.raises(TypeError) as excinfo:
        record_create(actor=None, object_type=companies, properties={"name": "Acme"})

    assert str(excinfo.value) == NO_ACTOR
    assert (Record.objects.count(), PropertyChange.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda acme: record_update(actor=None, record=acme, properties={"city": "Oslo"}), id="update"),
        pytest.param(
            lambda acme: association_create(
                actor=None, from_record=acme, to_record=Record.objects.exclude(pk=acme.pk).first()
            ),
            id="associate",
        ),
        pytest.param(
            lambda acme: engagement_create(
                actor=None, kind=KINDS["tasks"], properties={"subject": "Call"}, associations=[acme.pk]
            ),
            id="task",
        ),
        pytest.param(
            lambda acme: survey_responses_record(
                actor=None, items=[{"accountId": acme.pk, "score": 9, "respondedAt": "2026-01-02T00:00:00Z"}]
            ),
            id="survey",
        ),
        pytest.param(
            lambda acme: events_ingest(
                actor=None, messages=[{"type": "track", "event": "Logged In", "userId": "u1", "messageId": "m1"}]
            ),
            id="usage event",
        ),
        pytest.param(lambda acme: follow_set(actor=None, record=acme, following=True), id="follow"),
    ],
)
def test_no_actor_is_a_type_error_that_changes_nothing(call, acme, contacts):
    record_create(actor=SYSTEM, object_type=contacts, properties={"name": "Jo"})
    acme.refresh_from_db()
    before, properties = counts(), dict(acme.properties)

    with pytest.raises(TypeError) as excinfo:
        call(acme)

    assert str(excinfo.value) == NO_ACTOR
    acme.refresh_from_db()
    assert (counts(), acme.properties) == (before, properties)


def test_the_system_actor_writes_history_without_a_user(csm, acme):
    record_update(actor=SYSTEM, record=acme, properties={"city": "Oslo"})

    change = PropertyChange.objects.get(record=acme, property_name="city")
    client = Client()
    client.force_login(csm)
    body = client.get(
        reverse("record-property-history", args=["companies", acme.pk, "city"]), HTTP_HX_REQUEST="true"
    ).content.decode()

    assert (change.changed_by_id, change.new_value) == (None, "Oslo")
    assert re.search(r"m\. · Tend · API</div>", body)  # when · who · how


def test_the_system_actor_creates_tasks_for_nobody_in_particular(acme):
    task = engagement_create(
        actor=SYSTEM, kind=KINDS["tasks"], properties={"subject": "Renewal call"}, associations=[acme.pk]
    )

    assert (task.subject, task.assignee_id, list(task.records.values_list("pk", flat=True))) == (
        "Renewal call",
        None,
        [acme.pk],
    )


def test_the_system_actor_keeps_no_views_and_follows_nothing(companies, acme):
    before = counts()

    with pytest.raises(Forbidden) as no_view:
        view_create(actor=SYSTEM, tab="customers", object_type=companies, name="Mine")
    with pytest.raises(Forbidden) as no_follow:
        follow_set(actor=SYSTEM, record=acme, following=True)

    assert (str(no_view.value), str(no_follow.value)) == (
        "A saved view belongs to a person.",
        "Tend itself follows no records.",
    )
    assert counts() == before
