"""HTML URLs of the Schedule tab and the calendar subscription feed."""

from django.urls import path

from . import views

urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/events/", views.events, name="schedule-events"),
    path("schedule/items/<str:kind>/<int:item_id>/", views.item_summary, name="schedule-item"),
    path("schedule/meetings/new/", views.meeting_new, name="schedule-meeting"),
    path("schedule/meetings/<int:meeting_id>/outcome/", views.meeting_outcome, name="schedule-meeting-outcome"),
    path("schedule/subscriptions/", views.subscriptions, name="calendar-subscriptions"),
    path(
        "schedule/subscriptions/<int:feed_id>/revoke/", views.subscription_revoke, name="calendar-subscription-revoke"
    ),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
