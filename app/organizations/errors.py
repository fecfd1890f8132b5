"""Errors about organizations, read by an admin at the command line or in the API."""

from __future__ import annotations

from app.errors import Conflict, UnprocessableContent


class UnknownOrganization(UnprocessableContent):
    slug = "unknown-organization"
    title = "No such organization"


class OrganizationCodeTaken(Conflict):
    slug = "organization-code-taken"
    title = "Organization code already in use"


class InvalidOrganizationCode(UnprocessableContent):
    slug = "invalid-organization-code"
    title = "Not an organization code"


class InvalidVariantChoice(UnprocessableContent):
    slug = "invalid-variant-choice"
    title = "No such rule variant"
