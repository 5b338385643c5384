"""Domain errors that every entry point (HTML, API, CLI, imports) turns into a clear message."""

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass
class ValidationFailed(Exception):
    """Input was rejected; nothing was changed. `errors` names each offending field."""

    errors: list[FieldError] = field(default_factory=list)
    detail: str = "The request contains invalid values."

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @classmethod
    def single(cls, field_name: str, message: str, code: str = "invalid") -> "ValidationFailed":
        return cls(errors=[FieldError(field_name, message, code)], detail=message)

    def prefixed(self, prefix: str) -> "ValidationFailed":
        return ValidationFailed(
            errors=[FieldError(f"{prefix}{e.field}", e.message, e.code) for e in self.errors],
            detail=self.detail,
        )


class NotFound(Exception):
    """The thing does not exist or the user may not see it (the two are never distinguished)."""


class Forbidden(Exception):
    """The user is known but the permission policy says no."""
