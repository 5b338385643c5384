"""Ticket resolution time: the average and median hours from a ticket's creation to its close,
by period of closing (docs/kpis.md)."""

import datetime as dt

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, RowNumber
from django.utils.translation import gettext as _

from tend.crm.models import Association, ObjectType, PropertyChange, Record, Stage

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .customers import customers

TICKETS = "tickets"


def tickets(scope: KpiScope) -> QuerySet[Record]:
    """The tickets (not archived) with their close instant and hours open; of the scope's CSMs
    when associated with one of their customers."""
    kind = ObjectType.objects.filter(name=TICKETS).first()
    if kind is None:
        return Record.objects.none()
    complete = list(
        Stage.objects.filter(pipeline__object_type=kind, outcome=Stage.Outcome.COMPLETE).values_list("pk", flat=True)
    )
    rows = Record.objects.filter(object_type=kind, archived_at__isnull=True)
    if scope.csm_ids is not None:
        linked = Association.objects.filter(from_record=OuterRef("pk"), to_record__in=customers(scope))
        rows = rows.filter(Exists(linked))
    entered = PropertyChange.objects.filter(
        record=OuterRef("pk"), property_name="stage", new_value__in=complete
    ).order_by("changed_at", "pk")
    return rows.annotate(
        # The "closed_at" property, else entering a complete stage (from the history; without
        # any, by the time it entered its current stage).
        closed=Coalesce(
            Cast(KeyTextTransform("closed_at", "properties"), DateTimeField()),
            Subquery(entered.values("changed_at")[:1]),
            Case(When(stage__in=complete, then=F("stage_entered_at"))),
        ),
        open_for=ExpressionWrapper(F("closed") - F("created_at"), output_field=DurationField()),
    )


def _hours(value: dt.timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 2) if value is not None else None


def compute(scope: KpiScope) -> ReportData:
    periods = Periods.of(scope)
    n = len(periods)
    # A close typed before the ticket's creation is a data error, not a negative resolution time.
    closed = (
        tickets(scope)
        .filter(periods.within("closed"), closed__gte=F("created_at"))
        .annotate(period=periods.index_of("closed"))
    )
    average: list[float | None] = [None] * n
    counts = [0] * n
    for row in closed.values("period").annotate(average=Avg("open_for"), count=Count("pk")).order_by():
        average[row["period"]], counts[row["period"]] = _hours(row["average"]), row["count"]
    # The median of each period: its middle ticket, or the two middle ones, by rank.
    middle = closed.annotate(
        rank=Window(RowNumber(), partition_by=[F("period")], order_by=[F("open_for").asc(), F("pk").asc()]),
        of=Window(Count("pk"), partition_by=[F("period")]),
    ).filter(rank__gte=F("of") / Value(2.0), rank__lte=F("of") / Value(2.0) + 1)
    halves: dict[int, list[dt.timedelta]] = {}
    for k, open_for in middle.values_list("period", "open_for"):
        halves.setdefault(k, []).append(open_for)
    median = [_hours(sum(halves[k], dt.timedelta()) / len(halves[k])) if k in halves else None for k in range(n)]
    return periods.data(
        [Series("average", _("Average hours to close"), average), Series("median", _("Median hours to close"), median)],
        extra={"closed": counts},
    )
