"""Background tasks of the workspace (django-tasks); each is safe to run twice."""

from django_tasks import task

from . import indexes


@task()
def sync_book_indexes_task() -> list[str]:
    """Bring the book indexes in line with the current customer settings (see `indexes`)."""
    created, _dropped = indexes.sync_book_indexes()
    return created
