"""Reads of the Summary tab's cards, each a bounded number of queries whatever the book's size.

The cards read the same queries as the tabs they link to (the Tasks tab's views, the Customers
tab's default views), so that a card's count is the count its "See more" link opens.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import ValidationFailed
from tend.core.paging import capped_count
from tend.crm.models import Record
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User
from tend.engagement.models import Task
from tend.reports import queries as report_queries
from tend.reports.models import Report, SummaryReport
from tend.schedule import queries as schedule_queries
from tend.tasks import queries as task_queries
from tend.workspace import listing
from tend.workspace import queries as ws_queries

from .scope import Scope

TASK_GROUPS = ("today", "overdue", "tomorrow")
FIRST_TASKS = 5
MAX_VIEW_CARDS = 6
FIRST_ROWS = 5
VIEW_COLUMNS = 2  # besides the name


@dataclass
class TaskGroup:
    key: str
    label: str
    count: int
    tasks: list[Task]
    url: str  # the Tasks tab on exactly this view


def task_groups(scope: Scope) -> list[TaskGroup]:
    """Due today, overdue, due tomorrow: each view's count (one query for the three) and its
    first tasks in the Tasks tab's order (a query each, and one for their records)."""
    actor, user = scope.actor, scope.user
    tz, now = clock.user_zone(user), clock.now()
    counts = task_queries.view_counts(actor, user, assignee_ids=scope.assignee_ids, keys=TASK_GROUPS)
    base = task_queries.assigned(actor, user, scope.assignee_ids)
    records = Record.objects.filter(archived_at__isnull=True).select_related("object_type").order_by("name", "id")
    groups = []
    tasks_url = reverse("tasks")
    for key in TASK_GROUPS:
        tasks = []
        if counts[key]:
            tasks = list(
                task_queries.in_view(base, key, tz=tz, now=now)
                .select_related("assignee")
                .prefetch_related(Prefetch("records", queryset=records))
                .order_by("due_at", "id")[:FIRST_TASKS]
            )
        if scope.is_team:
            params = {"view": task_queries.TEAM_VIEW, "due": key, **scope.tab_params()}
        else:
            params = {"view": key}
        groups.append(
            TaskGroup(key, str(task_queries.DEFAULT_VIEWS[key]), counts[key], tasks, f"{tasks_url}?{urlencode(params)}")
        )
    return groups


@dataclass
class ViewCard:
    view_id: int
    name: str
    description: str
    url: str
    count: int = 0
    capped: bool = False
    headers: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    error: str = ""


def customer_view_cards(scope: Scope, users: list[User]) -> list[ViewCard]:
    """The Customers tab's default views (at most six, in the admin's order): each one's count
    (capped as the tab caps it) and first rows — two queries a view, read as the viewed user."""
    actor, user = scope.actor, scope.user
    ws = workspace_settings()
    object_type = ws.customer_object_type
    registry = registry_for(object_type)
    tz = clock.user_zone(user)
    customers_url = reverse("customers")
    cards = []
    for view in ws_queries.default_views(actor, "customers")[:MAX_VIEW_CARDS]:
        card = ViewCard(view.pk, view.name, view.description, f"{customers_url}?view={view.pk}")
        specs = [spec for c in (view.columns or []) if c != "name" and (spec := registry.get(c))][:VIEW_COLUMNS]
        columns = [spec.name for spec in specs]
        cells = listing.RecordCells(registry, ["name", *columns], object_type=object_type, users=users)
        card.headers = [str(_(spec.label)) for spec in specs]
        filters = listing.localize_datetimes(dict(view.filters or {}), registry, tz)
        try:
            _registry, records = ws_queries.customer_records(
                actor=actor,
                viewed_user=user,
                ws=ws,
                table=ws_queries.TableSpec(filters=filters, sorts=list(view.sorts or []), columns=columns),
                extra_filters=[],
                registry=registry,
            )
            card.count, card.capped = capped_count(records)
            card.rows = cells.rows(records[:FIRST_ROWS]) if card.count else []
        except ValidationFailed as exc:
            card.error = exc.detail or str(exc)
        cards.append(card)
    return cards


def today_window(user: User, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Today in the user's time zone, from midnight to the next midnight (23 or 25 hours on the
    days the clocks change)."""
    tz = clock.user_zone(user)
    today = (now or clock.now()).astimezone(tz).date()
    start = dt.datetime.combine(today, dt.time(), tz)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tz)
    return start, end


def todays_schedule(scope: Scope) -> list[schedule_queries.Item]:
    """The viewed user's meetings and tasks of today (their own calendar, in every scope)."""
    start, end = today_window(scope.user)
    return schedule_queries.schedule_items(scope.actor, user=scope.user, start=start, end=end)


def health_profile(profiles: list, raw: str | None) -> Any:
    """The profile the health card shows: the one asked for, else the first active one."""
    chosen = next((p for p in profiles if str(p.pk) == (raw or "")), None)
    return chosen or (profiles[0] if profiles else None)


def can_open_tabs(scope: Scope) -> bool:
    return policy.allows(scope.actor, policy.Action.USE_WORK_TABS)


# ---- the reports card --------------------------------------------------------------------------

REPORT_CHOICES = 30  # reports listed at once by the card's picker (a search narrows them)


@dataclass
class ReportTile:
    """One of the viewed user's Summary reports, with the orders its move buttons send."""

    report: Report
    up: list[int] | None  # the order with this report one place earlier (None for the first)
    down: list[int] | None


def report_tiles(user: User) -> list[ReportTile]:
    """The user's Summary reports in their order (three queries, at most five rows). A move swaps
    two shown reports in the full order, so that one no longer shared with them keeps its place."""
    reports = report_queries.summary_reports(user)
    order = list(SummaryReport.objects.filter(user=user).order_by("position", "id").values_list("report_id", flat=True))

    def swapped(a: int, b: int) -> list[int]:
        out = order.copy()
        i, j = out.index(a), out.index(b)
        out[i], out[j] = out[j], out[i]
        return out

    ids = [r.pk for r in reports]
    return [
        ReportTile(
            report=report,
            up=swapped(ids[i], ids[i - 1]) if i > 0 else None,
            down=swapped(ids[i], ids[i + 1]) if i < len(ids) - 1 else None,
        )
        for i, report in enumerate(reports)
    ]


def report_choices(scope: Scope, search: str = "") -> list[Report]:
    """The reports the viewed user may add to their Summary: those they see and have not added."""
    chosen = SummaryReport.objects.filter(user=scope.user).values("report_id")
    reports = report_queries.reports_for(scope.actor, scope.user).exclude(pk__in=chosen).prefetch_related(None)
    if search:
        reports = reports.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return list(reports.order_by("name", "id")[:REPORT_CHOICES])
