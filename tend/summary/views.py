"""The Summary tab: the workspace's home. The page is a frame; each card loads on its own (htmx),
so a slow card never holds the others."""

import json

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.core import clock, policy
from tend.core.errors import NotFound, ValidationFailed
from tend.core.listkit import page_of
from tend.core.paging import capped_counts
from tend.core.web import viewing, workspace_view
from tend.directory.models import User
from tend.health import queries as health_queries
from tend.health.models import HealthAlert
from tend.health.views.shared import histogram_chart
from tend.reports import queries as report_queries
from tend.reports import services as report_services
from tend.tasks import queries as task_queries
from tend.tasks import services as task_services

from . import queries
from .scope import Scope, scope_of

CARDS = ("alerts", "tasks", "views", "schedule", "health", "reports")
ALERTS_PER_PAGE = 5
# The card counts (and pages through) the first thousand of each kind — "1,000+" past that —
# and links to the Alerts page, which lists them all: a book can hold tens of thousands.
ALERTS_CAP = 1000


def _context(request, scope: Scope, **extra) -> dict:
    return {
        "scope": scope,
        "scope_query": scope.query,
        # the viewed user's zone: the cards' days are theirs, so their times are too (View as)
        "tz": clock.user_zone(scope.user),
        "can_open_tabs": queries.can_open_tabs(scope),
        "can_act": scope.viewing.can_act and policy.allows(scope.actor, policy.Action.EDIT_RECORDS),
        **extra,
    }


@workspace_view
@require_GET
def summary(request):
    """The frame: the scope bar and the cards' places, for everyone with workspace access (a
    super admin without a Service seat too: it is the one tab they have)."""
    current = viewing(request)
    scope = scope_of(current, request.GET)
    users = []
    if policy.allows(current.actor, policy.Action.VIEW_AS):
        users = list(
            User.objects.filter(is_active=True, cs_workspace_access=True)
            .order_by("full_name", "email")
            .only("pk", "full_name", "email")
        )
    return render(
        request,
        "summary/summary.html",
        _context(request, scope, active_tab="summary", cards=CARDS, view_as_users=users),
    )


@workspace_view
@require_GET
def card(request, name: str):
    if name not in CARDS:
        raise Http404
    scope = scope_of(viewing(request), request.GET)
    return _render_card(request, scope, name)


def _render_card(request, scope: Scope, name: str, **extra):
    if name == "alerts":
        alerts = health_queries.book_alerts(scope.user, user_ids=scope.user_ids)
        # Each kind's count stops past the cap, as a list's does ("10,000+"), in one query; the
        # card's pages are counted from them.
        kinds = capped_counts({k: alerts.filter(kind=k) for k in HealthAlert.Kind.values}, cap=ALERTS_CAP)
        kind = request.GET.get("kind", "")
        if kinds.get(kind):
            alerts = alerts.filter(kind=kind)
        else:
            kind = ""
        total = kinds[kind] if kind else sum(kinds.values())
        # The page's ids first, from the newest-first index alone; then their rows: with the joins in
        # the same query SQLite would join every alert of the book before sorting.
        page = page_of(
            alerts.values_list("pk", flat=True),
            request.GET,
            per_page=ALERTS_PER_PAGE,
            cap=ALERTS_CAP,
            count=min(total, ALERTS_CAP + 1),
        )
        ids = list(page.object_list)
        rows = {a.pk: a for a in alerts.filter(pk__in=ids)} if ids else {}
        extra |= {
            "page": page,
            "alerts": [rows[pk] for pk in ids if pk in rows],
            "kind": kind,
            "kind_counts": [(k, label, kinds.get(k, 0)) for k, label in HealthAlert.Kind.choices],
            "total": total,
        }
    elif name == "tasks":
        extra |= {"groups": queries.task_groups(scope)}
    elif name == "views":
        users = list(User.objects.only("pk", "full_name", "email"))
        extra |= {"view_cards": queries.customer_view_cards(scope, users)}
    elif name == "schedule":
        extra |= {"items": queries.todays_schedule(scope)}
    elif name == "health":
        extra |= _health(request, scope)
    elif name == "reports":
        tiles = queries.report_tiles(scope.user)
        extra |= {
            "tiles": tiles,
            "room": len(tiles) < report_queries.MAX_SUMMARY_REPORTS,
            "max_reports": report_queries.MAX_SUMMARY_REPORTS,
            # one's own Summary, whatever one's seat; never someone else's (View as)
            "can_edit_reports": scope.viewing.can_act,
        }
    return render(request, f"summary/_{name}.html", _context(request, scope, **extra))


