"""PostgreSQL: health_healthscore pages half full. The nightly recompute rewrites every account's
score row; with room on its page, the new version is a HOT update (no new entry in the table's
three indexes; `test_the_nightly_rewrite_of_every_score_leaves_the_indexes_alone`). A chunk
writes its rows in record order and commits once, so all the rows of a page are rewritten in one
transaction: only a half-full page has room for all of them. The table is small (100k accounts:
~45 MB instead of ~20 MB)."""

from django.db import migrations

from tend.core.migration_ops import fillfactor


class Migration(migrations.Migration):
    dependencies = [("health", "0007_history_without_at_index")]

    operations = [fillfactor("health_healthscore", 50)]
