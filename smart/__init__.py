"""SMART App Launch 2.x, client side: discovery, PKCE, scopes, authorization, client
authentication, token exchange and refresh, id_token validation, launch context, state.

Knows OAuth and SMART, nothing about flags; never imports ``app``, ``fhir_client``,
``ehr_sim``, FastAPI, SQLAlchemy or SQLModel. Every outbound request goes through the
``httpx.AsyncClient`` the caller passes in; nothing here creates a client.

An EHR launch, in order (modules are named after these steps)::

    config = await discover(http, iss, cache=discovery_cache)            # discovery
    pkce = new_pkce()                                                     # pkce
    scopes = requested_scopes(config, ehr_launch=True, resources=[...])  # scopes
    # the app's PendingAuthorization subclass adds what it needs back (here iss, scopes)
    pending = Pending(state=new_state(), nonce=new_nonce(),               # state
                      pkce_verifier=pkce.verifier, expires_at=..., iss=iss, ...)
    await store.save(pending)            # the app's StateStore, e.g. on its database
    redirect_to(authorize_url(config, client_id=..., redirect_uri=..., scopes=scopes,
                              state=pending.state, aud=iss, pkce=pkce, launch=launch,
                              nonce=pending.nonce))                       # authorize
    # callback: the state is taken once and checked before anything else is used
    callback = await accept_callback(store, query, browser_binding=cookie, now=now,
                                     allow_missing_binding=True)         # state
    check_response_issuer(config, query.get("iss"))                      # authorize
    pending = callback.pending
    token = await exchange_code(http, config, auth, code=callback.code,   # client_auth,
                                redirect_uri=pending.redirect_uri,        # token
                                pkce=Pkce.from_verifier(pending.pkce_verifier))
    claims = await validate_id_token(http, config, token.id_token,       # id_token
                                     client_id=..., nonce=pending.nonce)
    context = launch_context(token, claims, fhir_base=pending.iss,       # context
                             requested=pending.requested_scopes)

An OpenID Connect sign-in is the same path without ``aud``, ``launch`` or launch context.
"""

from smart.authorize import (
    AuthorizationResponse,
    authorize_url,
    check_response_issuer,
    parse_authorization_response,
)
from smart.client_auth import (
    ASSERTION_TYPE,
    ClientAuth,
    ClientSecretBasic,
    PrivateKeyJwt,
    PublicClient,
)
from smart.context import APP_CONTEXT_MAX_LENGTH, LaunchContext, launch_context, normalise_reference
from smart.discovery import DiscoveryCache, SmartConfiguration, discover
from smart.errors import (
    AuthorizationDenied,
    DiscoveryError,
    IdTokenError,
    PkceNotSupportedError,
    RefreshUnavailableError,
    SmartError,
    StateError,
    TokenRequestError,
)
from smart.id_token import JwksCache, validate_id_token
from smart.pkce import Pkce, new_pkce
from smart.scopes import GrantedScopes, parse_granted, requested_scopes
from smart.state import (
    AcceptedCallback,
    PendingAuthorization,
    StateStore,
    accept_callback,
    binding_hash,
    new_nonce,
    new_state,
)
from smart.token import TokenResponse, exchange_code, refresh

__all__ = [
    "APP_CONTEXT_MAX_LENGTH",
    "ASSERTION_TYPE",
    "AcceptedCallback",
    "AuthorizationDenied",
    "AuthorizationResponse",
    "ClientAuth",
    "ClientSecretBasic",
    "DiscoveryCache",
    "DiscoveryError",
    "GrantedScopes",
    "IdTokenError",
    "JwksCache",
    "LaunchContext",
    "PendingAuthorization",
    "Pkce",
    "PkceNotSupportedError",
    "PrivateKeyJwt",
    "PublicClient",
    "RefreshUnavailableError",
    "SmartConfiguration",
    "SmartError",
    "StateError",
    "StateStore",
    "TokenRequestError",
    "TokenResponse",
    "accept_callback",
    "authorize_url",
    "binding_hash",
    "check_response_issuer",
    "discover",
    "exchange_code",
    "launch_context",
    "new_nonce",
    "new_pkce",
    "new_state",
    "normalise_reference",
    "parse_authorization_response",
    "parse_granted",
    "refresh",
    "requested_scopes",
    "validate_id_token",
]
