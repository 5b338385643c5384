"""tend.core.fields.JSONTextField: JSON kept as the text written, read back as values."""

import json

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from tend.health.models import HealthScoreHistory
from tests.health.conftest import NOW, activate, make_company


def test_json_text_keeps_the_text_as_written_and_the_orm_reads_back_the_values(csm_actor):
    # given a history point saved through the ORM, with nested and awkward values
    company = make_company("Acme")
    profile = activate(csm_actor)
    changes = [{"criterion": "nps", "from_value": {"b": [1, 2.5, None]}, "to_value": '日本 "q" \\ \n', "a": True}]
    point = HealthScoreHistory.objects.create(
        record=company, profile=profile, version=profile.active_version, at=NOW, status="healthy", changes=changes
    )

    # when it is read back through the ORM and as the column's raw value
    stored = HealthScoreHistory.objects.get(pk=point.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes FROM health_healthscorehistory WHERE id = %s", [point.pk])
        raw = cursor.fetchone()[0]

    # then the ORM gives the values, and the column holds text in the order written (jsonb would
    # have reordered the keys "criterion", "from_value", "to_value", "a" by length)
    assert stored.changes == changes
    assert isinstance(raw, str)
    assert json.loads(raw) == changes
    assert raw.index('"criterion"') < raw.index('"from_value"') < raw.index('"to_value"') < raw.index('"a"')
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_typeof(changes)::text FROM health_healthscorehistory WHERE id = %s", [point.pk])
            assert cursor.fetchone()[0] == "json"


def test_json_text_is_still_validated_by_the_database(csm_actor):
    # SQLite by the column's JSON_VALID check, PostgreSQL by the json type
    company = make_company("Acme")
    profile = activate(csm_actor)
    with pytest.raises((DataError, IntegrityError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO health_healthscorehistory (record_id, profile_id, version_id, at, score, status, coverage,"
            " changes, reason) VALUES (%s, %s, %s, %s, NULL, '', 0, %s, 'daily')",
            [company.pk, profile.pk, profile.active_version_id, NOW, "{not json"],
        )
