"""POST /api/v1/tasks/bulk — the Tasks tab's bulk actions for API clients."""

from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from tend.core.errors import ValidationFailed

from . import services

router = Router(tags=["tasks"])


class BulkIn(Schema):
    action: str = Field(description="complete, reopen, assign, set_property or archive")
    ids: list[int] | None = Field(default=None, description="The tasks to change; or give `filter` instead")
    filter: dict[str, Any] | None = Field(
        default=None,
        description="Every task matching this search body (filterGroups, query) — the filter language of /tasks/search",
    )
    property: str | None = Field(default=None, description="For set_property: the property to set")
    value: Any = Field(default=None, description="For assign: a user id; for set_property: the new value")


class BulkOut(Schema):
    changed: int


@router.post("/tasks/bulk", response=BulkOut, summary="Change many tasks at once", operation_id="bulk_tasks")
def bulk_tasks(request, payload: BulkIn):
    """Run one action over explicit task ids or every task matching a filter, in the database.
    Answers how many tasks changed (tasks that already had the value do not count). Invalid
    input changes nothing. Each change is recorded in the task's history with source "bulk"."""
    if (payload.ids is None) == (payload.filter is None):
        raise ValidationFailed.single("ids", _("Give either ids or filter."), "required")
    selection = (
        services.Selection(ids=payload.ids) if payload.ids is not None else services.Selection(filters=payload.filter)
    )
    changed = services.tasks_bulk(
        actor=request.auth,
        action=payload.action,
        selection=selection,
        value=payload.value,
        property_name=payload.property,
    )
    return {"changed": changed}
