from django.urls import path

from . import views

urlpatterns = [
    path("settings/usage/", views.usage_settings, name="settings-usage"),
]
