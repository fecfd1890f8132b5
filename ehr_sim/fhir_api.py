"""The simulated EHR's FHIR R4 (4.0.1) REST API: capabilities, read and search, behind SMART.

It behaves like the EHRs ValueLoop meets, including the parts clients get wrong:

- every call but ``/metadata`` needs a live bearer token, and the token's SMART scopes decide
  what it may read or search; a patient-level scope confines it to the launch patient's
  compartment (SMART App Launch 2.x, "Scopes and Launch Context");
- search ignores parameters it does not know and says so in an ``OperationOutcome`` entry with
  ``search.mode = outcome`` instead of failing (FHIR R4 search.html#errors);
- paging links point at the FHIR base, not at the resource type's path, and carry the query
  in an opaque ``_getpages`` value, as HAPI-based servers do (FHIR R4 http.html#paging);
- failures come back as ``OperationOutcome`` resources (FHIR R4 http.html#errors).

Every response is ``application/fhir+json``. Search order is the store's insertion order, so
paging is stable and walks every match exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ehr_sim.grants import AccessGrant
from ehr_sim.scopes import Interaction, permits
from ehr_sim.state import SimState
from ehr_sim.store import Resource

__all__ = [
    "FHIR_JSON",
    "FHIR_VERSION",
    "MAX_COUNT",
    "SEARCH_PARAMS",
    "Access",
    "FhirError",
    "parse_search",
    "patient_access",
    "readable_resource",
    "router",
    "run_search",
]

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
MAX_COUNT = 1000

_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)
# meta.lastUpdated for resources that carry neither it nor any date of their own.
_DEFAULT_LAST_UPDATED = "2024-01-01T00:00:00Z"


# --- Errors: FHIR R4 http.html#errors ("the server SHOULD return an OperationOutcome") ---


def operation_outcome(severity: str, code: str, diagnostics: str) -> Resource:
    """One-issue OperationOutcome; ``code`` is from http://hl7.org/fhir/issue-type."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


