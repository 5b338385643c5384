from django.urls import path

from tend.workspace import views as workspace_views

from . import views

urlpatterns = [
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/new/", views.task_new, name="task-new"),
    path("tasks/bulk/", views.tasks_bulk, name="tasks-bulk"),
    path("tasks/views/", workspace_views.view_create, {"tab": "tasks"}, name="tasks-view-create"),
    path("tasks/<int:task_id>/", views.task_edit, name="task-edit"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task-complete"),
]
