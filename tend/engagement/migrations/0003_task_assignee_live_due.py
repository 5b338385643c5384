from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("engagement", "0002_taskchange")]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["assignee", "due_at", "id", "status", "archived_at"],
                name="task_assignee_live_due",
            ),
        ),
    ]
