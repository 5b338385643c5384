"""The workspace settings screens, under /settings/ (the gear icon)."""

from django.urls import path

from . import settings_usage, settings_views

urlpatterns = [
    path("", settings_views.customers_settings, name="settings"),
    path("services/", settings_views.services_settings, name="settings-services"),
    path("revenue/", settings_views.revenue_settings, name="settings-revenue"),
    path("usage/", settings_usage.settings_page, name="settings-usage"),
]
