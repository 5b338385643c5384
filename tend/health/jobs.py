"""Recompute jobs as visible `RecomputeRun` rows: queueing them (debounced) and running them.

- Incremental: `mark_accounts_dirty` queues one incremental run; while one is queued (not yet
  started) further dirty accounts only add to it. The run drains `DirtyAccount`.
- Full: on profile activation (kind "activation") and daily (kind "full") at `DAILY_AT` UTC.
The tasks that carry the runs, and enqueue them on commit, are in tasks.py.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction

from tend.core import clock

from .models import DirtyAccount, RecomputeRun, ScoreProfile
from .recompute.run import recompute

log = logging.getLogger(__name__)

DAILY_AT = dt.time(2, 0)
STALE_AFTER = dt.timedelta(minutes=10)
DRAIN_BATCH = 5000
KEEP_RUNS = 200


def queue_run(
    kind: str, *, run_after: dt.datetime | None = None, profile: ScoreProfile | None = None
) -> RecomputeRun | None:
    """Create a queued run unless one of this kind is already queued; returns it or None."""
    now = clock.now()
    pending = RecomputeRun.objects.filter(kind=kind, status=RecomputeRun.Status.QUEUED).first()
    if pending is not None:
        if not _stale(pending, now):
            return None
        # Never picked up (a worker that lost it): give up on it and queue afresh.
        RecomputeRun.objects.filter(pk=pending.pk, status=RecomputeRun.Status.QUEUED).update(
            status=RecomputeRun.Status.FAILED, error="never started", finished_at=now
        )
    try:
        with transaction.atomic():
            return RecomputeRun.objects.create(
                kind=kind, status=RecomputeRun.Status.QUEUED, queued_at=now, run_after=run_after, profile=profile
            )
    except IntegrityError:  # another request queued one meanwhile
        return None


def _stale(run: RecomputeRun, now: dt.datetime) -> bool:
    """A queued run never picked up (a worker that lost it); the daily full run waits on purpose."""
    due = run.run_after or run.queued_at
    return run.kind != RecomputeRun.Kind.FULL and due is not None and now - due > STALE_AFTER


def incremental_run() -> RecomputeRun | None:
    """Queue the incremental run unless one is queued already."""
    return queue_run(RecomputeRun.Kind.INCREMENTAL)


def activation_run(profile: ScoreProfile) -> RecomputeRun:
    """Queue a full run for a profile just activated (never debounced: the profile changed)."""
    return RecomputeRun.objects.create(
        kind=RecomputeRun.Kind.ACTIVATION, status=RecomputeRun.Status.QUEUED, queued_at=clock.now(), profile=profile
    )


def next_daily_time(now: dt.datetime) -> dt.datetime:
    today = now.astimezone(dt.UTC).date()
    at = dt.datetime.combine(today, DAILY_AT, tzinfo=dt.UTC)
    return at if at > now else at + dt.timedelta(days=1)


def daily_run() -> RecomputeRun | None:
    """Queue the next daily full run unless one is queued already."""
    return queue_run(RecomputeRun.Kind.FULL, run_after=next_daily_time(clock.now()))


def _start(run_id: int) -> RecomputeRun | None:
    updated = RecomputeRun.objects.filter(pk=run_id, status=RecomputeRun.Status.QUEUED).update(
        status=RecomputeRun.Status.RUNNING, started_at=clock.now()
    )
    if not updated:
        return None  # already run (a task delivered twice) or given up
    return RecomputeRun.objects.get(pk=run_id)


def _finish(run: RecomputeRun, error: str = "") -> None:
    run.status = RecomputeRun.Status.FAILED if error else RecomputeRun.Status.DONE
    run.error = error
    run.finished_at = clock.now()
    run.save(update_fields=["status", "error", "finished_at", "done", "total"])
    stale = list(RecomputeRun.objects.order_by("-queued_at", "-id").values_list("pk", flat=True)[KEEP_RUNS:])
    if stale:
        RecomputeRun.objects.filter(pk__in=stale).exclude(status=RecomputeRun.Status.QUEUED).delete()


def run_incremental(run_id: int | None = None) -> int:
    """Drain the dirty accounts; returns how many were recomputed."""
    run = _start(run_id) if run_id is not None else None
    if run_id is not None and run is None:
        return 0
    total = 0
    try:
        while True:
            taken_at = clock.now()
            ids = list(
                DirtyAccount.objects.filter(marked_at__lte=taken_at)
                .order_by("marked_at")
                .values_list("record_id", flat=True)[:DRAIN_BATCH]
            )
            if not ids:
                break
            recompute(ids, reason="recompute")
            DirtyAccount.objects.filter(record_id__in=ids, marked_at__lte=taken_at).delete()
            total += len(ids)
            if run is not None:
                run.done = run.total = total
                RecomputeRun.objects.filter(pk=run.pk).update(done=total, total=total)
    except Exception as exc:
        if run is not None:
            _finish(run, error=repr(exc))
        raise
    if run is not None:
        _finish(run)
    return total


def run_full(
    run_id: int | None = None, *, on_progress=None, kind: str = RecomputeRun.Kind.FULL, notify: bool | None = None
) -> RecomputeRun:
    """A full recompute with progress on a RecomputeRun row (the given queued one, or a new one).
    Its new alerts go to the bells of their accounts' owners and CSMs (`notify`), except after an
    activation: a new profile's first scores raise alerts on every account at once."""
    if run_id is not None:
        run = _start(run_id)
        if run is None:
            return RecomputeRun.objects.get(pk=run_id)
    else:
        run = RecomputeRun.objects.create(
            kind=kind, status=RecomputeRun.Status.RUNNING, queued_at=clock.now(), started_at=clock.now()
        )
    reason = "activation" if run.kind == RecomputeRun.Kind.ACTIVATION else "daily"
    try:
        if notify is None:
            notify = run.kind != RecomputeRun.Kind.ACTIVATION
        recompute(None, reason=reason, run=run, on_progress=on_progress, notify=notify)
    except Exception as exc:
        _finish(run, error=repr(exc))
        raise
    _finish(run)
    return run
