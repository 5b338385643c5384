import base64
import datetime as dt

import pytest
from django.test import Client

from tend.core.policy import SYSTEM
from tend.crm.models import Association
from tend.crm.services import record_create
from tend.directory.services import token_create

UTC = dt.UTC


def contact_of(contacts, company, name, email, **props):
    contact = record_create(actor=SYSTEM, object_type=contacts, properties={"name": name, "email": email, **props})
    Association.objects.create(from_record=contact, to_record=company, label="primary")
    Association.objects.create(from_record=company, to_record=contact, label="primary")
    return contact


@pytest.fixture
def acme(db, companies):
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme", "domain": "acme.example"})


@pytest.fixture
def jane(db, contacts, acme):
    return contact_of(contacts, acme, "Jane Doe", "jane@acme.example")


@pytest.fixture
def segment(csm):
    _token, key = token_create(user=csm, name="segment", write=True)
    raw = base64.b64encode(f"{key}:".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {raw}")
