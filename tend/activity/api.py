"""/api/v1/activities: record contact activity in batches (idempotent by id, row-by-row errors)
and list it newest first with a cursor."""

from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _
from ninja import Body, Router
from ninja.responses import Status

from tend.core import policy
from tend.core.api import parse_limit, problem
from tend.core.errors import ValidationFailed

from . import queries
from .models import Activity
from .services import activities_record

router = Router(tags=["activity"])


def _iso(value):
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def activity_out(a: Activity) -> dict[str, Any]:
    return {
        "id": a.external_id,
        "activityId": a.pk,
        "type": a.type,
        "label": a.type_label,
        "contactId": a.contact_id,
        "companyId": a.company_id,
        "asset": {"name": a.asset_name, "url": a.asset_url},
        "occurredAt": _iso(a.occurred_at),
        "source": a.source,
        "properties": a.properties,
        "receivedAt": _iso(a.received_at),
    }


@router.post(
    "/activities",
    response={200: dict, 201: dict, 422: dict},
    summary="Record contact activity: a batch of up to 1,000, idempotent by id, errors row by row",
)
def create_activities(request, payload: Body[dict[str, Any]]):
    if "activities" not in payload:
        raise ValidationFailed.single("activities", _('Send {"activities": [ … ]}.'), "required")
    outcome = activities_record(actor=request.auth, items=payload["activities"])
    body = outcome.as_dict()
    if outcome.errors and not outcome.accepted and not outcome.duplicates:
        return problem(
            422,
            _("Invalid input"),
            _("No activity was recorded: %(n)d rows have errors.") % {"n": len({r["index"] for r in outcome.results})},
            body["errors"],
            results=body["results"],
        )
    return Status(201 if outcome.accepted else 200, body)


@router.get("/activities", summary="List contact activity, newest first (cursor paging)")
def list_activities(
    request,
    contactId: int | None = None,
    companyId: int | None = None,
    type: str | None = None,
    limit: int | None = None,
    after: str | None = None,
):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    limit = parse_limit(limit, default=50, maximum=200)
    cursor = queries.Cursor.decode(after, "after")
    types = tuple(t for t in (type or "").split(",") if t)
    page, next_cursor = queries.activity_list(
        contact_id=contactId, company_id=companyId, types=types, cursor=cursor, limit=limit
    )
    result: dict[str, Any] = {"results": [activity_out(a) for a in page]}
    if next_cursor is not None:
        result["paging"] = {"next": {"after": next_cursor.encode()}}
    return result
