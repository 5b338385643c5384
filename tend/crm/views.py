"""The record UI: a preview side panel and a full record page for records of every object type,
with inline edit, property history, recent activity and a timeline, follow, merge and
associations.

Views stay thin: they read through `queries` (which asks the policy), write through services
with ``source=ChangeSource.UI`` and render. The preview and the page share one context builder
and the same fragment templates (`crm/_*.html`), so a fragment never rebuilds a page a second way.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property, wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from tend.core import clock, policy
from tend.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from tend.core.web import Viewing, viewing, workspace_view
from tend.directory.models import User

from . import queries, services
from .display import Formatter
from .filters import compile_search
from .models import ChangeSource, ObjectType, PropertyType, Record
from .registry import PIPELINE, STAGE, PropSpec, registry_for

PREVIEW_ACTIVITY = 10
TIMELINE_PAGE = 20
PROPERTY_HISTORY_LIMIT = 50
HISTORY_PAGE = 50
SEARCH_LIMIT = 10
# htmx 2 does not swap 4xx responses by default; the forms that can get one opt in with
# `hx-on::before-swap` (see _property_edit.html), so the status stays honest for other clients.
INVALID_STATUS = 422

_USER = PropSpec("user", "", PropertyType.USER)
_DATETIME = PropSpec("when", "", PropertyType.DATETIME)


# --------------------------------------------------------------------------- loading


@dataclass
class RecordAccess:
    """One record as one request sees it: who views it, and what they may do with it."""

    viewing: Viewing
    object_type: ObjectType
    record: Record

    @property
    def actor(self) -> policy.Actor:
        return self.viewing.actor

    @cached_property
    def registry(self):
        return registry_for(self.object_type)

    @cached_property
    def formatter(self) -> Formatter:
        return Formatter(self.registry)

    @cached_property
    def read_only_reason(self) -> str:
        """Why changes are turned off for this viewer, or "" when they may edit."""
        if self.viewing.is_view_as:
            return _(
                "You are viewing Tend as %(name)s, so changes are turned off. Stop viewing as to make changes."
            ) % {"name": self.viewing.user.display_name}
        if not policy.allows(self.actor, policy.Action.EDIT_RECORDS):
            return _(
                "You can read this record but not change it: you need an assigned Service seat. Ask a super admin."
            )
        if self.record.archived_at is not None:
            return _("This record is archived; it cannot be changed.")
        return ""

    @property
    def can_edit(self) -> bool:
        return not self.read_only_reason

    @property
    def can_act(self) -> bool:
        """Personal actions (follow) are the actor's own, except while viewing as someone else."""
        return self.viewing.can_act


def record_view(view):
    """Load the record named by the URL through the policy; unknown ids answer a 404 page and
    merged ids redirect (GET) to the record they were merged into."""

    @workspace_view
    @wraps(view)
    def wrapper(request, object_type: str, record_id: int, **kwargs):
        current = viewing(request)
        try:
            object_type_obj = queries.get_object_type_for_user(current.actor, object_type)
            record = queries.get_record_for_user(current.actor, object_type_obj, record_id)
        except NotFound:
            return _not_found(request)
        if record.pk != record_id and request.method in ("GET", "HEAD"):
            match = request.resolver_match
            url = reverse(match.url_name, kwargs={**match.kwargs, "record_id": record.pk})
            if request.GET:
                url = f"{url}?{request.GET.urlencode()}"
            return redirect(url)
        return view(request, RecordAccess(current, object_type_obj, record), **kwargs)

    return wrapper


def _not_found(request):
    template = "crm/_not_found.html" if request.htmx else "crm/not_found.html"
    return render(request, template, {}, status=404)


def _require_edit(access: RecordAccess) -> None:
    if access.read_only_reason:
        raise Forbidden(access.read_only_reason)


def _require_act(access: RecordAccess) -> None:
    if not access.can_act:
        raise Forbidden(access.read_only_reason)


