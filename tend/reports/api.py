"""/api/v1/reports: list, create, read, update and archive reports, and a report's data (the same
numbers the chart shows, with the dashboard filters as query parameters)."""

from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _
from ninja import Body, Router
from ninja.responses import Status

from tend.core.api import parse_after, parse_limit
from tend.core.errors import ValidationFailed

from . import queries, services
from .data import ReportData
from .models import Report

router = Router(tags=["reports"])
CREATE_FIELDS = {"name", "description", "source", "definition", "chart", "access", "teams"}


def _iso(value) -> str | None:
    return None if value is None else value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _report_out(report: Report) -> dict:
    return {
        "id": report.pk,
        "name": report.name,
        "description": report.description,
        "source": report.source,
        "kpi": report.kpi or None,
        "definition": report.definition,
        "chart": report.chart,
        "access": report.access,
        "teams": report.team_ids,
        "ownerId": report.owner_id,
        "builtIn": report.built_in,
        "createdAt": _iso(report.created_at),
        "updatedAt": _iso(report.updated_at),
    }


def data_out(data: ReportData) -> dict:
    return {
        "chart": data.chart,
        "categoryTitle": data.category_title,
        "categories": [{"key": c.key, "label": c.label, "drill": c.drill} for c in data.categories],
        "series": [
            {"key": s.key, "label": s.label, "format": s.format, "values": s.values, "drill": s.drill}
            for s in data.series
        ],
        "value": data.value,
        "previous": data.previous,
        "format": data.value_format,
        "notes": data.notes,
        **({"extra": data.extra} if data.extra else {}),
    }


def _check_fields(payload: dict[str, Any]) -> None:
    unknown = [k for k in payload if k not in CREATE_FIELDS]
    if unknown:
        raise ValidationFailed.single(unknown[0], _("Unknown field %(name)s.") % {"name": unknown[0]}, "unknown")


@router.get("/reports", summary="List the reports you may see (cursor paging)")
def list_reports(request, limit: int | None = None, after: str | None = None, source: str | None = None):
    size = parse_limit(limit, default=50, maximum=200)
    reports = queries.reports_for(request.auth, request.auth.user).filter(pk__gt=parse_after(after))
    if source:
        reports = reports.filter(source=source)
    page = list(reports.order_by("pk")[: size + 1])
    result: dict[str, Any] = {"results": [_report_out(r) for r in page[:size]]}
    if len(page) > size:
        result["paging"] = {"next": {"after": str(page[size - 1].pk)}}
    return result


@router.post("/reports", response={201: dict}, summary="Create a report")
def create_report(request, payload: Body[dict[str, Any]]):
    _check_fields(payload)
    report = services.report_create(
        actor=request.auth,
        name=payload.get("name"),
        description=payload.get("description") or "",
        source=payload.get("source"),
        definition=payload.get("definition") if payload.get("definition") is not None else {},
        chart=payload.get("chart") or "bar",
        access=payload.get("access") or "private",
        team_ids=payload.get("teams"),
    )
    return Status(201, _report_out(report))


@router.get("/reports/{report_id}", summary="Get a report")
def get_report(request, report_id: int):
    return _report_out(queries.get_report_for_user(request.auth, request.auth.user, report_id))


@router.patch("/reports/{report_id}", summary="Update a report's name, definition, chart or sharing")
def update_report(request, report_id: int, payload: Body[dict[str, Any]]):
    _check_fields(payload)
    report = queries.get_report_for_user(request.auth, request.auth.user, report_id)
    services.report_update(actor=request.auth, report=report, changes=payload)
    return _report_out(queries.get_report_for_user(request.auth, request.auth.user, report_id))


@router.delete("/reports/{report_id}", response={204: None}, summary="Archive a report")
def archive_report(request, report_id: int):
    report = queries.get_report_for_user(request.auth, request.auth.user, report_id)
    services.report_archive(actor=request.auth, report=report)
    return Status(204, None)


@router.get("/reports/{report_id}/data", summary="A report's data: categories, series and the headline value")
def report_data(
    request,
    report_id: int,
    range: str | None = None,  # noqa: A002 (the query parameter's name)
    start: str | None = None,
    end: str | None = None,
    owner: int | None = None,
    team: int | None = None,
    frequency: str | None = None,
):
    report = queries.get_report_for_user(request.auth, request.auth.user, report_id)
    filters = queries.filters_from(range, start, end, owner, team, frequency)
    return data_out(queries.report_data(request.auth, request.auth.user, report, filters))
