"""The engagement kinds and their property registries, so the one filter language and the one
value validator serve tasks, meetings, notes, calls and emails exactly as they serve records."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tend.crm.models import PropertyType as T
from tend.crm.registry import PropSpec, Registry

from .models import Call, Email, Meeting, Note, Task


def _options(choices) -> tuple:
    return tuple({"value": value, "label": str(label)} for value, label in choices if value != "")


def _spec(name, label, type_, column=None, **kw) -> PropSpec:
    return PropSpec(name, label, type_, column=column or name, built_in=True, **kw)


# One engagement of any kind (each model declares its own `records`).
AnyEngagement = Task | Meeting | Note | Call | Email

_STAMPS = (
    _spec("created_at", _("Created"), T.DATETIME, read_only=True),
    _spec("updated_at", _("Last modified"), T.DATETIME, read_only=True),
)


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[Task] | type[Meeting] | type[Note] | type[Call] | type[Email]
    specs: tuple[PropSpec, ...]
    search_fields: tuple[str, ...]
    owner_property: str
    time_property: str  # when it happened, for timelines and last activity
    list_properties: tuple[str, ...] = ()  # writable JSON-list fields that are not filterable

    def registry(self) -> Registry:
        return Registry(specs={s.name: s for s in self.specs}, search_fields=list(self.search_fields))


KINDS: dict[str, Kind] = {
    "tasks": Kind(
        name="tasks",
        model=Task,
        specs=(
            _spec("subject", _("Subject"), T.TEXT, required=True),
            _spec("notes", _("Notes"), T.LONG_TEXT),
            _spec("type", _("Type"), T.ENUMERATION, options=_options(Task.Type.choices)),
            _spec("priority", _("Priority"), T.ENUMERATION, options=_options(Task.Priority.choices)),
            _spec("status", _("Status"), T.ENUMERATION, options=_options(Task.Status.choices)),
            _spec("due_at", _("Due"), T.DATETIME),
            _spec("assignee", _("Assigned to"), T.USER, column="assignee_id"),
            _spec("completed_at", _("Completed"), T.DATETIME, read_only=True),
            *_STAMPS,
        ),
        search_fields=("subject", "notes"),
        owner_property="assignee",
        time_property="due_at",
    ),
    "meetings": Kind(
        name="meetings",
        model=Meeting,
        specs=(
            _spec("title", _("Title"), T.TEXT, required=True),
            _spec("notes", _("Notes"), T.LONG_TEXT),
            _spec("start_at", _("Start"), T.DATETIME, required=True),
            _spec("end_at", _("End"), T.DATETIME, required=True),
            _spec("location", _("Location"), T.TEXT),
            _spec("meeting_url", _("Meeting URL"), T.TEXT),
            _spec("outcome", _("Outcome"), T.ENUMERATION, options=_options(Meeting.Outcome.choices)),
            _spec("owner", _("Owner"), T.USER, column="owner_id"),
            *_STAMPS,
        ),
        search_fields=("title", "notes", "location"),
        owner_property="owner",
        time_property="start_at",
        list_properties=("attendees",),
    ),
    "notes": Kind(
        name="notes",
        model=Note,
        specs=(
            _spec("body", _("Note"), T.LONG_TEXT, required=True),
            _spec("owner", _("Owner"), T.USER, column="owner_id"),
            *_STAMPS,
        ),
        search_fields=("body",),
        owner_property="owner",
        time_property="created_at",
    ),
    "calls": Kind(
        name="calls",
        model=Call,
        specs=(
            _spec("title", _("Title"), T.TEXT),
            _spec("body", _("Notes"), T.LONG_TEXT),
            _spec("direction", _("Direction"), T.ENUMERATION, options=_options(Call.Direction.choices)),
            _spec("outcome", _("Outcome"), T.ENUMERATION, options=_options(Call.Outcome.choices)),
            _spec("duration_seconds", _("Duration (seconds)"), T.NUMBER),
            _spec("occurred_at", _("Time"), T.DATETIME),
            _spec("owner", _("Owner"), T.USER, column="owner_id"),
            *_STAMPS,
        ),
        search_fields=("title", "body"),
        owner_property="owner",
        time_property="occurred_at",
    ),
    "emails": Kind(
        name="emails",
        model=Email,
        specs=(
            _spec("subject", _("Subject"), T.TEXT, required=True),
            _spec("body", _("Body"), T.LONG_TEXT),
            _spec("direction", _("Direction"), T.ENUMERATION, options=_options(Email.Direction.choices)),
            _spec("from_address", _("From"), T.TEXT),
            _spec("occurred_at", _("Time"), T.DATETIME),
            _spec("owner", _("Owner"), T.USER, column="owner_id"),
            _spec("message_id", _("Message ID"), T.TEXT, read_only=True),
            _spec("open_count", _("Opens"), T.NUMBER, read_only=True),
            _spec("first_opened_at", _("First opened"), T.DATETIME, read_only=True),
            _spec("last_opened_at", _("Last opened"), T.DATETIME, read_only=True),
            _spec("click_count", _("Clicks"), T.NUMBER, read_only=True),
            _spec("first_clicked_at", _("First clicked"), T.DATETIME, read_only=True),
            _spec("last_clicked_at", _("Last clicked"), T.DATETIME, read_only=True),
            *_STAMPS,
        ),
        search_fields=("subject", "body", "from_address"),
        owner_property="owner",
        time_property="occurred_at",
        list_properties=("to_addresses", "cc_addresses"),
    ),
}
