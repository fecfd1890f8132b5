"""The addresses ValueLoop mints for FHIR: canonical URLs of its code systems and extensions,
identifier systems, and the media types it serves.

All hang off ``settings.base_url`` (the app's public address), so a deployment's codes are
its own and resolve to where they are published (``GET /fhir/CodeSystem/{id}``).
"""

from __future__ import annotations

# FHIR R4 3.1.0.1.10 (http.html#mime-type): the JSON format's media type.
FHIR_JSON = "application/fhir+json"
# FHIR Bulk Data Access 1.0 (export): one resource per line.
FHIR_NDJSON = "application/fhir+ndjson"


def fhir_base(base_url: str) -> str:
    """Where ValueLoop's FHIR artefacts live: ``{base_url}/fhir``."""
    return base_url.rstrip("/") + "/fhir"


def code_system_url(base_url: str, code_system_id: str) -> str:
    """CodeSystem.url (R4 4.8.1, canonical): the address that also serves the resource."""
    return f"{fhir_base(base_url)}/CodeSystem/{code_system_id}"


def identifier_system(base_url: str, name: str) -> str:
    """Identifier.system (R4 2.24.0.5) for ValueLoop's own ids: ``flag`` or ``staff``."""
    return f"{fhir_base(base_url)}/sid/{name}"


def extension_url(base_url: str, name: str) -> str:
    """Extension.url (R4 2.4.0.1): what the extension means, under the app's base."""
    return f"{fhir_base(base_url)}/StructureDefinition/{name}"
