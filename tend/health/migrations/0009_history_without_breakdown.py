"""History points without a copy of the breakdown: nothing read it (the record card and the API
show a point's score, status and changes; the current breakdown is on the score row), and it was
two thirds of each point: a JSON copy per account and day, written by every nightly recompute."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('health', '0008_score_fillfactor'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='healthscorehistory',
            name='breakdown',
        ),
    ]
