"""Staff sign-in with the health system's OpenID Connect provider (authorization code flow
with PKCE; OpenID Connect Core 1.0 section 3.1).

The provider says who the user is and which groups or app roles they hold; the configured
role map turns those into a ValueLoop role. Nobody without a mapped role gets in. Each sign-in
creates or updates the person in the staff directory (just in time); a deactivated person is
refused. The OAuth
primitives (PKCE, the token request, id_token validation) are the same ones the SMART launch
uses (``smart``, built on authlib); only discovery differs: OpenID Connect Discovery 1.0
instead of SMART's well-known document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

import smart
from app.auth import repository, sessions
from app.auth.models import OidcSignIn, Role, SignInMethod
from app.config import OidcConfig, Settings
from app.kit import crypto
from app.kit.crypto import SecretBox, digest
from app.kit.time import utcnow
from app.staff import service as directory
from app.staff.errors import NoValueLoopRole, OidcNotConfigured, OidcSignInFailed
from app.staff.models import EMAIL_MAX_LENGTH
from app.staff.schemas import EMAIL_PATTERN as _EMAIL
from app.upstream_errors import SignInStep, sign_in_failed

CALLBACK_PATH = "/dashboard/sign-in/oidc/callback"
SIGN_IN_LIFETIME = timedelta(minutes=10)
BINDING_COOKIE = "__Host-valueloop-sign-in"
# From least to most powerful: a user mapped to several roles gets the last one they hold.
_ROLE_ORDER = (Role.LEAD, Role.ANALYST, Role.ADMIN)


# The provider's discovery document, kept an hour per issuer (its keys: JWKS_CACHE).
PROVIDER_CACHE = smart.DiscoveryCache(ttl_seconds=3600)
JWKS_CACHE = smart.JwksCache()


def _box(settings: Settings) -> SecretBox:
    return crypto.secret_box(settings.resolved_secret_key(), "staff-sign-in")


def _callback_url(settings: Settings) -> str:
    return settings.base_url + CALLBACK_PATH


def configured(settings: Settings) -> OidcConfig:
    if settings.oidc is None:
        raise OidcNotConfigured(
            "Single sign-on is not configured here (VALUELOOP_OIDC); sign in with an API token."
        )
    return settings.oidc


async def provider(http: httpx.AsyncClient, oidc: OidcConfig) -> smart.SmartConfiguration:
    """The provider's endpoints from ``{issuer}/.well-known/openid-configuration``."""
    cached = PROVIDER_CACHE.get(oidc.issuer)
    if cached is not None:
        return cached
    async with PROVIDER_CACHE.lock(oidc.issuer):  # one fetch for concurrent sign-ins
        cached = PROVIDER_CACHE.get(oidc.issuer)
        if cached is not None:
            return cached
        config = await _discover(http, oidc)
        PROVIDER_CACHE.put(oidc.issuer, config)
        return config


async def _discover(http: httpx.AsyncClient, oidc: OidcConfig) -> smart.SmartConfiguration:
    url = f"{oidc.issuer}/.well-known/openid-configuration"
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        config = smart.SmartConfiguration.from_well_known(document)
    except (httpx.HTTPError, ValueError, smart.SmartError) as exc:
        raise sign_in_failed(SignInStep.DISCOVER, exc) from exc
    # OpenID Connect Discovery 1.0 section 4.3: "The issuer value returned MUST be identical to
    # the Issuer URL that was used as the prefix to /.well-known/openid-configuration".
    if (config.issuer or "").rstrip("/") != oidc.issuer:
        raise OidcSignInFailed("The identity provider's discovery document names another issuer.")
    return config


@dataclass(frozen=True, kw_only=True)
class PendingSignIn(smart.PendingAuthorization):
    """A staff sign-in in flight: what ``smart`` checks at the callback, and where to go
    afterwards (stored as an ``OidcSignIn``)."""

    next_path: str


