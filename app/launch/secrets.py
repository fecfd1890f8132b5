"""The encryption boxes of the launch domain, each with a key derived for its own purpose."""

from __future__ import annotations

from app.config import Settings
from app.kit.crypto import SecretBox


def secret_box(settings: Settings) -> SecretBox:
    """For EHR client secrets and PKCE verifiers kept between authorize and callback."""
    return SecretBox(settings.resolved_secret_key(), purpose="launch-secrets")


def token_box(settings: Settings) -> SecretBox:
    """For EHR access and refresh tokens held in app sessions."""
    return SecretBox(settings.resolved_secret_key(), purpose="ehr-tokens")
