# The indexes of a CSM's book of customers, computed from the workspace settings (see
# tend/workspace/indexes.py); a later change of the settings syncs them again.

from django.db import migrations


def sync(apps, schema_editor):
    from tend.workspace.indexes import current_csm_property, sync_book_indexes

    using = schema_editor.connection.alias
    csm = current_csm_property(using, apps.get_model("workspace", "WorkspaceSettings"))
    sync_book_indexes(using=using, csm_property=csm)


def drop(apps, schema_editor):
    from tend.workspace.indexes import drop_book_indexes

    drop_book_indexes(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0002_follow_moves_to_crm"),
        ("crm", "0003_record_indexes"),
    ]

    operations = [migrations.RunPython(sync, drop, elidable=False)]
