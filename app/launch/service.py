"""The SMART launch, from the EHR's ``/launch`` to an app session with encrypted tokens.

The pieces of SMART itself (discovery, PKCE, token exchange, id_token checks, launch context)
come from ``smart``; this module decides what ValueLoop asks for, where state lives (the
database, so any app process can finish a launch) and what a session keeps.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import smart
from app.config import Settings
from app.ehrs import service as ehrs
from app.ehrs.models import RegisteredEhr
from app.ehrs.secrets import secret_box
from app.kit.crypto import SecretBox, digest
from app.kit.time import utcnow
from app.launch import repository
from app.launch.errors import SessionExpired
from app.launch.identity import claimed_identity
from app.launch.models import AppSession, PendingLaunch
from app.launch.secrets import token_box
from app.upstream_errors import LaunchStep, launch_failed

# What ValueLoop reads, and nothing more (minimum necessary). Medication: real EHRs name the
# drug of a MedicationRequest by medicationReference. Procedure and Observation: the history
# some low-value rules look back over (a prior DXA, a booked surgery, a past screening),
# searched only when such a rule judges one of the launch's orders (app/clinician/markers.py).
RESOURCES = (
    "Patient",
    "Encounter",
    "ServiceRequest",
    "MedicationRequest",
    "Medication",
    "Condition",
    "Procedure",
    "Observation",
)
# Who is signed in, read as the fhirUser resource (user-level: a clinician's own record is not
# in the patient's compartment). An EHR that does not grant them leaves the id_token's claims.
USER_RESOURCES = ("Practitioner", "PractitionerRole")
# OpenID Connect Core 5.4: ``name`` and ``email`` claims, asked for only where the EHR
# lists the scopes (some EHRs refuse scopes they do not know).
CLAIM_SCOPES = ("profile", "email")
STATE_LIFETIME = timedelta(minutes=10)  # SMART: state is short-lived and single use
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
# A fallback for browsers that keep partitioned cookies; the page's header is the main way.
SESSION_COOKIE = "__Host-vl_session"  # __Host-: Secure, Path=/, no Domain
SESSION_MAX_AGE = timedelta(hours=8)

logger = logging.getLogger(__name__)
DISCOVERY_CACHE = smart.DiscoveryCache(ttl_seconds=3600)
JWKS_CACHE = smart.JwksCache()


def callback_url(settings: Settings) -> str:
    return f"{settings.base_url}/launch/callback"


@dataclass(frozen=True)
class LaunchStart:
    authorize_url: str
    ehr: RegisteredEhr


async def begin(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    iss: str,
    launch: str | None,
    browser_binding: str | None,
) -> LaunchStart:
    """Check the issuer, discover its endpoints, and remember what the callback must match."""
    ehr = await ehrs.trusted(session, iss)  # before any outbound request (SSRF)
    try:
        config = await smart.discover(http, ehr.issuer, cache=DISCOVERY_CACHE)
    except smart.SmartError as exc:
        raise launch_failed(LaunchStep.DISCOVER, exc) from exc
    # online_access: a refresh token valid while the clinician stays signed in to the EHR,
    # so a long charting session does not end at the first access token's expiry.
    scopes = ehr.scopes or _scopes(config, ehr_launch=launch is not None)
    pkce = smart.new_pkce()
    pending = PendingLaunch(
        state=smart.new_state(),
        issuer=ehr.issuer,
        launch=launch,
        pkce_verifier=pkce.verifier,
        nonce=smart.new_nonce(),
        redirect_uri=callback_url(settings),
        requested_scopes=tuple(scopes),
        browser_binding_hash=smart.binding_hash(browser_binding) if browser_binding else None,
        expires_at=utcnow() + STATE_LIFETIME,
    )
    await _pending_launches(session, settings).save(pending)
    url = smart.authorize_url(
        config,
        client_id=ehr.client_id,
        redirect_uri=pending.redirect_uri,
        scopes=scopes,
        state=pending.state,
        aud=ehr.issuer,  # SMART: aud is the FHIR base URL, nothing else
        pkce=pkce,
        launch=launch,
        nonce=pending.nonce,
        force_pkce=ehr.force_pkce,
    )
    return LaunchStart(authorize_url=url, ehr=ehr)


def _scopes(config: smart.SmartConfiguration, *, ehr_launch: bool) -> list[str]:
    """What ValueLoop asks an EHR for: the patient's records, and who the user is."""
    claims = tuple(scope for scope in CLAIM_SCOPES if scope in config.scopes_supported)
    patient_level = smart.requested_scopes(
        config,
        ehr_launch=ehr_launch,
        resources=RESOURCES,
        extra=("openid", "fhirUser", *claims, "online_access"),
    )
    user_level = smart.requested_scopes(
        config, ehr_launch=ehr_launch, resources=USER_RESOURCES, extra=(), level="user"
    )
    return list(dict.fromkeys(patient_level + user_level))


