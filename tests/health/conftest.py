import datetime as dt

import pytest
import time_machine

from tend.crm.models import Association, ObjectType, Record
from tend.health import services
from tend.usage.models import DailyUsage, SurveyResponse

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_company(name="Acme", **props) -> Record:
    ctype = ObjectType.objects.get(name="companies")
    return Record.objects.create(object_type=ctype, name=name, created_at=NOW, updated_at=NOW, properties=props)


def make_record(type_name: str, company: Record | None = None, *, created_at=None, stage=None, **props) -> Record:
    otype = ObjectType.objects.get(name=type_name)
    record = Record.objects.create(
        object_type=otype,
        name=props.pop("name", type_name),
        created_at=created_at or NOW,
        updated_at=NOW,
        stage=stage,
        properties=props,
    )
    if company is not None:
        Association.objects.create(from_record=company, to_record=record)
        Association.objects.create(from_record=record, to_record=company)
    return record


def usage(company: Record, event: str, *, days_ago: int, count: int, users: int = 1) -> None:
    DailyUsage.objects.create(
        account=company, day=TODAY - dt.timedelta(days=days_ago), event=event, count=count, users=users
    )


def nps(company: Record, score: int, *, days_ago: int) -> SurveyResponse:
    at = NOW - dt.timedelta(days=days_ago)
    return SurveyResponse.objects.create(account=company, score=score, responded_at=at, created_at=at)


def activate(actor, definition=None, name="Standard"):
    profile = services.profile_create(actor=actor, name=name)
    if definition is not None:
        services.profile_update_draft(actor=actor, profile=profile, definition=definition)
    services.profile_activate(actor=actor, profile=profile)
    profile.refresh_from_db()
    return profile


def health_properties(record: Record) -> dict:
    """The record's `health_score` / `health_status` as the API and the tables read them."""
    from tend.crm.api import record_properties
    from tend.crm.registry import registry_for

    props = record_properties(record, registry_for(record.object_type), ["health_score", "health_status"])
    return props
