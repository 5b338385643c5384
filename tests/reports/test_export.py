"""A report's table as CSV and XLSX: exact rows with raw values (numbers, shares as 0–1, money
with its currency, date buckets as dates), the chart's filters, UTF-8 with a byte order mark, an
ASCII file name from the report's name and the viewer's day."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tend.reports.data import Category, ReportData, Series
from tend.reports.kpis import KPIS, Kpi
from tend.reports.models import Report

from . import test_report_views as views
from .test_report_views import NOW, report, signed_in

pytestmark = pytest.mark.django_db
# The same small workspace as the report screens' tests.
frozen, people, book = views.frozen, views.people, views.book
BY_MONTH = {"dateBucket": {"property": "contract_start_date", "unit": "month"}, "breakdown": "cs_stage"}


def _cells(sheet) -> list[list]:
    """The sheet's values, dates as dates (openpyxl reads a date cell as a naive datetime)."""
    return [[c.value.date() if isinstance(c.value, dt.datetime) else c.value for c in row] for row in sheet.iter_rows()]


def _csv(client, rep, **params):
    response = client.get(reverse("report-export-csv", args=[rep.pk]), params)
    assert response.status_code == 200
    return response


def test_csv_has_one_row_per_category_with_raw_numbers(people, book):
    mia, *_ = people
    rep = report(mia, name="Nouveaux clients / mois", definition=BY_MONTH, chart="stacked_bar")
    response = _csv(signed_in(mia), rep, range="custom", start="2026-04-01", end="2026-06-30")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # 15 June in London, where Mia is
    assert response["Content-Disposition"] == 'attachment; filename="nouveaux-clients-mois-2026-06-15.csv"'
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    assert body[1:].splitlines() == [
        "Contract start date,Active,At risk",
        "2026-04-01,1,0",
        "2026-05-01,0,1",
        "2026-06-01,2,0",
    ]


def test_csv_money_keeps_its_currency_and_decimals(people, book):
    mia, *_ = people
    rep = report(mia, name="MRR", definition={"measure": {"type": "sum", "property": "mrr"}, "groupBy": "cs_stage"})
    lines = _csv(signed_in(mia), rep).content.decode("utf-8")[1:].splitlines()
    assert lines == ["CS stage,Sum of MRR (USD)", "Active,7500.5", "At risk,500", "(No value),0"]


def test_a_name_without_ascii_letters_gets_the_reports_number(people, book):
    _mia, yuki, *_ = people
    rep = report(yuki, name="顧客のステージ")
    response = _csv(signed_in(yuki), rep)
    # 12:00 on 15 June in Tokyo
    assert response["Content-Disposition"] == f'attachment; filename="report-{rep.pk}-2026-06-15.csv"'
    assert response.content.decode("utf-8")[1:].splitlines()[0] == "CS stage,Count of Companies"


def test_xlsx_cells_are_typed_and_formatted(people, book):
    mia, *_ = people
    rep = report(mia, name="New customers: by month", definition=BY_MONTH, chart="stacked_bar")
    response = signed_in(mia).get(
        reverse("report-export-xlsx", args=[rep.pk]), {"range": "custom", "start": "2026-05-01", "end": "2026-06-30"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="new-customers-by-month-2026-06-15.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "New customers by month"
    assert _cells(sheet) == [
        ["Contract start date", "Active", "At risk"],
        [dt.date(2026, 5, 1), 0, 1],
        [dt.date(2026, 6, 1), 2, 0],
    ]
    assert (sheet["A2"].number_format, sheet["B2"].number_format) == ("yyyy-mm-dd", "#,##0")
    assert sheet["A1"].font.bold


def test_xlsx_money_and_shares(people, book, monkeypatch):
    mia, *_ = people
    rep = report(mia, name="MRR", definition={"measure": {"type": "avg", "property": "mrr"}, "groupBy": "cs_stage"})
    sheet = load_workbook(io.BytesIO(signed_in(mia).get(reverse("report-export-xlsx", args=[rep.pk])).content)).active
    rows = _cells(sheet)
    assert round(rows[1][1], 4) == 2500.1667  # (1000 + 2500.5 + 4000) / 3, to the database's last digit
    rows[1][1] = "…"
    assert rows == [["CS stage", "Average MRR (USD)"], ["Active", "…"], ["At risk", 500], ["(No value)", None]]
    assert sheet["B2"].number_format == "#,##0.00 [$USD]"

    shares = ReportData(
        categories=[Category("2026-04-01", "Q2 2026"), Category("2026-01-01", "Q1 2026")],
        series=[Series("churn", "Churn rate", [0.05, 0.125], format="percent")],
        chart="bar",
        category_title="Quarter",
    )
    monkeypatch.setitem(KPIS, "test_churn", Kpi("test_churn", "Churn", "", "bar", "companies", lambda scope: shares))
    kpi = Report.objects.create(
        name="Churn rate",
        source="companies",
        kpi="test_churn",
        chart="bar",
        access="everyone",
        built_in=True,
        created_at=NOW,
        updated_at=NOW,
    )
    sheet = load_workbook(io.BytesIO(signed_in(mia).get(reverse("report-export-xlsx", args=[kpi.pk])).content)).active
    assert _cells(sheet) == [
        ["Quarter", "Churn rate"],
        [dt.date(2026, 4, 1), 0.05],
        [dt.date(2026, 1, 1), 0.125],
    ]
    assert sheet["B2"].number_format == "0.0%"
    csv_lines = _csv(signed_in(mia), kpi).content.decode("utf-8")[1:].splitlines()
    assert csv_lines == ["Quarter,Churn rate", "2026-04-01,0.05", "2026-01-01,0.125"]


def test_bad_filters_export_nothing(people, book):
    mia, *_ = people
    rep = report(mia)
    assert signed_in(mia).get(reverse("report-export-csv", args=[rep.pk]), {"range": "soon"}).status_code == 404
