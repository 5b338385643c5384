import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from tend.core.errors import ValidationFailed
from tend.directory.services import user_create


class Command(BaseCommand):
    help = "Create a super admin (with a Service seat). The password comes from --password, TEND_ADMIN_PASSWORD or a prompt."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password")
        parser.add_argument("--name", default="")
        parser.add_argument("--time-zone", default="UTC")

    def handle(self, *args, email, password, name, time_zone, **options):
        password = password or os.environ.get("TEND_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
        if len(password) < 8:
            raise CommandError("Use a password of at least 8 characters.")
        try:
            user = user_create(
                email=email,
                password=password,
                full_name=name,
                time_zone=time_zone,
                is_superuser=True,
                has_service_seat=True,
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from exc
        self.stdout.write(f"Created super admin {user.email}.")
