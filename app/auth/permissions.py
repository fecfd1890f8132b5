"""What each quality-team role may do.

Leads own improvement areas: they read, comment, reply and move flags along. Analysts run the
queue: everything a lead does plus assignment, bulk export. Admins also manage API tokens and
registered EHRs, the staff directory, webhooks and undelivered notifications, load the price
list, and read the audit trail.

Those admin powers reach every organization sharing the registry (an EHR registration decides
whose flags its launches make; the audit trail names every organization's flags), so only
system-level admins hold them. An organization's admin works its flags like an analyst.
"""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import Role


class Permission(StrEnum):
    READ_FLAGS = "read_flags"
    WORK_FLAGS = "work_flags"
    ASSIGN_FLAGS = "assign_flags"
    EXPORT_FLAGS = "export_flags"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_EHRS = "manage_ehrs"
    READ_AUDIT = "read_audit"
    MANAGE_STAFF = "manage_staff"
    MANAGE_NOTIFICATIONS = "manage_notifications"  # webhook endpoints, dead letters
    MANAGE_PRICES = "manage_prices"


_LEAD = frozenset({Permission.READ_FLAGS, Permission.WORK_FLAGS})
_ANALYST = _LEAD | {Permission.ASSIGN_FLAGS, Permission.EXPORT_FLAGS}
_ADMIN = _ANALYST | {
    Permission.MANAGE_TOKENS,
    Permission.MANAGE_EHRS,
    Permission.READ_AUDIT,
    Permission.MANAGE_STAFF,
    Permission.MANAGE_NOTIFICATIONS,
    Permission.MANAGE_PRICES,
}

SYSTEM_LEVEL_ONLY = frozenset(_ADMIN - _ANALYST)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.LEAD: _LEAD,
    Role.ANALYST: _ANALYST,
    Role.ADMIN: _ADMIN,
}


def roles_with(permission: Permission) -> list[Role]:
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]


def granted(role: Role, organization_id: object | None) -> frozenset[Permission]:
    """What ``role`` may do for staff of ``organization_id`` (None: the system level)."""
    permissions = ROLE_PERMISSIONS[role]
    return permissions if organization_id is None else permissions - SYSTEM_LEVEL_ONLY
