"""Errors of staff sign-in with OpenID Connect, read by a person on the sign-in page."""

from __future__ import annotations

from app.errors import Forbidden, NotFound, Unauthorized


class OidcNotConfigured(NotFound):
    slug = "oidc-not-configured"
    title = "Single sign-on is not configured"


class OidcSignInFailed(Unauthorized):
    slug = "oidc-sign-in-failed"
    title = "Sign-in failed"


class NoValueLoopRole(Forbidden):
    slug = "no-valueloop-role"
    title = "No ValueLoop role"