def _pending_launches(session: AsyncSession, settings: Settings) -> repository.PendingLaunches:
    return repository.PendingLaunches(session, secret_box(settings), lifetime=STATE_LIFETIME)


@dataclass(frozen=True)
class LaunchResult:
    handle: str
    app_session: AppSession
    ehr: RegisteredEhr


async def finish(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    browser_binding: str | None,
    iss: str | None = None,
) -> LaunchResult:
    """Validate the callback, exchange the code, and open an app session."""
    answer = {"state": state, "code": code, "error": error}
    params = {name: value for name, value in answer.items() if value is not None}
    callback = await _accepted(session, settings, params, browser_binding=browser_binding)
    ehr = await ehrs.trusted(session, callback.pending.issuer)
    token, claims = await _redeem(http, settings, ehr, callback, iss=iss)
    context = smart.launch_context(
        token, claims, fhir_base=ehr.issuer, requested=callback.pending.requested_scopes
    )
    handle = secrets.token_urlsafe(32)
    app_session = _app_session(digest(handle), ehr, token, context, token_box(settings))
    app_session.reporter_name, app_session.reporter_email = claimed_identity(claims)
    repository.add(session, app_session)
    await session.flush()
    return LaunchResult(handle=handle, app_session=app_session, ehr=ehr)


async def _accepted(
    session: AsyncSession,
    settings: Settings,
    params: dict[str, str],
    *,
    browser_binding: str | None,
) -> smart.AcceptedCallback[PendingLaunch]:
    """The callback checked against its pending launch (which it spends, whatever the outcome).

    Where the browser kept our cookie, the callback must come from the same browser. In an
    EHR frame that blocks third-party cookies there is no cookie to compare, and the
    unpredictable, single-use, short-lived state is the protection (SMART 2.x, "state").
    """
    try:
        return await smart.accept_callback(
            _pending_launches(session, settings),
            params,
            browser_binding=browser_binding,
            now=utcnow(),
            allow_missing_binding=True,
        )
    except smart.SmartError as exc:
        raise launch_failed(LaunchStep.CALLBACK, exc) from exc


async def _redeem(
    http: httpx.AsyncClient,
    settings: Settings,
    ehr: RegisteredEhr,
    callback: smart.AcceptedCallback[PendingLaunch],
    *,
    iss: str | None,
) -> tuple[smart.TokenResponse, dict[str, Any] | None]:
    """The code exchanged for tokens, and the id_token's claims once they are verified."""
    pending = callback.pending
    try:
        config = await smart.discover(http, ehr.issuer, cache=DISCOVERY_CACHE)
        # Mix-up defence: the code must come from the server this launch was sent to.
        smart.check_response_issuer(config, iss)
        token = await smart.exchange_code(
            http,
            config,
            ehrs.client_auth_for(ehr, settings),
            code=callback.code,
            redirect_uri=pending.redirect_uri,
            pkce=smart.Pkce.from_verifier(pending.pkce_verifier),
        )
        granted = smart.parse_granted(token.scope, pending.requested_scopes)
        if "openid" in granted.scopes and not token.id_token:
            # OpenID Connect Core 3.1.3.3: with openid granted, the id_token is how we know
            # who the user is; without it fhirUser would be unverified.
            raise smart.IdTokenError("the EHR granted openid but sent no id_token")
        if not token.id_token:
            return token, None
        claims = await smart.validate_id_token(
            http,
            config,
            token.id_token,
            client_id=ehr.client_id,
            nonce=pending.nonce,
            jwks_cache=JWKS_CACHE,
        )
    except smart.SmartError as exc:
        raise launch_failed(LaunchStep.REDEEM, exc) from exc
    return token, claims