class FhirError(Exception):
    """A failed interaction, answered as an OperationOutcome with this status.

    FhirError
    ├── NotFound      404: unknown resource type or id (http.html#read)
    ├── BadRequest    400: a search the server cannot run, e.g. a bad date (search.html#errors)
    ├── Unauthorized  401: no, unknown or expired bearer token (RFC 6750 section 3.1)
    └── Forbidden     403: the token's scopes or patient context do not allow it
    """

    status = 500
    code = "exception"

    def __init__(self, diagnostics: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return fhir_response(
            operation_outcome("error", self.code, self.diagnostics),
            status_code=self.status,
            headers=self.headers,
        )


class NotFound(FhirError):
    status = 404
    code = "not-found"


class UnsupportedType(NotFound):
    code = "not-supported"


class BadRequest(FhirError):
    status = 400
    code = "invalid"


class Unauthorized(FhirError):
    status = 401
    code = "login"


class Forbidden(FhirError):
    status = 403
    code = "forbidden"


def fhir_response(
    body: Resource, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """JSON with the FHIR media type (FHIR R4 http.html#mime-type)."""
    return JSONResponse(body, status_code=status_code, headers=headers, media_type=FHIR_JSON)


class _FhirRoute(APIRoute):
    """Turns a FhirError raised anywhere in a route (dependencies too) into its outcome."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except FhirError as error:
                return error.response()

        return route


router = APIRouter(prefix="/fhir", route_class=_FhirRoute, tags=["FHIR R4"])


# --- Search parameters: FHIR R4 search.html#ptypes, the names from each resource's page ---

ParamType = Literal["token", "reference", "date", "string"]


@dataclass(frozen=True)
class SearchParam:
    """A search parameter: its type and the element paths it looks at (lists flatten)."""

    type: ParamType
    paths: tuple[str, ...]
    target: str | None = None  # reference: the resource type a bare id means


def _token(*paths: str) -> SearchParam:
    return SearchParam("token", paths)


def _ref(*paths: str, target: str | None = None) -> SearchParam:
    return SearchParam("reference", paths, target)


def _date(*paths: str) -> SearchParam:
    return SearchParam("date", paths)


def _string(*paths: str) -> SearchParam:
    return SearchParam("string", paths)


# search.html#all: parameters every resource type has.
_COMMON = {"_id": _token("id"), "_lastUpdated": _date("meta.lastUpdated")}
_PATIENT = _ref("subject", target="Patient")
_SUBJECT = _ref("subject")
_ENCOUNTER = _ref("encounter", target="Encounter")
_IDENTIFIER = _token("identifier")

SEARCH_PARAMS: dict[str, dict[str, SearchParam]] = {
    "Patient": {
        "identifier": _IDENTIFIER,
        "name": _string("name"),
        "family": _string("name.family"),
        "given": _string("name.given"),
        "gender": _token("gender"),
        "birthdate": _date("birthDate"),
        "general-practitioner": _ref("generalPractitioner"),
        "organization": _ref("managingOrganization", target="Organization"),
    },
    "Encounter": {
        "patient": _PATIENT,
        "subject": _SUBJECT,
        "identifier": _IDENTIFIER,
        "status": _token("status"),
        "class": _token("class"),
        "type": _token("type"),
        "date": _date("period"),
        "participant": _ref("participant.individual"),
        "location": _ref("location.location", target="Location"),
        "service-provider": _ref("serviceProvider", target="Organization"),
    },
    "ServiceRequest": {
        "patient": _PATIENT,
        "subject": _SUBJECT,
        "encounter": _ENCOUNTER,
        "identifier": _IDENTIFIER,
        "status": _token("status"),
        "intent": _token("intent"),
        "priority": _token("priority"),
        "category": _token("category"),
        "code": _token("code"),
        "authored": _date("authoredOn"),
        "occurrence": _date("occurrenceDateTime", "occurrencePeriod"),
        "requester": _ref("requester"),
        "performer": _ref("performer"),
    },
    "MedicationRequest": {
        "patient": _PATIENT,
        "subject": _SUBJECT,
        "encounter": _ENCOUNTER,
        "identifier": _IDENTIFIER,
        "status": _token("status"),
        "intent": _token("intent"),
        "priority": _token("priority"),
        "category": _token("category"),
        # R4: MedicationRequest.medication.as(CodeableConcept); a medicationReference does not
        # match `code`, only `medication`.
        "code": _token("medicationCodeableConcept"),
        "medication": _ref("medicationReference", target="Medication"),
        "authoredon": _date("authoredOn"),
        "requester": _ref("requester"),
    },
    "Medication": {
        "code": _token("code"),
        "status": _token("status"),
    },
    "Condition": {
        "patient": _PATIENT,
        "subject": _SUBJECT,
        "encounter": _ENCOUNTER,
        "identifier": _IDENTIFIER,
        "clinical-status": _token("clinicalStatus"),
        "verification-status": _token("verificationStatus"),
        "category": _token("category"),
        "code": _token("code"),
        "onset-date": _date("onsetDateTime", "onsetPeriod"),
        "recorded-date": _date("recordedDate"),
    },
    "Observation": {
        "patient": _PATIENT,
        "subject": _SUBJECT,
        "encounter": _ENCOUNTER,
        "identifier": _IDENTIFIER,
        "status": _token("status"),
        "category": _token("category"),
        "code": _token("code"),
        "date": _date("effectiveDateTime", "effectivePeriod", "effectiveInstant"),
    },
    "Procedure": {
        "patient": _PATIENT,
        "subject": _SUBJECT,
        "encounter": _ENCOUNTER,
        "identifier": _IDENTIFIER,
        "status": _token("status"),
        "category": _token("category"),
        "code": _token("code"),
        "date": _date("performedDateTime", "performedPeriod"),
    },
    "Practitioner": {
        "identifier": _IDENTIFIER,
        "name": _string("name"),
        "family": _string("name.family"),
        "given": _string("name.given"),
    },
    "PractitionerRole": {
        "identifier": _IDENTIFIER,
        "practitioner": _ref("practitioner", target="Practitioner"),
        "organization": _ref("organization", target="Organization"),
        "location": _ref("location", target="Location"),
        "role": _token("code"),
        "specialty": _token("specialty"),
    },
    "Organization": {
        "identifier": _IDENTIFIER,
        "name": _string("name", "alias"),
        "type": _token("type"),
    },
    "Location": {
        "identifier": _IDENTIFIER,
        "name": _string("name", "alias"),
        "status": _token("status"),
        "type": _token("type"),
        "organization": _ref("managingOrganization", target="Organization"),
    },
    "Coverage": {
        "patient": _ref("beneficiary", target="Patient"),
        "beneficiary": _ref("beneficiary"),
        "subscriber": _ref("subscriber"),
        "identifier": _IDENTIFIER,
        "status": _token("status"),
        "type": _token("type"),
        "payor": _ref("payor"),
    },
}

# The Patient compartment (FHIR R4 compartmentdefinition-patient.html): which references make
# a resource the patient's. Types missing here (Practitioner, Organization, ...) are not in it,
# so a patient-level scope on them reads them all.
_COMPARTMENT: dict[str, tuple[str, ...]] = {
    "Encounter": ("subject",),
    "ServiceRequest": ("subject",),
    "MedicationRequest": ("subject",),
    "Condition": ("subject",),
    "Observation": ("subject",),
    "Procedure": ("subject",),
    "Coverage": ("beneficiary", "subscriber", "policyHolder", "payor"),
}
# Search parameters that name the patient a search is about; a patient-level token naming
# anyone else with them is refused rather than silently emptied.
_PATIENT_PARAMS = frozenset({"patient", "subject", "beneficiary"})

# Result parameters this server acts on (search.html#return); `_format` and `_pretty` are
# allowed on every interaction (http.html#parameters) and change nothing here.
_RESULT_PARAMS = frozenset({"_summary", "_total", "_format", "_pretty"})
_PAGING_PARAMS = frozenset({"_getpages", "_getpagesoffset", "_bundletype", "_count"})
_MODIFIERS: dict[ParamType, frozenset[str]] = {
    "token": frozenset({"missing", "not", "text"}),
    "reference": frozenset({"missing"}),  # plus a resource type, e.g. subject:Patient
    "date": frozenset({"missing"}),
    "string": frozenset({"missing", "exact", "contains"}),
}
_DATE_PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"})


# --- Authorization: SMART App Launch 2.x, "Scopes and Launch Context" ---


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


StateDep = Annotated[SimState, Depends(_state)]


def bearer_grant(request: Request, state: StateDep) -> AccessGrant:
    """The live grant behind the request's bearer token (RFC 6750 section 2.1).

    RFC 6750 section 3.1: no credentials gets a bare ``Bearer`` challenge; an unknown or
    expired token gets ``error="invalid_token"``. Both are 401, so a client refreshes or
    relaunches instead of retrying.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "This FHIR server needs a bearer access token.",
            headers={"WWW-Authenticate": 'Bearer realm="fhir"'},
        )
    grant = state.grants.access(token)
    if grant is None:
        expired = state.grants.grant_for_access_token(token) is not None
        reason = "expired" if expired else "is not one this server issued"
        raise Unauthorized(
            f"The access token {reason}.",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="fhir", error="invalid_token", '
                    f'error_description="The access token {reason}"'
                )
            },
        )
    return grant


