"""The Schedule tab: a calendar of the viewed user's tasks and meetings (FullCalendar fed by
`events`), item summaries, scheduling a meeting in the side panel, and calendar subscriptions."""

import datetime as dt
import zoneinfo

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe
from django_htmx.http import trigger_client_event

from tend.core import clock, policy
from tend.core.api import problem
from tend.core.errors import Forbidden, NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.core.web import Viewing, viewing, workspace_view
from tend.crm.picker import records_by_ids
from tend.engagement.models import Meeting

from . import ics, queries, services

INVALID_STATUS = 422
NEW_FEED_SESSION_KEY = "tend_new_calendar_feed"
REFRESH_EVENT = "tend:schedule-changed"
_FORM_FIELDS = frozenset({"title", "start", "end", "attendees", "location", "meeting_url", "records", "notes"})


def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _chosen_zone(request, current: Viewing) -> zoneinfo.ZoneInfo:
    """The zone asked for with ?tz= (or a form's tz), else the viewing user's own."""
    raw = request.POST.get("tz") if request.method == "POST" else request.GET.get("tz")
    try:
        return queries.parse_zone(raw, default=clock.user_zone(current.user))
    except ValidationFailed:
        return clock.user_zone(current.user)


def _can_schedule(current: Viewing) -> bool:
    return current.can_act and policy.allows(current.actor, policy.Action.EDIT_RECORDS)


def _read_only_reason(current: Viewing) -> str:
    if current.is_view_as:
        return _("You are viewing Tend as %(name)s, so changes are turned off. Stop viewing as to make changes.") % {
            "name": current.user.display_name
        }
    if not policy.allows(current.actor, policy.Action.EDIT_RECORDS):
        return _("You need an assigned Service seat to schedule meetings.")
    return ""


@workspace_view
@require_GET
def schedule(request):
    current = viewing(request)
    policy.require(current.actor, policy.Action.USE_WORK_TABS)
    tz = _chosen_zone(request, current)
    context = {
        "active_tab": "schedule",
        "tz": tz.key,
        "user_tz": clock.user_zone(current.user).key,
        "zones": _zones(),
        "calendar_locale": (get_language() or "en").lower(),  # FullCalendar knows en-gb, ja, de, it
        "can_schedule": _can_schedule(current),
        "read_only_reason": _read_only_reason(current),
        "schedule_user": current.user,
    }
    return render(request, "schedule/schedule.html", context)


def _event(item: queries.Item, tz: zoneinfo.ZoneInfo) -> dict:
    classes = [f"tend-{item.kind}"]
    if item.done:
        classes.append("tend-done")
    if item.cancelled:
        classes.append("tend-cancelled")
    return {
        "id": item.key,
        "title": item.title,
        "start": queries.local_iso(item.start, tz),
        "end": queries.local_iso(item.end, tz),
        "allDay": False,
        "classNames": classes,
        "extendedProps": {
            "kind": item.kind,
            "done": item.done,
            "summaryUrl": reverse("schedule-item", args=[item.kind, item.obj.pk]),
            "meetingUrl": "" if item.is_task else item.obj.meeting_url,
        },
    }


@workspace_view
@require_GET
def events(request):
    """FullCalendar's event source: the viewed user's items between `start` and `end`, with
    times in the zone `tz` (wall times without an offset are read in that zone)."""
    current = viewing(request)
    try:
        policy.require(current.actor, policy.Action.USE_WORK_TABS)
    except Forbidden as exc:
        return problem(403, _("Forbidden"), str(exc))
    try:
        tz = queries.parse_zone(request.GET.get("tz"), default=clock.user_zone(current.user))
        start, end = queries.parse_window(request.GET.get("start"), request.GET.get("end"), tz)
    except ValidationFailed as exc:
        return problem(422, _("Invalid input"), exc.detail, [e.as_dict() for e in exc.errors])
    items = queries.schedule_items(current.actor, user=current.user, start=start, end=end)
    return JsonResponse([_event(i, tz) for i in items], safe=False, json_dumps_params={"ensure_ascii": False})


def _summary_response(request, current: Viewing, item: queries.Item, tz, *, status: int = 200, error: str = ""):
    context = {
        "item": item,
        "tz": tz,
        "can_act": _can_schedule(current),
        "outcomes": Meeting.Outcome.choices,
        "error": error,
    }
    return render(request, "schedule/_summary.html", context, status=status)


@workspace_view
@require_GET
def item_summary(request, kind: str, item_id: int):
    current = viewing(request)
    try:
        item = queries.get_item(current.actor, kind=kind, item_id=item_id)
    except NotFound as exc:
        return render(request, "schedule/_gone.html", {"message": str(exc)}, status=404)
    return _summary_response(request, current, item, _chosen_zone(request, current))


@workspace_view
@require_POST
def meeting_outcome(request, meeting_id: int):
    current = viewing(request)
    tz = _chosen_zone(request, current)
    try:
        item = queries.get_item(current.actor, kind="meeting", item_id=meeting_id)
    except NotFound as exc:
        return render(request, "schedule/_gone.html", {"message": str(exc)}, status=404)
    if not _can_schedule(current):
        raise Forbidden(_read_only_reason(current))
    try:
        services.meeting_set_outcome(actor=current.actor, meeting=item.obj, outcome=request.POST.get("outcome", ""))
    except ValidationFailed as exc:
        item.obj.refresh_from_db()
        return _summary_response(request, current, item, tz, status=INVALID_STATUS, error=exc.detail)
    response = _summary_response(
        request, current, queries.get_item(current.actor, kind="meeting", item_id=meeting_id), tz
    )
    trigger_client_event(response, REFRESH_EVENT)
    return response