# --------------------------------------------------------------------------- properties


@dataclass(frozen=True)
class PropertyRow:
    """One property as a row of the panel or page: label, display text, whether it can be edited."""

    spec: PropSpec
    text: str
    editable: bool
    detail: str = ""  # e.g. the pipeline of a stage

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return _(str(self.spec.label))


def _has_pipelines(access: RecordAccess) -> bool:
    if access.record.pipeline_id is not None:
        return True
    return queries.pipelines_for(access.actor, access.object_type).exists()


def _shown_specs(access: RecordAccess) -> list[PropSpec]:
    """Every live property in registry order, the timestamps Tend keeps last. The pipeline shows
    beside its stage; the name column hides when another property is the primary one."""
    hidden = {"pipeline"}
    if access.object_type.primary_property != "name":
        hidden.add("name")
    if not _has_pipelines(access):
        hidden.add("stage")
    shown = [spec for spec in access.registry if spec.name not in hidden]
    return [s for s in shown if not s.is_column or not s.read_only] + [s for s in shown if s.is_column and s.read_only]


def _row(access: RecordAccess, spec: PropSpec) -> PropertyRow:
    record = access.record
    detail = ""
    if spec.type == STAGE and record.pipeline_id is not None:
        detail = access.formatter.text(record, "pipeline")
    return PropertyRow(
        spec=spec,
        text=access.formatter.text(record, spec.name),
        editable=access.can_edit and not spec.read_only,
        detail=detail,
    )


def _property_rows(access: RecordAccess) -> list[PropertyRow]:
    return [_row(access, spec) for spec in _shown_specs(access)]


# --------------------------------------------------------------------------- activity and timeline


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


def _when_text(access: RecordAccess, value) -> str:
    return access.formatter.format(_DATETIME, value)