class PendingSignIns:
    """``smart.StateStore`` on the oidc_sign_in table: the state kept hashed, the PKCE
    verifier encrypted. The redirect URI is not stored: it is this deployment's callback."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self._session = session
        self._box = _box(settings)
        self._redirect_uri = _callback_url(settings)

    async def save(self, pending: PendingSignIn) -> None:
        if pending.browser_binding_hash is None:
            raise ValueError("a staff sign-in is always bound to the browser that starts it")
        repository.add_sign_in(
            self._session,
            OidcSignIn(
                state_hash=digest(pending.state),
                pkce_verifier_encrypted=self._box.encrypt(pending.pkce_verifier),
                nonce=pending.nonce,
                next_path=pending.next_path,
                browser_binding_hash=pending.browser_binding_hash,
                created_at=pending.expires_at - SIGN_IN_LIFETIME,
                expires_at=pending.expires_at,
            ),
        )

    async def take(self, state: str) -> PendingSignIn | None:
        record = await repository.take_sign_in(self._session, digest(state))  # single use
        if record is None:
            return None
        return PendingSignIn(
            state=state,
            pkce_verifier=self._box.decrypt(record.pkce_verifier_encrypted),
            nonce=record.nonce,
            redirect_uri=self._redirect_uri,
            browser_binding_hash=record.browser_binding_hash,
            expires_at=record.expires_at,
            next_path=record.next_path,
        )


@dataclass(frozen=True)
class SignInStart:
    authorize_url: str
    browser_binding: str


async def begin(
    session: AsyncSession, http: httpx.AsyncClient, settings: Settings, *, next_path: str
) -> SignInStart:
    """Remember a sign-in (state hashed, verifier encrypted) and build the provider's URL."""
    oidc = configured(settings)
    config = await provider(http, oidc)
    pkce, binding = smart.new_pkce(), smart.new_state()
    pending = PendingSignIn(
        state=smart.new_state(),
        pkce_verifier=pkce.verifier,
        nonce=smart.new_nonce(),
        redirect_uri=_callback_url(settings),
        browser_binding_hash=smart.binding_hash(binding),
        expires_at=utcnow() + SIGN_IN_LIFETIME,
        next_path=next_path,
    )
    try:
        # RFC 7636 4.3; OAuth 2.0 Security BCP (RFC 9700) 2.1.1: PKCE for every client, S256
        # even when the provider's discovery document does not list it.
        url = smart.authorize_url(
            config,
            client_id=oidc.client_id,
            redirect_uri=pending.redirect_uri,
            scopes=oidc.scopes,
            state=pending.state,
            aud=None,  # OpenID Connect has no audience parameter; SMART's aud is for FHIR
            pkce=pkce,
            launch=None,
            nonce=pending.nonce,
            force_pkce=True,
        )
    except smart.SmartError as exc:
        raise sign_in_failed(SignInStep.AUTHORIZE, exc) from exc
    await PendingSignIns(session, settings).save(pending)
    return SignInStart(authorize_url=url, browser_binding=binding)


def role_from_claims(claims: dict[str, Any], oidc: OidcConfig) -> Role:
    """The most powerful ValueLoop role the user's claim values map to."""
    raw = claims.get(oidc.role_claim)
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    # Providers differ in the claim's shape; anything but a string simply matches no role.
    mapped = {
        Role(oidc.roles[value].value)
        for value in values
        if isinstance(value, str) and value in oidc.roles
    }
    for role in reversed(_ROLE_ORDER):
        if role in mapped:
            return role
    raise NoValueLoopRole(
        "You are signed in with your organisation's account, but it has no ValueLoop role. "
        "Ask a ValueLoop administrator to add you to a ValueLoop group."
    )