def _input_value(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def _initial_times(request, tz: zoneinfo.ZoneInfo) -> tuple[str, str]:
    """Prefill from a calendar selection (?start=&end=, wall times or dates in `tz`), else the
    next whole hour for 30 minutes. A selection of whole days starts at 09:00 on its first day."""
    raw_start, raw_end = request.GET.get("start", ""), request.GET.get("end", "")
    try:
        start = queries.parse_moment(raw_start, tz, field="start").astimezone(tz)
        end = queries.parse_moment(raw_end, tz, field="end").astimezone(tz)
        if len(raw_start.strip()) == 10:  # a date: a month-view or all-day selection
            start = start.replace(hour=9)
            end = start + dt.timedelta(minutes=30)
        if end <= start:
            end = start + dt.timedelta(minutes=30)
    except ValidationFailed:
        now = clock.now().astimezone(tz)
        start = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        end = start + dt.timedelta(minutes=30)
    return _input_value(start), _input_value(end)


def _form_response(request, current: Viewing, *, tz, values: dict, records, errors=None, status: int = 200):
    field_errors: dict[str, list[str]] = {}
    for error in errors or []:
        field_errors.setdefault(error.field, []).append(error.message)
    context = {
        "tz": tz,
        "zones": _zones(),
        "values": values,
        "records": records,
        "errors": field_errors,
        "other_errors": [m for field, messages in field_errors.items() if field not in _FORM_FIELDS for m in messages],
        "read_only_reason": _read_only_reason(current),
    }
    return render(request, "schedule/_meeting_form.html", context, status=status)


@workspace_view
@require_http_methods(["GET", "POST"])
def meeting_new(request):
    """GET: the "Schedule meeting" form in the side panel, prefilled from a calendar selection
    or a record (?record=<id>); POST: schedule it (422 with the errors at the fields)."""
    current = viewing(request)
    tz = _chosen_zone(request, current)
    if request.method == "GET":
        start, end = _initial_times(request, tz)
        values = {"title": "", "start": start, "end": end, "attendees": "", "location": "", "meeting_url": ""}
        values["notes"] = ""
        records = records_by_ids(current.actor, request.GET.getlist("record"))
        return _form_response(request, current, tz=tz, values=values, records=records)
    if not _can_schedule(current):
        raise Forbidden(_read_only_reason(current))
    fields = ("title", "start", "end", "attendees", "location", "meeting_url", "notes")
    values = {name: request.POST.get(name, "") for name in fields}
    record_ids = request.POST.getlist("records")
    try:
        meeting = services.meeting_schedule(actor=current.actor, tz=tz, record_ids=record_ids, **values)
    except ValidationFailed as exc:
        records = records_by_ids(current.actor, record_ids)
        return _form_response(
            request, current, tz=tz, values=values, records=records, errors=exc.errors, status=INVALID_STATUS
        )
    item = queries.get_item(current.actor, kind="meeting", item_id=meeting.pk)
    response = _summary_response(request, current, item, tz)
    trigger_client_event(response, REFRESH_EVENT)
    return response


# --------------------------------------------------------------------------- subscriptions


@workspace_view
@require_http_methods(["GET", "POST"])
def subscriptions(request):
    """The signed-in user's own calendar subscriptions (never another's, View as or not)."""
    actor = policy.Actor(request.user)
    if request.method == "POST":
        try:
            _feed, raw = services.calendar_feed_create(actor=actor, name=request.POST.get("name", ""))
        except ValidationFailed as exc:
            return _subscriptions_page(request, actor, errors=exc.errors, status=INVALID_STATUS)
        # Shown once, on the page the browser is redirected to; only its hash is stored.
        request.session[NEW_FEED_SESSION_KEY] = ics.feed_url(request, raw)
        return redirect("calendar-subscriptions")
    return _subscriptions_page(request, actor, new_url=request.session.pop(NEW_FEED_SESSION_KEY, ""))


def _subscriptions_page(request, actor: Actor, *, new_url: str = "", errors=None, status: int = 200):
    context = {
        "feeds": list(queries.feeds_for(actor, user=request.user)),
        "new_url": new_url,
        "new_webcal_url": new_url.replace("https://", "webcal://", 1).replace("http://", "webcal://", 1),
        "errors": {e.field: e.message for e in errors or []},
        "name": request.POST.get("name", ""),
    }
    return render(request, "schedule/subscriptions.html", context, status=status)


@workspace_view
@require_POST
def subscription_revoke(request, feed_id: int):
    try:
        services.calendar_feed_revoke(actor=policy.Actor(request.user), feed_id=feed_id)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    return redirect("calendar-subscriptions")


@require_safe
def calendar_feed(request, token: str):
    """The ICS feed of a subscription, for calendar clients (no sign-in: the URL is the secret)."""
    feed = services.calendar_feed_open(raw_token=token)
    if feed is None:
        return HttpResponse(_("No such calendar."), status=404, content_type="text/plain; charset=utf-8")
    start, end = queries.feed_window()
    items = queries.schedule_items(feed.user, user=feed.user, start=start, end=end)
    items = queries.nearest(items, now=clock.now())
    body = ics.feed_calendar(
        feed,
        items,
        host=request.get_host().split(":")[0],
        record_url=lambda r: request.build_absolute_uri(reverse("record-detail", args=[r.object_type.name, r.pk])),
        schedule_url=request.build_absolute_uri(reverse("schedule")),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tend.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
