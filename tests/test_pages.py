"""The landing page: plain, self-contained, never framed; and every page's own assets."""

from __future__ import annotations

import re

import pytest

from frontend import TEMPLATES_DIR
from tests.dashboard.test_pages import sign_in, sign_in_target


async def test_home_page_points_quality_teams_to_the_api_docs(client):
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in response.text
    assert "demo mode" in response.text


async def test_home_page_links_to_the_dashboard_and_keeps_the_ehr_launch_note(client):
    response = await client.get("/")

    assert re.search(
        r'<a [^>]*href="/dashboard/queue"[^>]*>Open the quality dashboard</a>', response.text
    )
    assert "Open ValueLoop from your EHR" in response.text
    signed_out = await client.get("/dashboard/queue")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/dashboard/sign-in")


@pytest.mark.parametrize(
    ("path", "media_type", "magic"),
    [
        ("/favicon.ico", "image/vnd.microsoft.icon", b"\x00\x00\x01\x00"),
        ("/favicon.svg", "image/svg+xml", b"<svg "),
    ],
)
async def test_the_icon_is_served_small_and_cached(client, path, media_type, magic):
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content.startswith(magic)
    assert len(response.content) < 2048
    assert "max-age=" in response.headers["cache-control"]
    assert "public" in response.headers["cache-control"]


@pytest.mark.parametrize("template", ["home.html", "dashboard/base.html"])
def test_pages_name_the_svg_icon(template):
    text = (TEMPLATES_DIR / template).read_text()

    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in text


async def test_home_page_cannot_be_framed_and_loads_only_its_own_assets(client):
    response = await client.get("/")

    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    stylesheet = await client.get("/static/base.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


async def test_every_script_and_stylesheet_a_template_names_is_served(client):
    named = {
        (template.relative_to(TEMPLATES_DIR).as_posix(), path)
        for template in TEMPLATES_DIR.rglob("*.html")
        for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', template.read_text())
    }
    assert named, "no template names a static file"
    for template, path in sorted(named):
        response = await client.get(path)
        assert response.status_code == 200, f"{template} names {path}"


# --- the improvement pages (issue 17) ------------------------------------------------------------

IMPROVEMENT_ID = "9f0c1b9e-3a51-4c38-9d1b-7a3c6c1c2f10"
IMPROVEMENT_PAGES = ["/dashboard/improvements", f"/dashboard/improvements/{IMPROVEMENT_ID}"]


@pytest.mark.parametrize("path", IMPROVEMENT_PAGES)
async def test_improvement_pages_send_a_signed_out_visitor_to_sign_in_and_back(client, path):
    response = await client.get(path)

    assert sign_in_target(response) == path


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        (IMPROVEMENT_PAGES[0], 'id="board"'),
        (IMPROVEMENT_PAGES[1], f'data-improvement-id="{IMPROVEMENT_ID}"'),
    ],
)
async def test_improvement_pages_open_for_a_reader_with_their_nav_link_current(
    client, tokens, path, marker
):
    cookie = await sign_in(client, tokens.lead)

    response = await client.get(path, headers=cookie)

    assert response.status_code == 200, response.text
    assert marker in response.text
    assert '<a href="/dashboard/improvements" aria-current="page">Improvements</a>' in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