GrantDep = Annotated[AccessGrant, Depends(bearer_grant)]


@dataclass(frozen=True)
class Access:
    """What a token may do with one resource type: ``patient`` set means "only this patient's
    compartment" (a patient-level scope on a compartment type)."""

    resource_type: str
    patient: str | None


def _access(grant: AccessGrant, resource_type: str, interaction: Interaction) -> Access:
    """Checks the token's scopes for one interaction on one type.

    SMART App Launch 2.x: ``r`` covers read, ``s`` covers search; v1 ``.read`` covers both
    (``ehr_sim.scopes``). user- and system-level scopes reach every patient; patient-level
    ones only the launch patient's compartment.
    """
    if resource_type not in SEARCH_PARAMS:
        raise UnsupportedType(f"This server has no resource type '{resource_type}'.")
    scope = permits(list(grant.scopes), resource_type, interaction)
    if scope is None:
        wanted = "read" if interaction == "r" else "search"
        raise Forbidden(
            f"The access token's scopes do not allow {wanted} on {resource_type}.",
            headers={"WWW-Authenticate": 'Bearer realm="fhir", error="insufficient_scope"'},
        )
    if scope.context != "patient" or (
        resource_type != "Patient" and resource_type not in _COMPARTMENT
    ):
        return Access(resource_type, None)
    if not grant.patient:
        raise Forbidden(f"'{scope.text}' needs a launch patient, and this token has none.")
    return Access(resource_type, _reference_parts(grant.patient, "Patient")[1])


def patient_access(resource_type: str, patient: str) -> Access:
    """What a patient-level read scope allows on ``resource_type``, as ``_access`` grants it:
    that patient's compartment, or every resource of a type outside the compartment. The
    EHR's own reads for a patient (CDS Hooks prefetch) use it, so they see what the token
    the service gets would see."""
    if resource_type not in SEARCH_PARAMS:
        raise UnsupportedType(f"This server has no resource type '{resource_type}'.")
    confined = resource_type == "Patient" or resource_type in _COMPARTMENT
    return Access(resource_type, patient if confined else None)


def read_access(resource_type: str, grant: GrantDep) -> Access:
    return _access(grant, resource_type, "r")


def search_access(resource_type: str, grant: GrantDep) -> Access:
    return _access(grant, resource_type, "s")


