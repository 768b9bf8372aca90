"""Domain errors: a refusal by a business rule, with the field it concerns and a stable code.

Services raise these; the API turns them into HTTP 400 with ``{"detail", "code", "field"}`` and the
web views show them as form errors. Messages are written for the person who made the request.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules of the domain refuse (not a bug): says what and why."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"detail": self.message, "code": self.code, "field": self.field}


class PermissionDenied(DomainError):
    """The user's role does not allow this action."""

    code = "permission_denied"
