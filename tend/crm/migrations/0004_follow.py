# The Follow model moves here from the workspace app with its table and rows: only Django's
# state changes (the table keeps its name, workspace_follow), so no data moves.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _content_type_to_crm(apps, schema_editor):
    # Keeps the content type (and its permissions) of the moved model instead of a stale one.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="crm", model="follow").exists():
        ContentType.objects.filter(app_label="workspace", model="follow").update(app_label="crm")


def _content_type_to_workspace(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="workspace", model="follow").exists():
        ContentType.objects.filter(app_label="crm", model="follow").update(app_label="workspace")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0003_record_indexes"),
        ("workspace", "0002_follow_moves_to_crm"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Follow",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "record",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="followers", to="crm.record"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="follows",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "workspace_follow",
                        "constraints": [models.UniqueConstraint(fields=("user", "record"), name="follow_unique")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_content_type_to_crm, _content_type_to_workspace, elidable=True),
    ]
