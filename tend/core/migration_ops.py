"""Migration operations shared by the apps."""

from django.db import migrations


def fillfactor(table: str, percent: int) -> migrations.RunPython:
    """PostgreSQL: fill `table`'s pages to `percent` only, leaving room for the new versions of
    rows that are rewritten often, so that those updates can be HOT (no new index entries).
    Reversible; nothing to do on SQLite."""

    def set_to(value: int | None):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor != "postgresql":
                return
            name = schema_editor.quote_name(table)
            if value is None:
                schema_editor.execute(f"ALTER TABLE {name} RESET (fillfactor)")
            else:
                schema_editor.execute(f"ALTER TABLE {name} SET (fillfactor = {int(value)})")

        return run

    return migrations.RunPython(set_to(percent), set_to(None))
