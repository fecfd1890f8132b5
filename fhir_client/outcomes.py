"""OperationOutcome texts (FHIR R4 operationoutcome.html): what an EHR says went wrong or what
a search could not do, as sentences fit to relay (:func:`fhir_client.errors.remote_text`
bounds and cleans each one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue
from pydantic import ValidationError

from fhir_client.errors import remote_text

__all__ = ["error_outcome", "issue_text", "issue_texts"]


def issue_text(issue: OperationOutcomeIssue) -> str:
    """One issue's human-readable text: ``diagnostics``, else ``details``, else its ``code``."""
    details = issue.details
    text = issue.diagnostics
    if not text and details is not None:
        text = details.text or next((c.display for c in details.coding or [] if c.display), None)
    return remote_text(text) or issue.code or "unknown issue"


def issue_texts(outcome: OperationOutcome) -> list[str]:
    """The text of each issue of ``outcome``, in order."""
    return [issue_text(issue) for issue in outcome.issue]


def _raw_issue_texts(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Issue texts from an OperationOutcome that ``fhir.resources`` rejected.

    Error bodies are often hand-written by a gateway; a wrong ``code`` should not cost us the
    one sentence that says what happened.
    """
    issues = data.get("issue")
    texts = []
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        text = remote_text(issue.get("diagnostics")) or (
            remote_text(details.get("text")) if isinstance(details, dict) else None
        )
        if text:
            texts.append(text)
    return tuple(texts)


def error_outcome(content: bytes) -> tuple[tuple[str, ...], OperationOutcome | None]:
    """The issues and OperationOutcome in an error body, if it holds one (http.html#errors)."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return (), None
    if not isinstance(data, dict) or data.get("resourceType") != "OperationOutcome":
        return (), None
    try:
        outcome = OperationOutcome.model_validate(data)
    except ValidationError:
        return _raw_issue_texts(data), None
    return tuple(issue_texts(outcome)), outcome
