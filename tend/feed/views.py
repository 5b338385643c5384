"""The Feed tab: the activity of the viewed user's (or team's) customers' contacts, newest first,
with search and filters; "Load older activity" pages on by cursor; each row can be dismissed (and
undone) and followed up from. View as shows another user's Feed, read-only."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.activity import queries as activity_queries
from tend.activity.models import Activity, ActivityType
from tend.activity.services import activity_dismiss, activity_undismiss
from tend.core import clock, policy
from tend.core.errors import Forbidden, NotFound
from tend.core.web import viewing, workspace_view
from tend.summary.scope import scope_of

from . import queries


def _filters_query(request: HttpRequest, query: queries.FeedQuery, scope) -> str:
    """The filters and scope as a query string, for the "Load older" link."""
    params: list[tuple[str, str]] = [("type", t) for t in query.filters.types]
    for key, value in (
        ("q", query.filters.search),
        ("sequence", query.filters.sequence),
        ("from", query.from_day),
        ("to", query.to_day),
    ):
        if value:
            params.append((key, value))
    params += list(scope.params().items())
    return urlencode(params)


@workspace_view
@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    current = viewing(request)
    policy.require(current.actor, policy.Action.USE_WORK_TABS)
    scope = scope_of(current, request.GET)
    tz = clock.user_zone(scope.user)
    query = queries.parse(request.GET, tz)
    page, next_cursor = queries.feed_page(scope, query)
    filters_query = _filters_query(request, query, scope)
    context = {
        "active_tab": "feed",
        "scope": scope,
        "team": scope.team,
        "query": query,
        "rows": page,
        "next_url": f"?{filters_query}&before={next_cursor.encode()}" if next_cursor else "",
        "tz": tz,
        "can_act": current.can_act,
        "can_edit": current.can_act and policy.allows(current.actor, policy.Action.EDIT_RECORDS),
        "type_choices": [(key, label) for key, label in ActivityType.choices]
        + [(activity_queries.CUSTOM, _custom_label())],
        "sequence_choices": _sequence_choices(),
        "older": query.cursor is not None,
    }
    if request.htmx and query.cursor is not None:
        return render(request, "feed/feed.html#older", context)
    if request.htmx and request.htmx.target == "feed-list":
        return render(request, "feed/feed.html#list", context)
    return render(request, "feed/feed.html", context)


def _custom_label() -> str:
    return _("Custom activity")


def _sequence_choices() -> list[tuple[str, str]]:
    return [
        ("", _("Any contact")),
        (activity_queries.ENROLLED, _("Enrolled in a sequence")),
        (activity_queries.NOT_ENROLLED, _("Not enrolled in a sequence")),
    ]


def _acting(request: HttpRequest):
    current = viewing(request)
    if not current.can_act:
        raise Forbidden(_("You are viewing as another user; their Feed is read-only."))
    return current


def _row(request: HttpRequest, activity: Activity, *, dismissed: bool) -> HttpResponse:
    current = viewing(request)
    activity = (
        Activity.objects.select_related("contact", "contact__object_type", "company", "company__object_type")
        .filter(pk=activity.pk)
        .get()
    )
    context = {
        "a": activity,
        "dismissed": dismissed,
        "tz": clock.user_zone(current.user),
        "can_act": current.can_act,
        "can_edit": current.can_act and policy.allows(current.actor, policy.Action.EDIT_RECORDS),
    }
    return render(request, "feed/feed.html#row", context)


@workspace_view
@require_POST
def dismiss(request: HttpRequest, activity_id: int) -> HttpResponse:
    current = _acting(request)
    try:
        activity = activity_dismiss(actor=current.actor, activity_id=activity_id)
    except NotFound as exc:
        raise Http404 from exc
    return _row(request, activity, dismissed=True)


@workspace_view
@require_POST
def undo(request: HttpRequest, activity_id: int) -> HttpResponse:
    current = _acting(request)
    try:
        activity = activity_undismiss(actor=current.actor, activity_id=activity_id)
    except NotFound as exc:
        raise Http404 from exc
    return _row(request, activity, dismissed=False)