def _app_session(
    handle_hash: str,
    ehr: RegisteredEhr,
    token: smart.TokenResponse,
    context: smart.LaunchContext,
    box: SecretBox,
) -> AppSession:
    now = utcnow()
    return AppSession(
        handle_hash=handle_hash,
        ehr_id=ehr.id,
        issuer=ehr.issuer,
        patient_id=context.patient,
        encounter_id=context.encounter,
        fhir_user=context.fhir_user,
        fhir_context=list(context.fhir_context),
        granted_scopes=sorted(context.granted.scopes),
        need_patient_banner=context.need_patient_banner,
        smart_style_url=context.smart_style_url,
        tenant=context.tenant,
        app_context=context.app_context,
        access_token_encrypted=box.encrypt(token.access_token),
        refresh_token_encrypted=box.encrypt(token.refresh_token) if token.refresh_token else None,
        access_expires_at=token.expires_at,
        created_at=now,
        last_seen_at=now,
    )


async def current_session(session: AsyncSession, handle: str | None) -> AppSession:
    """The live app session behind a handle; expired or unknown handles are refused alike."""
    if not handle:
        raise SessionExpired("No ValueLoop session. Open ValueLoop again from the EHR.")
    found = await repository.session_by_handle(session, digest(handle))
    now = utcnow()
    if (
        found is None
        or now - found.last_seen_at > SESSION_IDLE_TIMEOUT
        or now - found.created_at > SESSION_MAX_AGE
    ):
        raise SessionExpired("Your ValueLoop session has ended. Open ValueLoop again from the EHR.")
    return found


TOUCH_INTERVAL = timedelta(minutes=1)


async def touch(session: AsyncSession, app_session: AppSession) -> None:
    """Keep an active session alive: at most one small write a minute.

    Committed at once (``app.clinician.dependencies.app_session`` passes a session whose statements
    each commit): held for the whole request, the row lock would make a token refresh in the
    same request wait forever.
    """
    now = utcnow()
    if now - app_session.last_seen_at < TOUCH_INTERVAL:
        return
    await repository.touch(session, app_session.id, now)


async def registered_issuers(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    async with factory() as session:
        return [ehr.issuer for ehr in await ehrs.all_registered(session)]


async def warm_up(http: httpx.AsyncClient, issuers: Sequence[str]) -> int:
    """Fetch these EHRs' SMART configurations and signing keys ahead of the first launch
    (the first launch after a start otherwise pays for them: ~120 ms of our own time).

    Run in the background at start-up, with no database work (a transaction left open by a
    background task would hold locks for as long as it waits on an EHR). An EHR that cannot
    be reached now is fetched at its first launch, as before; the number warmed is returned.
    """
    warmed = 0
    for issuer in issuers:
        try:
            config = await smart.discover(http, issuer, cache=DISCOVERY_CACHE)
            if config.jwks_uri is not None:
                await JWKS_CACHE.get(http, config.jwks_uri)
        except (smart.SmartError, httpx.HTTPError):
            logger.warning("warm-up: EHR not reachable now", extra={"issuer": issuer})
            continue
        warmed += 1
    return warmed
