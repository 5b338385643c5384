"""A record's recent activity and its timeline: engagements and property changes, newest first."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from tend.core import clock, policy
from tend.crm import queries
from tend.crm.models import PropertyType
from tend.crm.registry import PropSpec

from .history import change_row, when_text, who
from .shared import RecordAccess, record_view

PREVIEW_ACTIVITY = 10
TIMELINE_PAGE = 20
_USER = PropSpec("user", "", PropertyType.USER)


@dataclass(frozen=True)
class Activity:
    """One entry of recent activity or of the timeline: an engagement or a set of changes."""

    kind: str  # tasks, meetings, notes, calls, emails, changes, created
    rank: int
    pk: int
    when: dt.datetime
    when_text: str
    title: str
    body: str = ""
    who: str = ""
    meta: str = ""
    done: bool = False
    upcoming: bool = False  # a task due or a meeting starting later than now
    changes: tuple = ()
    editable: bool = False  # a note or call the viewer may change (an email only deleted)
    deletable: bool = False

    @property
    def icon(self) -> str:
        return ACTIVITY_ICONS[self.kind]

    @property
    def cursor(self) -> str:
        return f"{self.when.isoformat()}|{self.rank}|{self.pk}"


ACTIVITY_ICONS = {
    "changes": "bi-pencil-square",
    "tasks": "bi-check2-square",
    "meetings": "bi-calendar-event",
    "notes": "bi-sticky",
    "calls": "bi-telephone",
    "emails": "bi-envelope",
    "created": "bi-plus-circle",
}

# Order among entries at the same moment (the timeline sorts by time, then this, then id).
RANKS = {"changes": 0, "tasks": 1, "meetings": 2, "notes": 3, "calls": 4, "emails": 5}

_WHEN = {
    "tasks": Coalesce("due_at", "created_at"),
    "meetings": F("start_at"),
    "notes": F("created_at"),
    "calls": F("occurred_at"),
    "emails": F("occurred_at"),
    "changes": F("changed_at"),
}


def _before(queryset, rank: int, cursor: tuple | None):
    """Entries strictly after `cursor` in the timeline's order (time, rank, id — all descending)."""
    if cursor is None:
        return queryset
    when, cursor_rank, cursor_pk = cursor
    if rank < cursor_rank:
        return queryset.filter(when__lte=when)
    if rank == cursor_rank:
        return queryset.filter(Q(when__lt=when) | Q(when=when, pk__lt=cursor_pk))
    return queryset.filter(when__lt=when)


def _parse_cursor(raw: str | None) -> tuple | None:
    try:
        when, rank, pk = (raw or "").split("|")
        moment = dt.datetime.fromisoformat(when)
        if moment.tzinfo is None:
            return None
        return moment, int(rank), int(pk)
    except ValueError:
        return None


