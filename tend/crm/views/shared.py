"""Loading the record a URL names, through the policy, and the pieces every record view shares."""

from dataclasses import dataclass
from functools import cached_property, wraps

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tend.core import policy
from tend.core.errors import Forbidden, NotFound
from tend.core.web import Viewing, viewing, workspace_view
from tend.crm import queries
from tend.crm.display import Formatter
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for

SEARCH_LIMIT = 10
# htmx 2 does not swap 4xx responses by default; the forms that can get one opt in with
# `hx-on::before-swap` (see _property_edit.html), so the status stays honest for other clients.
INVALID_STATUS = 422


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
            return not_found(request)
        if record.pk != record_id and request.method in ("GET", "HEAD"):
            match = request.resolver_match
            url = reverse(match.url_name, kwargs={**match.kwargs, "record_id": record.pk})
            if request.GET:
                url = f"{url}?{request.GET.urlencode()}"
            return redirect(url)
        return view(request, RecordAccess(current, object_type_obj, record), **kwargs)

    return wrapper


def not_found(request):
    template = "crm/_not_found.html" if request.htmx else "crm/not_found.html"
    return render(request, template, {}, status=404)


def require_edit(access: RecordAccess) -> None:
    if access.read_only_reason:
        raise Forbidden(access.read_only_reason)


def require_act(access: RecordAccess) -> None:
    if not access.can_act:
        raise Forbidden(access.read_only_reason)


def search_records(access: RecordAccess, object_type: ObjectType, query: str, *, exclude: int):
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
