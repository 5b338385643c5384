"""Onboarding: the share of onboarding services completed within their target, by period of
start, and the average days from start to completion, by period of completion (docs/kpis.md)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tend.core import clock
from tend.crm.models import Pipeline, PropertyChange, Record, Stage
from tend.cs_settings.queries import workspace_settings

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .customers import csm_q

ONBOARDING = "Onboarding"  # the built-in pipeline's label (standard_objects)


@dataclass(frozen=True)
class Onboarding:
    """The onboarding pipeline, its complete stage and the days its stages before it allow."""

    pipeline: Pipeline
    complete: Stage
    target_days: int


def onboarding() -> Onboarding | None:
    """The services pipeline labelled "Onboarding" (else the default services pipeline, else the
    first) and its first stage with the outcome "complete"; None without one."""
    ws = workspace_settings()
    if ws.services_object_type_id is None:
        return None
    pipelines = list(
        Pipeline.objects.filter(object_type=ws.services_object_type_id, archived_at__isnull=True)
        .prefetch_related("stages")
        .order_by("display_order", "pk")
    )
    pipeline = next((p for p in pipelines if p.label == ONBOARDING), None)
    pipeline = pipeline or next((p for p in pipelines if p.pk == ws.services_default_pipeline_id), None)
    pipeline = pipeline or (pipelines[0] if pipelines else None)
    if pipeline is None:
        return None
    stages = sorted(pipeline.stages.all(), key=lambda s: (s.display_order, s.pk))
    for i, stage in enumerate(stages):
        if stage.outcome == Stage.Outcome.COMPLETE:
            return Onboarding(pipeline, stage, sum(s.target_days or 0 for s in stages[:i]))
    return None


def services(scope: KpiScope, flow: Onboarding) -> QuerySet[Record]:
    """The pipeline's services (not archived) with their start day, completion instant and days
    between; of the scope's CSMs by the service's own CSM property."""
    ws = workspace_settings()
    rows = Record.objects.filter(
        object_type=ws.services_object_type_id, pipeline=flow.pipeline, archived_at__isnull=True
    )
    if scope.csm_ids is not None:
        rows = rows.filter(csm_q(ws.services_csm_property or "csm", scope.csm_ids))
    entered = PropertyChange.objects.filter(
        record=OuterRef("pk"), property_name="stage", new_value=flow.complete.pk
    ).order_by("changed_at", "pk")
    return rows.annotate(
        start_day=Coalesce(
            Cast(KeyTextTransform("start_date", "properties"), DateField()),
            TruncDate("created_at", tzinfo=scope.tz),
        ),
        # Entering the complete stage, from the history; a service put there without any (an
        # import) by the time it entered its current stage.
        done_at=Coalesce(
            Subquery(entered.values("changed_at")[:1]),
            Case(When(stage=flow.complete, then=F("stage_entered_at"))),
        ),
        done_day=TruncDate("done_at", tzinfo=scope.tz),
        days=ExpressionWrapper(F("done_day") - F("start_day"), output_field=DurationField()),
    )


def _days(value: dt.timedelta | None) -> float | None:
    return round(value.total_seconds() / 86400, 2) if value is not None else None


def _no_pipeline(periods: Periods, series: Series) -> ReportData:
    return ReportData(
        categories=periods.categories(),
        series=[series],
        value_format=series.format,
        category_title=periods.title,
        notes=[_("There is no services pipeline with a complete stage.")],
    )


def completion(scope: KpiScope) -> ReportData:
    """Onboarding completion rate by period of start."""
    periods = Periods.of(scope)
    n = len(periods)
    flow = onboarding()
    if flow is None:
        return _no_pipeline(periods, Series("completion", _("Completed within target"), [None] * n, "percent"))
    target = dt.timedelta(days=flow.target_days)
    overdue_before = clock.today(scope.tz) - target
    done = Q(done_at__isnull=False)
    rows = (
        services(scope, flow)
        .filter(periods.within("start_day", days=True))
        .annotate(period=periods.index_of_day("start_day"))
        .values("period")
        .annotate(
            in_time=Count("pk", filter=done & Q(days__lte=target)),
            late=Count("pk", filter=done & Q(days__gt=target)),
            overdue=Count("pk", filter=~done & Q(start_day__lt=overdue_before)),
            pending=Count("pk", filter=~done & Q(start_day__gte=overdue_before)),
        )
        .order_by()
    )
    in_time, counted, pending = [0] * n, [0] * n, 0
    for row in rows:
        k = row["period"]
        in_time[k] += row["in_time"]
        counted[k] += row["in_time"] + row["late"] + row["overdue"]
        pending += row["pending"]
    rates = [i / c if c else None for i, c in zip(in_time, counted, strict=True)]
    notes = [
        ngettext(
            "%(count)d service still open within its target is not counted yet.",
            "%(count)d services still open within their target are not counted yet.",
            pending,
        )
        % {"count": pending}
    ]
    return ReportData(
        categories=periods.categories(),
        series=[Series("completion", _("Completed within target"), rates, "percent")],
        chart="bar",
        value=sum(in_time) / sum(counted) if sum(counted) else None,
        value_format="percent",
        category_title=periods.title,
        notes=notes if pending else [],
        extra={"in_time": in_time, "counted": counted, "pending": pending, "target_days": flow.target_days},
    )


def duration(scope: KpiScope) -> ReportData:
    """Average days from start to completion, by period of completion."""
    periods = Periods.of(scope)
    n = len(periods)
    flow = onboarding()
    if flow is None:
        return _no_pipeline(periods, Series("days", _("Average days to complete"), [None] * n, "days"))
    rows = (
        services(scope, flow)
        .filter(periods.within("done_at"), days__gte=dt.timedelta(0))  # completed before its start: a data error
        .annotate(period=periods.index_of("done_at"))
        .values("period")
        .annotate(average=Avg("days"), count=Count("pk"))
        .order_by()
    )
    averages: list[float | None] = [None] * n
    counts = [0] * n
    for row in rows:
        averages[row["period"]], counts[row["period"]] = _days(row["average"]), row["count"]
    total = sum(counts)
    overall = (
        round(sum(a * c for a, c in zip(averages, counts, strict=True) if a is not None) / total, 2) if total else None
    )
    return ReportData(
        categories=periods.categories(),
        series=[Series("days", _("Average days to complete"), averages, "days")],
        chart="bar",
        value=overall,
        value_format="days",
        category_title=periods.title,
        extra={"completed": counts},
    )
