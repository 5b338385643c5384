"""The `records_changed` hook: the record engine announces, health marks the accounts dirty, in the
same transaction as the change."""

import pytest
from django.db import transaction

from tend.core import hooks
from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import association_create, record_create, record_update
from tend.health.dirty import mark_related_accounts
from tend.health.models import DirtyAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    calls = []

    def receiver(record_ids, *, reason):
        calls.append((record_ids, reason))

    hooks.on_records_changed(receiver)
    yield calls
    hooks._records.receivers.remove(receiver)


def test_receivers_hear_each_record_once_in_order(heard):
    hooks.records_changed([7, 3, None, 7], reason="record")
    hooks.records_changed([], reason="record")
    hooks.records_changed([None], reason="record")

    assert heard == [([3, 7], "record")]


def test_subscribing_twice_is_subscribing_once(heard):
    receiver = hooks._records.receivers[-1]
    hooks.on_records_changed(receiver)

    hooks.records_changed([1], reason="x")

    assert heard == [([1], "x")]


def test_health_is_subscribed_by_its_app_config():
    assert mark_related_accounts in hooks._records.receivers


def test_a_record_change_marks_its_account_dirty():
    companies = ObjectType.objects.get(name="companies")
    acme = record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"})
    DirtyAccount.objects.all().delete()

    record_update(actor=SYSTEM, record=acme, properties={"city": "Berlin"})

    assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(acme.pk, "record")]


def test_a_ticket_association_marks_the_company_dirty():
    companies, tickets = ObjectType.objects.get(name="companies"), ObjectType.objects.get(name="tickets")
    acme = record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"})
    ticket = record_create(actor=SYSTEM, object_type=tickets, properties={"name": "T-1"})
    DirtyAccount.objects.all().delete()

    association_create(actor=SYSTEM, from_record=ticket, to_record=acme)

    assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(acme.pk, "association")]


def test_the_marks_roll_back_with_the_change():
    companies = ObjectType.objects.get(name="companies")
    acme = record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"})
    DirtyAccount.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        record_update(actor=SYSTEM, record=acme, properties={"city": "Berlin"})
        raise RuntimeError("the caller's transaction fails after the change")

    acme.refresh_from_db()
    assert "city" not in acme.properties
    assert not DirtyAccount.objects.exists()


def test_news_of_accounts_marks_them_dirty_and_rolls_back_with_the_change():
    acme = record_create(
        actor=SYSTEM, object_type=ObjectType.objects.get(name="companies"), properties={"name": "Acme"}, source="system"
    )
    DirtyAccount.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        hooks.accounts_changed([acme.pk], reason="usage")
        assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(acme.pk, "usage")]
        raise RuntimeError("the ingestion failed")
    assert not DirtyAccount.objects.exists()

    hooks.accounts_changed([acme.pk, None, acme.pk], reason="nps")

    assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(acme.pk, "nps")]
