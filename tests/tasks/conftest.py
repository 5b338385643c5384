import datetime as dt

import pytest

from tend.engagement.models import Task


def make_task(assignee, *, subject="Task", due_at=None, status=Task.Status.NOT_STARTED, **extra) -> Task:
    """A task row as the demo data and imports create them (history is the services' business)."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Task.objects.create(
        subject=subject,
        due_at=due_at,
        status=status,
        assignee=assignee,
        created_at=now,
        updated_at=now,
        completed_at=now if status == Task.Status.COMPLETED else None,
        **extra,
    )


def make_tasks(assignee, n: int, *, due_at=None, status=Task.Status.NOT_STARTED, prefix="Bulk") -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Task.objects.bulk_create(
        [
            Task(
                subject=f"{prefix} {i}",
                due_at=due_at,
                status=status,
                assignee=assignee,
                created_at=now,
                updated_at=now,
                completed_at=now if status == Task.Status.COMPLETED else None,
            )
            for i in range(n)
        ],
        batch_size=500,
    )


@pytest.fixture
def task_factory():
    return make_task