def _engagement_activity(access: RecordAccess, kind: str, item) -> Activity:
    fmt = access.formatter
    common = {"kind": kind, "rank": RANKS[kind], "pk": item.pk, "when": item.when}
    common["when_text"] = _when_text(access, item.when)
    common["upcoming"] = kind in ("tasks", "meetings") and item.when > clock.now()
    match kind:
        case "tasks":
            done = item.status == item.Status.COMPLETED
            meta = item.get_status_display()
            if item.due_at:
                meta = _("%(status)s · due %(when)s") % {"status": meta, "when": _when_text(access, item.due_at)}
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
            meta = item.get_direction_display()
            if item.outcome:
                meta = f"{meta} · {item.get_outcome_display()}"
            return Activity(
                **common, title=item.title or _("Call"), body=item.body, who=fmt.format(_USER, item.owner_id), meta=meta
            )
        case "emails":
            return Activity(
                **common,
                title=item.subject,
                body=item.body,
                who=fmt.format(_USER, item.owner_id),
                meta=item.get_direction_display(),
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


def _recent_activity(access: RecordAccess, limit: int = PREVIEW_ACTIVITY) -> list[Activity]:
    return _sorted(_engagements(access, limit))[:limit]


def _change_row(access: RecordAccess, change) -> dict:
    spec = access.registry.get(change.property_name)
    fmt = access.formatter
    return {
        "label": _(str(spec.label)) if spec else change.property_name,
        "old": fmt.format(spec, change.old_value) if spec else _raw_text(change.old_value),
        "new": fmt.format(spec, change.new_value) if spec else _raw_text(change.new_value),
        "when": _when_text(access, change.changed_at),
        "who": _who(change),
        "source": change.get_source_display(),
        "source_code": change.source,
    }


def _who(change) -> str:
    # No user: Tend itself wrote it (policy.SYSTEM: automation, imports, survey answers, the demo).
    return change.changed_by.display_name if change.changed_by else _("Tend")


def _raw_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _change_entries(access: RecordAccess, limit: int, cursor: tuple | None) -> list[Activity]:
    """Property changes, one entry per change; `_timeline` groups those made together."""
    changes = queries.record_history(access.actor, access.record).annotate(when=F("changed_at"))
    changes = _before(changes, RANKS["changes"], cursor).order_by("-when", "-pk")[:limit]
    return [
        Activity(
            kind="changes",
            rank=RANKS["changes"],
            pk=change.pk,
            when=change.changed_at,
            when_text=_when_text(access, change.changed_at),
            title="",
            who=_who(change),
            meta=change.get_source_display(),
            changes=(_change_row(access, change),),
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


def _timeline(access: RecordAccess, cursor: tuple | None, size: int = TIMELINE_PAGE) -> TimelinePage:
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
                when_text=_when_text(access, record.created_at),
                title=_("%(type)s created") % {"type": _(access.object_type.label_singular)},
            )
        )
    return TimelinePage(entries=_group_changes(page), next_cursor=next_cursor)


# --------------------------------------------------------------------------- associations


@dataclass(frozen=True)
class AssociationGroup:
    object_type: ObjectType
    links: list  # Association rows with to_record loaded

    @property
    def label(self) -> str:
        return _(self.object_type.label_plural)


def _association_groups(access: RecordAccess, object_types: list[ObjectType]) -> list[AssociationGroup]:
    groups = []
    for object_type in object_types:
        links = list(queries.associated_records(access.actor, access.record, object_type))
        if links:
            groups.append(AssociationGroup(object_type, links))
    return groups


def _associations_context(access: RecordAccess, *, manage: bool, **extra) -> dict:
    object_types = list(queries.object_types(access.actor))
    return {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "association_groups": _association_groups(access, object_types),
        "object_types": object_types,
        "manage": manage and access.can_edit,
        **extra,
    }


# --------------------------------------------------------------------------- preview and page


def _record_context(access: RecordAccess, *, in_panel: bool) -> dict:
    """What the preview and the page both show (the page adds the timeline, the preview the
    recent activity)."""
    context = _associations_context(access, manage=not in_panel)
    context.update(
        rows=_property_rows(access),
        following=access.record.followers.filter(user=access.viewing.user).exists(),
        in_panel=in_panel,
    )
    return context


@require_GET
@record_view
def record_preview(request, access: RecordAccess):
    """The side panel: properties (inline edit), recent activity, associations, actions."""
    if not request.htmx:
        return redirect("record-detail", access.object_type.name, access.record.pk)
    context = _record_context(access, in_panel=True)
    context["activity"] = _recent_activity(access)
    return render(request, "crm/_preview.html", context)


@require_GET
@record_view
def record_detail(request, access: RecordAccess):
    """The full record page: the preview's content, a timeline and association management."""
    context = _record_context(access, in_panel=False)
    context["timeline"] = _timeline(access, None)
    return render(request, "crm/record.html", context)


@require_GET
@record_view
def record_timeline(request, access: RecordAccess):
    """The next page of the timeline ("Load older")."""
    timeline = _timeline(access, _parse_cursor(request.GET.get("before")))
    return render(request, "crm/_timeline.html", {"access": access, "record": access.record, "timeline": timeline})


# --------------------------------------------------------------------------- inline edit


def _input_kind(spec: PropSpec) -> str:
    return {
        PropertyType.TEXT: "text",
        PropertyType.LONG_TEXT: "textarea",
        PropertyType.NUMBER: "number",
        PropertyType.CURRENCY: "number",
        PropertyType.DATE: "date",
        PropertyType.DATETIME: "datetime",
        PropertyType.BOOLEAN: "boolean",
        PropertyType.ENUMERATION: "select",
        PropertyType.MULTI_ENUMERATION: "multi",
        PropertyType.USER: "user",
        PIPELINE: "pipeline",
        STAGE: "stage",
    }.get(spec.type, "text")


def _input_value(access: RecordAccess, spec: PropSpec):
    """The stored value in the form an HTML input expects."""
    value = access.formatter.raw(access.record, spec.name)
    if value is None or value == "":
        return [] if spec.type == PropertyType.MULTI_ENUMERATION else ""
    match spec.type:
        case PropertyType.DATETIME:
            moment = (
                value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            )
            return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")
        case PropertyType.BOOLEAN:
            return "true" if value else "false"
        case PropertyType.MULTI_ENUMERATION:
            return list(value)
    return str(value)


def _submitted(spec: PropSpec, post) -> object:
    """The raw value posted by the edit form, as the form would show it again."""
    if spec.type == PropertyType.MULTI_ENUMERATION:
        return post.getlist("value")
    value = post.get("value", "")
    if spec.type == PropertyType.LONG_TEXT:
        return value.replace("\r\n", "\n")
    return value


def _to_properties(spec: PropSpec, submitted) -> dict:
    """What the service receives for the posted value; an input the browser should never send
    (a malformed date and time) raises ValidationFailed at the field."""
    at = f"properties.{spec.name}"
    if spec.type == PropertyType.DATETIME and submitted:
        try:
            local = dt.datetime.fromisoformat(submitted)
        except ValueError as exc:
            raise ValidationFailed.single(at, _("Enter a date and time.")) from exc
        if local.tzinfo is None:
            local = timezone.make_aware(local, timezone.get_current_timezone())
        return {spec.name: local.isoformat()}
    if spec.type == STAGE and not submitted:
        return {"stage": None, "pipeline": None}
    return {spec.name: submitted}


def _choices(access: RecordAccess, spec: PropSpec):
    match spec.type:
        case PropertyType.ENUMERATION | PropertyType.MULTI_ENUMERATION:
            return [(str(o["value"]), _(o["label"])) for o in spec.options]
        case PropertyType.USER:
            users = User.objects.filter(is_active=True).order_by("full_name", "email")
            return [(str(u.pk), u.display_name) for u in users]
        case PropertyType.BOOLEAN:
            return [("true", _("Yes")), ("false", _("No"))]
        case _ if spec.type == PIPELINE:
            return [(str(p.pk), _(p.label)) for p in queries.pipelines_for(access.actor, access.object_type)]
        case _ if spec.type == STAGE:
            return [
                (_(p.label), [(str(s.pk), _(s.label)) for s in p.stages.all()])
                for p in queries.pipelines_for(access.actor, access.object_type)
            ]
    return []


def _edit_response(request, access: RecordAccess, spec: PropSpec, *, value=None, errors=(), status=200):
    at = f"properties.{spec.name}"
    field_errors = [e.message for e in errors if e.field in (at, spec.name)]
    other_errors = [e.message for e in errors if e.field not in (at, spec.name)]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "spec": spec,
        "label": _(str(spec.label)),
        "kind": _input_kind(spec),
        "value": _input_value(access, spec) if value is None else value,
        "choices": _choices(access, spec),
        "field_errors": field_errors,
        "other_errors": other_errors,
        "step": "0.01" if spec.type == PropertyType.CURRENCY else "any",
    }
    return render(request, "crm/_property_edit.html", context, status=status)


