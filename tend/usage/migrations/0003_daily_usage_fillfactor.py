"""PostgreSQL: signals_dailyusage pages 70 % full. Each ingested batch adds to its rows' counts, so
a row is rewritten many times a day; with room on its page each new version is a HOT update (no
new entry in the table's three indexes). Measured with bench/ingest_bench.py: 68 % of the updates
were HOT on full pages, 99.6 % with this room."""

from django.db import migrations

from tend.core.migration_ops import fillfactor


class Migration(migrations.Migration):
    dependencies = [("signals", "0002_usage_event_users")]

    operations = [fillfactor("signals_dailyusage", 70)]
