"""Background tasks of the workspace (django-tasks); each is safe to run twice."""

from django.db import transaction
from django_tasks import task

from . import indexes


@task()
def sync_book_indexes_task() -> list[str]:
    """Bring the book indexes in line with the current customer settings (see `indexes`)."""
    created, _dropped = indexes.sync_book_indexes()
    return created


def sync_book_indexes_when_the_csm_changes(section: str, *, before: object, after: object) -> None:
    """A settings hook (tend.core.hooks): the book indexes follow the customers' CSM property."""
    if section != "customers" or not isinstance(before, dict) or not isinstance(after, dict):
        return
    if before.get("csmProperty") != after.get("csmProperty"):
        transaction.on_commit(sync_book_indexes_task.enqueue)


@task()
def sync_view_indexes_task() -> list[str]:
    """Bring the default views' indexes in line with the default views (see `indexes`)."""
    created, _dropped = indexes.sync_view_indexes()
    return created


def sync_view_indexes_on_commit() -> None:
    """After a change of what a default view of the Customers tab shows (made or unmade a
    default, its filters or sorts changed, deleted): its index is built in the background."""
    transaction.on_commit(sync_view_indexes_task.enqueue)
