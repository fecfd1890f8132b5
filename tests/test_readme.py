"""The README's API tables list every endpoint the app serves, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app

README = Path(__file__).resolve().parent.parent / "README.md"
# A table cell's `METHOD[/METHOD...] /path[?query]`; paths in the first table are under /api/v1.
_ENDPOINT = re.compile(
    r"`((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*) (/[^`\s]*)`"
)
_OUTSIDE_API = ("/api/", "/healthz", "/readyz", "/cds-services")


def _normalised(path: str) -> str:
    """Without the query, under /api/v1, with every path parameter written `{}`."""
    path = path.split("?", 1)[0]
    if not path.startswith(_OUTSIDE_API):
        path = f"/api/v1{path}"
    return re.sub(r"\{[^}]*\}", "{}", path)


def readme_endpoints() -> set[tuple[str, str]]:
    table_rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    return {
        (method, _normalised(path))
        for line in table_rows
        for methods, path in _ENDPOINT.findall(line.split(" | ")[0])
        for method in methods.split("/")
    }


def served_endpoints(tmp_path: Path) -> set[tuple[str, str]]:
    from app.config import Mode, Settings

    app = create_app(
        Settings(mode=Mode.DEMO, database_url=f"sqlite:///{tmp_path}/x.db", data_dir=tmp_path)
    )
    return {
        (method, re.sub(r"\{[^}]*\}", "{}", route.path_format or ""))
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        and route.include_in_schema
        and (route.path_format or "").startswith(_OUTSIDE_API)
        for method in route.methods or ()
    }


def test_the_readme_lists_every_endpoint_the_app_serves(tmp_path):
    served = served_endpoints(tmp_path)

    assert sorted(served - readme_endpoints()) == []


def test_the_readme_lists_no_endpoint_the_app_does_not_serve(tmp_path):
    listed = readme_endpoints()

    assert sorted(listed - served_endpoints(tmp_path)) == []
    assert ("GET", "/api/v1/audit-events") in listed
