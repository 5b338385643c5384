"""What the engagement tests share: records written through the record engine."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm import services as crm
from tend.crm.models import ChangeSource, ObjectType


def record(type_name: str, **props):
    return crm.record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name=type_name), properties=props, source=ChangeSource.SYSTEM
    )


@pytest.fixture
def acme(db):
    """A company named Acme (test modules with their own Acme override it)."""
    return record("companies", name="Acme")
