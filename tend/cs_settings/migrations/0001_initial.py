# WorkspaceSettings and SettingsChange move here from the workspace app with their tables and
# rows: only Django's state changes (the tables keep their names), so no data moves.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("workspacesettings", "settingschange")


def _content_types_to_cs_settings(apps, schema_editor):
    # Keeps the content types (and their permissions) of the moved models instead of stale ones.
    _move_content_types(apps, "workspace", "cs_settings")


def _content_types_to_workspace(apps, schema_editor):
    _move_content_types(apps, "cs_settings", "workspace")


def _move_content_types(apps, from_label, to_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=to_label, model=model).exists():
            ContentType.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0002_initial"),
        ("workspace", "0004_settings_move_to_cs_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkspaceSettings",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("customer_csm_property", models.CharField(default="csm", max_length=64)),
                        ("customer_renewal_property", models.CharField(blank=True, default="renewal_date", max_length=64)),
                        ("services_csm_property", models.CharField(blank=True, default="csm", max_length=64)),
                        ("services_renewal_property", models.CharField(blank=True, default="", max_length=64)),
                        ("services_pipelines", models.JSONField(blank=True, default=list)),
                        ("revenue_objects", models.JSONField(blank=True, default=list)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "customer_object_type",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="crm.objecttype"
                            ),
                        ),
                        (
                            "services_default_pipeline",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="crm.pipeline",
                            ),
                        ),
                        (
                            "services_object_type",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="crm.objecttype",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "workspace_workspacesettings",
                        "verbose_name": "workspace settings",
                        "verbose_name_plural": "workspace settings",
                    },
                ),
                migrations.CreateModel(
                    name="SettingsChange",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("section", models.CharField(max_length=32)),
                        ("old_value", models.JSONField(default=dict)),
                        ("new_value", models.JSONField(default=dict)),
                        ("changed_at", models.DateTimeField()),
                        (
                            "changed_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "workspace_settingschange",
                        "ordering": ["-changed_at", "-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_content_types_to_cs_settings, _content_types_to_workspace, elidable=True),
    ]
