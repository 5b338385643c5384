"""A score's breakdown and a history point's changes as PostgreSQL's `json` (the text as written)
instead of `jsonb` (`tend.core.fields.JSONTextField`): the nightly recompute writes and reads one of
each per account, and jsonb's parsing and printing were about half the cost of writing the rows.
Nothing queries inside them. On SQLite the columns are text either way: only the model state
changes there (an AlterField would copy both tables, history and all, for nothing)."""

from django.db import migrations

import tend.core.fields


COLUMNS = (("health_healthscore", "breakdown"), ("health_healthscorehistory", "changes"))


def column_type(db_type: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column in COLUMNS:
            table, column = schema_editor.quote_name(table), schema_editor.quote_name(column)
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {db_type} USING {column}::{db_type}")

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('health', '0009_history_without_breakdown'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='healthscore',
                    name='breakdown',
                    field=tend.core.fields.JSONTextField(blank=True, default=list),
                ),
                migrations.AlterField(
                    model_name='healthscorehistory',
                    name='changes',
                    field=tend.core.fields.JSONTextField(blank=True, default=list),
                ),
            ],
            database_operations=[migrations.RunPython(column_type("json"), column_type("jsonb"))],
        ),
    ]
