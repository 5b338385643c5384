"""/dashboards/…: the Dashboards tab, the dashboard library and one dashboard."""

from django.urls import path

from .views import dashboards as views

urlpatterns = [
    path("", views.tab, name="dashboards"),
    path("tab/add/", views.tab_add, name="dashboards-tab-add"),
    path("tab/order/", views.tab_order, name="dashboards-tab-order"),
    path("tab/<int:entry_id>/remove/", views.tab_remove, name="dashboards-tab-remove"),
    path("library/", views.library, name="dashboard-library"),
    path("new/", views.dashboard_new, name="dashboard-create"),
    path("<int:dashboard_id>/", views.dashboard_detail, name="dashboard-detail"),
    path("<int:dashboard_id>/settings/", views.dashboard_settings, name="dashboard-settings"),
    path("<int:dashboard_id>/filters/", views.dashboard_save_filters, name="dashboard-save-filters"),
    path("<int:dashboard_id>/archive/", views.dashboard_archive, name="dashboard-archive"),
    path("<int:dashboard_id>/reports/", views.report_picker, name="dashboard-report-picker"),
    path("<int:dashboard_id>/items/add/", views.item_add, name="dashboard-item-add"),
    path("<int:dashboard_id>/items/order/", views.items_order, name="dashboard-items-order"),
    path("<int:dashboard_id>/items/<int:item_id>/size/", views.item_resize, name="dashboard-item-resize"),
    path("<int:dashboard_id>/items/<int:item_id>/remove/", views.item_remove, name="dashboard-item-remove"),
]
