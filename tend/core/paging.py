"""Counting what a list screen shows, at a bounded cost.

An exact `COUNT(*)` reads every matching row: for a CSM's book of 20k companies that is most of a
request's budget on PostgreSQL (an expression index never answers a count alone). A list only
needs to say "10,000+" past a point, so the count stops there.
"""

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
