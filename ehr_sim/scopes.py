"""SMART scopes, both syntaxes (SMART App Launch 2.x, "Scopes and Launch Context").

v1: ``patient/Observation.read``, ``user/*.write``, ``patient/*.*``.
v2: ``patient/Observation.rs``, ``user/*.cruds`` (letters in the order c, r, u, d, s).
Granular v2 scopes with a query (``patient/Observation.rs?category=laboratory``) are not
supported here: the server leaves them out of what it grants, which the spec allows (a server
may grant fewer scopes than asked for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

Interaction = Literal["c", "r", "u", "d", "s"]
Context = Literal["patient", "user", "system"]

_V1 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")
_V2 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(c?r?u?d?s?)$")
_V1_INTERACTIONS: dict[str, frozenset[Interaction]] = {
    "read": frozenset({"r", "s"}),
    "write": frozenset({"c", "u", "d"}),
    "*": frozenset({"c", "r", "u", "d", "s"}),
}

# Scopes that are not about resources; the server grants these as asked when the client may.
LAUNCH_SCOPES = frozenset(
    {
        "openid",
        "fhirUser",
        "profile",
        "email",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
    }
)


@dataclass(frozen=True)
class ResourceScope:
    context: Context
    resource_type: str  # a FHIR type, or "*"
    interactions: frozenset[Interaction]
    text: str

    def covers(self, resource_type: str, interaction: Interaction) -> bool:
        return self.resource_type in ("*", resource_type) and interaction in self.interactions


def parse_resource_scope(text: str) -> ResourceScope | None:
    """A resource scope in either syntax, or None for anything else (launch, openid, granular)."""
    if match := _V1.match(text):
        context, resource_type, access = match.groups()
        return ResourceScope(cast(Context, context), resource_type, _V1_INTERACTIONS[access], text)
    if (match := _V2.match(text)) and match.group(3):
        context, resource_type, letters = match.groups()
        interactions = frozenset(cast(Interaction, letter) for letter in letters)
        return ResourceScope(cast(Context, context), resource_type, interactions, text)
    return None


def grantable(requested: list[str], allowed: list[str] | None = None) -> list[str]:
    """What the server grants of ``requested``: known scopes, within the client's allowance."""
    granted = []
    for scope in requested:
        if scope not in LAUNCH_SCOPES and parse_resource_scope(scope) is None:
            continue
        if allowed is not None and scope not in allowed and not _within(scope, allowed):
            continue
        if scope not in granted:
            granted.append(scope)
    return granted


def _within(scope: str, allowed: list[str]) -> bool:
    wanted = parse_resource_scope(scope)
    if wanted is None:
        return False
    for text in allowed:
        grant = parse_resource_scope(text)
        if (
            grant is not None
            and grant.context == wanted.context
            and grant.resource_type in ("*", wanted.resource_type)
            and wanted.interactions <= grant.interactions
        ):
            return True
    return False


def permits(
    granted: list[str], resource_type: str, interaction: Interaction
) -> ResourceScope | None:
    """The broadest granted scope allowing ``interaction`` on ``resource_type``.

    user- and system-level scopes win over patient-level ones, because a patient-level scope
    also limits the call to the launch patient's compartment.
    """
    matches = [
        scope
        for text in granted
        if (scope := parse_resource_scope(text)) is not None
        and scope.covers(resource_type, interaction)
    ]
    matches.sort(key=lambda scope: scope.context == "patient")
    return matches[0] if matches else None
