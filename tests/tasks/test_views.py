"""The Tasks tab in HTML: views and counts, the table (bounded queries), the task panel with
"create and add another", one-click complete, bulk actions, saved views and View as."""

import datetime as dt
import html as htmllib
import json
import re

import pytest
from django.test import Client

from tend.core.policy import SYSTEM
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm import services as crm
from tend.crm.models import ChangeSource, ObjectType
from tend.engagement.models import Task, TaskChange
from tend.workspace.models import SavedView

from .conftest import make_task, make_tasks

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)  # 18:30 in Tokyo


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def tokyo(csm):
    csm.time_zone = "Asia/Tokyo"
    csm.save()
    return csm


@pytest.fixture
def client(tokyo):
    c = Client()
    c.force_login(tokyo)
    return c


@pytest.fixture
def acme(db):
    return crm.record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": "Acme"},
        source=ChangeSource.SYSTEM,
    )


def subjects(response) -> list[str]:
    return [htmllib.unescape(s) for s in re.findall(r'data-testid="task-link">([^<]+)</a>', response.content.decode())]


def test_default_view_lists_todays_tasks_with_counts(client, tokyo, admin):
    make_task(tokyo, subject="Later today", due_at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC))  # 21:00 JST
    make_task(tokyo, subject="This morning", due_at=dt.datetime(2026, 3, 2, 0, tzinfo=dt.UTC))  # 09:00 JST, overdue
    make_task(tokyo, subject="Tomorrow", due_at=dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC))  # 00:00 JST on the 3rd
    make_task(admin, subject="Not mine", due_at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC))
    response = client.get("/tasks/")
    assert response.status_code == 200
    assert subjects(response) == ["This morning", "Later today"]
    html = response.content.decode()
    counts = dict(re.findall(r'data-testid="count-(\w+)">(\d+)<', html))
    assert counts == {"today": "2", "overdue": "1", "tomorrow": "1", "upcoming": "1", "open": "3", "completed": "0"}
    # the overdue due time is red and shown in the user's time zone
    assert '<td class="text-nowrap text-danger fw-semibold" data-testid="task-due">03/02/2026 9 a.m. ' in html
    assert '<td class="text-nowrap" data-testid="task-due">03/02/2026 9 p.m.' in html
    assert subjects(client.get("/tasks/?view=tomorrow")) == ["Tomorrow"]


