"""The landing page: plain, self-contained, never framed."""

from __future__ import annotations


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
