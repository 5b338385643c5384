import datetime as dt

import pytest
from django.test import Client

from tend.core.policy import SYSTEM
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.kinds import KINDS
from tend.engagement.services import engagement_create


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def make_user(db):
    def make(email: str, time_zone: str, **kw):
        kw.setdefault("has_service_seat", True)
        return user_create(
            email=email, password="pw-123456789", full_name=email.split("@")[0].title(), time_zone=time_zone, **kw
        )

    return make


@pytest.fixture
def acme(csm, companies):
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme GmbH"})


@pytest.fixture
def make_meeting():
    def make(owner, start: dt.datetime, end: dt.datetime, title: str = "Meeting", records=(), **props):
        properties = {"title": title, "start_at": start.isoformat(), "end_at": end.isoformat(), "owner": owner.pk}
        return engagement_create(
            actor=SYSTEM, kind=KINDS["meetings"], properties=properties | props, associations=[r.pk for r in records]
        )

    return make


@pytest.fixture
def make_task():
    def make(assignee, due: dt.datetime | None, subject: str = "Task", records=(), **props):
        properties = {"subject": subject, "due_at": due.isoformat() if due else None, "assignee": assignee.pk}
        return engagement_create(
            actor=SYSTEM, kind=KINDS["tasks"], properties=properties | props, associations=[r.pk for r in records]
        )

    return make


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
