"""The landing page: plain, self-contained, never framed; and every page's own assets."""

from __future__ import annotations

import re

from frontend import TEMPLATES_DIR


async def test_home_page_points_quality_teams_to_the_api_docs(client):
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in response.text
    assert "demo mode" in response.text


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
