"""API authentication by token: `Authorization: Bearer tend_…`."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from tend.core.policy import Actor, Scope

from .services import token_authenticate


class TokenAuth(HttpBearer):
    """The token's user, capped by the token's scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        return Actor(api_token.user, Scope(api_token.scope))