def _duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes = round(seconds / 60)
    if minutes < 60:
        return ngettext("%(count)s min", "%(count)s min", minutes) % {"count": minutes}
    return _("%(hours)s h %(minutes)s min") % {"hours": minutes // 60, "minutes": minutes % 60}


def _email_meta(item) -> str:
    parts = [str(item.get_direction_display())]
    if item.to_addresses:
        parts.append(_("to %(addresses)s") % {"addresses": ", ".join(item.to_addresses)})
    if item.tracked:
        parts.append(
            ngettext("opened %(count)s time", "opened %(count)s times", item.open_count) % {"count": item.open_count}
        )
        parts.append(ngettext("%(count)s click", "%(count)s clicks", item.click_count) % {"count": item.click_count})
    return " · ".join(parts)


def _engagement_activity(access: RecordAccess, kind: str, item) -> Activity:
    fmt = access.formatter
    common = {"kind": kind, "rank": RANKS[kind], "pk": item.pk, "when": item.when}
    if kind in ("notes", "calls", "emails") and access.can_edit:
        # What the viewer logged (or, for settings managers, anyone's); a sent email stays as sent.
        changeable = policy.allows(access.actor, policy.Action.EDIT_ENGAGEMENT, item)
        common["editable"], common["deletable"] = changeable and kind != "emails", changeable
    common["when_text"] = when_text(access, item.when)
    common["upcoming"] = kind in ("tasks", "meetings") and item.when > clock.now()
    match kind:
        case "tasks":
            done = item.status == item.Status.COMPLETED
            meta = item.get_status_display()
            if item.due_at:
                meta = _("%(status)s · due %(when)s") % {"status": meta, "when": when_text(access, item.due_at)}
            common["upcoming"] = common["upcoming"] and not done
            return Activity(
                **common,
                title=item.subject,
                body=item.notes,
                who=fmt.format(_USER, item.assignee_id),
                meta=meta,
                done=done,
            )
        case "meetings":
            return Activity(
                **common,
                title=item.title,
                body=item.notes,
                who=fmt.format(_USER, item.owner_id),
                meta=item.get_outcome_display(),
            )
        case "notes":
            return Activity(**common, title=_("Note"), body=item.body, who=fmt.format(_USER, item.owner_id))
        case "calls":
            meta = " · ".join(
                str(p)
                for p in (item.get_direction_display(), item.get_outcome_display(), _duration(item.duration_seconds))
                if p
            )
            return Activity(
                **common, title=item.title or _("Call"), body=item.body, who=fmt.format(_USER, item.owner_id), meta=meta
            )
        case "emails":
            return Activity(
                **common,
                title=item.subject,
                body=item.body,
                who=fmt.format(_USER, item.owner_id),
                meta=_email_meta(item),
            )
    raise ValueError(kind)


def _engagements(access: RecordAccess, limit: int, cursor: tuple | None = None) -> list[Activity]:
    """The newest `limit` engagements of each kind linked to the record: one query per kind."""
    record = access.record
    found = []
    for kind in ("tasks", "meetings", "notes", "calls", "emails"):
        items = getattr(record, kind).active().annotate(when=_WHEN[kind])
        items = _before(items, RANKS[kind], cursor).order_by("-when", "-pk")[:limit]
        found.extend(_engagement_activity(access, kind, item) for item in items)
    return found


def _sorted(entries: list[Activity]) -> list[Activity]:
    return sorted(entries, key=lambda a: (a.when, a.rank, a.pk), reverse=True)


def recent_activity(access: RecordAccess, limit: int = PREVIEW_ACTIVITY) -> list[Activity]:
    return _sorted(_engagements(access, limit))[:limit]


def _change_entries(access: RecordAccess, limit: int, cursor: tuple | None) -> list[Activity]:
    """Property changes, one entry per change; `timeline_page` groups those made together."""
    changes = queries.record_history(access.actor, access.record).annotate(when=F("changed_at"))
    changes = _before(changes, RANKS["changes"], cursor).order_by("-when", "-pk")[:limit]
    return [
        Activity(
            kind="changes",
            rank=RANKS["changes"],
            pk=change.pk,
            when=change.changed_at,
            when_text=when_text(access, change.changed_at),
            title="",
            who=who(change),
            meta=change.get_source_display(),
            changes=(change_row(access, change),),
        )
        for change in changes
    ]


def _group_changes(entries: list[Activity]) -> list[Activity]:
    """Changes written by one save (same moment, person and source) read as one entry."""
    grouped: list[Activity] = []
    for entry in entries:
        last = grouped[-1] if grouped else None
        if (
            entry.kind == "changes"
            and last is not None
            and last.kind == "changes"
            and (last.when, last.who, last.meta) == (entry.when, entry.who, entry.meta)
        ):
            grouped[-1] = Activity(**{**last.__dict__, "changes": last.changes + entry.changes, "pk": entry.pk})
        else:
            grouped.append(entry)
    return grouped


@dataclass(frozen=True)
class TimelinePage:
    entries: list
    next_cursor: str | None


def timeline_page(access: RecordAccess, cursor: tuple | None, size: int = TIMELINE_PAGE) -> TimelinePage:
    """Engagements and property changes merged by time, newest first, a page at a time: a
    fixed number of queries per page, each source limited to one page plus one."""
    entries = _sorted(_engagements(access, size + 1, cursor) + _change_entries(access, size + 1, cursor))
    page, more = entries[:size], len(entries) > size
    next_cursor = page[-1].cursor if more and page else None
    if not more:
        record = access.record
        page.append(
            Activity(
                kind="created",
                rank=99,
                pk=record.pk,
                when=record.created_at,
                when_text=when_text(access, record.created_at),
                title=_("%(type)s created") % {"type": _(access.object_type.label_singular)},
            )
        )
    return TimelinePage(entries=_group_changes(page), next_cursor=next_cursor)


@require_GET
@record_view
def record_timeline(request, access: RecordAccess):
    """The next page of the timeline ("Load older")."""
    timeline = timeline_page(access, _parse_cursor(request.GET.get("before")))
    context = {"access": access, "record": access.record, "object_type": access.object_type, "timeline": timeline}
    return render(request, "crm/_timeline.html", context)
