import datetime as dt

import pytest
from django.utils import translation

from tend.core.policy import SYSTEM
from tend.crm.services import record_create
from tend.directory.services import user_create

NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english_after_each_test():
    """The preferences middleware leaves a request's language active in the test's thread: Yuki's
    Japanese must not leak into the next test."""
    yield
    translation.deactivate()


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def manager(db):
    return user_create(
        email="maria@example.com", password="pw-123456789", full_name="Maria Rossi", has_service_seat=True
    )


@pytest.fixture
def yuki(db):
    return user_create(
        email="yuki.tanaka@example.jp",
        password="pw-123456789",
        full_name="田中 優希",
        has_service_seat=True,
        language="ja",
        time_zone="Asia/Tokyo",
    )


@pytest.fixture
def jonas(db):
    return user_create(
        email="jonas@example.de",
        password="pw-123456789",
        full_name="Jonas Weber",
        has_service_seat=True,
        language="de",
        time_zone="Europe/Berlin",
    )


@pytest.fixture
def acme(companies):
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"}, source="system")
