"""A report's table as a file: CSV (UTF-8 with a byte order mark, so that Excel reads Japanese
and German text) and XLSX (openpyxl), with the same filters as the chart. Raw values: numbers as
numbers, shares as 0–1 (formatted as % in XLSX), money with its currency, date buckets as dates."""

import csv
import datetime as dt
import io
import re

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tend.core import clock
from tend.core.errors import ValidationFailed
from tend.core.web import viewing, workspace_view

from ..data import ReportData
from ..models import Chart, Report
from .chart import currency_of
from .reports import filters_of, get_report, run_report

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def filename(report: Report, day: dt.date, extension: str) -> str:
    """`churn-by-month-2026-06-15.csv`: the name as an ASCII slug (or report-<id>) and the day."""
    slug = slugify(report.name)[:60].strip("-") or f"report-{report.pk}"
    return f"{slug}-{day.isoformat()}.{extension}"


def _dated(data: ReportData) -> bool:
    """Whether the axis is date buckets (every key an ISO day, "" for no date)."""
    keys = [c.key for c in data.categories]
    return data.chart != Chart.KPI and any(keys) and all(k == "" or ISO_DAY.match(k) for k in keys)


def headers(data: ReportData) -> list[str]:
    currency = currency_of(data)
    names = [data.category_title or _("Category")]
    for series in data.series:
        names.append(f"{series.label} ({currency})" if series.format == "currency" else series.label)
    return names


def rows(data: ReportData) -> list[list]:
    """One row per category: the category (a date for a date bucket), then the raw values."""
    dated = _dated(data)
    out = []
    for label, *values in data.table()[1]:
        out.append([label, *values])
    if dated:
        for row, category in zip(out, data.categories, strict=True):
            row[0] = dt.date.fromisoformat(category.key) if category.key else category.label
    return out


def _load(request: HttpRequest, report_id: int):
    current = viewing(request)
    report = get_report(current, report_id)
    try:
        filters = filters_of(request.GET)
    except ValidationFailed as exc:
        raise Http404 from exc
    run = run_report(current, report, filters)
    if run.data is None:
        raise Http404
    return report, run.data, clock.today(clock.user_zone(current.user))


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@workspace_view
@require_GET
def export_csv(request: HttpRequest, report_id: int):
    report, data, today = _load(request, report_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers(data))
    for row in rows(data):
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return _attachment(response, filename(report, today, "csv"))


def _number_format(series_format: str, currency: str, values: list) -> str:
    match series_format:
        case "percent":
            return "0.0%"
        case "currency":
            return f"#,##0.00 [${currency}]"
        case "days":
            return "#,##0.0"
    whole = all(v is None or float(v).is_integer() for v in values)
    return "#,##0" if whole else "#,##0.00"


def workbook(report: Report, data: ReportData) -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = " ".join(SHEET_FORBIDDEN.sub(" ", report.name).split())[:31].strip() or _("Report")
    sheet.append(headers(data))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    currency = currency_of(data)
    formats = [_number_format(s.format, currency, s.values) for s in data.series]
    for row in rows(data):
        sheet.append(row)
        line = sheet.max_row
        if isinstance(row[0], dt.date):
            sheet.cell(row=line, column=1).number_format = "yyyy-mm-dd"
        for j, number_format in enumerate(formats, start=2):
            sheet.cell(row=line, column=j).number_format = number_format
    sheet.freeze_panes = "B2"
    for index, title in enumerate(headers(data), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(48, len(str(title)) + 4))
    return book


@workspace_view
@require_GET
def export_xlsx(request: HttpRequest, report_id: int):
    report, data, today = _load(request, report_id)
    buffer = io.BytesIO()
    workbook(report, data).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    return _attachment(response, filename(report, today, "xlsx"))