ReadAccess = Annotated[Access, Depends(read_access)]
SearchAccess = Annotated[Access, Depends(search_access)]


def _in_compartment(resource: Resource, resource_type: str, patient: str) -> bool:
    if resource_type == "Patient":
        return resource.get("id") == patient
    return any(
        _reference_parts(element["reference"], None) in {("Patient", patient), (None, patient)}
        for path in _COMPARTMENT.get(resource_type, ())
        for element in _elements(resource, path)
        if isinstance(element, dict) and isinstance(element.get("reference"), str)
    )


# --- Element access and the four parameter types ---


def _elements(resource: Resource, path: str) -> list[Any]:
    """The values at a dotted path; lists on the way are flattened (like FHIRPath)."""
    current: list[Any] = [resource]
    for part in path.split("."):
        found: list[Any] = []
        for item in current:
            if isinstance(item, dict) and part in item:
                value = item[part]
                found.extend(value if isinstance(value, list) else [value])
        current = found
    return current


def _reference_parts(reference: str, default_type: str | None) -> tuple[str | None, str]:
    """``Patient/x``, an absolute ``.../Patient/x`` or a bare ``x`` as (type, id)."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return default_type, parts[-1]


def _normalize(text: str) -> str:
    """search.html#string: matching ignores case and accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_STRING_PARTS = ("text", "family", "given", "prefix", "suffix", "line", "city", "state")


def _strings(element: Any) -> Iterator[str]:
    """The text a string parameter searches: the element, or a HumanName/Address's parts."""
    if isinstance(element, str):
        yield element
    elif isinstance(element, dict):
        for key in _STRING_PARTS:
            value = element.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield item


def _codings(element: Any) -> Iterator[tuple[str | None, str]]:
    """(system, code) pairs of a code, Coding, CodeableConcept, Identifier or boolean."""
    if isinstance(element, bool):
        yield None, "true" if element else "false"
    elif isinstance(element, str):
        yield None, element
    elif isinstance(element, dict):
        if isinstance(element.get("coding"), list):
            for coding in element["coding"]:
                yield from _codings(coding)
        elif isinstance(element.get("code"), str):
            yield element.get("system"), element["code"]
        elif isinstance(element.get("value"), str):
            yield element.get("system"), element["value"]


def _token_matches(elements: list[Any], value: str) -> bool:
    """search.html#token: ``code``, ``system|code``, ``|code`` (no system), ``system|``."""
    if "|" in value:
        system, code = value.split("|", 1)
        want_system: str | None = system
    else:
        want_system, code = None, value
    for element in elements:
        for have_system, have_code in _codings(element):
            if want_system is not None and (have_system or "") != want_system:
                continue
            if not code or have_code == code:
                return True
    return False


def _token_text_matches(elements: list[Any], value: str) -> bool:
    """search.html#modifiers ``:text``: the concept's text or a coding's display."""
    wanted = _normalize(value)
    for element in elements:
        if not isinstance(element, dict):
            continue
        texts = [element.get("text"), element.get("display")]
        texts += [coding.get("display") for coding in element.get("coding", [])]
        if any(isinstance(t, str) and _normalize(t).startswith(wanted) for t in texts):
            return True
    return False


def _reference_matches(elements: list[Any], value: str, default_type: str | None) -> bool:
    """search.html#reference: ``Type/id``, a bare id, or an absolute URL on this server."""
    want_type, want_id = _reference_parts(value, default_type)
    for element in elements:
        if not isinstance(element, dict) or not isinstance(element.get("reference"), str):
            continue
        have_type, have_id = _reference_parts(element["reference"], None)
        if have_id == want_id and (None in (want_type, have_type) or have_type == want_type):
            return True
    return False


def _string_matches(elements: list[Any], value: str, modifier: str | None) -> bool:
    """search.html#string: starts-with by default, ``:exact`` and ``:contains``."""
    wanted = _normalize(value)
    for element in elements:
        for text in _strings(element):
            if modifier == "exact" and text == value:
                return True
            if modifier == "contains" and wanted in _normalize(text):
                return True
            if modifier is None and _normalize(text).startswith(wanted):
                return True
    return False


_DATE_PATTERN = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)

DateRange = tuple[datetime, datetime]  # [low, high): a date stands for all of its precision


