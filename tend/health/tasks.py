"""Background tasks (django-tasks) for the recompute runs, and their queueing: each run is
enqueued when the transaction commits; each task loads its run by id and is safe to run twice."""

from django.db import transaction
from django_tasks import task

from . import books, jobs
from .models import RecomputeRun, ScoreProfile


@task()
def recompute_incremental_task(run_id: int) -> int:
    """Recompute the dirty accounts."""
    return jobs.run_incremental(run_id)


@task()
def recompute_full_task(run_id: int) -> int:
    """Recompute every customer (after an activation, or the daily run that schedules the next one)."""
    run = jobs.run_full(run_id)
    if run.kind == RecomputeRun.Kind.FULL:
        ensure_daily()
    return run.done


def schedule_incremental() -> RecomputeRun | None:
    """Queue the incremental recompute (debounced) and enqueue its task when the transaction commits."""
    run = jobs.incremental_run()
    if run is not None:
        run_id = run.pk
        transaction.on_commit(lambda: recompute_incremental_task.enqueue(run_id))
    return run


def schedule_activation(profile: ScoreProfile) -> RecomputeRun:
    run = jobs.activation_run(profile)
    run_id = run.pk
    transaction.on_commit(lambda: recompute_full_task.enqueue(run_id))
    return run


def ensure_daily() -> RecomputeRun | None:
    """Make sure the daily full recompute is queued (returns the new run, or None if one was)."""
    run = jobs.daily_run()
    if run is not None:
        run_id, run_after = run.pk, run.run_after
        transaction.on_commit(lambda: recompute_full_task.using(run_after=run_after).enqueue(run_id))
    return run


@task()
def rebuild_books_task() -> int:
    """Copy every record's book onto its alerts and score copies again (see `books`)."""
    books.rebuild()
    return 0


def rebuild_books_when_the_csm_changes(section: str, *, before: object, after: object) -> None:
    """A settings hook (tend.core.hooks): whose book a record is in follows the CSM property."""
    if section != "customers" or not isinstance(before, dict) or not isinstance(after, dict):
        return
    if before.get("csmProperty") != after.get("csmProperty"):
        transaction.on_commit(rebuild_books_task.enqueue)
