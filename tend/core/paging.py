"""Counting what a list screen shows, at a bounded cost.

An exact `COUNT(*)` reads every matching row: for a CSM's book of 20k companies that is most of a
request's budget on PostgreSQL (an expression index never answers a count alone). A list only
needs to say "10,000+" past a point, so the count stops there.
"""

from django.db import connections
from django.db.models import QuerySet

COUNT_CAP = 10_000


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows `queryset` holds, counting at most `cap` + 1 of them: `(n, False)` when there
    are n ≤ cap rows, `(cap, True)` when there are more (show it as "10,000+").

    One query, `SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`, without the ordering (a sort
    would read every row before the limit). Works for any model's queryset, and for a list.
    """
    if cap < 0:
        raise ValueError("cap must not be negative")
    if isinstance(queryset, list | tuple):
        n = len(queryset)
    else:
        n = queryset.order_by()[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def capped_counts(querysets: dict[str, QuerySet], cap: int = COUNT_CAP) -> dict[str, int]:
    """`capped_count` of several querysets in one query: key → at most `cap` + 1 (more than `cap`
    reads "10,000+")."""
    if not querysets:
        return {}
    parts, params = [], []
    for i, queryset in enumerate(querysets.values()):
        sql, part_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) capped_{i})")
        params.extend(part_params)
    first = next(iter(querysets.values()))
    with connections[first.db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))
