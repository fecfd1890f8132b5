"""The encryption boxes of the launch domain, each with a key derived for its own purpose."""

from __future__ import annotations

from app.config import Settings
from app.kit import crypto
from app.kit.crypto import SecretBox


def secret_box(settings: Settings) -> SecretBox:
    """For EHR client secrets and PKCE verifiers kept between authorize and callback."""
    return crypto.secret_box(settings.resolved_secret_key(), "launch-secrets")


def token_box(settings: Settings) -> SecretBox:
    """For EHR access and refresh tokens held in app sessions."""
    return crypto.secret_box(settings.resolved_secret_key(), "ehr-tokens")
