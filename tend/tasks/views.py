"""The Tasks tab: default and saved views, the task table with bulk actions, the task panel."""

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from tend.core import clock, policy
from tend.core.errors import FieldError, NotFound, ValidationFailed
from tend.core.listkit import ListScreen, TableState, list_template, page_of
from tend.core.web import viewing, workspace_view
from tend.crm.display import Formatter
from tend.crm.models import PropertyType
from tend.crm.picker import records_by_ids
from tend.directory.models import User
from tend.directory.queries import TeamScope, team_scope
from tend.engagement import services as engagement_services
from tend.engagement.kinds import KINDS
from tend.engagement.models import Task, TaskChange
from tend.workspace import listing
from tend.workspace import queries as ws_queries

from . import queries, services

SUBJECT = "subject"


def _users():
    return list(User.objects.filter(is_active=True).order_by("full_name", "email").only("pk", "full_name", "email"))


# ---- the state of the table: everything in the URL --------------------------------------------


def table_state(view, params: QueryDict, registry) -> TableState:
    """The kit's table state for the Tasks tab (NotFound for a view the viewer may not see)."""
    return listing.table_state(
        params,
        view,
        tab=queries.TAB,
        registry=registry,
        builtin_views=[*queries.DEFAULT_VIEWS, queries.TEAM_VIEW],
        default_view=queries.DEFAULT_VIEW,
        default_columns=ws_queries.default_columns(queries.TAB),
        first_column=SUBJECT,
        quick=("due", "person"),
    )


def team_of_table(state: TableState, viewed_user) -> TeamScope | None:
    """The viewed user's team when the table shows the team view (NotFound: they manage nobody)."""
    if state.view_key != queries.TEAM_VIEW:
        return None
    team = team_scope(viewed_user, state.params.get("person"))
    if team is None:
        raise NotFound("No team.")
    return team


def task_table(state: TableState, team: TeamScope | None = None) -> queries.TaskTable:
    if team is not None:
        due = state.params.get("due")
        builtin: str | None = due if due in queries.TEAM_DUE_VIEWS else "open"
    else:
        builtin = state.view_key if state.view_key in queries.DEFAULT_VIEWS else None
    return queries.TaskTable(
        view_key=state.view_key,
        builtin=builtin,
        filters=state.search_filters,
        sorts=state.sorts,
        columns=state.columns,
        assignee_ids=team.user_ids if team is not None else None,
    )


def selection(state: TableState, viewed_user) -> services.Selection:
    """Every task the table lists (for "select all N tasks matching")."""
    try:
        team = team_of_table(state, viewed_user)
    except NotFound:
        raise ValidationFailed.single("state", _("You have no team, so the team view is not available.")) from None
    table = task_table(state, team)
    return services.Selection(
        filters=table.filters, view=table.builtin, user=viewed_user, assignee_ids=table.assignee_ids
    )


class TaskCells(listing.RecordCells):
    """Task rows: the kit's cells, with the subject, due date and status the row template draws."""

    _record_prefixes: dict[str, str] | None = None

    def _links(self, task: Task) -> tuple[str, str, list[dict]]:
        """The row's URLs from prefixes reversed once (a reverse per row costs more than its SQL)."""
        if self._record_prefixes is None:
            self._record_prefixes = {}
            self._task_prefix = reverse("task-edit", args=[1]).removesuffix("1/")
        records = []
        for record in task.records.all():
            kind = record.object_type.name
            if kind not in self._record_prefixes:
                self._record_prefixes[kind] = reverse("record-detail", args=[kind, 1]).removesuffix("1/")
            url = f"{self._record_prefixes[kind]}{record.pk}/"
            records.append({"record": record, "url": url, "preview_url": f"{url}preview/"})
        edit = f"{self._task_prefix}{task.pk}/"
        return edit, f"{edit}complete/", records

    def task_row(self, task: Task, now) -> dict:
        overdue = not task.is_completed and task.due_at is not None and task.due_at < now
        edit_url, complete_url, records = self._links(task)
        subject = {"subject": task.subject}
        if task.is_completed:
            toggle_label = _("Mark “%(subject)s” as not completed") % subject
        else:
            toggle_label = _("Mark “%(subject)s” as completed") % subject
        return {
            "select_label": _("Select “%(subject)s”") % subject,
            "toggle_label": toggle_label,
            "task": task,
            "cells": [self.cell(task, c) for c in self.columns],
            "overdue": overdue,
            "records": records,
            "edit_url": edit_url,
            "complete_url": complete_url,
        }