def _date_range(text: str) -> DateRange | None:
    """A FHIR date, dateTime or instant as the range its precision implies (search.html#date).

    Values without a zone are read as UTC, which the spec leaves to the server.
    """
    match = _DATE_PATTERN.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = UTC
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        if month is None:
            return datetime(int(year), 1, 1, tzinfo=tz), datetime(int(year) + 1, 1, 1, tzinfo=tz)
        if day is None:
            low = datetime(int(year), int(month), 1, tzinfo=tz)
            return low, (low + timedelta(days=32)).replace(day=1)
        low = datetime(int(year), int(month), int(day), tzinfo=tz)
        if hour is None:
            return low, low + timedelta(days=1)
        low = low.replace(hour=int(hour), minute=int(minute))
        if second is None:
            return low, low + timedelta(minutes=1)
        low = low.replace(second=int(second))
        if fraction is None:
            return low, low + timedelta(seconds=1)
        digits = fraction[:6]
        low = low.replace(microsecond=int(digits.ljust(6, "0")))
        return low, low + timedelta(microseconds=10 ** (6 - len(digits)))
    except (ValueError, OverflowError):
        return None


def _element_range(element: Any) -> DateRange | None:
    if isinstance(element, str):
        return _date_range(element)
    if isinstance(element, dict) and ("start" in element or "end" in element):
        start = _date_range(element["start"]) if isinstance(element.get("start"), str) else None
        end = _date_range(element["end"]) if isinstance(element.get("end"), str) else None
        return (start[0] if start else _MIN), (end[1] if end else _MAX)
    return None


def _parse_date_value(name: str, value: str) -> tuple[str, DateRange]:
    prefix, rest = (value[:2], value[2:]) if value[:2] in _DATE_PREFIXES else ("eq", value)
    parsed = _date_range(rest)
    if parsed is None:
        raise BadRequest(
            f"Search parameter '{name}': '{value}' is not a FHIR date with an optional prefix "
            "(eq, ne, gt, lt, ge, le, sa, eb; see FHIR R4 search.html#date)."
        )
    return prefix, parsed


def _date_matches(elements: list[Any], prefix: str, wanted: DateRange) -> bool:
    """search.html#prefix, comparing the ranges both values stand for."""
    low, high = wanted
    for element in elements:
        have = _element_range(element)
        if have is None:
            continue
        have_low, have_high = have
        within = low <= have_low and have_high <= high
        matched = {
            "eq": within,
            "ne": not within,
            "gt": have_high > high,
            "lt": have_low < low,
            "ge": have_high > high or within,
            "le": have_low < low or within,
            "sa": have_low >= high,
            "eb": have_high <= low,
        }[prefix]
        if matched:
            return True
    return False


# --- Parsing a search ---


@dataclass(frozen=True)
class Criterion:
    """One search parameter occurrence: its values are alternatives (OR); occurrences AND."""

    name: str
    param: SearchParam
    modifier: str | None
    values: tuple[str, ...]
    dates: tuple[tuple[str, DateRange], ...] = ()


@dataclass(frozen=True)
class Search:
    resource_type: str
    query: tuple[tuple[str, str], ...]  # the filter part, as asked, for links
    criteria: tuple[Criterion, ...]
    ignored: tuple[str, ...]
    count: int
    offset: int
    summary_count: bool


def _split_values(value: str) -> tuple[str, ...]:
    """search.html#combining: a comma means OR; ``\\,`` is a literal comma."""
    return tuple(part.replace("\\,", ",") for part in re.split(r"(?<!\\),", value) if part.strip())


