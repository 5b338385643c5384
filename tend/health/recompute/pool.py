"""A recompute's chunks shared out between forked processes, each with its own database connection:
on PostgreSQL they run fully in parallel, on SQLite they compute in parallel and take turns to
write (`bulk.write_turn`)."""

import multiprocessing
import os
import signal
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, connections

from tend.core import bulk

from .compute import compute_chunk
from .plan import Plan
from .write import write_chunk

_pool_context: dict = {}


def processes_for(chunks: int) -> int:
    """How many processes share a recompute's chunks: `TEND_HEALTH_PROCESSES` (default: one per
    CPU, at most 4), never more than the chunks, and one where other processes could not see the
    data — inside a transaction (tests, a request) or in an in-memory SQLite database."""
    wanted = getattr(settings, "TEND_HEALTH_PROCESSES", None) or min(os.cpu_count() or 1, 4)
    if chunks < 2 or wanted < 2 or connection.in_atomic_block or bulk.in_memory():
        return 1
    return min(wanted, chunks)


def run_chunks(chunks: list[list[int]], context: dict, *, processes: int) -> Iterable[tuple[int, dict]]:
    """Recompute each chunk (measure and score, then write in one transaction) and yield its size
    and its users' book sums as it is done, in `processes` forked processes when more than one."""
    if processes == 1:
        plans: dict[int, Plan] = {}
        for chunk_ids in chunks:
            writes = compute_chunk(chunk_ids, plans=plans, **context)
            write_chunk(writes)
            yield len(chunk_ids), writes.books
        return
    _pool_context.clear()
    _pool_context.update(context, plans={})
    connections.close_all()  # the forked processes open their own
    with multiprocessing.get_context("fork").Pool(processes, initializer=_start_pool_process) as pool:
        yield from pool.imap_unordered(_pool_chunk, chunks)
        pool.close()
        pool.join()


_inherited_connections: list = []


def _start_pool_process() -> None:
    """In a forked process: SIGTERM back to its default (the pool's terminate must end it) and
    Ctrl-C left to the parent. The parent's open connections are dropped without closing them:
    closing would end the parent's session on the socket both share. They stay referenced so that
    garbage collection never closes them either."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which ends the pool
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _inherited_connections.append(wrapper.connection)
            wrapper.connection = None


def _pool_chunk(chunk_ids: list[int]) -> tuple[int, dict]:
    writes = compute_chunk(chunk_ids, **_pool_context)
    write_chunk(writes)
    return len(chunk_ids), writes.books
