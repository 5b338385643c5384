"""The Tasks tab's sorts read an index in order (no sort step), in both directions, and keep
their order: the id breaks ties in the sort's direction for columns that are never NULL."""

import pytest
from django.db import connection

from tend.core.policy import Actor
from tend.directory.services import user_create
from tend.engagement.models import Task
from tend.tasks import queries

from .conftest import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return user_create(email="sorts@example.com", password="pw-123456789", full_name="Sorts", has_service_seat=True)


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def table(owner, column: str, direction: str):
    state = queries.TaskTable(view_key="open", builtin="open", sorts=[{"propertyName": column, "direction": direction}])
    return queries.table_tasks(actor=Actor(owner), viewed_user=owner, table=state)


@pytest.mark.parametrize("column", ["subject", "status", "priority", "type", "assignee"])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_all_open_sorted_by_a_default_column_reads_an_index_in_order(owner, column, direction):
    text = plan(table(owner, column, direction)[:25])
    assert "TEMP B-TREE" not in text and "Sort" not in text, text


def test_a_descending_sort_breaks_ties_by_the_newest_id_and_an_ascending_one_by_the_oldest(owner):
    a, b, c = (make_task(owner, subject=s) for s in ("same", "same", "other"))
    assert list(table(owner, "subject", "DESCENDING")) == [b, a, c]
    assert list(table(owner, "subject", "ASCENDING")) == [c, a, b]


def test_completed_tasks_stay_out_of_all_open_whatever_the_sort(owner):
    kept = make_task(owner, subject="open")
    make_task(owner, subject="done", status=Task.Status.COMPLETED)
    assert list(table(owner, "status", "ASCENDING")) == [kept]
    assert list(table(owner, "assignee", "DESCENDING")) == [kept]
