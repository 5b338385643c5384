# The indexes of the Customers tab's default views of everyone's accounts (see
# tend/workspace/indexes.py); a later change of the default views syncs them again.

from django.db import migrations


def sync(apps, schema_editor):
    from tend.workspace.indexes import sync_view_indexes

    sync_view_indexes(using=schema_editor.connection.alias)


def drop(apps, schema_editor):
    from tend.workspace.indexes import VIEW_PREFIX, drop_book_indexes

    drop_book_indexes(using=schema_editor.connection.alias, prefix=VIEW_PREFIX)


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0004_settings_move_to_cs_settings"),
        ("cs_settings", "0001_initial"),
        ("crm", "0005_board_indexes"),
    ]

    operations = [migrations.RunPython(sync, drop, elidable=False)]
