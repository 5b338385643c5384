"""HTML screens of health scores, under /health/ (the API lives under /api/v1/health/)."""

from django.urls import path

from .views import alerts, card, profiles, rules

PROFILE = "health/profiles/<int:profile_id>/"

urlpatterns = [
    path("health/profiles/", profiles.profiles, name="health-profiles"),
    path(PROFILE, profiles.profile_editor, name="health-profile"),
    path(f"{PROFILE}test/", profiles.profile_test, name="health-profile-test"),
    path(f"{PROFILE}test/search/", profiles.profile_test_search, name="health-profile-test-search"),
    path(f"{PROFILE}preview/", profiles.profile_preview, name="health-profile-preview"),
    path(f"{PROFILE}activate/", profiles.profile_activate, name="health-profile-activate"),
    path(f"{PROFILE}deactivate/", profiles.profile_deactivate, name="health-profile-deactivate"),
    path(f"{PROFILE}archive/", profiles.profile_archive, name="health-profile-archive"),
    path("health/runs/latest/", profiles.run_progress, name="health-run"),
    path("health/records/<int:record_id>/card/", card.record_card, name="health-record-card"),
    path("health/records/<int:record_id>/recompute/", card.record_recompute, name="health-record-recompute"),
    path("health/alerts/", alerts.alerts, name="health-alerts"),
    path("health/alerts/<int:alert_id>/dismiss/", alerts.alert_dismiss, name="health-alert-dismiss"),
    path("health/summary/", alerts.summary, name="health-summary"),
    path("health/signals/", rules.signal_rules, name="health-signal-rules"),
    path("health/signals/<int:rule_id>/", rules.signal_rule_update, name="health-signal-rule"),
]
