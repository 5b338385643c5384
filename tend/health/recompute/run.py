"""A recompute run: which accounts, which profiles, progress, and each user's book sums after a
full run."""

import datetime as dt
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from tend.core import bulk, clock
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.health import churn
from tend.health.models import BookScoreDay, RecomputeRun, ScoreProfile

from .compute import Active
from .pool import processes_for, run_chunks

CHUNK_SIZE = 10000


def customer_type() -> ObjectType:
    return workspace_settings().customer_object_type


def active_profiles(ctype: ObjectType) -> list[Active]:
    registry = registry_for(ctype)
    out = []
    for profile in ScoreProfile.objects.active().select_related("active_version"):
        version = profile.active_version
        segment = version.segment or {}
        q = None
        if segment.get("filterGroups"):
            q = compile_search({"filterGroups": segment["filterGroups"]}, registry, user=None).where
        out.append(Active(profile=profile, version=version, segment=q))
    return out


def customer_ids(ctype: ObjectType) -> list[int]:
    return list(
        Record.objects.filter(object_type=ctype, archived_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    )


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def recompute(
    account_ids: Iterable[int] | None = None,
    *,
    reason: str = "recompute",
    run: RecomputeRun | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    notify: bool = True,
) -> int:
    """Recompute the given accounts (None = every customer); returns how many were scored or cleared.
    Progress goes to `run` (a RecomputeRun row) and `on_progress(done, total)` after each chunk;
    the alerts raised go to their accounts' owners' and CSMs' bells unless `notify` is off."""
    ctype = customer_type()
    if account_ids is None:
        ids = customer_ids(ctype)
    else:
        ids = sorted(
            Record.objects.filter(pk__in=sorted(set(account_ids)), object_type=ctype).values_list("pk", flat=True)
        )
    profiles = active_profiles(ctype)
    ws = workspace_settings()
    rules = churn.enabled_rules()
    chunks = list(_chunks(ids, chunk_size))
    context = {
        "ctype": ctype,
        "profiles": profiles,
        "csm_property": ws.customer_csm_property,
        "reason": reason,
        "renewal_property": ws.customer_renewal_property,
        "rules": rules,
        "full": account_ids is None,
        "notify": notify,
    }
    if run is not None:
        run.total = len(ids)
        run.done = 0
        run.save(update_fields=["total", "done"])
    done = 0
    books: dict[int, list] = {}
    for size, chunk_books in run_chunks(chunks, context, processes=processes_for(len(chunks))):
        done += size
        for user_id, (total, n) in chunk_books.items():
            book = books.setdefault(user_id, [0.0, 0])
            book[0] += total
            book[1] += n
        if run is not None:
            RecomputeRun.objects.filter(pk=run.pk).update(done=done)
            run.done = done
        if on_progress is not None:
            on_progress(done, len(ids))
    if account_ids is None:
        write_book_days(books)
    return done


def write_book_days(books: dict[int, list]) -> None:
    """After a full recompute: each user's book (the customers they own or are the CSM of, as
    `queries.health_summary` reads it), summed by the chunks as they scored it, into a
    `BookScoreDay` of today (UTC)."""
    known = set(get_user_model().objects.filter(pk__in=list(books)).values_list("pk", flat=True))
    now = clock.now()
    day, at = bulk.db_date(now.astimezone(dt.UTC).date()), bulk.db_datetime(now)
    rows = [(user_id, day, at, total, n) for user_id, (total, n) in sorted(books.items()) if user_id in known]
    if rows:
        with bulk.write_turn(), transaction.atomic():
            bulk.upsert_rows(
                BookScoreDay._meta.db_table, ("user_id", "day", "at", "total", "count"), rows, key=("user_id", "day")
            )
