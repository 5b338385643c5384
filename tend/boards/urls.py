from django.urls import path

from tend.workspace import views as workspace_views

from . import views

urlpatterns = [
    path("services/", views.services, name="services"),
    path("revenue/", views.revenue, name="revenue"),
    path("boards/<slug:tab>/column/<int:stage_id>/", views.column, name="board-column"),
    path("boards/<slug:tab>/move/", views.move, name="board-move"),
    path("boards/<slug:tab>/views/", workspace_views.view_create, name="board-view-create"),
]
