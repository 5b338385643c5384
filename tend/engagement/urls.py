"""HTML URLs of engagements: logging and emailing from a record, email templates, tracking."""

from django.urls import path

from .views import compose, email_templates, logged, tracking

RECORD = "records/<str:object_type>/<int:record_id>/"

urlpatterns = [
    path(f"{RECORD}email/", compose.email_compose, name="record-email"),
    path(f"{RECORD}log/<str:kind>/", logged.engagement_new, name="record-log"),
    path(f"{RECORD}log/<str:kind>/<int:item_id>/edit/", logged.engagement_edit, name="record-log-edit"),
    path(f"{RECORD}log/<str:kind>/<int:item_id>/delete/", logged.engagement_delete, name="record-log-delete"),
    path("settings/email-templates/", email_templates.template_list, name="email-templates"),
    path("settings/email-templates/<int:template_id>/", email_templates.template_edit, name="email-template"),
    path("t/o/<str:token>.gif", tracking.email_open, name="email-open"),
    path("t/c/<str:token>", tracking.email_click, name="email-click"),
]
