"""HTML screens of health scores, under /health/ (the API lives under /api/v1/health/)."""

from django.urls import path

from . import views

PROFILE = "health/profiles/<int:profile_id>/"

urlpatterns = [
    path("health/profiles/", views.profiles, name="health-profiles"),
    path(PROFILE, views.profile_editor, name="health-profile"),
    path(f"{PROFILE}test/", views.profile_test, name="health-profile-test"),
    path(f"{PROFILE}test/search/", views.profile_test_search, name="health-profile-test-search"),
    path(f"{PROFILE}preview/", views.profile_preview, name="health-profile-preview"),
    path(f"{PROFILE}activate/", views.profile_activate, name="health-profile-activate"),
    path(f"{PROFILE}deactivate/", views.profile_deactivate, name="health-profile-deactivate"),
    path(f"{PROFILE}archive/", views.profile_archive, name="health-profile-archive"),
    path("health/runs/latest/", views.run_progress, name="health-run"),
    path("health/records/<int:record_id>/card/", views.record_card, name="health-record-card"),
    path("health/records/<int:record_id>/recompute/", views.record_recompute, name="health-record-recompute"),
    path("health/alerts/", views.alerts, name="health-alerts"),
    path("health/alerts/<int:alert_id>/dismiss/", views.alert_dismiss, name="health-alert-dismiss"),
    path("health/summary/", views.summary, name="health-summary"),
    path("health/signals/", views.signal_rules, name="health-signal-rules"),
    path("health/signals/<int:rule_id>/", views.signal_rule_update, name="health-signal-rule"),
]
