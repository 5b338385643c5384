"""`tend notifications digest`: send today's daily digests now (each user once a day);
`--schedule` queues the daily digest job instead (it then queues itself each day)."""

from django.core.management.base import BaseCommand

from tend.notifications import tasks
from tend.notifications.digest import send_digests


class Command(BaseCommand):
    help = "Notifications: `digest` sends the daily email digests (once a day per user); `digest --schedule` queues the daily job."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        digest = sub.add_parser("digest", help="send the daily digests now")
        digest.add_argument("--schedule", action="store_true", help="queue the daily digest job instead")

    def handle(self, *args, action, schedule=False, **options):
        if schedule:
            run = tasks.ensure_digest()
            self.stdout.write(
                f"Daily digest queued for {run.run_after:%Y-%m-%d %H:%M} UTC."
                if run
                else "The daily digest was already queued."
            )
            return
        sent = send_digests()
        self.stdout.write(f"Digests sent: {sent}.")
