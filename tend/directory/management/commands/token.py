from django.core.management.base import BaseCommand, CommandError

from tend.core.errors import NotFound, ValidationFailed
from tend.directory.models import ApiToken, User
from tend.directory.services import token_create, token_revoke


class Command(BaseCommand):
    help = "Manage API tokens: create EMAIL --name NAME [--write] | list EMAIL | revoke ID"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token; prints the key alone on standard output")
        create.add_argument("email")
        create.add_argument("--name", required=True)
        create.add_argument("--write", action="store_true", help="allow writes (default: read-only)")
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("email")
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("id", type=int)

    def handle(self, *args, action, **options):
        if action == "create":
            user = self._user(options["email"])
            try:
                _token, raw_key = token_create(user=user, name=options["name"], write=options["write"])
            except ValidationFailed as exc:
                raise CommandError(exc.detail) from exc
            self.stdout.write(raw_key)
        elif action == "list":
            user = self._user(options["email"])
            for token in ApiToken.objects.filter(user=user):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(f"{token.pk}\t{token.prefix}…\t{token.name}\t{token.scope}\t{state}")
        elif action == "revoke":
            try:
                token = token_revoke(token_id=options["id"])
            except NotFound as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Revoked token {token.pk} ({token.name}).")

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with email {email}.")
        return user
