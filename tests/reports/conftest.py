"""What the KPI tests share: records written through the record engine at chosen instants (so
their property history is the product's own), scopes, and the moment the tests run at."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from tend.core.policy import SYSTEM
from tend.crm import services
from tend.crm.models import ChangeSource, ObjectType, Record, Stage
from tend.directory.services import user_create
from tend.health.models import HealthScore
from tend.reports.kpis import KpiScope

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
UTC = zoneinfo.ZoneInfo("UTC")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
LONG_AGO = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)


def at(iso: str) -> dt.datetime:
    """An instant written as "2026-02-10" (09:00 UTC) or "2026-03-31T23:30" (UTC)."""
    value = dt.datetime.fromisoformat(iso if "T" in iso else f"{iso}T09:00")
    return value.replace(tzinfo=dt.UTC)


def create(type_name: str, when: dt.datetime, **properties) -> Record:
    with time_machine.travel(when, tick=False):
        return services.record_create(
            actor=SYSTEM,
            object_type=ObjectType.objects.get(name=type_name),
            properties=properties,
            source=ChangeSource.SYSTEM,
        )


def update(record: Record, when: dt.datetime, **properties) -> Record:
    with time_machine.travel(when, tick=False):
        record.refresh_from_db()
        return services.record_update(actor=SYSTEM, record=record, properties=properties, source=ChangeSource.SYSTEM)


def customer(name: str, *, created: dt.datetime = LONG_AGO, **properties) -> Record:
    return create("companies", created, name=name, **{"cs_stage": "active", **properties})


def stage(pipeline: str, label: str) -> Stage:
    return Stage.objects.get(pipeline__label=pipeline, label=label)


def scope(first: str, last: str, tz: zoneinfo.ZoneInfo = UTC, **options) -> KpiScope:
    return KpiScope(start=dt.date.fromisoformat(first), end=dt.date.fromisoformat(last), tz=tz, **options)


def score(record: Record, profile, value: float | None, status: str) -> HealthScore:
    return HealthScore.objects.create(
        record=record, profile=profile, version=profile.active_version, score=value, status=status, computed_at=NOW
    )


@pytest.fixture
def now(time_machine):
    """The tests run on 15 June 2026 at noon UTC, once their history is written."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def csms(db):
    """Two CSMs, Ann and Ben."""
    return (
        user_create(email="ann@example.com", full_name="Ann Lee", has_service_seat=True),
        user_create(email="ben@example.com", full_name="Ben Ito", has_service_seat=True),
    )


@pytest.fixture
def without_built_ins(db):
    """The library and the tab as the tests of what users make build them: without the KPI
    reports and dashboard that `migrate` installs (tests/reports/test_kpis.py covers those)."""
    from tend.reports.models import Dashboard, Report, TabDashboard

    TabDashboard.objects.all().delete()
    Dashboard.objects.exclude(built_in="").delete()
    Report.objects.filter(built_in=True).delete()
