"""Improvement errors: each names what went wrong and what the caller can do about it."""

from __future__ import annotations

from app.errors import Conflict, NotFound, UnprocessableContent


class ImprovementNotFound(NotFound):
    slug = "improvement-not-found"
    title = "Improvement not found"


class InvalidImprovementTransition(Conflict):
    slug = "invalid-improvement-transition"
    title = "That status change is not allowed"


class ImprovementRequirementMissing(UnprocessableContent):
    slug = "improvement-requirement-missing"
    title = "This improvement needs more information"


class FlagNotLinkable(UnprocessableContent):
    slug = "flag-not-linkable"
    title = "That flag cannot be linked to this improvement"


class FlagAlreadyLinked(Conflict):
    slug = "flag-already-linked"
    title = "That flag already belongs to another improvement"


class UnknownTarget(UnprocessableContent):
    slug = "unknown-improvement-target"
    title = "Not a target ValueLoop knows"


class NotLiveYet(Conflict):
    slug = "improvement-not-live"
    title = "This improvement has not gone live yet"
