"""Dashboard benchmark: every request each dashboard page makes, over real HTTP, on PostgreSQL
with the registry benchmark's database (a million flags by default).

    .venv/bin/python -m bench.dashboard --flags 1000000

The pages are HTML shells whose scripts call the REST API, so a page's server time is its
shell plus the API requests it makes when it opens (the browser sends those in parallel; the
report gives each request's p95 and, as a conservative page figure, their sum). The issue's
target is under 300 ms of server time per page, judged here on every request at p95.

1. Reuses (or seeds) the database of ``bench.registry`` (same options), then starts the real
   app and signs in to the dashboard as a browser does (``POST /api/v1/session``, the session
   cookie, the CSRF token on writes).
2. Measures each page's requests, one at a time with keep-alive: the triage queue (default
   view and filtered views, first and a later page), a flag's detail page, Insights (all time
   and the last 12 weeks, JSON tables and SVG charts), Admin; and bulk triage of 50 new flags
   (a write: it moves flags of the benchmark database from submitted to triaged).
3. Prints a markdown report and writes it to ``bench/results/dashboard-<timestamp>.md``.

All traffic stays on 127.0.0.1. Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.registry import (
    DEPARTMENT,
    MRI_LUMBAR,
    REPO_ROOT,
    Latency,
    _get,
    _issue_admin_token,
    _revoke_token,
    describe_dataset,
    prepare_database,
    running_app,
    server_url,
)
from bench.server import BenchError, write_report

PAGE_TARGET_MS = 300.0
BULK_SIZE = 50

Params = list[tuple[str, str]]


@dataclass(frozen=True)
class Request:
    path: str
    params: Params

    def show(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.params)
        return f"{self.path}?{query}" if query else self.path


@dataclass
class Page:
    name: str
    requests: list[Request]
    latencies: list[Latency]

    def sum_p95(self) -> float:
        return sum(latency.p(95) for latency in self.latencies)

    def worst_p95(self) -> float:
        return max(latency.p(95) for latency in self.latencies)


def _timed(client: httpx.Client, request: Request) -> float:
    elapsed_ms, _ = _get(client, request.path, request.params)
    return elapsed_ms


def sign_in(client: httpx.Client, token: str) -> str:
    """Sign in as the dashboard does; the CSRF token for writes comes back in the body."""
    response = client.post("/api/v1/session", json={"token": token})
    if response.status_code != 201:
        raise BenchError(f"sign-in answered {response.status_code}: {response.text[:300]}")
    # The cookie is Secure; httpx keeps it for http://127.0.0.1 only if we set it ourselves.
    client.cookies.set("__Host-valueloop-staff", response.cookies["__Host-valueloop-staff"])
    return str(response.json()["csrf_token"])


def _first_page_cursor(client: httpx.Client, params: Params) -> str:
    response = client.get("/api/v1/flags", params=tuple(params))
    cursor = response.json().get("next_cursor")
    if not cursor:
        raise BenchError(f"no second page for {params}")
    return str(cursor)


def pages(client: httpx.Client, newest: datetime) -> list[tuple[str, list[Request]]]:
    twelve_weeks = (newest.date() - timedelta(weeks=12)).isoformat()
    to = newest.date().isoformat()
    queue_shell = [
        Request("/dashboard/queue", []),
        Request("/api/v1/catalog", []),
        Request("/api/v1/filter-options", []),
    ]
    default_list: Params = [("sort", "new_first"), ("limit", "50")]
    later = _first_page_cursor(client, default_list)
    flag = client.get("/api/v1/flags", params=(("limit", "1"),)).json()["items"][0]["id"]
    windows: dict[str, Params] = {
        "insights, last 12 weeks (the default)": [
            ("created_from", twelve_weeks),
            ("created_to", to),
        ],
        "insights, all time": [],
    }
    insights: list[tuple[str, list[Request]]] = []
    for name, params in windows.items():
        requests = [
            Request("/dashboard/insights", []),
            Request("/api/v1/catalog", []),
            Request("/api/v1/filter-options", []),
            Request("/api/v1/stats/loop", params),
            Request("/api/v1/stats/outcomes", params),
            Request("/api/v1/stats/weekly", params),
            Request("/api/v1/stats/weekly", [*params, ("format", "svg")]),
            Request("/api/v1/stats/reply-times", params),
            Request("/api/v1/stats/reply-times", [*params, ("format", "svg")]),
            Request("/api/v1/stats/close-times", params),
            Request("/api/v1/stats/close-times", [*params, ("format", "svg")]),
            Request("/api/v1/stats/cycle-time", params),
            Request("/api/v1/stats/cycle-time", [*params, ("format", "svg")]),
        ]
        for by in ("service", "reason", "department"):
            requests += [
                Request("/api/v1/stats/breakdown", [*params, ("by", by)]),
                Request("/api/v1/stats/breakdown", [*params, ("by", by), ("format", "svg")]),
            ]
        insights.append((name, requests))
    return [
        ("queue, default view (new first)", [*queue_shell, Request("/api/v1/flags", default_list)]),
        ("queue, a later page", [Request("/api/v1/flags", [*default_list, ("cursor", later)])]),
        (
            "queue, department + unanswered",
            [
                *queue_shell,
                Request(
                    "/api/v1/flags",
                    [*default_list, ("department", DEPARTMENT), ("answered", "false")],
                ),
            ],
        ),
        (
            "queue, reporter role + 12 weeks",
            [
                *queue_shell,
                Request(
                    "/api/v1/flags",
                    [*default_list, ("reporter_role", "nurse"), ("created_from", twelve_weeks)],
                ),
            ],
        ),
        (
            "queue, service + unassigned",
            [
                *queue_shell,
                Request(
                    "/api/v1/flags",
                    [*default_list, ("order_code", MRI_LUMBAR), ("assigned", "false")],
                ),
            ],
        ),
        (
            "queue, text search",
            [*queue_shell, Request("/api/v1/flags", [*default_list, ("q", "lumbar")])],
        ),
        (
            "flag detail",
            [
                Request(f"/dashboard/flags/{flag}", []),
                Request(f"/api/v1/flags/{flag}", []),
                Request("/api/v1/catalog", []),
                Request(f"/api/v1/flags/{flag}/duplicate-candidates", []),
            ],
        ),
        *insights,
        (
            "admin",
            [
                Request("/dashboard/admin", []),
                Request("/api/v1/tokens", []),
                Request("/api/v1/ehrs", []),
                Request("/api/v1/catalog", []),
            ],
        ),
    ]


def measure_pages(client: httpx.Client, newest: datetime, runs: int) -> list[Page]:
    measured: list[Page] = []
    for name, requests in pages(client, newest):
        latencies = [Latency(request.path, request.show()) for request in requests]
        for request in requests:  # warm up: first use of a query plan is not the steady state
            _timed(client, request)
        for _ in range(runs):
            for request, latency in zip(requests, latencies, strict=True):
                latency.samples.append(_timed(client, request))
        measured.append(Page(name, requests, latencies))
        print(f"{name}: sum of p95 {measured[-1].sum_p95():.1f} ms", flush=True)
    return measured


def measure_bulk_triage(client: httpx.Client, csrf: str, runs: int) -> Latency:
    latency = Latency("bulk triage", f"{BULK_SIZE} new flags -> triaged")
    for _ in range(runs):
        listed = client.get(
            "/api/v1/flags", params=(("status", "submitted"), ("limit", str(BULK_SIZE)))
        ).json()["items"]
        items = [{"id": flag["id"], "version": flag["version"]} for flag in listed]
        started = time.perf_counter()
        response = client.post(
            "/api/v1/flags/bulk/transitions",
            json={"items": items, "to": "triaged"},
            headers={"X-CSRF-Token": csrf},
        )
        latency.samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise BenchError(f"bulk triage answered {response.status_code}: {response.text[:300]}")
    return latency


def report(flags: int, runs: int, measured: list[Page], bulk: Latency) -> str:
    def ok(passed: bool) -> str:
        return "yes" if passed else "**NO**"

    lines = [
        f"## Dashboard pages, {flags:,} flags in PostgreSQL ({runs} runs per request)",
        "",
        f"Target: every request a page makes under {PAGE_TARGET_MS:.0f} ms at p95.",
        "",
        "| page | requests | worst request p95 ms | sum of p95 ms | target |",
        "|---|---:|---:|---:|---|",
    ]
    for page in measured:
        lines.append(
            f"| {page.name} | {len(page.requests)} | {page.worst_p95():.1f} | "
            f"{page.sum_p95():.1f} | {ok(page.worst_p95() < PAGE_TARGET_MS)} |"
        )
    lines += [
        "",
        "### Every request",
        "",
        "| page | request | p50 ms | p95 ms | max ms |",
        "|---|---|---:|---:|---:|",
    ]
    for page in measured:
        for latency in page.latencies:
            query = latency.query.replace("|", "\\|")
            lines.append(
                f"| {page.name} | `{query}` | {latency.p(50):.1f} | {latency.p(95):.1f} | "
                f"{max(latency.samples):.1f} |"
            )
    lines += [
        "",
        f"Bulk triage of {BULK_SIZE} flags (one all-or-nothing request): p50 "
        f"{bulk.p(50):.1f} ms, p95 {bulk.p(95):.1f} ms over {len(bulk.samples)} runs "
        f"({ok(bulk.p(95) < PAGE_TARGET_MS)}).",
        "",
        f"Machine: {sys.platform}, Python {sys.version.split()[0]}.",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard",
        description="Benchmark the dashboard pages' requests on PostgreSQL.",
    )
    parser.add_argument("--flags", type=int, default=1_000_000, help="flags in the database")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="valueloop_bench")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20, help="runs per request")
    parser.add_argument("--bulk-runs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.flags < 1 or args.runs < 1 or args.bulk_runs < 1:
        parser.error("--flags, --runs and --bulk-runs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.now(UTC)
    url, _ = prepare_database(args, server_url(args.server))
    data = describe_dataset(url, [])
    token, token_id = asyncio.run(_issue_admin_token(url))
    try:
        with (
            tempfile.TemporaryDirectory() as workdir,
            running_app(url, Path(workdir), REPO_ROOT) as server,
            httpx.Client(base_url=server.base_url, timeout=60) as client,
        ):
            csrf = sign_in(client, token)
            newest = datetime.combine(data.newest, datetime.min.time(), tzinfo=UTC)
            measured = measure_pages(client, newest, args.runs)
            bulk = measure_bulk_triage(client, csrf, args.bulk_runs)
    finally:
        asyncio.run(_revoke_token(url, token_id))
    write_report("dashboard", started, report(data.flags, args.runs, measured, bulk))


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        raise SystemExit(f"benchmark failed: {exc}") from exc
