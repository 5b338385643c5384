"""/api/v1 endpoints for tasks, meetings, notes, calls and emails — one set of routes per kind."""

from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from tend.core import policy
from tend.core.api import parse_after, parse_limit
from tend.core.errors import NotFound
from tend.crm.filters import compile_search

from . import services
from .kinds import KINDS, Kind
from .models import TaskChange

router = Router(tags=["engagements"])


def _iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None


def engagement_out(kind: Kind, engagement) -> dict:
    props = {}
    for spec in kind.specs:
        value = getattr(engagement, spec.column)
        if hasattr(value, "isoformat"):
            value = _iso(value)
        props[spec.name] = None if value == "" else value
    for name in kind.list_properties:
        props[name] = getattr(engagement, name)
    return {
        "id": engagement.pk,
        "type": kind.name,
        "properties": props,
        "associations": [r.pk for r in engagement.records.all()],
        "createdAt": _iso(engagement.created_at),
        "updatedAt": _iso(engagement.updated_at),
        "archived": engagement.archived_at is not None,
    }


class EngagementIn(Schema):
    properties: dict[str, Any] = Field(default_factory=dict)
    associations: list[int] | None = None


class EngagementSearchIn(Schema):
    filterGroups: list[Any] = Field(default_factory=list)
    sorts: list[Any] = Field(default_factory=list)
    query: str | None = None
    limit: int = 10
    after: str | None = None


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(_("No engagement type %(name)s.") % {"name": name})
    return kind


def _visible(request, kind: Kind):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    return kind.model.objects.active().prefetch_related("records")


def _get(request, kind: Kind, engagement_id: int):
    engagement = _visible(request, kind).filter(pk=engagement_id).first()
    if engagement is None:
        raise NotFound(_("No %(kind)s item %(id)s.") % {"kind": kind.name, "id": engagement_id})
    return engagement


def _register(kind_name: str) -> None:
    kind = KINDS[kind_name]

    @router.get(f"/{kind_name}", summary=f"List {kind_name}", operation_id=f"list_{kind_name}")
    def list_items(request, limit: int | None = None, after: str | None = None, associatedWith: int | None = None):
        limit = parse_limit(limit, default=20, maximum=100)
        cursor = parse_after(after)
        items = _visible(request, kind).filter(pk__gt=cursor).order_by("pk")
        if associatedWith is not None:
            items = items.filter(records__pk=associatedWith)
        page = list(items[: limit + 1])
        result = {"results": [engagement_out(kind, e) for e in page[:limit]]}
        if len(page) > limit:
            result["paging"] = {"next": {"after": str(page[limit - 1].pk)}}
        return result

    @router.post(
        f"/{kind_name}", response={201: dict}, summary=f"Create one of {kind_name}", operation_id=f"create_{kind_name}"
    )
    def create_item(request, payload: EngagementIn):
        engagement = services.engagement_create(
            actor=request.auth,
            kind=kind,
            properties=payload.properties,
            associations=payload.associations,
            source=TaskChange.Source.API,
        )
        return Status(201, engagement_out(kind, _get(request, kind, engagement.pk)))

    @router.post(f"/{kind_name}/search", summary=f"Search {kind_name}", operation_id=f"search_{kind_name}")
    def search_items(request, payload: EngagementSearchIn):
        limit = parse_limit(payload.limit, default=10, maximum=200)
        offset = parse_after(payload.after)
        compiled = compile_search(payload.dict(), kind.registry(), user=request.auth.user)
        items = compiled.apply(_visible(request, kind))
        page = list(items[offset : offset + limit + 1])
        result = {"total": items.count(), "results": [engagement_out(kind, e) for e in page[:limit]]}
        if len(page) > limit:
            result["paging"] = {"next": {"after": str(offset + limit)}}
        return result

    @router.get(f"/{kind_name}/{{int:item_id}}", summary=f"Get one of {kind_name}", operation_id=f"get_{kind_name}")
    def get_item(request, item_id: int):
        return engagement_out(kind, _get(request, kind, item_id))

    @router.patch(
        f"/{kind_name}/{{int:item_id}}", summary=f"Update one of {kind_name}", operation_id=f"update_{kind_name}"
    )
    def update_item(request, item_id: int, payload: EngagementIn):
        engagement = _get(request, kind, item_id)
        services.engagement_update(
            actor=request.auth,
            kind=kind,
            engagement=engagement,
            properties=payload.properties,
            associations=payload.associations,
            source=TaskChange.Source.API,
        )
        return engagement_out(kind, _get(request, kind, item_id))

    @router.delete(
        f"/{kind_name}/{{int:item_id}}",
        response={204: None},
        summary=f"Delete one of {kind_name}",
        operation_id=f"delete_{kind_name}",
    )
    def delete_item(request, item_id: int):
        services.engagement_archive(
            actor=request.auth, engagement=_get(request, kind, item_id), source=TaskChange.Source.API
        )
        return Status(204, None)


for _name in KINDS:
    _register(_name)
