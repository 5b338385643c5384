"""Background tasks (django-tasks): the daily digest, a chain of one run a day (each run queues
the next), deduplicated by its DigestRun row so that the chain never doubles."""

import datetime as dt

from django.db import transaction
from django_tasks import task

from tend.core import clock

from .digest import send_digests
from .models import DigestRun

DIGEST_HOUR_UTC = 6  # morning in Europe, afternoon in Japan; the digest covers the last 24 hours


def next_digest_time(now: dt.datetime) -> dt.datetime:
    at = now.astimezone(dt.UTC).replace(hour=DIGEST_HOUR_UTC, minute=0, second=0, microsecond=0)
    return at if at > now else at + dt.timedelta(days=1)


def ensure_digest() -> DigestRun | None:
    """Queue the next daily digest unless it is queued (returns the new run, or None)."""
    at = next_digest_time(clock.now())
    run, created = DigestRun.objects.get_or_create(day=at.date(), defaults={"run_after": at})
    if not created:
        return None
    run_id = run.pk
    transaction.on_commit(lambda: digest_task.using(run_after=at).enqueue(run_id))
    return run


@task()
def digest_task(run_id: int) -> int:
    """Send the day's digests (safe twice: each user gets one a day) and queue tomorrow's."""
    run = DigestRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    sent = send_digests()
    DigestRun.objects.filter(pk=run_id).update(finished_at=clock.now(), sent=run.sent + sent)
    ensure_digest()
    return sent
