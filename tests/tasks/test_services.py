"""Bulk actions on tasks: each action, explicit ids or "all matching the filter" (in the database,
a constant number of queries whatever the number of tasks), history, and nothing changed on bad input."""

import datetime as dt

import pytest

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import SYSTEM, Actor, Scope
from tend.crm import services as crm
from tend.crm.models import ChangeSource, ObjectType
from tend.engagement import services as engagement
from tend.engagement.kinds import KINDS
from tend.engagement.models import Task, TaskChange
from tend.tasks import services
from tend.tasks.services import Selection

from .conftest import make_task, make_tasks

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def snapshot():
    return list(Task.objects.order_by("pk").values()), TaskChange.objects.count()


OPEN_HIGH = {"filterGroups": [{"filters": [{"propertyName": "priority", "operator": "EQ", "value": "high"}]}]}


# ---- each action, with history --------------------------------------------------------------------


def test_complete_by_ids_changes_only_open_tasks_and_records_history(csm, csm_actor):
    # Given two open tasks and one already completed
    a = make_task(csm, subject="a")
    b = make_task(csm, subject="b")
    done = make_task(csm, subject="done", status=Task.Status.COMPLETED)
    # When all three are completed in bulk
    changed = services.tasks_bulk_complete(actor=csm_actor, selection=Selection(ids=[a.pk, b.pk, done.pk]))
    # Then two changed, completed now, with status and completion history (source bulk, by the CSM)
    assert changed == 2
    a.refresh_from_db()
    assert (a.status, a.completed_at, a.updated_at) == (Task.Status.COMPLETED, NOW, NOW)
    rows = list(
        TaskChange.objects.filter(task=a)
        .order_by("property")
        .values_list("property", "old_value", "new_value", "changed_by", "changed_at", "source")
    )
    assert rows == [
        ("completed_at", None, "2026-03-02T09:30:00Z", csm.pk, NOW, "bulk"),
        ("status", "not_started", "completed", csm.pk, NOW, "bulk"),
    ]
    assert not TaskChange.objects.filter(task=done).exists()


def test_reopen_clears_completion(csm, csm_actor):
    done = make_task(csm, subject="done", status=Task.Status.COMPLETED)
    open_task = make_task(csm, subject="open")
    changed = services.tasks_bulk_reopen(actor=csm_actor, selection=Selection(ids=[done.pk, open_task.pk]))
    assert changed == 1
    done.refresh_from_db()
    assert (done.status, done.completed_at) == (Task.Status.NOT_STARTED, None)
    assert sorted(TaskChange.objects.filter(task=done).values_list("property", "old_value", "new_value")) == [
        ("completed_at", "2026-01-01T00:00:00Z", None),
        ("status", "completed", "not_started"),
    ]


def test_assign_to_a_user(csm, csm_actor, admin):
    a = make_task(csm, subject="a")
    mine_already = make_task(admin, subject="b")
    changed = services.tasks_bulk_assign(
        actor=csm_actor, selection=Selection(ids=[a.pk, mine_already.pk]), assignee=admin.pk
    )
    assert changed == 1
    assert Task.objects.get(pk=a.pk).assignee_id == admin.pk
    assert list(TaskChange.objects.values_list("task", "property", "old_value", "new_value")) == [
        (a.pk, "assignee", csm.pk, admin.pk)
    ]


@pytest.mark.parametrize(
    ("name", "raw", "column", "stored", "history"),
    [
        ("priority", "high", "priority", "high", "high"),
        ("type", "call", "type", "call", "call"),
        ("subject", "Renewal call", "subject", "Renewal call", "Renewal call"),
        ("notes", "", "notes", "", None),
        (
            "due_at",
            "2026-03-05T10:00:00+01:00",
            "due_at",
            dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC),
            "2026-03-05T09:00:00Z",
        ),
        ("status", "in_progress", "status", "in_progress", "in_progress"),
    ],
)
def test_set_property(csm, csm_actor, name, raw, column, stored, history):
    task = make_task(csm, subject="s", notes="old notes", due_at=dt.datetime(2026, 3, 4, 8, tzinfo=dt.UTC))
    changed = services.tasks_bulk_set_property(
        actor=csm_actor, selection=Selection(ids=[task.pk]), property_name=name, value=raw
    )
    assert changed == 1
    assert getattr(Task.objects.get(pk=task.pk), column) == stored
    assert TaskChange.objects.get(task=task, property=name).new_value == history


