"""Alerts to the bells: the live recompute notifies the account's owner and CSM of a new alert,
once; the demo's and an activation's first scores notify nobody."""

import pytest

from tend.core.policy import Actor
from tend.directory.services import user_create
from tend.health.alert_notices import notify_alerts
from tend.health.models import HealthAlert, NewHealthAlert
from tend.health.recompute.run import recompute
from tend.notifications.models import Notification
from tend.notifications.services import notification_settings_update
from tend.notifications.text import notification_text

from .conftest import NOW, activate, make_company, nps
from .test_services import two_groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return user_create(email="olga@example.com", full_name="Olga Owner", has_service_seat=True)


def _account(csm, owner):
    company = make_company("Acme", csm=csm.pk)
    company.owner = owner
    company.save(update_fields=["owner"])
    nps(company, 8, days_ago=5)
    return company


def bells():
    return sorted(Notification.objects.values_list("user__email", "kind", "record__name"))


def test_a_status_change_notifies_the_owner_and_the_csm_once(csm, csm_actor, owner, at_now):
    company = _account(csm, owner)
    activate(csm_actor, two_groups())
    recompute()
    assert bells() == []  # the first score raises no alert

    nps(company, 3, days_ago=0)
    recompute([company.pk])
    recompute([company.pk])  # the same alert is not raised again, nor notified

    raised = sorted(HealthAlert.objects.values_list("kind", "signal"))
    assert raised == [("churn_signal", "nps_drop"), ("status_change", "")]
    assert bells() == [("csm@example.com", "alert", "Acme")] * 2 + [("olga@example.com", "alert", "Acme")] * 2
    texts = sorted(notification_text(n) for n in Notification.objects.select_related("record").filter(user=csm))
    assert texts == ["Alert on Acme: Health changed from Neutral to At risk", "Alert on Acme: NPS dropped"]
    assert set(Notification.objects.values_list("created_at", "actor_id")) == {(NOW, None)}


def test_notifying_the_same_alerts_again_notifies_nobody_twice(csm, owner, at_now):
    company = _account(csm, owner)
    alert = NewHealthAlert(
        record_id=company.pk,
        profile_id=None,
        kind=HealthAlert.Kind.CHURN_SIGNAL,
        signal="nps_detractor",
        priority="high",
        title="NPS detractor",
        evidence={},
        user_id=csm.pk,
        raised_at=NOW,
        expires_at=NOW,
        book_owner_id=owner.pk,
        book_csm_id=csm.pk,
    )
    assert notify_alerts([alert]) == 2
    assert notify_alerts([alert]) == 0
    assert notify_alerts([alert._replace(record_live=False, raised_at=NOW.replace(hour=1))]) == 0


def test_no_notification_when_turned_off_or_not_live(csm, csm_actor, owner, at_now):
    company = _account(csm, owner)
    notification_settings_update(actor=Actor(owner), user=owner, alert=False)
    activate(csm_actor, two_groups())
    recompute()
    nps(company, 3, days_ago=0)
    recompute([company.pk], notify=False)
    assert bells() == []
    assert HealthAlert.objects.filter(kind="status_change").count() == 1
