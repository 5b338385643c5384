# WorkspaceSettings and SettingsChange now belong to cs_settings: its 0001 takes over the same
# tables, so forget the models here without dropping the tables or their rows.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("workspace", "0003_book_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WorkspaceSettings"),
                migrations.DeleteModel(name="SettingsChange"),
            ],
            database_operations=[],
        ),
    ]