def test_set_status_completed_completes(csm, csm_actor):
    task = make_task(csm)
    services.tasks_bulk_set_property(
        actor=csm_actor, selection=Selection(ids=[task.pk]), property_name="status", value="completed"
    )
    task.refresh_from_db()
    assert (task.status, task.completed_at) == ("completed", NOW)


def test_archive_hides_tasks_and_records_history(csm, csm_actor):
    task = make_task(csm)
    assert services.tasks_bulk_archive(actor=csm_actor, selection=Selection(ids=[task.pk])) == 1
    assert Task.objects.active().count() == 0
    assert list(TaskChange.objects.values_list("property", "old_value", "new_value")) == [("archived", False, True)]
    # An archived task can no longer be selected
    with pytest.raises(ValidationFailed) as exc:
        services.tasks_bulk_complete(actor=csm_actor, selection=Selection(ids=[task.pk]))
    assert [e.field for e in exc.value.errors] == ["ids[0]"]


# ---- all matching the filter, in the database ------------------------------------------------------


@pytest.mark.parametrize("n", [50, 3000])
def test_complete_all_matching_a_filter_takes_constant_queries(csm, csm_actor, admin, n, django_assert_max_num_queries):
    # Given n high-priority tasks of the CSM, a low one, and a high one of someone else
    make_tasks(csm, n)
    Task.objects.update(priority="high")
    low = make_task(csm, subject="low", priority="low")
    other = make_task(admin, subject="other", priority="high")
    # When every high-priority open task of the CSM is completed
    with django_assert_max_num_queries(8):
        changed = services.tasks_bulk_complete(
            actor=csm_actor, selection=Selection(filters=OPEN_HIGH, view="open", user=csm)
        )
    # Then exactly those changed, each with its two history rows
    assert changed == n
    assert Task.objects.filter(status="completed").count() == n
    assert Task.objects.get(pk=low.pk).status == "not_started"
    assert Task.objects.get(pk=other.pk).status == "not_started"
    assert TaskChange.objects.count() == 2 * n
    assert TaskChange.objects.filter(property="status", new_value="completed", source="bulk").count() == n


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        ("reopen", {}),
        ("assign", {"value": "ADMIN"}),
        ("set_property", {"property_name": "priority", "value": "low"}),
        ("archive", {}),
    ],
)
def test_every_action_over_thousands_is_one_statement_per_table(
    csm, csm_actor, admin, action, kwargs, django_assert_max_num_queries
):
    make_tasks(csm, 2500, status=Task.Status.COMPLETED)
    if kwargs.get("value") == "ADMIN":
        kwargs = {**kwargs, "value": admin.pk}
    with django_assert_max_num_queries(8):
        changed = services.tasks_bulk(
            actor=csm_actor, action=action, selection=Selection(filters={}, user=csm), **kwargs
        )
    assert changed == 2500
    assert TaskChange.objects.filter(source="bulk").values("task").distinct().count() == 2500


def test_search_query_narrows_the_selection(csm, csm_actor):
    make_task(csm, subject="Call Acme")
    make_task(csm, subject="Email Globex")
    changed = services.tasks_bulk_complete(actor=csm_actor, selection=Selection(filters={"query": "acme"}, user=csm))
    assert changed == 1
    assert list(Task.objects.completed().values_list("subject", flat=True)) == ["Call Acme"]


