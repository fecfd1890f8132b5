"""The rules' history read from an EHR: every page is one answer; a search the client stopped
paging is an incomplete one, whose absences prove nothing."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import httpx
import pytest

import lowvalue
from app.rules.history import FhirHistory, history_failure_logger
from fhir_client import FhirClient, FhirHttpError

BASE = "https://ehr.hospital.test/fhir"
DXA = {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "77080"}]}
REQUEST = lowvalue.HistoryRequest("Procedure", "p1", "date", date(2025, 1, 1), date(2026, 5, 1))


def page(n: int, *, last: bool) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Procedure",
                    "id": f"proc{n}",
                    "status": "completed",
                    "subject": {"reference": "Patient/p1"},
                    "code": {
                        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "77080"}]
                    },
                    "performedDateTime": "2025-06-01",
                }
            }
        ],
    }
    if not last:
        bundle["link"] = [{"relation": "next", "url": f"{BASE}/Procedure?page={n + 1}"}]
    return bundle


def ehr_with(pages: int) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "1"))
        return httpx.Response(200, json=page(n, last=n == pages))

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_search_read_to_its_last_page_is_a_complete_answer():
    async with ehr_with(pages=2) as http:
        found = await FhirHistory(FhirClient(http, BASE, "token", max_pages=3)).search(REQUEST)

    assert [r.id for r in found] == ["proc1", "proc2"]


async def test_a_search_with_more_pages_than_the_client_reads_is_incomplete():
    async with ehr_with(pages=5) as http:
        with pytest.raises(lowvalue.IncompleteHistory) as cut:
            await FhirHistory(FhirClient(http, BASE, "token", max_pages=2)).search(REQUEST)

    assert [r.id for r in cut.value.resources] == ["proc1", "proc2"]


def test_a_failed_search_is_logged_by_kind_and_status_never_by_its_text(caplog):
    report = history_failure_logger(logging.getLogger("test.rules"), "CDS call")
    error = FhirHttpError("Unauthorized: token sk-secret-123 for Synthetic Jane", status=401)

    with caplog.at_level(logging.WARNING, logger="test.rules"):
        report(REQUEST, error)

    assert "Procedure history search failed (FhirHttpError, HTTP 401)" in caplog.text
    assert "sk-secret" not in caplog.text
    assert "Jane" not in caplog.text
