"""Which scopes to ask for, and what the EHR actually granted.

SMART App Launch 2.x, "Scopes and Launch Context". Two syntaxes live side by side:

- v1 (SMART 1.0): ``patient/ServiceRequest.read``, ``user/*.write``, ``patient/*.*``;
- v2 (SMART 2.x): ``patient/ServiceRequest.rs``, letters from ``cruds`` in that order.

A 2.x server "SHOULD" keep accepting v1, so v1 is the safe choice when the server does not
say it knows v2 (``SmartConfiguration.supports_v2_scopes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from smart.discovery import SmartConfiguration

__all__ = ["GrantedScopes", "Interaction", "Level", "parse_granted", "requested_scopes"]

Interaction = Literal["c", "r", "u", "d", "s"]
Level = Literal["patient", "user"]

_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")
_V1 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")
# "c?r?u?d?s?" with at least one letter: SMART 2.x requires the letters in this order.
_V2 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(?=[cruds])(c?r?u?d?s?)$")
_V1_INTERACTIONS: dict[str, frozenset[str]] = {
    # SMART 2.x, "Scopes for requesting FHIR resources": ".read" = ".rs", ".write" = ".cud",
    # ".*" = ".cruds".
    "read": frozenset("rs"),
    "write": frozenset("cud"),
    "*": frozenset("cruds"),
}


def requested_scopes(
    config: SmartConfiguration,
    *,
    ehr_launch: bool,
    resources: Sequence[str],
    extra: Sequence[str] = ("openid", "fhirUser"),
    level: Level = "patient",
) -> list[str]:
    """The scopes for an authorization request, in a stable order without duplicates.

    - ``launch`` for an EHR launch ("permission to obtain launch context when app is launched
      from an EHR"), ``launch/patient`` for a standalone one (the EHR asks the user for a
      patient);
    - ``extra`` as given (``openid fhirUser`` for the user's identity, ``offline_access``
      when the app wants a refresh token);
    - one read scope per resource type, ``{level}/{Type}.rs`` when the server supports v2
      scopes, else ``{level}/{Type}.read``.

    Example: ``launch openid fhirUser patient/Encounter.rs patient/ServiceRequest.rs``.
    """
    suffix = "rs" if config.supports_v2_scopes else "read"
    scopes = ["launch" if ehr_launch else "launch/patient", *extra]
    for resource_type in resources:
        if not _RESOURCE_TYPE.match(resource_type) and resource_type != "*":
            raise ValueError(f"{resource_type!r} is not a FHIR resource type")
        scopes.append(f"{level}/{resource_type}.{suffix}")
    return list(dict.fromkeys(scopes))


@dataclass(frozen=True)
class _ResourceScope:
    resource_type: str  # a FHIR type or "*"
    interactions: frozenset[str]


def _parse_resource_scope(scope: str) -> _ResourceScope | None:
    """A whole-type resource scope in either syntax; None for anything else.

    Granular v2 scopes (``patient/Observation.rs?category=laboratory``) allow only part of
    a type, so they never count as reading the type; neither do unknown scopes.
    """
    if match := _V1.match(scope):
        return _ResourceScope(match.group(2), _V1_INTERACTIONS[match.group(3)])
    if match := _V2.match(scope):
        return _ResourceScope(match.group(2), frozenset(match.group(3)))
    return None


@dataclass(frozen=True)
class GrantedScopes:
    """The scopes the EHR granted, and what they let the app do.

    >>> granted = parse_granted("launch patient/*.read openid", requested=[])
    >>> granted.allows_read("ServiceRequest"), "openid" in granted
    (True, True)
    """

    scopes: frozenset[str]

    def __contains__(self, scope: object) -> bool:
        return scope in self.scopes

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.scopes))

    def allows(self, resource_type: str, interaction: Interaction) -> bool:
        """Whether some granted patient-, user- or system-level scope covers the interaction
        on the type, in v1 (``.read``, ``.write``, ``.*``) or v2 (``.cruds`` letters)."""
        for scope in self.scopes:
            parsed = _parse_resource_scope(scope)
            if (
                parsed is not None
                and parsed.resource_type in ("*", resource_type)
                and interaction in parsed.interactions
            ):
                return True
        return False

    def allows_read(self, resource_type: str) -> bool:
        """``read`` on the type: ``.r``, ``.rs``, ``.read``, ``.*`` and the like."""
        return self.allows(resource_type, "r")

    def allows_search(self, resource_type: str) -> bool:
        """``search`` on the type: ``.s``, ``.rs``, ``.read``, ``.*`` and the like."""
        return self.allows(resource_type, "s")


def parse_granted(scope: str | None, requested: Sequence[str]) -> GrantedScopes:
    """What the token response's ``scope`` says was granted.

    RFC 6749 5.1: scope is "OPTIONAL, if identical to the scope requested by the client;
    otherwise, REQUIRED", so an absent scope means everything requested was granted. SMART
    2.x warns that the server may grant fewer scopes than requested, so a present scope is
    taken as the whole truth, even when empty.
    """
    if scope is None:
        return GrantedScopes(frozenset(requested))
    return GrantedScopes(frozenset(scope.split()))