def _row_context(request, task: Task, columns: list[str]) -> dict:
    view = viewing(request)
    cells = TaskCells(queries.registry(), columns, users=_users())
    return {
        "row": cells.task_row(task, clock.now()),
        "columns_param": ",".join(columns),
        "can_edit": view.can_act and policy.allows(view.actor, policy.Action.EDIT_RECORDS),
    }


def _empty_text(state: TableState) -> str:
    if state.q or state.filters.get("filterGroups"):
        return _("No tasks match these filters. Loosen a filter or clear the search.")
    return {
        "today": _("Nothing due today. Check Overdue and Upcoming, or create a task for a customer."),
        "overdue": _("No overdue tasks — you are all caught up."),
        "tomorrow": _("Nothing due tomorrow yet."),
        "completed": _("No completed tasks yet. Complete a task with the check mark in its row."),
        "team": _("Nobody in your team has open tasks here."),
    }.get(state.view_key, _("No tasks here. Create one with “Create task”, or from a customer’s record."))


# ---- the page ----------------------------------------------------------------------------------


@workspace_view
@require_GET
def tasks(request):
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    registry = queries.registry()
    try:
        state = table_state(view, request.GET, registry)
        team = team_of_table(state, view.user)
    except NotFound:
        messages.error(request, _("That view does not exist or is not shared with you."))
        return redirect("tasks")
    users = _users()
    headers = listing.record_headers(state, registry)
    screen = ListScreen(state, headers, [], None, extra={"noun": "tasks", "extra_columns": 2})
    error = None
    try:
        found = queries.table_tasks(actor=actor, viewed_user=view.user, table=task_table(state, team), reg=registry)
        screen.page = page_of(queries.with_rows(found), request.GET)
        cells, now = TaskCells(registry, state.columns, users=users), clock.now()
        screen.rows = [cells.task_row(t, now) for t in screen.page.object_list]
        screen.empty_text = _empty_text(state)
    except ValidationFailed as exc:
        error = exc
    can_edit = view.can_act and policy.allows(actor, policy.Action.EDIT_RECORDS)
    if can_edit:
        screen.extra["extra_columns"] = 3
    counts = queries.view_counts(actor, view.user)
    builtins = [
        listing.BuiltinView(key, str(label), counts[key], alert=key == "overdue")
        for key, label in queries.DEFAULT_VIEWS.items()
    ]
    team_here = team if team is not None else team_scope(view.user)
    if team_here is not None:
        builtins.append(listing.BuiltinView(queries.TEAM_VIEW, str(queries.TEAM_VIEW_LABEL)))
    context = {
        "active_tab": queries.TAB,
        "team": team,
        "team_due": state.params.get("due", "") if team is not None else "",
        "team_due_views": [(key, queries.DEFAULT_VIEWS[key]) for key in queries.TEAM_DUE_VIEWS],
        "screen": screen,
        "error": error,
        "can_edit": can_edit,
        "users": users,
        "bulk_properties": _bulk_properties(registry, users),
        "bulk_labels": _bulk_labels(),
        **listing.list_context(
            view,
            tab=queries.TAB,
            state=state,
            registry=registry,
            users=users,
            builtins=builtins,
            create_url=reverse("tasks-view-create"),
        ),
    }
    return render(request, list_template(request, "tasks/tasks.html"), context, status=422 if error else 200)


def _bulk_labels() -> dict:
    """Phrases the selection script shows, with {n} for the number (one and other forms)."""
    labels = {}
    phrases = {
        "selected": lambda n: ngettext("{n} task selected", "{n} tasks selected", n),
        "select_all": lambda n: ngettext(
            "Select the {n} task matching the filter", "Select all {n} tasks matching the filter", n
        ),
        "all_selected": lambda n: ngettext(
            "The {n} task matching the filter is selected.", "All {n} tasks matching the filter are selected.", n
        ),
        "delete": lambda n: ngettext("Delete {n} task?", "Delete {n} tasks?", n),
    }
    for key, phrase in phrases.items():
        labels[f"{key}_one"], labels[f"{key}_other"] = phrase(1), phrase(2)
    return labels


def _bulk_properties(registry, users) -> list[dict]:
    """The writable properties a bulk edit offers, with the input each needs."""
    result = []
    for spec in services.writable_properties():
        options = [{"value": o["value"], "label": _(o["label"])} for o in spec.options]
        if spec.type == PropertyType.USER:
            options = [{"value": str(u.pk), "label": u.display_name} for u in users]
        result.append(
            {
                "name": spec.name,
                "label": str(_(spec.label)),
                "type": spec.type,
                "options": options,
                "input": {PropertyType.DATETIME: "datetime-local", PropertyType.LONG_TEXT: "textarea"}.get(
                    spec.type, "text"
                ),
            }
        )
    return result


