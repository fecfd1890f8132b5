"""The box for EHR client secrets (and the PKCE verifiers the launch keeps between authorize
and callback), with a key derived for that purpose alone."""

from __future__ import annotations

from app.config import Settings
from app.kit import crypto
from app.kit.crypto import SecretBox


def secret_box(settings: Settings) -> SecretBox:
    """For EHR client secrets and PKCE verifiers kept between authorize and callback."""
    return crypto.secret_box(settings.resolved_secret_key(), "launch-secrets")