def _health(request, scope: Scope) -> dict:
    profiles = health_queries.summary_profiles()
    profile = queries.health_profile(profiles, request.GET.get("profile"))
    if scope.is_team:
        view = {"view": "team", **scope.tab_params()}
    else:
        view = {"view": "owned"}
    data = health_queries.health_summary(
        actor=scope.actor,
        user=scope.user,
        user_ids=scope.user_ids,
        profile=profile if len(profiles) > 1 else None,
        customers_view=view,
    )
    over_time = data.get("over_time") or []
    line = {
        "kind": "line",
        "labels": [formats.date_format(day, "SHORT_DATE_FORMAT") for day, _avg in over_time],
        "values": [None if avg is None else round(float(avg), 1) for _day, avg in over_time],
        "name": str(_("Average score")),
    }
    return {
        "summary": data,
        "profiles": profiles,
        "profile": profile,
        "distribution_json": json.dumps(histogram_chart(data.get("distribution") or [])),
        "over_time_json": json.dumps(line),
    }


@workspace_view
@require_POST
def task_complete(request, task_id: int):
    """Complete (or, with done=0, reopen) a task from the tasks card; answer with the card."""
    current = viewing(request)
    scope = scope_of(current, request.POST)
    if not current.can_act:
        return HttpResponse(_("You are viewing as another user; tasks cannot be changed."), status=403)
    try:
        task = task_queries.get_task_for_user(current.actor, task_id)
    except NotFound as exc:
        raise Http404 from exc
    done = request.POST.get("done", "1") == "1"
    task_services.task_set_completed(actor=current.actor, task=task, done=done)
    return _render_card(request, scope, "tasks", completed=task if done else None)


# ---- the reports card ----------------------------------------------------------------------------


def _reports_card(request, scope: Scope, *, error: str = ""):
    response = _render_card(request, scope, "reports", error=error)
    if error:
        response.status_code = 422
    return response


def _refused_while_viewing_as(scope: Scope) -> HttpResponse | None:
    if not scope.viewing.can_act:
        return HttpResponse(_("You are viewing as another user; their Summary cannot be changed."), status=403)
    return None


@workspace_view
@require_GET
def report_picker(request):
    """The reports the viewed user may add to their Summary's Reports card, searched by name."""
    scope = scope_of(viewing(request), request.GET)
    search = request.GET.get("q", "").strip()
    return render(
        request,
        "summary/_reports.html#picker",
        _context(request, scope, choices=queries.report_choices(scope, search), q=search),
    )


@workspace_view
@require_POST
def report_add(request):
    scope = scope_of(viewing(request), request.POST)
    if refused := _refused_while_viewing_as(scope):
        return refused
    try:
        report = report_queries.get_report_for_user(scope.actor, scope.user, request.POST.get("report", ""))
    except NotFound as exc:
        raise Http404 from exc
    try:
        report_services.summary_report_add(actor=scope.actor, report=report)
    except ValidationFailed as exc:
        return _reports_card(request, scope, error=exc.detail)
    return _reports_card(request, scope)


@workspace_view
@require_POST
def report_remove(request, report_id: int):
    scope = scope_of(viewing(request), request.POST)
    if refused := _refused_while_viewing_as(scope):
        return refused
    try:
        report = report_queries.get_report_for_user(scope.actor, scope.user, report_id)
    except NotFound as exc:
        raise Http404 from exc
    report_services.summary_report_remove(actor=scope.actor, report=report)
    return _reports_card(request, scope)


@workspace_view
@require_POST
def reports_order(request):
    scope = scope_of(viewing(request), request.POST)
    if refused := _refused_while_viewing_as(scope):
        return refused
    ids = [int(v) for v in request.POST.getlist("report") if v.isdigit()]
    try:
        report_services.summary_reports_reorder(actor=scope.actor, report_ids=ids)
    except ValidationFailed as exc:
        return _reports_card(request, scope, error=exc.detail)
    return _reports_card(request, scope)
