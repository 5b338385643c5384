"""HTML URLs of the Feed tab."""

from django.urls import path

from . import views

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("feed/<int:activity_id>/dismiss/", views.dismiss, name="feed-dismiss"),
    path("feed/<int:activity_id>/undo/", views.undo, name="feed-undo"),
]
