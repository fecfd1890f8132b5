"""Authentication and authorisation errors of the quality API."""

from __future__ import annotations

from app.errors import Forbidden, NotFound, Unauthorized


class MissingToken(Unauthorized):
    slug = "missing-token"


class InvalidToken(Unauthorized):
    slug = "invalid-token"


class RoleNotAllowed(Forbidden):
    slug = "role-not-allowed"


class TokenNotFound(NotFound):
    slug = "token-not-found"


class SessionEnded(Unauthorized):
    slug = "session-ended"
    title = "Signed out"


class CsrfTokenMissing(Forbidden):
    slug = "csrf-token-missing"
    title = "Missing CSRF token"
