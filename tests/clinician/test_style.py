"""SMART style hints: taken from the launching EHR only, and only where they stay readable."""

from __future__ import annotations

import httpx
import pytest

from app.clinician.style import readable_accent, safe_font, style_hints
from tests.sim_ehr import full_launch


@pytest.mark.parametrize(
    ("colour", "kept"),
    [("#5b2c83", "#5b2c83"), ("#0B5CAD", "#0b5cad"), ("#ffff00", None), ("red", None), (7, None)],
)
def test_only_accents_readable_on_white_are_kept(colour, kept):
    assert readable_accent(colour) == kept


@pytest.mark.parametrize(
    ("font", "kept"),
    [
        ("Georgia, 'Times New Roman', serif", "Georgia, 'Times New Roman', serif"),
        ("x; background: url(https://evil)", None),
        ("a" * 101, None),
    ],
)
def test_font_families_with_css_syntax_are_refused(font, kept):
    assert safe_font(font) == kept


async def test_style_urls_off_the_ehrs_origin_are_never_fetched():
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"color_highlight": "#5b2c83"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
        hints = await style_hints(
            http, "https://elsewhere.example/style.json", "https://ehr.example/fhir"
        )

    assert hints is None
    assert sent == []


async def test_the_ehrs_style_hints_reach_the_page(client, ehr, ehr_http):
    handle = await full_launch(
        client, ehr_http, ehr.sim, smart_style_url=f"{ehr.sim.base_url}/smart-style.json"
    )

    body = (
        await client.get("/api/v1/clinician/context", headers={"X-ValueLoop-Session": handle})
    ).json()

    assert body["style"] == {
        "accent": "#5b2c83",
        "font_family": "Georgia, 'Times New Roman', serif",
    }
