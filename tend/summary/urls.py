"""The Summary tab: the workspace's home page and its cards."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.summary, name="summary"),
    path("summary/cards/<str:name>/", views.card, name="summary-card"),
    path("summary/tasks/<int:task_id>/complete/", views.task_complete, name="summary-task-complete"),
]
