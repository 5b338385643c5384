# Follow now belongs to crm: crm 0004 takes over the same table, so forget the model here
# without dropping the table or its rows.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("workspace", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Follow")],
            database_operations=[],
        ),
    ]
