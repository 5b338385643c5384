from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/bell/", views.bell, name="notifications-bell"),
    path("notifications/read-all/", views.read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/open/", views.open_notification, name="notification-open"),
    path("notifications/settings/", views.settings_section, name="notification-settings"),
]
