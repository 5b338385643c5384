"""The record preview (side panel) and full page, which share one context and the `crm/_*.html`
fragments; and following a record."""

from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.crm import queries, services
from tend.crm.registry import STAGE, PropSpec

from .associations import associations_context
from .shared import RecordAccess, record_view, require_act
from .timeline import recent_activity, timeline_page


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


def property_row_of(access: RecordAccess, spec: PropSpec) -> PropertyRow:
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
    return [property_row_of(access, spec) for spec in _shown_specs(access)]


def _record_context(access: RecordAccess, *, in_panel: bool) -> dict:
    """What the preview and the page both show (the page adds the timeline, the preview the
    recent activity)."""
    context = associations_context(access, manage=not in_panel)
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
    return preview_response(request, access)


def preview_response(request, access: RecordAccess, **extra):
    """The preview panel of the record, also what a form opened from the panel answers once
    it is done (a note logged, an email sent): the record again, the new entry in its activity."""
    context = _record_context(access, in_panel=True)
    context.update(activity=recent_activity(access), **extra)
    return render(request, "crm/_preview.html", context)


# ?action= on the record page (the Feed's follow-ups link there): the form it opens at once.
ACTIONS = {"note": ("record-log", "notes"), "call": ("record-log", "calls"), "email": ("record-email", None)}


def _action_url(request, access: RecordAccess) -> str:
    """The form that `?action=note|call|email` opens in the side panel, with the records of
    `?records=` (the contact's company, from the Feed) associated beside this one."""
    action = ACTIONS.get(request.GET.get("action", ""))
    if action is None or not access.can_edit:
        return ""
    name, kind = action
    args = [access.object_type.name, access.record.pk] + ([kind] if kind else [])
    extra = [int(r) for r in request.GET.getlist("records") if r.isdigit() and int(r) != access.record.pk]
    query = urlencode([("records", r) for r in dict.fromkeys(extra)])
    return reverse(name, args=args) + (f"?{query}" if query else "")


@require_GET
@record_view
def record_detail(request, access: RecordAccess):
    """The full record page: the preview's content, a timeline and association management;
    `?action=note|call|email` opens that form in the side panel."""
    context = _record_context(access, in_panel=False)
    context["timeline"] = timeline_page(access, None)
    context["action_url"] = _action_url(request, access)
    return render(request, "crm/record.html", context)


# --------------------------------------------------------------------------- follow


@require_POST
@record_view
def record_follow(request, access: RecordAccess):
    require_act(access)
    following = request.POST.get("following") == "1"
    services.follow_set(actor=access.actor, record=access.record, following=following)
    if not request.htmx:
        return redirect("record-detail", access.object_type.name, access.record.pk)
    context = {"access": access, "record": access.record, "object_type": access.object_type, "following": following}
    return render(request, "crm/_follow_button.html", context)