def test_table_queries_do_not_grow_with_rows(client, tokyo, acme, django_assert_max_num_queries):
    def fill(n):
        make_tasks(tokyo, n, due_at=NOW)
        for task in Task.objects.filter(records=None):
            task.records.add(acme)

    fill(3)
    with django_assert_max_num_queries(12) as small:
        client.get("/tasks/?view=open")
    fill(60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/tasks/?view=open")
    assert len(subjects(response)) == 25
    assert response.content.decode().count(">Acme</a>") == 25


def test_sort_and_pages(client, tokyo):
    for i in range(30):
        make_task(tokyo, subject=f"T{i:02d}", due_at=NOW + dt.timedelta(days=1, minutes=i))
    first = subjects(client.get("/tasks/?view=upcoming&sort=subject&dir=desc"))
    assert first[:2] == ["T29", "T28"] and len(first) == 25
    assert subjects(client.get("/tasks/?view=upcoming&sort=subject&dir=desc&page=2")) == [
        "T04",
        "T03",
        "T02",
        "T01",
        "T00",
    ]


def test_empty_state_says_what_to_do(client):
    assert "Nothing due today" in client.get("/tasks/").content.decode()


def test_bad_filter_is_explained(client):
    bad = json.dumps({"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "EQ", "value": 1}]}]})
    response = client.get("/tasks/", {"view": "open", "filters": bad})
    assert response.status_code == 422
    assert "Unknown property mrr." in response.content.decode()


# ---- the panel ---------------------------------------------------------------------------------


def test_create_and_add_another_keeps_the_panel_open(client, tokyo, admin, acme):
    response = client.post(
        "/tasks/new/",
        {
            "subject": "Kickoff call",
            "type": "call",
            "priority": "high",
            "due_at": "2026-03-03T10:00",
            "assignee": admin.pk,
            "notes": "Agenda",
            "records": [acme.pk],
            "another": "1",
        },
    )
    assert response.status_code == 200
    task = Task.objects.get()
    assert (task.subject, task.type, task.priority, task.assignee_id, task.notes) == (
        "Kickoff call",
        "call",
        "high",
        admin.pk,
        "Agenda",
    )
    assert task.due_at == dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)  # 10:00 in Tokyo
    assert list(task.records.all()) == [acme]
    assert list(TaskChange.objects.values_list("property", "source")) == [("created", "ui")]
    html = response.content.decode()
    assert "Task “Kickoff call” created." in html
    assert 'name="subject" maxlength="255" required value="" autofocus' in html  # a fresh form
    assert f'<option value="{admin.pk}" selected>' in html  # the assignee is kept
    assert f"id: '{acme.pk}'" in html  # and the associated record
    assert "tasksChanged" in response["HX-Trigger"]


def test_create_from_the_tab_closes_the_panel(client):
    response = client.post("/tasks/new/", {"subject": "Quick", "type": "todo", "priority": "none", "context": "tasks"})
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["tend:close-panel"] == {}
    assert Task.objects.get().subject == "Quick"


def test_create_prefilled_from_a_record(client, acme):
    html = client.get(f"/tasks/new/?records={acme.pk}").content.decode()
    assert f"id: '{acme.pk}', name: 'Acme'" in html


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"subject": ""}, "Give the task a subject."),
        ({"subject": "x", "type": "fax"}, "Choose one of: todo, call, email."),
        ({"subject": "x", "due_at": "tomorrow"}, "Enter a date and time."),
        ({"subject": "x", "assignee": "999999"}, "No active user has id 999999."),
        ({"subject": "x", "records": ["999999"]}, "No record 999999."),
    ],
)
def test_create_errors_are_shown_at_the_field_and_change_nothing(client, data, field_message):
    response = client.post("/tasks/new/", {"type": "todo", "priority": "none", **data})
    assert response.status_code == 422
    assert field_message in response.content.decode()
    assert Task.objects.count() == 0


def test_edit_panel_saves_and_shows_history(client, tokyo):
    task = make_task(tokyo, subject="Old", due_at=NOW)
    response = client.post(
        f"/tasks/{task.pk}/",
        {
            "subject": "New",
            "type": "email",
            "priority": "low",
            "status": "in_progress",
            "due_at": "2026-03-04T09:00",
            "assignee": tokyo.pk,
        },
    )
    assert response.status_code == 204
    task.refresh_from_db()
    assert (task.subject, task.type, task.status, task.due_at) == (
        "New",
        "email",
        "in_progress",
        dt.datetime(2026, 3, 4, 0, tzinfo=dt.UTC),
    )
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'data-testid="task-history"' in html
    assert 'Subject</strong>: <span class="text-body-secondary">Old</span> → New' in html


# ---- one-click complete ------------------------------------------------------------------------


def test_complete_and_reopen_from_the_row(client, tokyo):
    task = make_task(tokyo, subject="Call", due_at=NOW)
    response = client.post(f"/tasks/{task.pk}/complete/", {"done": "1", "columns": "subject,status"})
    assert response.status_code == 200
    assert Task.objects.get(pk=task.pk).status == "completed"
    html = response.content.decode()
    assert html.startswith("<tr") and "bi-check-circle-fill" in html and 'data-testid="task-status">Completed<' in html
    response = client.post(f"/tasks/{task.pk}/complete/", {"done": "0"})
    assert Task.objects.get(pk=task.pk).status == "not_started"
    assert list(TaskChange.objects.filter(property="status").values_list("new_value", flat=True).order_by("id")) == [
        "completed",
        "not_started",
    ]


# ---- bulk ---------------------------------------------------------------------------------------------


def test_bulk_all_matching_applies_to_the_filtered_view_only(client, tokyo, admin):
    make_tasks(tokyo, 40, due_at=NOW - dt.timedelta(days=1), prefix="Late")
    make_task(tokyo, subject="Later", due_at=NOW + dt.timedelta(days=3))
    make_task(admin, subject="Someone else's", due_at=NOW - dt.timedelta(days=1))
    response = client.post("/tasks/bulk/", {"action": "complete", "all": "1", "state": "view=overdue&q=late"})
    assert response.status_code == 200
    assert "40 tasks changed." in response.content.decode()
    assert Task.objects.completed().count() == 40
    assert set(Task.objects.open().values_list("subject", flat=True)) == {"Later", "Someone else's"}


