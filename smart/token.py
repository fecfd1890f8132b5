"""The token endpoint: exchanging the code (RFC 6749 4.1.3) and refreshing (RFC 6749 6).

SMART App Launch 2.x, "Obtain access token" and "Refresh access token". The response carries
the tokens and, beside them, the launch context (``patient``, ``encounter``, ``fhirContext``,
``need_patient_banner``, a CDS Hooks link's ``appContext``...), which we keep verbatim in
``raw_context`` for ``context.py``.

No retries here: a code is single-use, so replaying an exchange after a timeout can only
fail, and whether a failed refresh is worth repeating is the app's call.

Access tokens are opaque to the app (SMART: the app "should not try to interpret" them): we
never decode them, and they never appear in ``repr``, logs or error messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import (
    prepare_token_request,
)

from smart.client_auth import ClientAuth
from smart.discovery import SmartConfiguration
from smart.errors import RefreshUnavailableError, TokenRequestError
from smart.pkce import Pkce

__all__ = ["TOKEN_FIELDS", "TokenResponse", "exchange_code", "refresh"]

# RFC 6749 5.1 and OpenID Connect Core 3.1.3.3: the fields that are about the tokens
# themselves. Everything else in the response is launch context (SMART 2.x).
TOKEN_FIELDS = frozenset(
    {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
)


_BEARER = "Bearer"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenResponse:
    """A successful token response (RFC 6749 5.1), tokens kept out of ``repr``.

    ``expires_at`` is computed from ``expires_in`` against the time the request was sent,
    so it errs early. ``scope`` is the raw granted scope (None when the EHR left it out,
    which RFC 6749 5.1 allows when it equals the request: see ``parse_granted``).
    ``raw_context``: every other field, read-only.
    """

    access_token: str = field(repr=False)
    token_type: str
    expires_at: datetime | None
    refresh_token: str | None = field(repr=False)
    scope: str | None
    id_token: str | None = field(repr=False)
    raw_context: Mapping[str, Any]

    @classmethod
    def from_json(
        cls, body: Mapping[str, Any], *, sent_at: datetime, status: int = 200
    ) -> TokenResponse:
        """Validate an RFC 6749 5.1 body; TokenRequestError (``invalid_response``) if not."""

        def invalid(description: str) -> TokenRequestError:
            return TokenRequestError("invalid_response", description, status)

        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise invalid("The token response has no access_token.")
        token_type = body.get("token_type")
        # RFC 6749 5.1: token_type "is case insensitive"; SMART: "Fixed value: Bearer".
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise invalid("The token response's token_type is not Bearer.")
        refresh_token = body.get("refresh_token")
        if refresh_token is not None and (not isinstance(refresh_token, str) or not refresh_token):
            raise invalid("The token response's refresh_token is not a string.")
        scope = body.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise invalid("The token response's scope is not a string.")
        id_token = body.get("id_token")
        if id_token is not None and (not isinstance(id_token, str) or not id_token):
            raise invalid("The token response's id_token is not a string.")
        context = {key: value for key, value in body.items() if key not in TOKEN_FIELDS}
        return cls(
            access_token=access_token,
            token_type=_BEARER,
            expires_at=_expires_at(body.get("expires_in"), sent_at),
            refresh_token=refresh_token,
            scope=scope,
            id_token=id_token,
            raw_context=MappingProxyType(context),
        )


def _expires_at(expires_in: object, sent_at: datetime) -> datetime | None:
    """RFC 6749 5.1 ``expires_in`` ("RECOMMENDED", seconds) as an instant; None if absent
    or unusable. Numeric strings are accepted because some servers send them."""
    if isinstance(expires_in, bool):
        return None
    if isinstance(expires_in, str):
        try:
            expires_in = float(expires_in)
        except ValueError:
            return None
    if not isinstance(expires_in, int | float) or not math.isfinite(expires_in):
        return None
    return sent_at + timedelta(seconds=max(0.0, float(expires_in)))


async def exchange_code(
    http: httpx.AsyncClient,
    config: SmartConfiguration,
    auth: ClientAuth,
    *,
    code: str,
    redirect_uri: str,
    pkce: Pkce,
    timeout: float = 10,  # noqa: ASYNC109 - httpx's per-request timeout, not a deadline
    clock: Callable[[], datetime] = _utcnow,
) -> TokenResponse:
    """Exchange an authorization code for tokens.

    RFC 6749 4.1.3: ``grant_type=authorization_code``, ``code``, and ``redirect_uri``
    identical to the authorization request's; RFC 7636 4.5: ``code_verifier``. Client
    authentication is added by ``auth``.
    """
    body: str = prepare_token_request(
        "authorization_code", redirect_uri=redirect_uri, code=code, code_verifier=pkce.verifier
    )
    return await _token_request(http, config, auth, body, http_timeout=timeout, clock=clock)


async def refresh(
    http: httpx.AsyncClient,
    config: SmartConfiguration,
    auth: ClientAuth,
    *,
    refresh_token: str | None,
    scope: str | None = None,
    timeout: float = 10,  # noqa: ASYNC109 - httpx's per-request timeout, not a deadline
    clock: Callable[[], datetime] = _utcnow,
) -> TokenResponse:
    """A new access token from a refresh token (RFC 6749 6; SMART "Refresh access token").

    ``scope`` may narrow the grant, never widen it. RefreshUnavailableError when there is no
    refresh token, or when the EHR answers ``invalid_grant`` (expired, revoked or already
    rotated): both mean "launch again". Other failures are TokenRequestError.

    RFC 6749 6: the server "MAY issue a new refresh token, in which case the client MUST
    discard the old refresh token"; when it issues none, the old one stays valid, so the
    returned ``refresh_token`` is always the one to use next.
    """
    if not refresh_token:
        raise RefreshUnavailableError(
            "No refresh token: the launch did not ask for or was not granted offline_access "
            "or online_access."
        )
    body: str = prepare_token_request("refresh_token", refresh_token=refresh_token, scope=scope)
    try:
        response = await _token_request(http, config, auth, body, http_timeout=timeout, clock=clock)
    except TokenRequestError as exc:
        if exc.error == "invalid_grant":
            raise RefreshUnavailableError(
                "The EHR no longer accepts this refresh token (invalid_grant)."
            ) from exc
        raise
    if response.refresh_token is None:
        response = replace(response, refresh_token=refresh_token)
    return response


async def _token_request(
    http: httpx.AsyncClient,
    config: SmartConfiguration,
    auth: ClientAuth,
    body: str,
    *,
    http_timeout: float,
    clock: Callable[[], datetime],
) -> TokenResponse:
    form = dict(parse_qsl(body, keep_blank_values=True))
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    auth.apply(config.token_endpoint, form, headers)
    sent_at = clock()
    try:
        response = await http.post(
            config.token_endpoint, content=urlencode(form), headers=headers, timeout=http_timeout
        )
    except httpx.HTTPError as exc:
        raise TokenRequestError(
            "network_error", f"The token endpoint could not be reached: {type(exc).__name__}.", None
        ) from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not response.is_success:
        # RFC 6749 5.2: "The authorization server responds with an HTTP 400 (Bad Request)
        # status code (unless specified otherwise)" and a JSON body with error and
        # error_description.
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            raise TokenRequestError(
                payload["error"], payload.get("error_description"), response.status_code
            )
        raise TokenRequestError(
            "invalid_response",
            "The token endpoint failed without an OAuth error body.",
            response.status_code,
        )
    if not isinstance(payload, dict):
        raise TokenRequestError(
            "invalid_response", "The token response is not a JSON object.", response.status_code
        )
    return TokenResponse.from_json(payload, sent_at=sent_at, status=response.status_code)
