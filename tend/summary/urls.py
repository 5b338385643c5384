"""The Summary tab: the workspace's home page and its cards."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.summary, name="summary"),
    path("summary/cards/<str:name>/", views.card, name="summary-card"),
    path("summary/tasks/<int:task_id>/complete/", views.task_complete, name="summary-task-complete"),
    path("summary/reports/choices/", views.report_picker, name="summary-report-picker"),
    path("summary/reports/add/", views.report_add, name="summary-report-add"),
    path("summary/reports/order/", views.reports_order, name="summary-reports-order"),
    path("summary/reports/<int:report_id>/remove/", views.report_remove, name="summary-report-remove"),
]
