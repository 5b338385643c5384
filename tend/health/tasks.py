"""Background tasks (django-tasks): each loads its run by id and is safe to run twice."""

from django_tasks import task

from . import jobs
from .models import RecomputeRun


@task()
def recompute_incremental_task(run_id: int) -> int:
    """Recompute the accounts marked dirty."""
    return jobs.run_incremental(run_id)


@task()
def recompute_full_task(run_id: int) -> int:
    """Recompute every customer (after an activation, or the daily run that schedules the next one)."""
    run = jobs.run_full(run_id)
    if run.kind == RecomputeRun.Kind.FULL:
        jobs.ensure_daily()
    return run.done
