"""Checks and deletion of the demo data (data of other users is left alone)."""

from collections import Counter

from django.db import transaction

from tend.crm.models import Record
from tend.directory.models import Team, User
from tend.engagement.models import Call, Email, Meeting, Note, Task

from .team import DEMO_TEAMS, demo_users


def workspace_has_companies() -> bool:
    return Record.objects.filter(object_type__name="companies").exists()


def reset(*, chunk_size: int = 5000) -> Counter:
    """Delete the demo data: records and engagements of the demo users, the demo users, the
    demo teams. Data of other users is left alone. Chunked, so that memory stays flat."""
    deleted: Counter = Counter()
    user_ids = list(demo_users().values_list("pk", flat=True))
    if user_ids:
        for model, owner_field in (
            (Task, "assignee"),
            (Meeting, "owner"),
            (Note, "owner"),
            (Call, "owner"),
            (Email, "owner"),
        ):
            _delete_in_chunks(model.objects.filter(**{f"{owner_field}_id__in": user_ids}), chunk_size, deleted)
        _delete_in_chunks(Record.objects.filter(owner_id__in=user_ids), chunk_size, deleted)
        with transaction.atomic():
            _count(deleted, User.objects.filter(pk__in=user_ids).delete())
    with transaction.atomic():
        _count(deleted, Team.objects.filter(name__in=DEMO_TEAMS).delete())
    return deleted


def _delete_in_chunks(queryset, chunk_size: int, deleted: Counter) -> None:
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size]):
        with transaction.atomic():
            _count(deleted, queryset.model.objects.filter(pk__in=ids).delete())


def _count(deleted: Counter, result) -> None:
    for label, n in result[1].items():
        deleted[label] += n
