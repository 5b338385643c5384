from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tend.tasks"
    label = "tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.workspace import tabs  # models are ready only now

        from .tabs import tasks_tab

        tabs.register(tasks_tab)
