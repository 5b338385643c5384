"""The demo's bells: each CSM's latest alert, two tasks from the manager, a mention in a note."""

import pytest

from tend.notifications.models import Notification
from tend.notifications.text import notification_text

from .test_demo import demo, fast_and_frozen  # noqa: F401 - time stands still as in the demo tests

pytestmark = pytest.mark.django_db


def test_each_demo_csm_has_a_few_believable_notifications():
    demo("--companies", "60")
    yuki = list(
        Notification.objects.filter(user__email="yuki@demo.tend").select_related("record", "actor").order_by("kind")
    )
    assert sorted({n.kind for n in yuki}) == ["alert", "mention", "task_assigned"]
    assert [n.kind for n in yuki].count("task_assigned") == 2
    mention = next(n for n in yuki if n.kind == "mention")
    assert notification_text(mention).startswith(f"Morgan Lee mentioned you in a note on {mention.record.name}: ")
    assert Notification.objects.filter(user__email="manager@demo.tend").count() == 0
    assert Notification.objects.count() < 40  # a few each, not one per alert of the backfill
