"""What every API endpoint shares: session authentication, RFC 9457 problem documents, paging.

Token authentication lives with the tokens, in tend/directory/auth.py."""

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie

from .errors import FieldError, Forbidden, NotFound, ValidationFailed
from .policy import Actor

PROBLEM_CONTENT_TYPE = "application/problem+json"


class SessionAuth(APIKeyCookie):
    """The browser session of a signed-in user (CSRF-checked for unsafe methods)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key):
        if request.user.is_authenticated and request.user.is_active:
            return Actor(request.user)
        return None


def problem(status: int, title: str, detail: str = "", errors: list[dict] | None = None, **extra) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JsonResponse(
        body, status=status, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )


def _ninja_field(loc) -> str:
    parts = [str(p) for p in loc]
    # ("body", "payload", "properties", "x") → "properties.x"; ("query", "limit") → "limit"
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def install_problem_handlers(api) -> None:
    @api.exception_handler(ValidationFailed)
    def on_validation_failed(request, exc: ValidationFailed):
        return problem(422, _("Invalid input"), exc.detail, [e.as_dict() for e in exc.errors])

    @api.exception_handler(NinjaValidationError)
    def on_schema_error(request, exc: NinjaValidationError):
        errors = [
            FieldError(
                _ninja_field(e.get("loc", ())), e.get("msg", "Invalid value."), e.get("type", "invalid")
            ).as_dict()
            for e in exc.errors
        ]
        detail = errors[0]["message"] if errors else _("The request is not valid.")
        return problem(422, _("Invalid input"), detail, errors)

    @api.exception_handler(NotFound)
    def on_not_found(request, exc: NotFound):
        return problem(404, _("Not found"), str(exc))

    @api.exception_handler(Http404)
    def on_http404(request, exc):
        return problem(404, _("Not found"), _("Nothing exists at this address."))

    @api.exception_handler(Forbidden)
    def on_forbidden(request, exc: Forbidden):
        return problem(403, _("Forbidden"), str(exc))

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request, exc):
        response = problem(401, _("Unauthorized"), _("Send a valid API token (Authorization: Bearer …) or sign in."))
        response["WWW-Authenticate"] = 'Bearer realm="tend"'
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        return problem(exc.status_code, str(exc), str(exc))


def parse_limit(limit: int | None, *, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise ValidationFailed.single("limit", _("limit must be from 1 to %(n)d.") % {"n": maximum})
    return limit


def parse_after(after: str | None) -> int:
    if after in (None, ""):
        return 0
    try:
        value = int(after)
    except ValueError:
        value = -1
    if value < 0:
        raise ValidationFailed.single("after", _("after must be the cursor from a previous page."))
    return value
