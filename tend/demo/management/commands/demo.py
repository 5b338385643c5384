"""`tend demo`: build the demo workspace (see tend/demo/ for what it contains)."""

import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tend.core.errors import ValidationFailed
from tend.crm.models import Record
from tend.demo import generate, team
from tend.demo.reset import reset as reset_demo
from tend.demo.reset import workspace_has_companies

DELETED_LABELS = {
    "crm.Record": "records",
    "crm.Association": "associations",
    "crm.PropertyChange": "history rows",
    "directory.User": "users",
    "directory.Team": "teams",
}


class _Stream:
    """Lets tqdm draw on the command's stderr without the newline Django adds to each write."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()


class Command(BaseCommand):
    help = (
        "Build the demo workspace: a CS team in several time zones, companies with contacts, deals, "
        "tickets, services, tasks, meetings and history. Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--companies",
            type=int,
            default=generate.DEFAULT_COMPANIES,
            help=f"number of companies (default {generate.DEFAULT_COMPANIES}; e.g. 100000 for benchmarks)",
        )
        parser.add_argument(
            "--seed", type=int, default=generate.DEFAULT_SEED, help="random seed (same seed, same data)"
        )
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--if-empty", action="store_true", help="do nothing when the workspace already has companies")
        when.add_argument(
            "--reset",
            action="store_true",
            help="first delete the previous demo data (the demo users with their records and engagements, the demo teams)",
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="only print where to sign in and the demo logins, then exit"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, companies, seed, if_empty, reset, print_logins, no_progress, verbosity, **options):
        if print_logins:
            self._print_logins()
            return
        if companies < 1:
            raise CommandError("--companies must be at least 1.")
        if reset:
            self._reset()
        elif workspace_has_companies():
            if if_empty:
                self.stdout.write("The workspace already has data; the demo workspace was not created.")
                return
            raise CommandError(
                "The workspace already has companies. Use --reset to replace the demo data, "
                "or --if-empty to leave an existing workspace alone."
            )

        self.stdout.write(f"Building the demo workspace: {companies:,} companies (seed {seed})…")
        bar = tqdm(
            total=companies,
            unit=" companies",
            file=_Stream(self.stderr),
            disable=no_progress or verbosity == 0,
            mininterval=0.5,
            dynamic_ncols=True,
        )
        try:
            summary = generate.generate(companies=companies, seed=seed, on_progress=bar.update)
        except generate.DemoError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from exc
        finally:
            bar.close()

        counts = " · ".join(f"{label} {n:,}" for label, n in summary.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo workspace ready in {summary.seconds:.1f} s: {summary.companies:,} companies "
                f"({summary.companies_per_second:,.0f} companies/s), {summary.rows:,} rows "
                f"({summary.rows / summary.seconds:,.0f} rows/s)."
            )
        )
        self.stdout.write(f"  {counts}")
        self.stdout.write("  Sign-in details: tend demo --print-logins")

    def _reset(self) -> None:
        others = (
            Record.objects.filter(object_type__name="companies")
            .exclude(owner__in=team.demo_users().values("pk"))
            .count()
        )
        if others:
            raise CommandError(
                f"{others:,} companies belong to users outside the demo team. --reset removes only demo data "
                "and the demo is built only into a workspace without other companies; nothing was deleted."
            )
        deleted = reset_demo()
        if deleted:
            parts = [f"{deleted[label]:,} {name}" for label, name in DELETED_LABELS.items() if deleted[label]]
            engagements = sum(deleted[f"engagement.{m}"] for m in ("Task", "Meeting", "Note", "Call", "Email"))
            if engagements:
                parts.insert(1, f"{engagements:,} engagements")
            self.stdout.write(f"Deleted the previous demo data: {', '.join(parts)}.")

    def _print_logins(self) -> None:
        host = os.environ.get("TEND_HOST", "127.0.0.1")
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        port = os.environ.get("TEND_PORT", "8000")
        self.stdout.write(f"Tend: open http://{host}:{port}/ (API docs: http://{host}:{port}/api/v1/docs)")
        existing = set(team.demo_users().values_list("email", flat=True))
        users = [u for u in team.DEMO_USERS if u.email in existing]
        if not users:
            self.stdout.write("No demo logins in this workspace; create an admin with `tend createadmin EMAIL`.")
            return
        self.stdout.write(f"Demo logins (password for all: {team.DEMO_PASSWORD}):")
        width = max(len(u.email) for u in users)
        for user in users:
            self.stdout.write(
                f"  {user.email:<{width}}  {team.DEMO_PASSWORD}  {user.role_label}, {user.full_name}, {user.time_zone}"
            )
