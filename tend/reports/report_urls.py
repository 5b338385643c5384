"""/reports/…: the report library, builder, report page, chart fragment and exports."""

from django.urls import path

from .views import builder, export, reports

urlpatterns = [
    path("", reports.report_library, name="reports"),
    path("new/", builder.report_new, name="report-new"),
    path("preview/", builder.report_preview, name="report-preview"),
    path("<int:report_id>/", reports.report_detail, name="report-detail"),
    path("<int:report_id>/edit/", builder.report_edit, name="report-edit"),
    path("<int:report_id>/chart/", reports.report_chart, name="report-chart"),
    path("<int:report_id>/drill/", reports.report_drill, name="report-drill"),
    path("<int:report_id>/export.csv", export.export_csv, name="report-export-csv"),
    path("<int:report_id>/export.xlsx", export.export_xlsx, name="report-export-xlsx"),
    path("<int:report_id>/archive/", reports.report_archive, name="report-archive"),
    path("<int:report_id>/summary/", reports.report_summary_add, name="report-summary-add"),
]
