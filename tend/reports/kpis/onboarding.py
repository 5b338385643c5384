"""Onboarding: the share of onboarding services completed within their target, by period of
start, and the average days from start to completion, by period of completion (docs/kpis.md).

Each is one query over a derived table of the services with their start day, completion instant
and days between, each worked out once (as ORM annotations, the completion — a COALESCE over a
correlated subquery — was evaluated again for every reference to it)."""

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tend.core import clock
from tend.crm.models import Pipeline, Stage
from tend.cs_settings.queries import workspace_settings

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .sql import Sql

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


def services(scope: KpiScope, flow: Onboarding, sql: Sql) -> tuple[str, list]:
    """A derived table `sv` of the pipeline's services (not archived) with their start day (the
    start_date property, else the day of their creation in the scope's zone), the instant they
    entered the complete stage (from the history; a service put there without any — an import —
    by the time it entered its current stage) and the days between; of the scope's CSMs by the
    service's own CSM property."""
    ws = workspace_settings()
    ops = connection.ops
    created, params = ops.datetime_cast_date_sql("r.created_at", (), scope.tz.key)
    start_date, more = sql.property_date("r.properties", "start_date")
    params = [*more, *params, json.dumps(flow.complete.pk), flow.complete.pk]
    where = "r.object_type_id = %s AND r.pipeline_id = %s AND r.archived_at IS NULL"
    params += [ws.services_object_type_id, flow.pipeline.pk]
    if scope.csm_ids is not None:
        csm, more = sql.property_text("r.properties", ws.services_csm_property or "csm")
        where += f" AND {csm} IN ({', '.join(['%s'] * len(scope.csm_ids))})"
        params += [*more, *(str(i) for i in scope.csm_ids)]
    rows = (
        f"SELECT r.id, COALESCE({start_date}, {created}) AS start_day, "
        "COALESCE((SELECT MIN(c.changed_at) FROM crm_propertychange c WHERE c.record_id = r.id "
        f"AND c.property_name = 'stage' AND c.new_value = {sql.json_param()}), "
        f"CASE WHEN r.stage_id = %s THEN r.stage_entered_at END) AS done_at FROM crm_record r WHERE {where}"
    )
    done_day, dparams = ops.datetime_cast_date_sql("done_at", (), scope.tz.key)
    table = f"(SELECT id, start_day, done_at, {sql.days_between(done_day, 'start_day')} AS days FROM ({rows}) x) sv"
    return table, [*dparams, *params]


def _fetch(query: str, params: list) -> list[tuple]:
    # A plain cursor, not sql.fetch: a pipeline's services cost too little for PostgreSQL to
    # compile the query (JIT) or to need more sort memory, and no savepoint round trips.
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _days(value) -> float | None:
    return round(round(float(value), 6), 2) if value is not None else None


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
    overdue_before = clock.today(scope.tz) - dt.timedelta(days=flow.target_days)
    sql = Sql()
    table, params = services(scope, flow, sql)
    period, pparams = sql.index_of_day("start_day", periods.days)
    # in time: completed within the target; counted: those and the late ones, completed or
    # overdue; pending: open and still within the target (not counted yet)
    rows = _fetch(
        f"SELECT {period} AS k, SUM(CASE WHEN done_at IS NOT NULL AND days <= %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN done_at IS NOT NULL OR start_day < %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN done_at IS NULL AND start_day >= %s THEN 1 ELSE 0 END) FROM {table} "
        "WHERE start_day >= %s AND start_day < %s GROUP BY 1",
        [
            *pparams,
            flow.target_days,
            *[sql.day(overdue_before)] * 2,
            *params,
            sql.day(periods.days[0]),
            sql.day(periods.days[-1]),
        ],
    )
    in_time, counted, pending = [0] * n, [0] * n, 0
    for k, on_time, of, waiting in rows:
        in_time[k] += on_time
        counted[k] += of
        pending += waiting
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
    sql = Sql()
    table, params = services(scope, flow, sql)
    period, pparams = sql.index_of("done_at", periods.bounds)
    rows = _fetch(
        f"SELECT {period} AS k, AVG(days), COUNT(*) FROM {table} "
        "WHERE done_at >= %s AND done_at < %s AND days >= 0 GROUP BY 1",  # completed before its start: a data error
        [*pparams, *params, sql.instant(periods.bounds[0]), sql.instant(periods.bounds[-1])],
    )
    averages: list[float | None] = [None] * n
    counts = [0] * n
    for k, average, count in rows:
        averages[k], counts[k] = _days(average), count
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
