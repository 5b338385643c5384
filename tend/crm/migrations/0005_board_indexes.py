from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_follow")]

    operations = [
        migrations.AddIndex(
            model_name="record",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["object_type", "pipeline", "stage", "stage_entered_at", "id", "archived_at"],
                name="record_board_cards",
            ),
        ),
        migrations.AddIndex(
            model_name="record",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["object_type", "pipeline", "created_at", "id"],
                name="record_pipeline_created",
            ),
        ),
    ]
