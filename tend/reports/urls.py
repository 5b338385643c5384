"""HTML URLs of reports (report_urls.py) and dashboards with the Dashboards tab (dashboard_urls.py)."""

from django.urls import include, path

urlpatterns = [
    path("reports/", include("tend.reports.report_urls")),
    path("dashboards/", include("tend.reports.dashboard_urls")),
]
