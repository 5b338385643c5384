"""How values read: dates, moments, numbers and money follow the viewer's language (en: US,
en-gb: UK, de, ja) and time zone."""

import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from tend.core.policy import SYSTEM
from tend.crm.display import Formatter, money
from tend.crm.models import ObjectType
from tend.crm.registry import registry_for
from tend.crm.services import record_create
from tend.directory.services import user_update_preferences

pytestmark = pytest.mark.django_db


def formatted(language: str, name: str, value, zone: str = "UTC") -> str:
    registry = registry_for(ObjectType.objects.get(name="companies"))
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        return Formatter(registry).format(registry.get(name), value)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "12/06/2026"), ("en-gb", "06/12/2026"), ("de", "06.12.2026"), ("ja", "2026/12/06")],
)
def test_a_date_reads_in_the_viewers_form(language, expected):
    assert formatted(language, "renewal_date", "2026-12-06") == expected


def test_a_moment_reads_on_the_viewers_clock_in_their_form():
    # 23:30 UTC on 5 December is already 6 December in Tokyo, and still the 5th in London
    assert formatted("en-gb", "created_at", "2026-12-05T23:30:00Z", "Europe/London") == "05/12/2026 23:30"


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("en-gb", "GBP", "£1,234.50"),
        ("en-gb", "EUR", "€1,234.50"),
        ("en-gb", "USD", "US$1,234.50"),
        ("en", "USD", "$1,234.50"),
        ("de", "EUR", "1.234,50\xa0€"),
        ("it", "EUR", "1.234,50\xa0€"),
        ("ja", "JPY", "￥1,234"),
    ],
)
def test_money_reads_in_the_viewers_form_with_its_currency(settings, language, currency, expected):
    settings.TEND_CURRENCY = currency
    with translation.override(language):
        assert money(1234.5) == expected


def test_a_london_user_reads_uk_dates_and_pounds_on_a_record_page(settings, csm):
    settings.TEND_CURRENCY = "GBP"
    user_update_preferences(user=csm, language="en-gb", time_zone="Europe/London")
    acme = record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme", "renewal_date": "2026-12-06", "mrr": 1200},
        source="system",
    )
    client = Client()
    client.force_login(csm)

    body = client.get(reverse("record-detail", args=["companies", acme.pk])).content.decode()

    assert '<html lang="en-gb">' in body
    assert "06/12/2026" in body and "12/06/2026" not in body
    assert "£1,200.00" in body