def test_bulk_with_ids_assign_set_property_and_delete(client, tokyo, admin):
    a, b = make_task(tokyo, subject="a"), make_task(tokyo, subject="b")
    assert (
        "2 tasks changed."
        in client.post("/tasks/bulk/", {"action": "assign", "assignee": admin.pk, "ids": [a.pk, b.pk]}).content.decode()
    )
    response = client.post(
        "/tasks/bulk/", {"action": "set_property", "property": "due_at", "value": "2026-03-10T09:00", "ids": [a.pk]}
    )
    assert "1 task changed." in response.content.decode()
    assert Task.objects.get(pk=a.pk).due_at == dt.datetime(2026, 3, 10, 0, tzinfo=dt.UTC)  # Tokyo time
    assert (
        "2 tasks changed." in client.post("/tasks/bulk/", {"action": "archive", "ids": [a.pk, b.pk]}).content.decode()
    )
    assert Task.objects.active().count() == 0


def test_bulk_invalid_input_changes_nothing(client, tokyo):
    task = make_task(tokyo, subject="a")
    response = client.post(
        "/tasks/bulk/", {"action": "set_property", "property": "priority", "value": "urgent", "ids": [task.pk]}
    )
    assert response.status_code == 422
    assert "Nothing was changed" in response.content.decode()
    assert Task.objects.get(pk=task.pk).priority == "none"
    assert TaskChange.objects.count() == 0


# ---- View as and permissions --------------------------------------------------------------------


def test_manager_viewing_as_a_csm_sees_their_tasks_and_cannot_change_them(admin, tokyo):
    make_task(tokyo, subject="Casey's", due_at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC))
    make_task(admin, subject="Ada's", due_at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC))
    client = Client()
    client.force_login(admin)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = tokyo.pk
    session.save()
    response = client.get("/tasks/")
    assert subjects(response) == ["Casey's"]
    html = response.content.decode()
    assert 'data-testid="select-task"' not in html and 'data-testid="create-task"' not in html
    task = Task.objects.get(subject="Casey's")
    assert client.post("/tasks/bulk/", {"action": "complete", "ids": [task.pk]}).status_code == 403
    assert client.post(f"/tasks/{task.pk}/complete/", {"done": "1"}).status_code == 403
    assert Task.objects.get(pk=task.pk).status == "not_started"


def test_viewer_without_seat_reads_but_cannot_act(viewer):
    make_task(viewer, subject="Mine", due_at=NOW)
    client = Client()
    client.force_login(viewer)
    html = client.get("/tasks/?view=open").content.decode()
    assert "Mine" in html and 'data-testid="complete-toggle"' not in html


# ---- saved views --------------------------------------------------------------------------------------


def test_saved_views_for_tasks_validate_against_the_task_registry(client, tokyo):
    high = json.dumps(
        {"filterGroups": [{"filters": [{"propertyName": "priority", "operator": "EQ", "value": "high"}]}]}
    )
    response = client.post(
        "/tasks/views/", {"name": "Hot", "filters": high, "columns": "subject,priority", "visibility": "private"}
    )
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert (view.tab, view.columns) == ("tasks", ["subject", "priority"])
    make_task(tokyo, subject="Hot one", priority="high")
    make_task(tokyo, subject="Cold one", priority="low")
    assert subjects(client.get(f"/tasks/?view={view.pk}")) == ["Hot one"]
    # a record property is not a task property
    bad = json.dumps({"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "HAS_PROPERTY"}]}]})
    response = client.post("/tasks/views/", {"name": "Bad", "filters": bad})
    assert response.status_code == 422 and "Unknown property cs_stage." in response.content.decode()
    # rename and delete go through the shared view endpoints and come back to the Tasks tab
    response = client.post(f"/customers/views/{view.pk}/", {"name": "Hot tasks", "visibility": "private"})
    assert response["Location"] == f"/tasks/?view={view.pk}"
    response = client.post(f"/customers/views/{view.pk}/delete/", {"confirm": "on"})
    assert response["Location"] == "/tasks/"
    assert not SavedView.objects.exists()