def _display_name(claims: dict[str, Any], oidc: OidcConfig) -> str:
    for claim in (oidc.name_claim, "preferred_username", "email", "sub"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return "Staff member"


def _identity(claims: dict[str, Any], oidc: OidcConfig) -> directory.Identity:
    """The person in the id_token: OpenID Connect Core 1.0 section 5.1 ``name``, ``email``
    and ``email_verified`` (each optional; a malformed email is left out, not trusted)."""
    email = claims.get("email")
    usable = isinstance(email, str) and re.fullmatch(_EMAIL, email.strip()) is not None
    verified = claims.get("email_verified")
    return directory.Identity(
        issuer=str(claims["iss"])[:500],
        subject=str(claims["sub"])[:255],
        name=_display_name(claims, oidc),
        email=email.strip()[:EMAIL_MAX_LENGTH] if usable and isinstance(email, str) else None,
        email_verified=verified if isinstance(verified, bool) else None,
    )


@dataclass(frozen=True)
class SignedIn:
    started: sessions.StartedSession
    next_path: str


async def finish(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    params: dict[str, str],
    browser_binding: str | None,
) -> SignedIn:
    """Check the provider's answer, the pending sign-in and the id_token; start a session."""
    oidc = configured(settings)
    callback = await _accepted(session, settings, params, browser_binding=browser_binding)
    config = await provider(http, oidc)
    try:
        smart.check_response_issuer(config, params.get("iss"))
    except smart.SmartError as exc:
        raise sign_in_failed(SignInStep.ISSUER, exc) from exc
    claims = await _verified_claims(http, config, oidc, callback)
    role = role_from_claims(claims, oidc)
    person = await directory.just_in_time(session, _identity(claims, oidc), role)
    started = sessions.start(
        session,
        name=person.name,
        role=role,
        method=SignInMethod.OIDC,
        settings=settings,
        subject=f"{claims['iss']}|{claims['sub']}"[:500],
        staff_id=person.id,
        organization_id=person.organization_id,
    )
    await session.flush()
    return SignedIn(started=started, next_path=callback.pending.next_path)


async def _accepted(
    session: AsyncSession,
    settings: Settings,
    params: dict[str, str],
    *,
    browser_binding: str | None,
) -> smart.AcceptedCallback[PendingSignIn]:
    """The callback checked against its pending sign-in, which it spends whatever the outcome.

    RFC 6749 10.12, RFC 9700 2.1: the state binds the answer to the request this browser
    started (login CSRF); single use, ten minutes. A sign-in is a top-level page, whose
    browser keeps the binding cookie, so a callback without it is refused.
    """
    try:
        return await smart.accept_callback(
            PendingSignIns(session, settings),
            params,
            browser_binding=browser_binding,
            now=utcnow(),
        )
    except smart.SmartError as exc:
        raise sign_in_failed(SignInStep.CALLBACK, exc) from exc


async def _verified_claims(
    http: httpx.AsyncClient,
    config: smart.SmartConfiguration,
    oidc: OidcConfig,
    callback: smart.AcceptedCallback[PendingSignIn],
) -> dict[str, Any]:
    """The code exchanged for tokens, and the id_token's claims once they are verified."""
    auth: smart.ClientAuth = (
        smart.ClientSecretBasic(oidc.client_id, oidc.client_secret.get_secret_value())
        if oidc.client_secret
        else smart.PublicClient(oidc.client_id)
    )
    pending = callback.pending
    try:
        token = await smart.exchange_code(
            http,
            config,
            auth,
            code=callback.code,
            redirect_uri=pending.redirect_uri,
            pkce=smart.Pkce.from_verifier(pending.pkce_verifier),
        )
        if not token.id_token:
            raise OidcSignInFailed("The identity provider sent no id_token.")
        return await smart.validate_id_token(
            http,
            config,
            token.id_token,
            client_id=oidc.client_id,
            nonce=pending.nonce,
            jwks_cache=JWKS_CACHE,
        )
    except smart.SmartError as exc:
        raise sign_in_failed(SignInStep.VERIFY, exc) from exc
