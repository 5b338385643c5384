"""Fixtures the record-engine tests share."""

import pytest

from tend.crm.models import ObjectType
from tests.crm.helpers import NOW


@pytest.fixture
def clock(time_machine):
    """Time stands still at NOW until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def deals(db):
    return ObjectType.objects.get(name="deals")
