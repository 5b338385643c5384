import base64
import datetime as dt

import pytest
from django.test import Client

from tend.core.policy import SYSTEM
from tend.crm.models import Association
from tend.crm.services import record_create
from tend.directory.services import token_create

UTC = dt.UTC


@pytest.fixture
def acme(db, companies):
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme", "domain": "acme.example"})


@pytest.fixture
def globex(db, companies):
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": "Globex", "domain": "globex.example"})


@pytest.fixture
def jane(db, contacts, acme):
    contact = record_create(
        actor=SYSTEM, object_type=contacts, properties={"name": "Jane Doe", "email": "jane@acme.example"}
    )
    Association.objects.create(from_record=contact, to_record=acme, label="primary")
    Association.objects.create(from_record=acme, to_record=contact, label="primary")
    return contact


@pytest.fixture
def write_key(csm):
    _token, key = token_create(user=csm, name="segment", write=True)
    return key


@pytest.fixture
def segment(write_key):
    """A client authenticating as Segment's libraries do: Basic, write key as user, empty password."""
    raw = base64.b64encode(f"{write_key}:".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {raw}")


def track(message_id, event="Logged In", user="u1", at="2026-03-10T10:00:00Z", group=None, **extra):
    msg = {"type": "track", "messageId": message_id, "event": event, "userId": user, "timestamp": at}
    if group is not None:
        msg["context"] = {"groupId": group}
    msg.update(extra)
    return msg
