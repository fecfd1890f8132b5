"""Logs carry no patient data: outbound FHIR URLs (with patient ids) are never logged."""

from __future__ import annotations

import io
import logging

import httpx

from app.logging import JsonFormatter, configure_logging


async def test_outbound_request_urls_with_patient_ids_stay_out_of_the_logs():
    configure_logging("INFO")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
        async with httpx.AsyncClient(transport=transport) as http:
            await http.get("https://ehr.example/fhir/Patient/pat-secret-42")
        logging.getLogger("valueloop.test").info("still logging")
    finally:
        logging.getLogger().removeHandler(handler)

    assert "still logging" in stream.getvalue()
    assert "pat-secret-42" not in stream.getvalue()
