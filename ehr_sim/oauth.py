"""The EHR side of SMART App Launch 2.x: discovery, authorize, token, introspection, JWKS.

References: SMART App Launch 2.x ("App Launch", "Scopes and Launch Context", "Client
Authentication"), RFC 6749 (OAuth 2.0), RFC 7636 (PKCE), RFC 7662 (introspection),
OpenID Connect Core 1.0.

The simulated user is always signed in and always consents: an app is approved the moment it
asks, within what its registration allows. Everything else is checked as a real EHR would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ehr_sim.clients import ClientKind, ClientRegistration
from ehr_sim.grants import AccessGrant, LaunchContext
from ehr_sim.scopes import grantable
from ehr_sim.state import SimState
from ehr_sim.store import Resource

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

router = APIRouter(tags=["SMART authorization server"])

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ["RS384", "ES384"]  # SMART "Client Authentication: Asymmetric"
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-passthrough-banner",
    "context-passthrough-style",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "sso-openid-connect",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _sim(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _urls(state: SimState) -> dict[str, str]:
    base = state.settings.base_url.rstrip("/")
    return {
        "authorize": f"{base}/auth/authorize",
        "token": f"{base}/auth/token",
        "introspect": f"{base}/auth/introspect",
        "jwks": f"{base}/auth/jwks",
    }


# --- discovery --------------------------------------------------------------------------------


@router.get("/fhir/.well-known/smart-configuration")
async def smart_configuration(request: Request) -> JSONResponse:
    """SMART App Launch 2.x "Conformance": the authorization server's metadata."""
    state = _sim(request)
    urls = _urls(state)
    body = {
        "issuer": state.settings.fhir_base,
        "jwks_uri": urls["jwks"],
        "authorization_endpoint": urls["authorize"],
        "token_endpoint": urls["token"],
        "introspection_endpoint": urls["introspect"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "scopes_supported": [
            "openid",
            "fhirUser",
            "profile",
            "email",
            "launch",
            "launch/patient",
            "launch/encounter",
            "offline_access",
            "online_access",
            "patient/*.rs",
            "user/*.rs",
            "patient/*.read",
            "user/*.read",
        ],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
        "authorization_response_iss_parameter_supported": True,
    }
    return JSONResponse(body)


@router.get("/fhir/.well-known/openid-configuration")
async def openid_configuration(request: Request) -> JSONResponse:
    """OpenID Connect Discovery 1.0, so apps can check id_token signatures."""
    state = _sim(request)
    urls = _urls(state)
    return JSONResponse(
        {
            "issuer": state.settings.fhir_base,
            "authorization_endpoint": urls["authorize"],
            "token_endpoint": urls["token"],
            "jwks_uri": urls["jwks"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "authorization_response_iss_parameter_supported": True,
        }
    )


@router.get("/auth/jwks")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(_sim(request).keys.jwks())


# --- launch contexts (the EHR's own side) -----------------------------------------------------


@router.post("/_sim/launches", status_code=201)
async def create_launch(request: Request) -> JSONResponse:
    """What the EHR does when a clinician clicks Launch: bind a launch id to a context.

    Body: {"user": "Practitioner/..", "patient": "..", "encounter": "..",
    "fhir_context": [{"reference": "ServiceRequest/.."}], "need_patient_banner": true,
    "smart_style_url": "..", "tenant": "..", "app_context": ".."}
    """
    state = _sim(request)
    body = await request.json()
    allowed = {
        "user",
        "patient",
        "encounter",
        "fhir_context",
        "need_patient_banner",
        "smart_style_url",
        "intent",
        "tenant",
        "app_context",
    }
    unknown = set(body) - allowed
    if unknown or not isinstance(body.get("user"), str):
        return JSONResponse(
            {"error": f"give 'user' and only {sorted(allowed)}; unknown: {sorted(unknown)}"},
            status_code=400,
        )
    user_type, _, user_id = body["user"].partition("/")
    if state.store.get(user_type, user_id) is None:
        return JSONResponse({"error": f"no {body['user']} to be the user"}, status_code=400)
    if body.get("patient") and state.store.get("Patient", body["patient"]) is None:
        return JSONResponse({"error": f"no Patient {body['patient']}"}, status_code=400)
    if body.get("encounter") and state.store.get("Encounter", body["encounter"]) is None:
        return JSONResponse({"error": f"no Encounter {body['encounter']}"}, status_code=400)
    if not isinstance(body.get("app_context") or "", str):
        return JSONResponse({"error": "app_context is a string"}, status_code=400)
    body["fhir_context"] = tuple(body.get("fhir_context") or ())
    launch = state.grants.create_launch(**body)
    return JSONResponse({"launch": launch.id}, status_code=201)


# --- authorize ----------------------------------------------------------------------------------


def _error_page(message: str) -> HTMLResponse:
    """RFC 6749 4.1.2.1: with a bad client or redirect_uri the server must not redirect."""
    return HTMLResponse(
        f"<!doctype html><title>Authorization error</title><h1>Authorization error</h1>"
        f"<p>{escape(message)}</p>",
        status_code=400,
    )


def _redirect_error(
    redirect_uri: str, state: str | None, error: str, description: str, *, issuer: str
) -> Response:
    # RFC 9207 section 2: iss on error responses too.
    params = {"error": error, "error_description": description, "iss": issuer}
    if state is not None:
        params["state"] = state
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302)


def _patient_picker(params: dict[str, str], state: SimState) -> HTMLResponse:
    """Standalone launch with launch/patient: the EHR asks the user which patient."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    rows = []
    for patient in list(state.store.all("Patient"))[:200]:
        name = patient.get("name", [{}])[0]
        label = " ".join([*name.get("given", []), name.get("family", "")]).strip() or patient["id"]
        rows.append(
            f'<li><button name="sim_patient" value="{escape(patient["id"])}">'
            f"{escape(label)} ({escape(patient.get('birthDate', '?'))})</button></li>"
        )
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Select a patient</title>"
        "<h1>Select a patient</h1><p>Simulated EHR: the app asked for a patient.</p>"
        f'<form method="post" action="/auth/authorize">{hidden}<ul>{"".join(rows)}</ul></form>'
        "</html>"
    )


def _signed_in_user(state: SimState) -> str:
    """Standalone launches and staff sign-ins run as the signed-in practitioner (by default
    the EHR's first one): the simulated sign-in."""
    if state.signed_in_practitioner is not None:
        return f"Practitioner/{state.signed_in_practitioner}"
    first = next(state.store.all("Practitioner"), None)
    return f"Practitioner/{first['id']}" if first else "Practitioner/unknown"


@router.put("/_sim/user")
async def set_signed_in_user(request: Request) -> JSONResponse:
    """Sim-only: sign a different practitioner in (``{"practitioner": "prac-00002"}``)."""
    state = _sim(request)
    body = await request.json()
    practitioner = body.get("practitioner") if isinstance(body, dict) else None
    if not isinstance(practitioner, str) or state.store.get("Practitioner", practitioner) is None:
        return JSONResponse({"error": "practitioner must name an existing Practitioner"}, 422)
    state.signed_in_practitioner = practitioner
    return JSONResponse({"practitioner": practitioner})


# Scopes that ask only who the user is. A request for nothing else is a plain OpenID Connect
# sign-in (the EHR as the staff's identity provider), which carries no aud.
IDENTITY_SCOPES = frozenset(
    {"openid", "profile", "fhirUser", "email", "offline_access", "online_access"}
)


async def _authorize_params(request: Request) -> dict[str, str]:
    if request.method == "POST":
        form = await request.form()
        return {key: str(value) for key, value in form.items()}
    return dict(request.query_params)


@router.get("/auth/authorize", response_model=None)
async def authorize(request: Request) -> Response:
    """Authorization endpoint (RFC 6749 4.1.1, SMART "Obtain authorization code")."""
    return await _authorize(request)


@router.post("/auth/authorize", response_model=None)
async def authorize_post(request: Request) -> Response:
    """The same, with form-encoded parameters (SMART capability ``authorize-post``)."""
    return await _authorize(request)


async def _authorize(request: Request) -> Response:
    sim = _sim(request)
    params = await _authorize_params(request)
    client = sim.clients.get(params.get("client_id", ""))
    if client is None:
        return _error_page("Unknown client_id: this app is not registered with the EHR.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return _error_page("redirect_uri does not exactly match one registered for this app.")
    state = params.get("state")

    def refuse(error: str, description: str) -> Response:
        return _redirect_error(
            redirect_uri, state, error, description, issuer=sim.settings.fhir_base
        )

    if params.get("response_type") != "code":
        return refuse("unsupported_response_type", "Only response_type=code is supported.")
    if not state:
        return refuse("invalid_request", "state is required.")
    # SMART 2.x: PKCE with S256 is required of every client; 'plain' is refused.
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return refuse("invalid_request", "PKCE is required: send code_challenge with S256.")
    requested = params.get("scope", "").split()
    sign_in_only = bool(requested) and set(requested) <= IDENTITY_SCOPES
    # SMART: the authorization server must refuse an aud that is not its FHIR base URL.
    aud = params.get("aud", "").rstrip("/")
    if not (sign_in_only and not aud) and aud != sim.settings.fhir_base.rstrip("/"):
        return refuse("invalid_request", "aud must be this EHR's FHIR base URL.")
    granted = grantable(requested, client.scopes)
    if not requested or not granted:
        return refuse("invalid_scope", "None of the requested scopes can be granted.")

    context: LaunchContext
    launch_id = params.get("launch")
    if launch_id:
        found = sim.grants.launch(launch_id, max_age=timedelta(seconds=sim.settings.launch_seconds))
        if found is None:
            return refuse("invalid_request", "Unknown or expired launch.")
        context = found
    else:
        granted = [scope for scope in granted if scope != "launch"]
        patient = params.get("sim_patient")
        if "launch/patient" in granted and not patient:
            return _patient_picker(params, sim)
        if patient and sim.store.get("Patient", patient) is None:
            return refuse("invalid_request", "The selected patient does not exist.")
        context = LaunchContext(
            id="standalone", user=_signed_in_user(sim), patient=patient, need_patient_banner=True
        )
    code = sim.grants.issue_code(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        code_challenge=params["code_challenge"],
        scopes=tuple(granted),
        context=context,
        nonce=params.get("nonce"),
        expires_at=datetime.now(UTC) + timedelta(seconds=sim.settings.code_seconds),
    )
    separator = "&" if urlsplit(redirect_uri).query else "?"
    # RFC 9207: the server that issued the code says so, against mix-up attacks.
    query = urlencode({"code": code.code, "state": state, "iss": sim.settings.fhir_base})
    return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=302)


# --- token --------------------------------------------------------------------------------------


class _TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _token_error(exc: _TokenError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="simulated-ehr"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
        client_id, secret = decoded.split(":", 1)
    except ValueError as exc:
        raise _TokenError("invalid_client", "Malformed Basic credentials.", 401) from exc
    # RFC 6749 2.3.1: both parts are form-urlencoded before being joined.
    return unquote(client_id), unquote(secret)


def _verify_assertion(state: SimState, client: ClientRegistration, assertion: str) -> None:
    """SMART "Client Authentication: Asymmetric (public key)"."""
    assert client.jwks is not None
    try:
        keys = KeySet.import_key_set(cast("KeySetSerialization", client.jwks))
        token = jwt.decode(assertion, keys, algorithms=ASSERTION_ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise _TokenError(
            "invalid_client", "The client assertion's signature is not valid.", 401
        ) from exc
    claims = token.claims
    now = time.time()
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise _TokenError("invalid_client", "Assertion iss and sub must be the client_id.", 401)
    if claims.get("aud") != _urls(state)["token"]:
        raise _TokenError("invalid_client", "Assertion aud must be the token endpoint URL.", 401)
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now:
        raise _TokenError("invalid_client", "The client assertion has expired.", 401)
    if exp > now + MAX_ASSERTION_LIFETIME.total_seconds() + 5:
        raise _TokenError("invalid_client", "Assertion exp must be at most 5 minutes ahead.", 401)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise _TokenError("invalid_client", "The client assertion needs a jti.", 401)
    if jti in state.used_assertion_ids:
        raise _TokenError("invalid_client", "This client assertion was already used.", 401)
    state.used_assertion_ids.add(jti)


def _authenticate_client(
    request: Request, form: dict[str, str], state: SimState
) -> ClientRegistration:
    """Which client is calling, proven the way its registration says (SMART 2.x)."""
    basic = _basic_credentials(request)
    assertion_type = form.get("client_assertion_type")
    if basic is not None:
        client = state.clients.get(basic[0])
        if (
            client is None
            or client.kind is not ClientKind.SYMMETRIC
            or client.client_secret is None
            or not hmac.compare_digest(client.client_secret, basic[1])
        ):
            raise _TokenError("invalid_client", "Client authentication failed.", 401)
        return client
    if assertion_type is not None:
        if assertion_type != ASSERTION_TYPE:
            raise _TokenError("invalid_client", "Unsupported client_assertion_type.", 401)
        unverified = _unverified_issuer(form.get("client_assertion", ""))
        client = state.clients.get(unverified or "")
        if client is None or client.kind is not ClientKind.ASYMMETRIC:
            raise _TokenError("invalid_client", "Client authentication failed.", 401)
        _verify_assertion(state, client, form.get("client_assertion", ""))
        return client
    client = state.clients.get(form.get("client_id", ""))
    if client is None:
        raise _TokenError("invalid_client", "Unknown client.", 401)
    if client.kind is not ClientKind.PUBLIC:
        raise _TokenError("invalid_client", "This client must authenticate.", 401)
    return client


def _unverified_issuer(assertion: str) -> str | None:
    """The assertion's iss, read before verification only to find which keys to verify with."""
    try:
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


def _pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 4.6: BASE64URL(SHA256(verifier)) == challenge."""
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(computed, challenge)


def _token_response(state: SimState, grant: AccessGrant, *, nonce: str | None) -> JSONResponse:
    """SMART "Response to access token request", with the launch context it was granted."""
    scopes = set(grant.scopes)
    context = grant.context
    body: dict[str, Any] = {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": max(0, int((grant.expires_at - datetime.now(UTC)).total_seconds())),
        "scope": " ".join(grant.scopes),
        "need_patient_banner": context.need_patient_banner,
    }
    if context.patient and ({"launch", "launch/patient"} & scopes):
        body["patient"] = context.patient
    if context.encounter and ({"launch", "launch/encounter"} & scopes):
        body["encounter"] = context.encounter
    if context.fhir_context and "launch" in scopes:
        body["fhirContext"] = list(context.fhir_context)
    if context.smart_style_url:
        body["smart_style_url"] = context.smart_style_url
    if context.intent:
        body["intent"] = context.intent
    if context.app_context is not None and "launch" in scopes:
        # CDS Hooks 2.0 "Link": appContext is "sent to the SMART app as part of the OAuth 2.0
        # access token response", beside the launch context.
        body["appContext"] = context.app_context
    if context.tenant:
        body["tenant"] = context.tenant
    if grant.refresh_token:
        body["refresh_token"] = grant.refresh_token
    if "openid" in scopes and ({"fhirUser", "profile"} & scopes):
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": state.settings.fhir_base,
            "sub": context.user.split("/")[-1],
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 3600,
            "fhirUser": f"{state.settings.fhir_base}/{context.user}",
        }
        if "profile" in scopes:
            claims.update(_profile_claims(state, context.user))
        if "email" in scopes:
            claims.update(_email_claims(state, context.user))
        if nonce:
            claims["nonce"] = nonce
        body["id_token"] = state.keys.sign(claims)
    return JSONResponse(body, headers=NO_STORE)


def _practitioner_of(state: SimState, user: str) -> Resource | None:
    """The Practitioner a user reference names: itself, or a PractitionerRole's practitioner."""
    user_type, _, user_id = user.partition("/")
    if user_type == "PractitionerRole":
        role = state.store.get("PractitionerRole", user_id) or {}
        user_type, _, user_id = role.get("practitioner", {}).get("reference", "").partition("/")
    return state.store.get("Practitioner", user_id) if user_type == "Practitioner" else None


def _email_claims(state: SimState, user: str) -> dict[str, Any]:
    """OpenID Connect Core 5.1 ``email`` (the practitioner's work address; synthetic)."""
    resource = _practitioner_of(state, user) or {}
    for point in resource.get("telecom", []):
        if point.get("system") == "email" and point.get("value"):
            return {"email": point["value"], "email_verified": True}
    return {}


def _profile_claims(state: SimState, user: str) -> dict[str, Any]:
    """OpenID Connect Core 5.1 ``name``, and the identity provider's ``roles`` claim."""
    resource = _practitioner_of(state, user)
    practitioner_id = resource["id"] if resource else user.split("/")[-1]
    claims: dict[str, Any] = {"roles": state.settings.staff_roles.get(practitioner_id, [])}
    names = resource.get("name") if resource else None
    if names:
        name = names[0]
        claims["name"] = (
            name.get("text")
            or " ".join(
                [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
            ).strip()
        )
    return claims


@router.post("/auth/token", response_model=None)
async def token(request: Request) -> JSONResponse:
    """Token endpoint (RFC 6749 4.1.3 and 6; SMART "Obtain access token")."""
    state = _sim(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    try:
        client = _authenticate_client(request, form, state)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return _exchange_code(state, client, form)
        if grant_type == "refresh_token":
            return _refresh(state, client, form)
        raise _TokenError("unsupported_grant_type", "Use authorization_code or refresh_token.")
    except _TokenError as exc:
        return _token_error(exc)


def _exchange_code(
    state: SimState, client: ClientRegistration, form: dict[str, str]
) -> JSONResponse:
    code = state.grants.take_code(form.get("code", ""))
    if code is None:
        raise _TokenError("invalid_grant", "Unknown, expired or already used code.")
    if code.client_id != client.client_id:
        raise _TokenError("invalid_grant", "This code was issued to another client.")
    if datetime.now(UTC) >= code.expires_at:
        raise _TokenError("invalid_grant", "The code has expired.")
    if form.get("redirect_uri") != code.redirect_uri:
        raise _TokenError("invalid_grant", "redirect_uri differs from the authorization request.")
    if not _pkce_matches(form.get("code_verifier", ""), code.code_challenge):
        raise _TokenError("invalid_grant", "code_verifier does not match the code_challenge.")
    with_refresh = bool({"offline_access", "online_access"} & set(code.scopes))
    grant = state.grants.issue_tokens(
        client_id=client.client_id,
        scopes=code.scopes,
        context=code.context,
        lifetime=timedelta(seconds=state.settings.access_token_seconds),
        with_refresh=with_refresh,
    )
    return _token_response(state, grant, nonce=code.nonce)


def _refresh(state: SimState, client: ClientRegistration, form: dict[str, str]) -> JSONResponse:
    refresh_token = form.get("refresh_token", "")
    current = state.grants.grant_for_refresh_token(refresh_token)
    if current is None:
        raise _TokenError("invalid_grant", "Unknown or already used refresh token.")
    requested = form.get("scope")
    scopes = current.scopes
    if requested is not None:
        asked = tuple(requested.split())
        if not set(asked) <= set(current.scopes):
            raise _TokenError("invalid_scope", "A refresh cannot widen the granted scopes.")
        scopes = asked
    grant = state.grants.rotate(
        refresh_token,
        client_id=client.client_id,
        scopes=scopes,
        lifetime=timedelta(seconds=state.settings.access_token_seconds),
    )
    if grant is None:
        raise _TokenError("invalid_grant", "This refresh token belongs to another client.")
    return _token_response(state, grant, nonce=None)


# --- introspection ------------------------------------------------------------------------------


@router.post("/auth/introspect", response_model=None)
async def introspect(request: Request) -> JSONResponse:
    """RFC 7662 token introspection; the caller authenticates as a client or with a token."""
    state = _sim(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        if state.grants.access(bearer[7:]) is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401, headers=NO_STORE)
    else:
        try:
            _authenticate_client(request, form, state)
        except _TokenError as exc:
            return _token_error(exc)
    grant = state.grants.grant_for_access_token(form.get("token", ""))
    if grant is None or not grant.active():
        return JSONResponse({"active": False}, headers=NO_STORE)
    body: dict[str, Any] = {
        "active": True,
        "scope": " ".join(grant.scopes),
        "client_id": grant.client_id,
        "token_type": "Bearer",
        "exp": int(grant.expires_at.timestamp()),
        "iss": state.settings.fhir_base,
        "sub": grant.context.user,
        "fhirUser": f"{state.settings.fhir_base}/{grant.context.user}",
    }
    if grant.context.patient:
        body["patient"] = grant.context.patient
    if grant.context.encounter:
        body["encounter"] = grant.context.encounter
    return JSONResponse(body, headers=NO_STORE)


@router.get("/smart-style.json")
async def smart_style() -> JSONResponse:
    """The EHR's style hints (SMART 2.x "smart_style_url"), for apps that want to blend in."""
    return JSONResponse(
        {
            "color_background": "#f4f6f8",
            "color_highlight": "#5b2c83",
            "color_text": "#1b1f24",
            "font_family_base": "Georgia, 'Times New Roman', serif",
            "dim_border_radius": "6px",
        }
    )
