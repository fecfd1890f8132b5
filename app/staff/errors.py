"""Errors of the staff directory and of staff sign-in, read by a person (sign-in page, admin)."""

from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound, Unauthorized, UnprocessableContent


class OidcNotConfigured(NotFound):
    slug = "oidc-not-configured"
    title = "Single sign-on is not configured"


class OidcSignInFailed(Unauthorized):
    slug = "oidc-sign-in-failed"
    title = "Sign-in failed"


class NoValueLoopRole(Forbidden):
    slug = "no-valueloop-role"
    title = "No ValueLoop role"


class StaffDeactivated(Forbidden):
    slug = "staff-deactivated"
    title = "Account deactivated"


class StaffNotFound(NotFound):
    slug = "staff-not-found"
    title = "No such staff member"


class StaffEmailTaken(Conflict):
    slug = "staff-email-taken"
    title = "Email already in the directory"


class InvalidEmail(UnprocessableContent):
    slug = "invalid-email"
    title = "Not an email address"
