"""The authorization request and its response (RFC 6749 4.1.1 and 4.1.2; SMART App Launch
2.x, "Obtain authorization code"; OpenID Connect Core 1.0 3.1.2.1 for a staff sign-in).

Usage::

    url = authorize_url(config, client_id=..., redirect_uri=..., scopes=scopes,
                        state=pending.state, aud=iss, pkce=pkce, launch=launch,
                        nonce=pending.nonce)
    # ... the browser comes back to redirect_uri: smart.state.accept_callback checks the
    # state, then reads the response with parse_authorization_response ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749.parameters import (
    prepare_grant_uri,
)

from smart.discovery import SmartConfiguration
from smart.errors import AuthorizationDenied, PkceNotSupportedError, SmartError, StateError
from smart.pkce import Pkce

__all__ = [
    "AuthorizationResponse",
    "authorize_url",
    "check_response_issuer",
    "parse_authorization_response",
]


def authorize_url(
    config: SmartConfiguration,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    aud: str | None,
    pkce: Pkce,
    launch: str | None,
    nonce: str | None = None,
    force_pkce: bool = False,
) -> str:
    """The URL to send the browser to, with every parameter SMART 2.x asks for.

    - ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope``, ``state``
      (RFC 6749 4.1.1);
    - ``aud``: SMART: "URL of the EHR resource server from which the app wishes to retrieve
      FHIR data", i.e. the FHIR base (``iss``), so a token cannot be replayed elsewhere.
      None for a plain OpenID Connect sign-in, which has no such parameter;
    - ``launch`` for an EHR launch (SMART: "the launch value received from the EHR"),
      absent for a standalone one;
    - ``code_challenge`` and ``code_challenge_method=S256`` (RFC 7636 4.3), always;
    - ``nonce`` when given (OpenID Connect Core 3.1.2.1), checked later in the id_token.

    PKCE policy. SMART 2.x requires S256 of every server and every app, so we send S256
    whatever the discovery document says, including when it says nothing (older servers
    ignore parameters they do not know). The one case we refuse is a server that lists
    ``code_challenge_methods_supported`` *without* S256 (e.g. only ``plain``): it would
    reject the request or, worse, treat it as ``plain``. PkceNotSupportedError then, unless
    ``force_pkce=True``, which sends S256 regardless, for an EHR known to under-advertise.
    ``plain`` is never sent: it does not protect a code that leaks.
    """
    _check_pkce(config, pkce, force_pkce=force_pkce)
    _check_required(
        client_id=client_id, redirect_uri=redirect_uri, aud=aud, state=state, scopes=scopes
    )
    url: str = prepare_grant_uri(
        config.authorization_endpoint,
        client_id=client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=list(scopes),
        state=state,
        aud=aud,
        launch=launch or None,
        code_challenge=pkce.challenge,
        code_challenge_method="S256",
        nonce=nonce or None,
    )
    return url


def _check_required(
    *, client_id: str, redirect_uri: str, aud: str | None, state: str, scopes: Sequence[str]
) -> None:
    required = [("client_id", client_id), ("redirect_uri", redirect_uri)]
    if aud is not None:  # an empty aud is a mistake; None is a request without one
        required.append(("aud", aud))
    # RFC 6749 10.12: the client "MUST implement CSRF protection" with a value binding the
    # request to the user agent; SMART makes state required.
    required.append(("state", state))
    for name, value in required:
        if not value:
            raise SmartError(f"{name} is required for the authorization request.")
    if not scopes:
        raise SmartError("At least one scope is required for the authorization request.")


def _check_pkce(config: SmartConfiguration, pkce: Pkce, *, force_pkce: bool) -> None:
    """S256 only, and only to a server that does not advertise methods without it."""
    if pkce.method != "S256":
        raise SmartError("Only PKCE S256 is supported (RFC 7636 7.2: plain is a fallback).")
    methods = config.code_challenge_methods_supported
    if methods is not None and "S256" not in methods and not force_pkce:
        raise PkceNotSupportedError(
            "The EHR does not advertise PKCE S256 (code_challenge_methods_supported), which "
            "SMART App Launch 2.x requires."
        )


@dataclass(frozen=True)
class AuthorizationResponse:
    """RFC 6749 4.1.2: what the EHR sent back to ``redirect_uri`` on success."""

    code: str = field(repr=False)
    state: str


def parse_authorization_response(params: Mapping[str, str]) -> AuthorizationResponse:
    """The code and state from the callback's query parameters.

    RFC 6749 4.1.2.1: an ``error`` parameter means the request was refused; that is
    AuthorizationDenied, which carries the returned ``state`` so the app can still consume
    the pending authorization. A callback without ``state`` is StateError (``missing``);
    without ``code``, SmartError. An app's callback goes through ``accept_callback``, which
    checks the state against the store before it calls this.
    """
    state = params.get("state") or None
    error = params.get("error")
    if error:
        raise AuthorizationDenied(error, params.get("error_description"), state=state)
    if state is None:
        raise StateError("missing", "The authorization response carries no state.")
    code = params.get("code")
    if not code:
        raise SmartError("The authorization response carries neither code nor error.")
    return AuthorizationResponse(code=code, state=state)


def check_response_issuer(config: SmartConfiguration, iss: str | None) -> None:
    """RFC 9207 (OAuth 2.0 Authorization Server Issuer Identification), section 2.4: the
    defence against mix-up attacks, where a code from one authorization server is replayed to
    the client as if it came from another.

    "Clients that support this specification MUST extract the value of the iss parameter
    from authorization responses they receive if the parameter is present. Clients MUST then
    decode the value ... and compare the result to the issuer identifier of the authorization
    server where the authorization request was sent to. This comparison MUST use simple
    string comparison", and a server that advertises
    ``authorization_response_iss_parameter_supported`` must always send it. The check runs
    before the code is used; SmartError when it fails.
    """
    if iss is None:
        if config.authorization_response_iss_parameter_supported:
            raise SmartError(
                "The authorization response lacks the iss parameter the server promises (RFC 9207)."
            )
        return
    if config.issuer is None or iss != config.issuer:
        raise SmartError(
            "The authorization response names another authorization server (RFC 9207 iss)."
        )