def _int_param(name: str, value: str, low: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if number < low:
        raise BadRequest(f"'{name}' must be a whole number of at least {low}, not '{value}'.")
    return number


def parse_search(
    resource_type: str,
    items: Iterable[tuple[str, str]],
    *,
    page_size: int,
    strict: bool = False,
) -> Search:
    """Understands what it can of a search; the rest is ignored and reported (search.html#errors).

    With ``Prefer: handling=strict`` (``strict``) an unknown parameter is a 400 instead.
    A known parameter with a modifier this server does not implement is always a 400: ignoring
    it would answer a different question than the one asked.
    """
    params = {**_COMMON, **SEARCH_PARAMS[resource_type]}
    query: list[tuple[str, str]] = []
    criteria: list[Criterion] = []
    ignored: list[str] = []
    count, offset, summary_count = page_size, 0, False
    for name, value in items:
        if name == "_count":
            count = min(_int_param(name, value, 0), MAX_COUNT)
            continue
        if name == "_getpagesoffset":
            offset = _int_param(name, value, 0)
            continue
        if name in _PAGING_PARAMS:
            continue
        query.append((name, value))
        if name == "_summary" and value == "count":
            summary_count = True
            continue
        if name in _RESULT_PARAMS - {"_summary"}:
            continue
        base, _, modifier = name.partition(":")
        # Other _summary modes are not implemented, so they are reported like unknown names.
        param = None if name == "_summary" else params.get(base)
        if param is None:
            if strict:
                raise BadRequest(f"This server does not support the search parameter '{name}'.")
            if name not in ignored:
                ignored.append(name)
            continue
        if modifier and modifier not in _MODIFIERS[param.type]:
            is_type_modifier = param.type == "reference" and modifier in SEARCH_PARAMS
            if not is_type_modifier:
                raise BadRequest(f"This server does not support the modifier '{name}'.")
        values = _split_values(value)
        if not values:
            continue  # search.html: a parameter with an empty value is ignored
        if modifier == "missing" and any(v not in ("true", "false") for v in values):
            raise BadRequest(f"'{name}' takes true or false.")
        dates: tuple[tuple[str, DateRange], ...] = ()
        if param.type == "date" and modifier != "missing":
            dates = tuple(_parse_date_value(name, v) for v in values)
        criteria.append(Criterion(name, param, modifier or None, values, dates))
    return Search(
        resource_type=resource_type,
        query=tuple(query),
        criteria=tuple(criteria),
        ignored=tuple(ignored),
        count=count,
        offset=offset,
        summary_count=summary_count,
    )


def _matches(resource: Resource, criterion: Criterion) -> bool:
    param, modifier = criterion.param, criterion.modifier
    if param.paths == ("meta.lastUpdated",):
        elements: list[Any] = [last_updated(resource)]  # derived when the store has none
    else:
        elements = [e for path in param.paths for e in _elements(resource, path)]
    if modifier == "missing":
        return any((not elements) == (value == "true") for value in criterion.values)
    if param.type == "token":
        if modifier == "not":
            return not any(_token_matches(elements, value) for value in criterion.values)
        if modifier == "text":
            return any(_token_text_matches(elements, value) for value in criterion.values)
        return any(_token_matches(elements, value) for value in criterion.values)
    if param.type == "reference":
        default_type = modifier or param.target
        return any(_reference_matches(elements, value, default_type) for value in criterion.values)
    if param.type == "date":
        return any(_date_matches(elements, prefix, wanted) for prefix, wanted in criterion.dates)
    return any(_string_matches(elements, value, modifier) for value in criterion.values)


def _check_patient_params(search: Search, patient: str) -> None:
    """A patient-level token that names another patient is refused, not quietly emptied.

    SMART App Launch 2.x: ``patient/`` scopes reach only the launch patient's compartment.
    Answering 403 (not an empty page) lets a client see that it asked for the wrong patient.
    """
    for criterion in search.criteria:
        name = criterion.name.partition(":")[0]
        if name not in _PATIENT_PARAMS or criterion.modifier == "missing":
            continue
        for value in criterion.values:
            kind, resource_id = _reference_parts(value, criterion.param.target)
            if kind in (None, "Patient") and resource_id != patient:
                raise Forbidden(
                    f"This token is limited to Patient/{patient}; it cannot search {value}."
                )


# --- meta.lastUpdated ---

# Date elements that say when a resource last changed, most telling first.
_CHANGE_DATES = (
    "meta.lastUpdated",
    "recordedDate",
    "authoredOn",
    "issued",
    "effectiveDateTime",
    "performedDateTime",
    "period.end",
    "period.start",
    "onsetDateTime",
)


def last_updated(resource: Resource) -> str:
    """The resource's ``meta.lastUpdated``; one derived from its own dates when it has none.

    Every resource needs one for ``_lastUpdated`` (search.html#lastUpdated) and Last-Modified.
    Deriving it keeps it deterministic for a seed instead of "when this process started".
    """
    for path in _CHANGE_DATES:
        for value in _elements(resource, path):
            parsed = _date_range(value) if isinstance(value, str) else None
            if parsed is not None:
                if path == "meta.lastUpdated":
                    return str(value)
                return parsed[0].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _DEFAULT_LAST_UPDATED


def _with_meta(resource: Resource) -> Resource:
    meta = resource.get("meta")
    if isinstance(meta, dict) and "lastUpdated" in meta:
        return resource
    # resourceType, id, meta first, as FHIR JSON examples order them.
    head = {"resourceType": resource["resourceType"], "id": resource["id"]}
    rest = {key: value for key, value in resource.items() if key not in ("meta", *head)}
    return {**head, "meta": {**(meta or {}), "lastUpdated": last_updated(resource)}, **rest}


# --- Search results: FHIR R4 bundle.html#searchset and http.html#paging ---


def _encode_pages(resource_type: str, query: tuple[tuple[str, str], ...]) -> str:
    """The ``_getpages`` value: the original search, so a page link needs no server state."""
    raw = json.dumps([resource_type, [list(item) for item in query]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_pages(value: str) -> tuple[str, list[tuple[str, str]]]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        resource_type, query = json.loads(raw)
        items = [(str(name), str(item)) for name, item in query]
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadRequest("'_getpages' is not a paging value this server issued.") from exc
    if not isinstance(resource_type, str):
        raise BadRequest("'_getpages' is not a paging value this server issued.")
    return resource_type, items


def _page_url(fhir_base: str, search: Search, offset: int) -> str:
    # HAPI-style: on the base, not the type's path; a client must accept any link on the
    # issuer's FHIR base (and only there).
    query = {
        "_getpages": _encode_pages(search.resource_type, search.query),
        "_getpagesoffset": str(offset),
        "_count": str(search.count),
        "_bundletype": "searchset",
    }
    return f"{fhir_base}?{urlencode(query)}"


def _links(fhir_base: str, search: Search, total: int, self_url: str) -> list[dict[str, str]]:
    links = [{"relation": "self", "url": self_url}]
    if search.count == 0 or search.summary_count:
        return links
    last = max((total - 1) // search.count * search.count, 0)
    links.append({"relation": "first", "url": _page_url(fhir_base, search, 0)})
    if search.offset > 0:
        previous = max(min(search.offset, total) - search.count, 0)
        links.append({"relation": "previous", "url": _page_url(fhir_base, search, previous)})
    if search.offset + search.count < total:
        next_offset = search.offset + search.count
        links.append({"relation": "next", "url": _page_url(fhir_base, search, next_offset)})
    links.append({"relation": "last", "url": _page_url(fhir_base, search, last)})
    return links


def run_search(state: SimState, access: Access, search: Search, self_url: str) -> Resource:
    """A searchset Bundle: ``total``, paging links, matches, then any outcome entry."""
    if access.patient is not None:
        _check_patient_params(search, access.patient)
    matches = [
        resource
        for resource in state.store.all(search.resource_type)
        if (
            access.patient is None
            or _in_compartment(resource, search.resource_type, access.patient)
        )
        and all(_matches(resource, criterion) for criterion in search.criteria)
    ]
    fhir_base = state.settings.fhir_base
    page = [] if search.summary_count else matches[search.offset : search.offset + search.count]
    entries: list[Resource] = [
        {
            "fullUrl": f"{fhir_base}/{search.resource_type}/{resource['id']}",
            "resource": _with_meta(resource),
            "search": {"mode": "match"},
        }
        for resource in page
    ]
    if search.ignored:
        # search.html#errors: the server SHOULD tell the client what it ignored; real EHRs
        # do it with an OperationOutcome entry in the searchset.
        names = ", ".join(search.ignored)
        outcome = operation_outcome(
            "warning", "not-supported", f"Search parameters ignored by this server: {names}."
        )
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": _now_instant()},
        "type": "searchset",
        "total": len(matches),
        "link": _links(fhir_base, search, len(matches), self_url),
        "entry": entries,
    }


def _now_instant() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _strict(request: Request) -> bool:
    """search.html#errors: ``Prefer: handling=strict`` turns ignored parameters into errors."""
    return "handling=strict" in request.headers.get("prefer", "").replace(" ", "")


async def _form_items(request: Request) -> list[tuple[str, str]]:
    """POST ``_search`` parameters: the form body plus the URL's query (http.html#search)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if body and content_type != "application/x-www-form-urlencoded":
        raise BadRequest("POST _search takes an application/x-www-form-urlencoded body.")
    try:
        form = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise BadRequest("The form body is not UTF-8.") from exc
    return [*request.query_params.multi_items(), *form]


# --- Capabilities: FHIR R4 http.html#capabilities, SMART App Launch 2.x conformance ---


def capability_statement(state: SimState) -> Resource:
    """What this server supports, and where to get tokens for it.

    SMART App Launch 2.x "Conformance": ``.well-known/smart-configuration`` is the primary
    discovery document; the ``oauth-uris`` extension on ``rest.security`` is the older one
    that EHRs still publish and some clients still read.
    """
    base_url = state.settings.base_url.rstrip("/")
    resources = []
    for resource_type, params in SEARCH_PARAMS.items():
        search_params = [
            {"name": name, "type": param.type} for name, param in {**_COMMON, **params}.items()
        ]
        resources.append(
            {
                "type": resource_type,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": search_params,
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _now_instant()[:10],
        "publisher": "ValueLoop (simulated EHR for development and tests)",
        "kind": "instance",
        "software": {"name": "ValueLoop simulated EHR"},
        "implementation": {
            "description": "Simulated EHR; synthetic data; not a product.",
            "url": state.settings.fhir_base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json", FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": (
                                "http://fhir-registry.smarthealthit.org"
                                "/StructureDefinition/oauth-uris"
                            ),
                            "extension": [
                                {"url": "authorize", "valueUri": f"{base_url}/auth/authorize"},
                                {"url": "token", "valueUri": f"{base_url}/auth/token"},
                            ],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": (
                                        "http://terminology.hl7.org/CodeSystem"
                                        "/restful-security-service"
                                    ),
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "OAuth2 using SMART-on-FHIR profile",
                        }
                    ],
                },
                "resource": resources,
            }
        ],
    }


# --- Routes (order matters: /metadata before /{resource_type}) ---


@router.get("/metadata")
async def metadata(state: StateDep) -> Response:
    """The CapabilityStatement; needs no token (http.html#capabilities)."""
    return fhir_response(capability_statement(state))


@router.get("")
async def page(request: Request, state: StateDep, grant: GrantDep) -> Response:
    """A further page of a search, from a ``next``/``previous`` link (http.html#paging)."""
    items = list(request.query_params.multi_items())
    pages = [value for name, value in items if name == "_getpages"]
    if not pages:
        raise BadRequest("This server does not support system-wide search.")
    resource_type, query = _decode_pages(pages[0])
    access = _access(grant, resource_type, "s")
    paging = [(name, value) for name, value in items if name in ("_count", "_getpagesoffset")]
    search = parse_search(resource_type, [*query, *paging], page_size=state.settings.page_size)
    # The self link names the page as asked, on the public base (http.html#paging).
    self_url = f"{state.settings.fhir_base}?{request.url.query}"
    return fhir_response(run_search(state, access, search, self_url))


@router.get("/{resource_type}")
async def search_type(request: Request, state: StateDep, access: SearchAccess) -> Response:
    """Search one resource type (http.html#search, search.html)."""
    search = parse_search(
        access.resource_type,
        request.query_params.multi_items(),
        page_size=state.settings.page_size,
        strict=_strict(request),
    )
    return fhir_response(run_search(state, access, search, _self_url(state, search)))


@router.post("/{resource_type}/_search")
async def search_type_post(request: Request, state: StateDep, access: SearchAccess) -> Response:
    """Search with the parameters in a form body (http.html#search, "POST")."""
    search = parse_search(
        access.resource_type,
        await _form_items(request),
        page_size=state.settings.page_size,
        strict=_strict(request),
    )
    return fhir_response(run_search(state, access, search, _self_url(state, search)))


def readable_resource(
    resource_type: str, resource_id: str, state: StateDep, access: ReadAccess
) -> Resource:
    """The resource a read names, if the token may see it.

    Unknown is 404 (http.html#read). Another patient's record under a patient-level scope is
    403 rather than 404: this is a test EHR, and saying why helps more than hiding it.
    """
    resource = state.store.get(resource_type, resource_id)
    if resource is None:
        raise NotFound(f"{resource_type}/{resource_id} does not exist.")
    if access.patient is not None and not _in_compartment(resource, resource_type, access.patient):
        raise Forbidden(
            f"This token is limited to Patient/{access.patient}'s records; "
            f"{resource_type}/{resource_id} is not one of them."
        )
    return resource


@router.get("/{resource_type}/{resource_id}")
async def read(resource: Annotated[Resource, Depends(readable_resource)]) -> Response:
    """Read one resource (http.html#read)."""
    body = _with_meta(resource)
    headers = {"Last-Modified": _http_date(body["meta"]["lastUpdated"])}
    if version := body["meta"].get("versionId"):
        headers["ETag"] = f'W/"{version}"'
    return fhir_response(body, headers=headers)


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unsupported(path: str) -> Response:
    """Anything else under the FHIR base: this server only reads and searches."""
    raise UnsupportedType(f"This server does not support '{path}' (read and search only).")


def _self_url(state: SimState, search: Search) -> str:
    """bundle.html#searchset: the self link says what search ran, with the page size used."""
    query = urlencode([*search.query, ("_count", str(search.count))])
    return f"{state.settings.fhir_base}/{search.resource_type}?{query}"


def _http_date(instant: str) -> str:
    parsed = _date_range(instant)
    return format_datetime(
        (parsed[0] if parsed else datetime.now(UTC)).astimezone(UTC), usegmt=True
    )