# ---- bad input changes nothing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda a, t: services.tasks_bulk_complete(actor=a, selection=Selection(ids=[])), "ids"),
        (lambda a, t: services.tasks_bulk_complete(actor=a, selection=Selection(ids=[t.pk, 999999])), "ids[1]"),
        (lambda a, t: services.tasks_bulk_complete(actor=a, selection=Selection(ids=["x"])), "ids"),
        (lambda a, t: services.tasks_bulk_assign(actor=a, selection=Selection(ids=[t.pk]), assignee=999999), "value"),
        (lambda a, t: services.tasks_bulk_assign(actor=a, selection=Selection(ids=[t.pk]), assignee=""), "value"),
        (
            lambda a, t: services.tasks_bulk_set_property(
                actor=a, selection=Selection(ids=[t.pk]), property_name="completed_at", value="2026-01-01T00:00:00Z"
            ),
            "property",
        ),
        (
            lambda a, t: services.tasks_bulk_set_property(
                actor=a, selection=Selection(ids=[t.pk]), property_name="nope", value="x"
            ),
            "property",
        ),
        (
            lambda a, t: services.tasks_bulk_set_property(
                actor=a, selection=Selection(ids=[t.pk]), property_name="priority", value="urgent"
            ),
            "value",
        ),
        (
            lambda a, t: services.tasks_bulk_set_property(
                actor=a, selection=Selection(ids=[t.pk]), property_name="subject", value=""
            ),
            "value",
        ),
        (
            lambda a, t: services.tasks_bulk_set_property(
                actor=a, selection=Selection(ids=[t.pk]), property_name="subject", value="x" * 300
            ),
            "value",
        ),
        (
            lambda a, t: services.tasks_bulk_set_property(
                actor=a, selection=Selection(ids=[t.pk]), property_name="due_at", value="2026-03-05T10:00"
            ),
            "value",
        ),
        (
            lambda a, t: services.tasks_bulk_complete(
                actor=a,
                selection=Selection(
                    filters={"filterGroups": [{"filters": [{"propertyName": "bogus", "operator": "EQ", "value": 1}]}]}
                ),
            ),
            "filterGroups[0].filters[0].propertyName",
        ),
        (lambda a, t: services.tasks_bulk(actor=a, action="explode", selection=Selection(ids=[t.pk])), "action"),
    ],
)
def test_invalid_input_changes_nothing(csm, csm_actor, call, field):
    task = make_task(csm, subject="keep", notes="n")
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        call(csm_actor, task)
    assert exc.value.errors[0].field == field
    assert snapshot() == before


def test_viewers_and_read_tokens_cannot_bulk_change(csm, viewer):
    task = make_task(csm)
    before = snapshot()
    with pytest.raises(Forbidden):
        services.tasks_bulk_complete(actor=Actor(viewer), selection=Selection(ids=[task.pk]))
    with pytest.raises(Forbidden):
        services.tasks_bulk_complete(actor=Actor(csm, Scope.READ), selection=Selection(ids=[task.pk]))
    assert snapshot() == before


# ---- history of single writes ---------------------------------------------------------------------------


def test_single_create_update_archive_write_history(csm, csm_actor, admin):
    acme = crm.record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme"},
        source=ChangeSource.SYSTEM,
    )
    task = engagement.engagement_create(
        actor=csm_actor, kind=KINDS["tasks"], properties={"subject": "Call", "priority": "low"}, associations=[acme.pk]
    )
    engagement.engagement_update(
        actor=csm_actor,
        kind=KINDS["tasks"],
        engagement=task,
        properties={"priority": "high", "assignee": admin.pk, "due_at": "2026-03-03T10:00:00+09:00", "subject": "Call"},
        source=TaskChange.Source.API,
    )
    engagement.engagement_archive(actor=csm_actor, engagement=task)
    rows = list(
        TaskChange.objects.filter(task=task).order_by("id").values_list("property", "old_value", "new_value", "source")
    )
    assert rows == [
        ("created", None, "Call", "ui"),
        ("priority", "low", "high", "api"),
        ("due_at", None, "2026-03-03T01:00:00Z", "api"),
        ("assignee", csm.pk, admin.pk, "api"),
        ("archived", False, True, "ui"),
    ]