def _row_response(request, access: RecordAccess, spec: PropSpec, *, saved: bool = False):
    context = {"access": access, "record": access.record, "object_type": access.object_type, "row": _row(access, spec)}
    # Focus goes back to the value after a save or a cancel, for keyboard users.
    context.update(saved=saved, focus=True)
    response = render(request, "crm/_property_row.html", context)
    if saved:
        trigger_client_event(response, "tend:record-changed", {"id": access.record.pk})
    return response


def _editable_spec(access: RecordAccess, name: str) -> PropSpec | None:
    spec = access.registry.get(name)
    if spec is None or spec.read_only:
        return None
    return spec


@require_GET
@record_view
def property_row(request, access: RecordAccess, name: str):
    """One property shown (not edited): what Cancel and Escape go back to."""
    spec = access.registry.get(name)
    if spec is None:
        return _not_found(request)
    return _row_response(request, access, spec)


@require_http_methods(["GET", "POST"])
@record_view
def property_edit(request, access: RecordAccess, name: str):
    """GET: the input for one property; POST: save it (422 with the message at the field)."""
    spec = _editable_spec(access, name)
    if spec is None:
        return _not_found(request)
    _require_edit(access)
    if request.method == "GET":
        return _edit_response(request, access, spec)
    submitted = _submitted(spec, request.POST)
    try:
        services.record_update(
            actor=access.actor, record=access.record, properties=_to_properties(spec, submitted), source=ChangeSource.UI
        )
    except ValidationFailed as exc:
        # Values the service may have set on the instance before failing are not kept.
        access.record.refresh_from_db()
        return _edit_response(request, access, spec, value=submitted, errors=exc.errors, status=INVALID_STATUS)
    return _row_response(request, access, spec, saved=True)


