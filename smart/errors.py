"""Everything ``smart`` raises, so the app can map each case to one answer.

SmartError                    anything below; catch it to handle "the launch failed"
├── DiscoveryError            neither .well-known/smart-configuration nor metadata worked
├── PkceNotSupportedError     the EHR advertises PKCE methods without S256
├── AuthorizationDenied       the EHR answered the authorization request with ?error=
├── TokenRequestError         the token endpoint refused, failed or answered nonsense
├── RefreshUnavailableError   no refresh token, or the EHR no longer honours it: relaunch
├── IdTokenError              the id_token failed an OpenID Connect Core 3.1.3.7 check
└── StateError                the callback's state is unknown, used, expired or foreign

Messages are safe to log and to show: they never carry tokens, codes, verifiers or secrets.
Text that comes from the EHR (``error_description``) is kept, but cut short and stripped of
control characters, because it is untrusted input that may end up in a log line.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "AuthorizationDenied",
    "DiscoveryError",
    "IdTokenError",
    "PkceNotSupportedError",
    "RefreshUnavailableError",
    "SmartError",
    "StateError",
    "TokenRequestError",
]

_MAX_REMOTE_TEXT = 300


def remote_text(value: object) -> str | None:
    """An EHR-supplied string made safe for a log line: printable and at most 300 characters."""
    if not isinstance(value, str):
        return None
    cleaned = "".join(char if char.isprintable() else " " for char in value).strip()
    return cleaned[:_MAX_REMOTE_TEXT] or None


class SmartError(Exception):
    """Base class: the SMART launch could not go on."""


class DiscoveryError(SmartError):
    """The EHR's SMART configuration could not be read (SMART App Launch 2.x "Conformance")."""


class PkceNotSupportedError(SmartError):
    """The EHR advertises ``code_challenge_methods_supported`` without ``S256``.

    SMART App Launch 2.x requires S256 of every server, and ``plain`` gives no protection
    against a stolen code, so we refuse rather than downgrade.
    """


class AuthorizationDenied(SmartError):
    """The authorization response was an error (RFC 6749 4.1.2.1), e.g. ``access_denied``.

    ``state`` is the value the EHR sent back with the error. ``accept_callback`` raises it
    only after that state has been taken from the store and checked, so an error response
    spends its pending authorization like any other callback.
    """

    def __init__(self, error: str, description: str | None, *, state: str | None = None) -> None:
        self.error = remote_text(error) or "unknown_error"
        self.description = remote_text(description)
        self.state = state
        message = f"The EHR refused the authorization request: {self.error}"
        super().__init__(f"{message} ({self.description})" if self.description else message)


class TokenRequestError(SmartError):
    """The token endpoint did not issue tokens (RFC 6749 5.2).

    ``error`` is the OAuth error code when the EHR sent one (``invalid_grant``,
    ``invalid_client``...), ``invalid_response`` when it answered something that is not an
    RFC 6749 response, or ``network_error`` when it could not be reached (``status`` None).
    """

    def __init__(self, error: str, description: str | None, status: int | None) -> None:
        self.error = remote_text(error) or "invalid_response"
        self.description = remote_text(description)
        self.status = status
        where = f"HTTP {status}" if status is not None else "no response"
        message = f"The token request failed ({where}): {self.error}"
        super().__init__(f"{message} ({self.description})" if self.description else message)


class RefreshUnavailableError(SmartError):
    """There is no usable refresh token; the only way on is a new launch.

    Raised when the token response carried none (``offline_access``/``online_access`` not
    asked for or not granted) and when the EHR answers ``invalid_grant`` to a refresh (the
    token expired, was revoked or was already rotated; RFC 6749 5.2).
    """


class IdTokenError(SmartError):
    """The id_token is not one we may trust (OpenID Connect Core 1.0, 3.1.3.7)."""


StateReason = Literal["unknown", "expired", "foreign", "missing"]


class StateError(SmartError):
    """The callback's ``state`` does not match an authorization this browser started
    (RFC 6749 10.12; RFC 9700 2.1).

    ``reason``: ``missing`` (no state on the callback), ``unknown`` (never issued, or already
    used: a single-use store cannot tell the two apart), ``expired``, ``foreign`` (started
    by another browser).
    """

    def __init__(self, reason: StateReason, message: str) -> None:
        self.reason: StateReason = reason
        super().__init__(message)
