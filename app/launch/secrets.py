"""The box for EHR access and refresh tokens held in app sessions, with its own derived key."""

from __future__ import annotations

from app.config import Settings
from app.kit import crypto
from app.kit.crypto import SecretBox


def token_box(settings: Settings) -> SecretBox:
    """For EHR access and refresh tokens held in app sessions."""
    return crypto.secret_box(settings.resolved_secret_key(), "ehr-tokens")