# --------------------------------------------------------------------------- history


@require_GET
@record_view
def property_history(request, access: RecordAccess, name: str):
    """The changes of one property, newest first (shown under the property)."""
    spec = access.registry.get(name)
    changes = queries.record_history(access.actor, access.record, property_name=name)[: PROPERTY_HISTORY_LIMIT + 1]
    rows = [_change_row(access, c) for c in changes]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "name": name,
        "label": _(str(spec.label)) if spec else name,
        "changes": rows[:PROPERTY_HISTORY_LIMIT],
        "more": len(rows) > PROPERTY_HISTORY_LIMIT,
    }
    return render(request, "crm/_property_history.html", context)


@require_GET
@record_view
def record_history(request, access: RecordAccess):
    """Every property change of the record, filterable by property: in the side panel for
    htmx, as a page otherwise."""
    name = request.GET.get("property") or None
    changes = queries.record_history(access.actor, access.record, property_name=name)
    page = Paginator(changes, HISTORY_PAGE).get_page(request.GET.get("page"))
    rows = [_change_row(access, c) for c in page.object_list]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "rows": rows,
        "page": page,
        "property": name,
        "properties": [(s.name, _(str(s.label))) for s in access.registry],
    }
    template = "crm/_history.html" if request.htmx else "crm/history.html"
    return render(request, template, context)


# --------------------------------------------------------------------------- follow


@require_POST
@record_view
def record_follow(request, access: RecordAccess):
    _require_act(access)
    following = request.POST.get("following") == "1"
    services.follow_set(actor=access.actor, record=access.record, following=following)
    if not request.htmx:
        return redirect("record-detail", access.object_type.name, access.record.pk)
    context = {"access": access, "record": access.record, "object_type": access.object_type, "following": following}
    return render(request, "crm/_follow_button.html", context)


# --------------------------------------------------------------------------- merge


def _search(access: RecordAccess, object_type: ObjectType, query: str, *, exclude: int):
    """Active records of `object_type` whose searchable text contains `query` (the filter
    language's free-text search), ten at most."""
    query = query.strip()[:200]
    if not query:
        return None
    compiled = compile_search(
        {"query": query, "sorts": [{"propertyName": "name", "direction": "ASCENDING"}]},
        registry_for(object_type),
        user=access.viewing.user,
    )
    records = compiled.apply(queries.records_for(access.actor, object_type)).exclude(pk=exclude)
    return list(records[:SEARCH_LIMIT])


def _merge_summary(access: RecordAccess, record: Record) -> str:
    """Enough to tell two look-alike records apart: owner and creation date."""
    created = _("created %(when)s") % {"when": access.formatter.text(record, "created_at")}
    owner = access.formatter.text(record, "owner")
    return f"{owner} · {created}" if owner else created


