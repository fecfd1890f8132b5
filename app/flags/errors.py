"""Registry errors: each names what went wrong and what the caller can do about it."""

from __future__ import annotations

from app.errors import Conflict, NotFound, UnprocessableContent


class FlagNotFound(NotFound):
    slug = "flag-not-found"
    title = "Flag not found"


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "That status change is not allowed"


class TransitionRequirementMissing(UnprocessableContent):
    slug = "transition-requirement-missing"
    title = "This status change needs more information"


class InvalidDuplicate(UnprocessableContent):
    slug = "invalid-duplicate"
    title = "Not a valid original flag"


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency key already used for a different flag"


class ConcurrentCreate(Conflict):
    slug = "concurrent-create"
    title = "The same flag is being created by another request"


class BulkChangeRefused(UnprocessableContent):
    slug = "bulk-change-refused"
    title = "Bulk change refused"


class OwnerNotAssignable(UnprocessableContent):
    slug = "owner-not-assignable"
    title = "That person cannot own flags"


class UnshareableReply(UnprocessableContent):
    slug = "unshareable-reply"
    title = "This reply cannot be shared as written"
