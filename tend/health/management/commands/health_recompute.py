"""`manage.py health_recompute [--full] [--schedule-daily]`: recompute health scores with a progress bar."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from tend.health import jobs, tasks


class Command(BaseCommand):
    help = "Recompute health scores: the marked accounts, or every customer with --full."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recompute every customer (the daily run).")
        parser.add_argument(
            "--schedule-daily",
            action="store_true",
            help="Queue the daily full recompute for the background worker (it then re-queues itself).",
        )

    def handle(self, *args, full: bool = False, schedule_daily: bool = False, **options):
        if schedule_daily:
            run = tasks.ensure_daily()
            self.stdout.write("Daily recompute queued." if run else "The daily recompute was already queued.")
            return
        if not full:
            done = jobs.run_incremental()
            self.stdout.write(f"Recomputed {done} marked accounts.")
            return
        bar = tqdm(total=0, unit="accounts", disable=options.get("verbosity", 1) == 0)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        run = jobs.run_full(on_progress=progress)
        bar.close()
        self.stdout.write(f"Recomputed {run.done} accounts (run {run.pk}, {run.status}).")