# ---- the task panel: create (and add another), edit, history ----------------------------------


def _local_datetime(raw: str, tz, errors: list[FieldError], field: str) -> str | None:
    """A `datetime-local` input means the user's own time zone."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(field, _("Enter a date and time.")))
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.isoformat()


def _form_input(request, *, editing: bool) -> tuple[dict, list[int], list[FieldError]]:
    post = request.POST
    errors: list[FieldError] = []
    tz = clock.user_zone(request.user)
    properties = {
        "subject": post.get("subject", "").strip(),
        "type": post.get("type", ""),
        "priority": post.get("priority", ""),
        "notes": post.get("notes", ""),
        "due_at": _local_datetime(post.get("due_at", ""), tz, errors, "due_at"),
        "assignee": post.get("assignee", "") or None,
    }
    if editing:
        properties["status"] = post.get("status", "")
    if not properties["subject"]:
        errors.append(FieldError("subject", _("Give the task a subject."), "required"))
    record_ids = []
    for raw in post.getlist("records"):
        try:
            record_ids.append(int(raw))
        except ValueError:
            errors.append(FieldError("records", _("Choose records from the list.")))
    return properties, list(dict.fromkeys(record_ids)), errors


def _field_errors(errors: list[FieldError]) -> dict[str, str]:
    result: dict[str, str] = {}
    for e in errors:
        name = e.field.removeprefix("properties.")
        if name.startswith("associations"):
            name = "records"
        result.setdefault(name, e.message)
    return result


def _panel(
    request, *, task: Task | None, form, records, errors=None, created: Task | None = None, done=False, status=200
):
    view = viewing(request)
    tz = clock.user_zone(request.user)
    context = {
        "task": task,
        "form": form,
        "records": records,
        "errors": errors or {},
        "created": created,
        "done": done,
        "users": _users(),
        "types": Task.Type.choices,
        "priorities": Task.Priority.choices,
        "statuses": Task.Status.choices,
        "context": request.POST.get("context") or request.GET.get("context", ""),
        "can_edit": view.can_act and policy.allows(view.actor, policy.Action.EDIT_RECORDS),
        "history": _history(task, tz) if task is not None else [],
    }
    return render(request, "tasks/_panel.html", context, status=status)


def _history(task: Task, tz) -> list[dict]:
    registry = queries.registry()
    formatter = Formatter(registry)
    entries = []
    for change in queries.task_history(task):
        spec = registry.get(change.property)
        entry = {"change": change, "label": _(spec.label) if spec else "", "old": "", "new": ""}
        if change.property == "created":
            entry["label"] = _("Task created")
        elif change.property == "archived":
            entry["label"] = _("Task deleted")
        elif spec is not None:
            entry["old"] = formatter.format(spec, change.old_value)
            entry["new"] = formatter.format(spec, change.new_value)
        entries.append(entry)
    return entries


def _form_from_task(task: Task, tz) -> dict:
    due = task.due_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if task.due_at else ""
    return {
        "subject": task.subject,
        "type": task.type,
        "priority": task.priority,
        "status": task.status,
        "notes": task.notes,
        "due_at": due,
        "assignee": str(task.assignee_id or ""),
    }


@workspace_view
@require_http_methods(["GET", "POST"])
def task_new(request):
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    if request.method == "GET":
        form = {"type": Task.Type.TODO, "priority": Task.Priority.NONE, "assignee": str(request.user.pk)}
        return _panel(request, task=None, form=form, records=records_by_ids(actor, request.GET.getlist("records")))
    if not view.can_act:
        message = _("You are viewing as another user; tasks cannot be created.")
        return _panel(request, task=None, form=request.POST, records=[], errors={"form": message}, status=403)
    properties, record_ids, errors = _form_input(request, editing=False)
    records = records_by_ids(actor, record_ids)
    try:
        if errors:
            raise ValidationFailed(errors=errors)
        task = engagement_services.engagement_create(
            actor=actor,
            kind=KINDS["tasks"],
            properties={k: v for k, v in properties.items() if v not in (None, "")},
            associations=record_ids,
            source=TaskChange.Source.UI,
        )
    except ValidationFailed as exc:
        return _panel(
            request, task=None, form=request.POST, records=records, errors=_field_errors(exc.errors), status=422
        )
    message = _("Task “%(subject)s” created.") % {"subject": task.subject}
    if request.POST.get("another"):
        # A fresh form for the next task, keeping who it is for and what it is about.
        form = {
            "type": properties["type"] or Task.Type.TODO,
            "priority": Task.Priority.NONE,
            "assignee": request.POST.get("assignee", ""),
        }
        response = _panel(request, task=None, form=form, records=records, created=task)
        _trigger_changed(response, message)
    elif request.POST.get("context") == "tasks":
        response = HttpResponse(status=204)
        _trigger_changed(response, message, close=True)
    else:
        # Opened from a record: say so in the panel (the record page has no task list to refresh).
        response = _panel(request, task=None, form={}, records=records, created=task, done=True)
        _trigger_changed(response, message)
    return response


def _trigger_changed(response, message: str, *, close: bool = False) -> None:
    trigger_client_event(response, "tasksChanged", {"message": message})
    if close:
        trigger_client_event(response, "tend:close-panel")


@workspace_view
@require_http_methods(["GET", "POST"])
def task_edit(request, task_id: int):
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    try:
        task = queries.get_task_for_user(actor, task_id)
    except NotFound as exc:
        raise Http404 from exc
    tz = clock.user_zone(request.user)
    if request.method == "GET":
        return _panel(request, task=task, form=_form_from_task(task, tz), records=list(task.records.all()))
    if not view.can_act:
        message = _("You are viewing as another user; tasks cannot be changed.")
        return _panel(request, task=task, form=request.POST, records=[], errors={"form": message}, status=403)
    properties, record_ids, errors = _form_input(request, editing=True)
    try:
        if errors:
            raise ValidationFailed(errors=errors)
        engagement_services.engagement_update(
            actor=actor,
            kind=KINDS["tasks"],
            engagement=task,
            properties=properties,
            associations=record_ids,
            source=TaskChange.Source.UI,
        )
    except ValidationFailed as exc:
        task.refresh_from_db()
        return _panel(
            request,
            task=task,
            form=request.POST,
            records=records_by_ids(actor, record_ids),
            errors=_field_errors(exc.errors),
            status=422,
        )
    response = HttpResponse(status=204)
    _trigger_changed(response, _("Task “%(subject)s” saved.") % {"subject": task.subject}, close=True)
    return response


@workspace_view
@require_POST
def task_complete(request, task_id: int):
    """One click: complete (or, with done=0, reopen) a task; answer with its row."""
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    try:
        task = queries.get_task_for_user(actor, task_id)
    except NotFound as exc:
        raise Http404 from exc
    registry = queries.registry()
    columns = [c for c in request.POST.get("columns", "").split(",") if registry.get(c)] or list(
        ws_queries.default_columns(queries.TAB)
    )
    if not view.can_act:
        return HttpResponse(_("You are viewing as another user; tasks cannot be changed."), status=403)
    services.task_set_completed(actor=actor, task=task, done=request.POST.get("done", "1") == "1")
    task = queries.get_task_for_user(actor, task_id)
    return render(request, "tasks/_row.html", _row_context(request, task, columns))


# ---- bulk actions ------------------------------------------------------------------------------


@workspace_view
@require_POST
def tasks_bulk(request):
    view = viewing(request)
    actor = view.actor
    policy.require(actor, policy.Action.USE_WORK_TABS)
    if not view.can_act:
        return render(
            request,
            "tasks/_bulk_result.html",
            {"error": _("You are viewing as another user; tasks cannot be changed.")},
            status=403,
        )
    action = request.POST.get("action", "")
    try:
        if request.POST.get("all") == "1":
            state = table_state(view, QueryDict(request.POST.get("state", "")), queries.registry())
            chosen = selection(state, view.user)
        else:
            ids = []
            for raw in request.POST.getlist("ids"):
                try:
                    ids.append(int(raw))
                except ValueError:
                    raise ValidationFailed.single("ids", _("Choose tasks from the list.")) from None
            chosen = services.Selection(ids=ids)
        property_name = request.POST.get("property", "")
        value = request.POST.get("value", "")
        if action == "assign":
            value = request.POST.get("assignee", "")
        if action == "set_property":
            spec = queries.registry().get(property_name)
            if spec is not None and spec.type == PropertyType.DATETIME:
                errors: list[FieldError] = []
                value = _local_datetime(value, clock.user_zone(request.user), errors, "value")
                if errors:
                    raise ValidationFailed(errors=errors)
        changed = services.tasks_bulk(
            actor=actor, action=action, selection=chosen, value=value, property_name=property_name
        )
    except NotFound:
        return render(
            request, "tasks/_bulk_result.html", {"error": _("That view does not exist or is not shared with you.")}
        )
    except ValidationFailed as exc:
        return render(request, "tasks/_bulk_result.html", {"errors": exc.errors}, status=422)
    message = ngettext("%(n)d task changed.", "%(n)d tasks changed.", changed) % {"n": changed}
    response = render(request, "tasks/_bulk_result.html", {"message": message})
    _trigger_changed(response, message)
    return response
