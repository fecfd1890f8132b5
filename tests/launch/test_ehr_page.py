"""What the launch callback renders for the in-EHR page: the page skeleton the browser code and
the e2e tests rely on, the flag form built from the catalog, and a page that runs under the
frame's strict CSP."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from app.flags.catalog import REASON_LABELS, Driver, ReporterRole
from frontend import STATIC_DIR
from tests.sim_ehr import ehr_launch_id


def ehr_page_files(pattern: str = "*") -> list[Path]:
    """The in-EHR page's own folder and the shared modules it imports."""
    return [file for folder in ("ehr", "shared") for file in (STATIC_DIR / folder).glob(pattern)]


async def launched_page(client, ehr_http, sim, **context: object) -> httpx.Response:
    launch = await ehr_launch_id(ehr_http, sim, **context)
    started = await client.get("/launch", params={"iss": sim.fhir_base, "launch": launch})
    authorized = await ehr_http.get(started.headers["location"])
    callback = urlsplit(authorized.headers["location"])
    page: httpx.Response = await client.get(f"{callback.path}?{callback.query}")
    assert page.status_code == 200, page.text
    return page


class Tags(HTMLParser):
    """Every start tag with its attributes, including those inside <template>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


async def test_page_runs_under_the_frames_csp_without_inline_code(client, ehr, ehr_http):
    page = await launched_page(client, ehr_http, ehr.sim)

    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    tags = tags_of(page.text)
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/static/ehr/app.js"}]
    assert not [tag for tag, _ in tags if tag == "style"]
    assert not [tag for tag, attrs in tags if "style" in attrs]
    assert not [tag for tag, attrs in tags if any(name.startswith("on") for name in attrs)]


async def test_page_starts_loading_with_the_session_handle_and_every_state_view(
    client, ehr, ehr_http
):
    page = await launched_page(client, ehr_http, ehr.sim)

    tags = tags_of(page.text)
    main = [attrs for tag, attrs in tags if tag == "main"]
    assert main == [{"id": "app", "data-state": "loading", "aria-busy": "true"}]
    handle = next(
        a["content"] for t, a in tags if t == "meta" and a.get("name") == "valueloop-session"
    )
    assert len(handle or "") >= 32
    views = {attrs["data-view"] for _, attrs in tags if "data-view" in attrs}
    assert views == {"loading", "ready", "empty", "ehr-error", "expired"}
    assert re.search(r'<button type="button" data-action="retry">Try again</button>', page.text)
    assert re.search(r"Open ValueLoop again from the EHR", page.text)
    assert '<ul class="orders" aria-label="Orders in this encounter">' in page.text
    assert 'data-testid="unread-badge" hidden>0</span>' in page.text


async def test_flag_form_offers_every_catalog_reason_and_role(client, ehr, ehr_http):
    page = await launched_page(client, ehr_http, ehr.sim)

    tags = tags_of(page.text)
    reasons = [a["value"] for t, a in tags if t == "input" and a.get("name") == "reason"]
    assert reasons == [reason.value for reason in REASON_LABELS]
    for label in REASON_LABELS.values():
        assert f"<span>{label}</span>" in page.text
    options = [(a["value"], "selected" in a) for t, a in tags if t == "option"]
    roles, drivers = options[: len(ReporterRole)], options[len(ReporterRole) :]
    assert [value for value, _ in roles] == [role.value for role in ReporterRole]
    assert [value for value, selected in roles if selected] == ["physician"]
    # The suspected driver is optional ("" = not sure) and offers the whole vocabulary.
    assert [value for value, _ in drivers] == ["", *(driver.value for driver in Driver)]
    anonymity = [
        (a["value"], "checked" in a) for t, a in tags if t == "input" and a["name"] == "anonymity"
    ]
    assert anonymity == [("identified", True), ("confidential", False), ("anonymous", False)]
    textarea = next(a for t, a in tags if t == "textarea")
    assert textarea == {"name": "note", "maxlength": "1000", "rows": "2"}
    assert '<button type="submit">Submit flag</button>' in page.text


async def test_page_assets_are_served_and_stay_small(client, ehr, ehr_http):
    page = await launched_page(client, ehr_http, ehr.sim)

    total = len(page.content)
    assets = [f"/static/{file.relative_to(STATIC_DIR).as_posix()}" for file in ehr_page_files()]
    for path in ["/static/base.css", *assets]:
        asset = await client.get(path)
        assert asset.status_code == 200, path
        total += len(asset.content)
    assert total < 150_000


def test_scripts_never_touch_web_storage_or_inline_styles():
    # EHR frames may throw on storage access, and the handle must not outlive the launch.
    for script in ehr_page_files("*.js"):
        # The one exception: the EHR's style hints become CSS custom properties on the root
        # through the CSSOM (allowed by style-src 'self'; the values are checked server-side).
        text = script.read_text().replace("document.documentElement.style", "")
        for forbidden in ("localStorage", "sessionStorage", ".style.", "innerHTML"):
            assert forbidden not in text, f"{script.name} uses {forbidden}"
