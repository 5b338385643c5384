"""The built-in `health_score` / `health_status` properties are read from the score rows now
(`crm.registry.DERIVED_COLUMNS`): remove the copies earlier recomputes wrote into the customers'
`properties`."""

from django.db import migrations

KEYS = ("health_score", "health_status")


def remove_copies(apps, schema_editor):
    table = apps.get_model("crm", "Record")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET properties = properties - %s - %s WHERE properties ?| %s",
                [*KEYS, list(KEYS)],
            )
        else:
            cursor.execute(
                f"UPDATE {table} SET properties = json_remove(properties, '$.health_score', '$.health_status') "
                "WHERE json_type(properties, '$.health_score') IS NOT NULL "
                "OR json_type(properties, '$.health_status') IS NOT NULL"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0004_lean_score_writes"),
        ("crm", "0003_record_indexes"),
    ]

    operations = [migrations.RunPython(remove_copies, migrations.RunPython.noop)]
