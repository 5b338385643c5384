from django.db import migrations


class Migration(migrations.Migration):
    """The settings model is named for the app's subject (usage), on its table of before."""

    dependencies = [("signals", "0004_rollups_without_day_indexes")]

    operations = [
        migrations.AlterModelTable(name="signalssettings", table="signals_signalssettings"),
        migrations.RenameModel(old_name="SignalsSettings", new_name="UsageSettings"),
        migrations.AlterModelOptions(
            name="usagesettings",
            options={"verbose_name": "usage settings", "verbose_name_plural": "usage settings"},
        ),
    ]
