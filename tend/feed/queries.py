"""Whose activity the Feed shows: the contacts of the companies the viewed user owns or is the CSM
of — their team's, for a manager (the Summary's scope) — and the page of it asked for."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_date

from tend.activity import queries as activity_queries
from tend.activity.models import Activity, ActivityType
from tend.core import clock
from tend.core.errors import ValidationFailed
from tend.crm.filters import compile_search
from tend.crm.queries import records_for
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.summary.scope import Scope

PAGE_SIZE = 25
MAX_SEARCH = 100


def book_companies(scope: Scope) -> QuerySet:
    """The ids of the active customers whose owner or CSM is in the scope: two groups of the
    filter language (owner IN …, CSM IN …), which the book indexes serve."""
    ws = workspace_settings()
    object_type = ws.customer_object_type
    ids = [int(i) for i in scope.user_ids]
    groups = [{"filters": [{"propertyName": "owner", "operator": "IN", "values": ids}]}]
    if ws.customer_csm_property:
        groups.append({"filters": [{"propertyName": ws.customer_csm_property, "operator": "IN", "values": ids}]})
    compiled = compile_search(
        {"filterGroups": groups}, registry_for(object_type), user=scope.user, tz=clock.user_zone(scope.user)
    )
    return compiled.apply(records_for(scope.actor, object_type)).order_by().values("pk")


@dataclass(frozen=True)
class FeedQuery:
    filters: activity_queries.FeedFilters
    cursor: activity_queries.Cursor | None
    from_day: str
    to_day: str

    @property
    def any_filter(self) -> bool:
        f = self.filters
        return bool(f.types or f.sequence or f.since or f.until or f.search)


TYPE_CHOICES = [*ActivityType.choices, (activity_queries.CUSTOM, None)]


def parse(params: QueryDict, tz: dt.tzinfo) -> FeedQuery:
    """The Feed's filters from a query string (unknown values are dropped, not errors: they come
    from links and forms of the page itself)."""
    known = set(ActivityType.values) | {activity_queries.CUSTOM}
    types = tuple(t for t in dict.fromkeys(params.getlist("type")) if t in known)
    sequence = params.get("sequence", "")
    if sequence not in (activity_queries.ENROLLED, activity_queries.NOT_ENROLLED):
        sequence = ""
    from_day, to_day = _day(params.get("from")), _day(params.get("to"))
    since = dt.datetime.combine(from_day, dt.time(), tz) if from_day else None
    until = dt.datetime.combine(to_day + dt.timedelta(days=1), dt.time(), tz) if to_day else None
    try:
        cursor = activity_queries.Cursor.decode(params.get("before"))
    except ValidationFailed:  # an edited link starts from the newest again
        cursor = None
    return FeedQuery(
        filters=activity_queries.FeedFilters(
            types=types,
            sequence=sequence,
            since=since,
            until=until,
            search=(params.get("q") or "").strip()[:MAX_SEARCH],
        ),
        cursor=cursor,
        from_day=from_day.isoformat() if from_day else "",
        to_day=to_day.isoformat() if to_day else "",
    )


def _day(raw: str | None) -> dt.date | None:
    try:
        return parse_date(raw or "")
    except ValueError:
        return None


def feed_page(scope: Scope, query: FeedQuery) -> tuple[list[Activity], activity_queries.Cursor | None]:
    """Two queries: the book's first companies (a small book is read company by company, by its
    ids: the planner then knows how few rows it holds) and the page."""
    companies = book_companies(scope)
    first = list(companies.values_list("pk", flat=True)[: activity_queries.SMALL_BOOK + 1])
    if not first:
        return [], None
    small = len(first) <= activity_queries.SMALL_BOOK
    return activity_queries.feed_page(
        companies=first if small else companies,
        small_book=small,
        user_id=scope.user.pk,
        filters=query.filters,
        cursor=query.cursor,
        limit=PAGE_SIZE,
    )
