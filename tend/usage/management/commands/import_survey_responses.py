"""`tend import_survey_responses FILE [--dry-run] --as EMAIL`: import NPS / survey responses
from CSV (atomic, row-by-row errors), with progress on stderr."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tend.core.errors import Forbidden
from tend.core.policy import SYSTEM, Actor
from tend.directory.models import User
from tend.usage import csv_import


class Command(BaseCommand):
    help = "Import survey (NPS) responses from a CSV file: email|contact_id, score, comment, responded_at, external_id."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8) with a header row")
        parser.add_argument("--dry-run", action="store_true", help="check everything, change nothing")
        parser.add_argument(
            "--as",
            dest="as_user",
            default=None,
            help="email of the user recorded as the importer (default: Tend itself)",
        )

    def handle(self, *args, file, dry_run, as_user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {file}.")
        actor = SYSTEM  # an import run by an operator from the CLI is Tend's own work
        if as_user:
            user = User.objects.filter(email=as_user.lower(), is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {as_user}.")
            actor = Actor(user)

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\rchecked {done:,} / {total:,} rows", ending="")

        try:
            outcome = csv_import.import_csv(actor=actor, data=path.read_bytes(), dry_run=dry_run, on_progress=progress)
        except Forbidden as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write("")
        if outcome.errors:
            for error in outcome.errors:
                self.stdout.write(f"row {error['row']}, {error['column']}: {error['message']}")
            raise CommandError(f"Nothing was imported: {len({e['row'] for e in outcome.errors})} rows have errors.")
        verb = "would be imported (dry run, nothing changed)" if dry_run else "imported"
        self.stdout.write(f"{outcome.created:,} responses {verb}; {outcome.duplicates:,} already there.")