def _merge_confirm(request, access: RecordAccess, other: Record, *, errors=(), keep: str = "this", status=200):
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "other": other,
        "record_summary": _merge_summary(access, access.record),
        "other_summary": _merge_summary(access, other),
        "keep": keep,
        "errors": [e.message for e in errors],
    }
    return render(request, "crm/_merge_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
@record_view
def record_merge(request, access: RecordAccess):
    """GET: search the record to merge with (or, with ?with=<id>, confirm); POST: merge."""
    _require_edit(access)
    other_id = request.POST.get("other") if request.method == "POST" else request.GET.get("with")
    if other_id is None:
        return render(
            request, "crm/_merge.html", {"access": access, "record": access.record, "object_type": access.object_type}
        )
    try:
        other = queries.get_record_for_user(access.actor, access.object_type, other_id, include_archived=False)
    except NotFound:
        return _not_found(request)
    if request.method == "GET":
        return _merge_confirm(request, access, other)
    keep = "other" if request.POST.get("keep") == "other" else "this"
    primary, secondary = (access.record, other) if keep == "this" else (other, access.record)
    try:
        survivor = services.record_merge(actor=access.actor, primary=primary, secondary=secondary)
    except ValidationFailed as exc:
        return _merge_confirm(request, access, other, errors=exc.errors, keep=keep, status=INVALID_STATUS)
    messages.success(
        request, _("%(merged)s was merged into %(survivor)s.") % {"merged": secondary, "survivor": survivor}
    )
    url = reverse("record-detail", args=[access.object_type.name, survivor.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@record_view
def record_merge_search(request, access: RecordAccess):
    _require_edit(access)
    query = request.GET.get("q", "")
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "q": query,
        "results": _search(access, access.object_type, query, exclude=access.record.pk),
    }
    return render(request, "crm/_merge_results.html", context)


# --------------------------------------------------------------------------- associations


def _associations_response(request, access: RecordAccess, *, status=200, **extra):
    context = _associations_context(access, manage=True, **extra)
    return render(request, "crm/_associations.html", context, status=status)


def _other_record(access: RecordAccess, type_name: str, record_id, *, include_archived: bool) -> Record:
    other_type = queries.get_object_type_for_user(access.actor, type_name or "")
    return queries.get_record_for_user(access.actor, other_type, record_id, include_archived=include_archived)


@require_http_methods(["GET", "POST"])
@record_view
def record_associations(request, access: RecordAccess):
    """GET: the associations card (with ?add=1, its add form open); POST: associate a record."""
    if request.method == "GET":
        adding = request.GET.get("add") == "1" and access.can_edit
        return _associations_response(request, access, adding=adding, add_type=access.object_type.name)
    _require_edit(access)
    label = request.POST.get("label", "")
    try:
        other = _other_record(access, request.POST.get("type"), request.POST.get("to"), include_archived=False)
        services.association_create(actor=access.actor, from_record=access.record, to_record=other, label=label)
    except NotFound:
        errors = [FieldError("toId", _("That record no longer exists. Search again."))]
        return _associations_response(request, access, adding=True, errors=errors, status=INVALID_STATUS)
    except ValidationFailed as exc:
        return _associations_response(request, access, adding=True, errors=exc.errors, status=INVALID_STATUS)
    return _associations_response(request, access)


@require_GET
@record_view
def association_search(request, access: RecordAccess):
    _require_edit(access)
    type_name = request.GET.get("type") or access.object_type.name
    try:
        other_type = queries.get_object_type_for_user(access.actor, type_name)
    except NotFound:
        return _not_found(request)
    query = request.GET.get("q", "")
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "other_type": other_type,
        "q": query,
        "results": _search(access, other_type, query, exclude=access.record.pk),
    }
    return render(request, "crm/_association_results.html", context)


@require_POST
@record_view
def association_remove(request, access: RecordAccess):
    _require_edit(access)
    try:
        other = _other_record(access, request.POST.get("type"), request.POST.get("to"), include_archived=True)
    except NotFound:
        return _associations_response(request, access)
    label = request.POST.get("label")
    services.association_delete(actor=access.actor, from_record=access.record, to_record=other, label=label)
    return _associations_response(request, access)
