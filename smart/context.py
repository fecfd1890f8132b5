"""The launch context: who is charting, on which patient and encounter, with what view.

SMART App Launch 2.x, "Launch context arrives with your access_token": ``patient``,
``encounter``, ``fhirContext``, ``need_patient_banner``, ``smart_style_url``, ``tenant``,
``intent`` sit beside the access token; the user's identity is the ``fhirUser`` claim of the
(validated) id_token. A launch from a CDS Hooks card's SMART link adds ``appContext`` (CDS
Hooks 2.0 "Link": "sent to the SMART app as part of the OAuth 2.0 access token response").
EHRs differ in the details, so this module reads them forgivingly and returns one normalised
shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from smart.scopes import GrantedScopes, parse_granted
from smart.token import TokenResponse

__all__ = ["APP_CONTEXT_MAX_LENGTH", "LaunchContext", "launch_context", "normalise_reference"]

# FHIR R4 datatypes: id is "[A-Za-z0-9\-\.]{1,64}"; a resource type is a capitalised name.
_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# appContext is opaque text the EHR relays from a CDS service to the app; an app keeps it only
# up to a size it is prepared to store. Longer values are dropped whole: a cut JSON is noise.
APP_CONTEXT_MAX_LENGTH = 2048


@dataclass(frozen=True)
class LaunchContext:
    """Everything the app learns about the launch from the token response and id_token.

    ``fhir_user`` is ``Type/id`` (e.g. ``Practitioner/123``), split into ``fhir_user_type``
    and ``fhir_user_id``; all three are None when no validated id_token named a usable user.
    ``fhir_context`` holds references (``ServiceRequest/1``). ``need_patient_banner`` is
    True unless the EHR said false: showing a banner the EHR already shows is harmless,
    hiding one the clinician needs is not. ``app_context`` is the CDS Hooks link's string as
    the EHR sent it (not parsed here: its shape is the app's own business).
    """

    patient: str | None
    encounter: str | None
    fhir_user: str | None
    fhir_user_type: str | None
    fhir_user_id: str | None
    fhir_context: tuple[str, ...]
    need_patient_banner: bool
    smart_style_url: str | None
    tenant: str | None
    intent: str | None
    granted: GrantedScopes
    app_context: str | None = None


def normalise_reference(value: object, *, fhir_base: str) -> str | None:
    """``Type/id`` from a relative or absolute FHIR reference; None when it is not one.

    SMART 2.x, "fhirUser": the claim is "a resource URL", usually absolute. It may sit on
    this FHIR base or on another server of the same EHR (``https://ehr/fhir/R4/Practitioner
    /1`` versus ``https://ehr/identity/Practitioner/1``); either way the last two path
    segments are the type and id, after dropping a version suffix (``/_history/2``).
    """
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    base = fhir_base.rstrip("/") + "/"
    if text.startswith(base):
        text = text[len(base) :]
    text = text.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    parts = text.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    candidate = "/".join(parts[-2:])
    return candidate if _REFERENCE.match(candidate) else None


def _resource_id(value: object, resource_type: str) -> str | None:
    """SMART sends ``patient`` and ``encounter`` as bare ids; some EHRs send
    ``Patient/123`` instead, which we accept too."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    prefix = f"{resource_type}/"
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text if _ID.match(text) else None


def _fhir_context(value: object, *, fhir_base: str) -> tuple[str, ...]:
    """SMART 2.1: a list of objects with ``reference`` (others may carry only ``canonical``
    or ``identifier``, which are not references and are left out); SMART 2.0: a list of
    reference strings."""
    if not isinstance(value, list):
        return ()
    references: list[str] = []
    for item in value:
        raw = item.get("reference") if isinstance(item, dict) else item
        reference = normalise_reference(raw, fhir_base=fhir_base)
        if reference is not None and reference not in references:
            references.append(reference)
    return tuple(references)


def _optional_string(context: Mapping[str, Any], name: str) -> str | None:
    value = context.get(name)
    return value if isinstance(value, str) and value else None


def _app_context(value: object) -> str | None:
    """CDS Hooks 2.0 "Link": ``appContext`` is a string; anything else, or a string longer
    than ``APP_CONTEXT_MAX_LENGTH``, is ignored."""
    if not isinstance(value, str) or not value or len(value) > APP_CONTEXT_MAX_LENGTH:
        return None
    return value


def _http_url(value: object) -> str | None:
    """SMART: smart_style_url is a URL the app fetches; anything but absolute http(s) is
    dropped so the app never fetches ``file:`` or relative paths on the EHR's say-so."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def launch_context(
    token: TokenResponse,
    id_token_claims: Mapping[str, Any] | None,
    *,
    fhir_base: str,
    requested: Sequence[str],
) -> LaunchContext:
    """The normalised launch context.

    ``id_token_claims`` must come from ``validate_id_token``; the user's identity is taken
    from there only, never from unverified fields of the token response. ``requested`` is
    what the authorization request asked for, used when the EHR omits ``scope``.
    """
    raw = token.raw_context
    fhir_user = None
    if id_token_claims is not None:
        fhir_user = normalise_reference(id_token_claims.get("fhirUser"), fhir_base=fhir_base)
    user_type, _, user_id = fhir_user.partition("/") if fhir_user else (None, None, None)
    banner = raw.get("need_patient_banner")
    return LaunchContext(
        patient=_resource_id(raw.get("patient"), "Patient"),
        encounter=_resource_id(raw.get("encounter"), "Encounter"),
        fhir_user=fhir_user,
        fhir_user_type=user_type,
        fhir_user_id=user_id,
        fhir_context=_fhir_context(raw.get("fhirContext"), fhir_base=fhir_base),
        need_patient_banner=banner is not False,
        smart_style_url=_http_url(raw.get("smart_style_url")),
        tenant=_optional_string(raw, "tenant"),
        intent=_optional_string(raw, "intent"),
        granted=parse_granted(token.scope, requested),
        app_context=_app_context(raw.get("appContext")),
    )
