import django.db.models.functions.text
from django.db import migrations, models

import tend.crm.models


def analyze(apps, schema_editor):
    # PostgreSQL keeps statistics of an index's expression only after ANALYZE; until then it
    # guesses that a list of emails matches most contacts and walks another index.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE crm_record")


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_board_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="record",
            index=models.Index(
                django.db.models.functions.text.Lower(tend.crm.models.PropertyText("email", "properties")),
                name="record_email",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
