"""Writes for users, teams and API tokens."""

import hashlib
import secrets

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tend.core import clock
from tend.core.errors import FieldError, NotFound, ValidationFailed

from .models import LANGUAGE_CHOICES, ApiToken, Team, User

TOKEN_PREFIX = "tend_"


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def user_create(
    *,
    email: str,
    password: str | None = None,
    full_name: str = "",
    time_zone: str = "UTC",
    language: str = "en",
    manager: User | None = None,
    has_service_seat: bool = False,
    cs_workspace_access: bool = True,
    manage_cs_settings: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user after validating every field; raises ValidationFailed and creates nothing."""
    user = User(
        email=(email or "").strip().lower(),
        full_name=full_name,
        time_zone=time_zone,
        language=language,
        manager=manager,
        has_service_seat=has_service_seat,
        cs_workspace_access=cs_workspace_access or is_superuser,
        manage_cs_settings=manage_cs_settings or is_superuser,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    try:
        user.full_clean(exclude=["password"])
    except DjangoValidationError as exc:
        raise ValidationFailed(
            errors=[_field_error(name, messages) for name, messages in exc.message_dict.items()]
        ) from exc
    user.set_password(password)
    user.save()
    return user


def _field_error(name: str, messages: list[str]) -> FieldError:
    return FieldError(name, " ".join(messages))


def team_create(*, name: str, members: list[User] | None = None) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "A team needs a name.", "required")
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed.single("name", f"A team named {name!r} already exists.", "unique")
    with transaction.atomic():
        team = Team.objects.create(name=name)
        if members:
            team.members.set(members)
    return team


def token_create(*, user: User, name: str, write: bool = False) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key, which is never retrievable again."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "A token needs a name.", "required")
    raw_key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw_key[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash_key(raw_key),
        scope=ApiToken.Scope.WRITE if write else ApiToken.Scope.READ,
    )
    return token, raw_key


def token_revoke(*, token_id: int, user: User | None = None) -> ApiToken:
    tokens = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True)
    if user is not None:
        tokens = tokens.filter(user=user)
    token = tokens.first()
    if token is None:
        raise NotFound(f"No active token {token_id}.")
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw_key: str) -> ApiToken | None:
    """The active token for this key, its user active; records when it was last used."""
    if not raw_key or not raw_key.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_key(raw_key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = clock.now()
    # Refresh at most once a minute so that a busy integration does not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def user_update_preferences(*, user: User, language: str, time_zone: str) -> User:
    """Save the user's language and time zone, validated; nothing changes on bad input."""
    errors = []
    if language not in dict(LANGUAGE_CHOICES):
        errors.append(FieldError("language", _("Choose English, 日本語, Deutsch or Italiano.")))
    try:
        User._meta.get_field("time_zone").run_validators(time_zone)
    except Exception:  # noqa: BLE001 - Django's ValidationError; the message below says it all
        errors.append(FieldError("time_zone", _("%(tz)s is not a known time zone.") % {"tz": time_zone}))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    user.language = language
    user.time_zone = time_zone
    user.save(update_fields=["language", "time_zone"])
    return user
