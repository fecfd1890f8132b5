"""Improvement work benchmark (issue 17): the improvements API over real HTTP, on PostgreSQL
with the registry benchmark's database (a million flags by default).

    .venv/bin/python -m bench.improvements --flags 1000000

1. Reuses (or seeds) the database of ``bench.registry`` (same options), starts the real app and
   issues itself an admin API token (revoked at the end).
2. Arranges its improvement work through the API, as the quality team would: two owners (the
   dyad, added to the staff directory on first use); (a) an improvement on the commonest
   service code with 50 of its flags linked, approved and taken live 42 days ago (which
   replies to the 50 reporters and moves their flags on: that one request is timed); (b) one
   aimed at a catalog rule only (``low-back-pain-imaging``), live 42 days ago; (c) ten more,
   proposed, each with a few flags of another common code. Each run adds its own twelve: the
   board grows by twelve a run (the report says how many it lists).
3. Measures, one request at a time with keep-alive, ``--runs`` times each after two warm-ups:
   the board, (a)'s page, (a)'s effect (JSON and run chart), (b)'s effect (its rule's codes are
   matched against every order code the organization's flags carry), the improvements
   statistic and a flag's likely siblings; p50/p95 and the app process's CPU per request.
   With ``--organizations N`` the work is bench-01's, and every request is measured again as
   an analyst of bench-01.
4. Prints a markdown report and writes it to ``bench/results/improvements-<timestamp>.md``.

All traffic stays on 127.0.0.1. Synthetic data only; it writes improvements, links flags and
moves 50 flags to "action taken" in the benchmark database.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from app.db import create_sync_engine_for
from bench.registry import (
    REPO_ROOT,
    Dataset,
    Latency,
    Server,
    Viewer,
    _cell,
    _get,
    _issue_admin_token,
    _issue_analyst_token,
    _ok,
    _revoke_token,
    add_database_arguments,
    check_database_arguments,
    describe_dataset,
    machine_facts,
    organization_codes,
    prepare_database,
    running_app,
    server_url,
)
from bench.server import BenchError, write_report

TARGET_P95_MS = 300.0  # the dashboard's: a page's every request under 300 ms
LINKED = 50
LIVE_DAYS_AGO = 42
PROPOSED = 10
PROPOSED_FLAGS = 5
RULE = "low-back-pain-imaging"
WARM_UPS = 2
OWNERS = (
    ("bench-clinical-lead@bench.example.org", "Benchmark clinical lead"),
    ("bench-operational-lead@bench.example.org", "Benchmark operational lead"),
)

Params = list[tuple[str, str]]
Json = dict[str, Any]


# --- arranging the work through the API --------------------------------------------------------


def _send(client: httpx.Client, method: str, path: str, body: Json, expect: int) -> Json:
    response = client.request(method, path, json=body)
    if response.status_code != expect:
        raise BenchError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
    answer: Json = response.json()
    return answer


def _read(client: httpx.Client, path: str, params: Params) -> Json:
    _elapsed, response = _get(client, path, params)
    answer: Json = response.json()
    return answer


def owners(client: httpx.Client) -> list[str]:
    """The dyad's staff ids: the benchmark's two leads, added on first use (system level)."""
    ids = []
    for email, name in OWNERS:
        found = _read(client, "/api/v1/staff", [("q", email)])["items"]
        if not found:
            found = [
                _send(
                    client,
                    "POST",
                    "/api/v1/staff",
                    {"email": email, "name": name, "role": "lead"},
                    201,
                )
            ]
        ids.append(str(found[0]["id"]))
    return ids


def common_codes(client: httpx.Client, scope: Params, count: int) -> list[tuple[str, int]]:
    """The ``count`` commonest order codes (``system|code``) and their flag counts."""
    rows = _read(client, "/api/v1/stats/breakdown", [("by", "service"), *scope])["rows"]
    codes = [(str(row["key"]), int(row["count"])) for row in rows if row["key"]]
    if not codes:
        raise BenchError("the breakdown by service found no order codes")
    return codes[:count]


def linked_flags(client: httpx.Client) -> set[str]:
    """Flags linked to improvements already (by earlier runs): a flag has one improvement."""
    linked: set[str] = set()
    for item in _read(client, "/api/v1/improvements", [])["items"]:
        if item["flag_count"]:
            detail = _read(client, f"/api/v1/improvements/{item['id']}", [])
            linked.update(str(flag["id"]) for flag in detail["flags"])
    return linked


def linkable_flags(
    client: httpx.Client, token: str, scope: Params, wanted: int, taken: set[str]
) -> list[Json]:
    """Up to ``wanted`` flags of the order code ``token``, newest first, that can be linked
    (not linked yet, not judged not-low-value); at most ten pages are read."""
    found: list[Json] = []
    params: Params = [("order_code", token), ("limit", "200"), *scope]
    for _ in range(10):
        page = _read(client, "/api/v1/flags", params)
        for flag in page["items"]:
            if flag["id"] not in taken and flag["status"] != "not_low_value":
                found.append(flag)
                if len(found) == wanted:
                    return found
        if not page["next_cursor"]:
            break
        params = [("order_code", token), ("limit", "200"), ("cursor", page["next_cursor"]), *scope]
    return found


def _target(token: str) -> Json:
    system, _, code = token.rpartition("|")
    return {"system": system, "code": code}


def _move(client: httpx.Client, improvement: str, body: Json) -> tuple[float, Json]:
    started = time.perf_counter()
    answer = _send(client, "POST", f"/api/v1/improvements/{improvement}/transitions", body, 200)
    return (time.perf_counter() - started) * 1000, answer


def _live(go_live: date) -> Json:
    return {
        "to": "live",
        "go_live": go_live.isoformat(),
        "reply": "The order set no longer defaults to this order; thank you for flagging it.",
    }


@dataclass
class GoLive:
    flags: int
    statuses: dict[str, int]
    ms: float
    cpu_ms: float
    replied: int
    moved: int


@dataclass
class Arranged:
    code: str
    code_flags: int
    a: str
    b: str
    sibling_of: str
    go_live: GoLive
    board: int = 0
    live: int = 0
    notes: list[str] = field(default_factory=list)


def arrange(client: httpx.Client, server: Server, organization: str | None) -> Arranged:
    scope: Params = [("organization", organization)] if organization else []
    home = {"organization": organization} if organization else {}
    dyad = owners(client)
    codes = common_codes(client, scope, PROPOSED + 1)
    code, code_flags = codes[0]
    taken = linked_flags(client)
    candidates = linkable_flags(client, code, scope, LINKED + 1, taken)
    if len(candidates) < LINKED:
        raise BenchError(f"only {len(candidates)} linkable flags of {code}; --reseed")
    evidence, spare = candidates[:LINKED], candidates[LINKED:]
    statuses: dict[str, int] = {}
    for flag in evidence:
        statuses[flag["status"]] = statuses.get(flag["status"], 0) + 1
    go_live = datetime.now(UTC).date() - timedelta(days=LIVE_DAYS_AGO)

    a = _send(
        client,
        "POST",
        "/api/v1/improvements",
        {
            "title": f"Benchmark: remove {code} from the default order set",
            "kind": "ehr_build",
            "targets": [_target(code)],
            "owners": dyad,
            "flag_ids": [flag["id"] for flag in evidence],
            **home,
        },
        201,
    )["id"]
    _move(client, a, {"to": "approved"})
    cpu_before = server.cpu_seconds()
    took, answer = _move(client, a, _live(go_live))
    cpu = server.cpu_seconds() - cpu_before
    done = next(
        (
            event["details"] or {}
            for event in reversed(answer["timeline"])
            if event["to_status"] == "live"
        ),
        {},
    )
    print(f"Go-live of {LINKED} linked flags: {took:.0f} ms", flush=True)

    b = _send(
        client,
        "POST",
        "/api/v1/improvements",
        {
            "title": "Benchmark: decision support for imaging in early low back pain",
            "kind": "decision_support",
            "targets": [],
            "rules": [RULE],
            "owners": dyad,
            **home,
        },
        201,
    )["id"]
    _move(client, b, {"to": "approved"})
    _move(client, b, _live(go_live))

    taken.update(flag["id"] for flag in evidence)
    others = [token for token, _count in codes[1:]] or [code]
    for number in range(PROPOSED):
        other = others[number % len(others)]
        flags = linkable_flags(client, other, scope, PROPOSED_FLAGS, taken)
        taken.update(flag["id"] for flag in flags)
        _send(
            client,
            "POST",
            "/api/v1/improvements",
            {
                "title": f"Benchmark: proposal {number + 1} on {other}",
                "kind": ("education", "protocol", "ehr_build", "contract")[number % 4],
                "targets": [_target(other)],
                "flag_ids": [flag["id"] for flag in flags],
                **home,
            },
            201,
        )
    board = _read(client, "/api/v1/improvements", [])["items"]
    return Arranged(
        code=code,
        code_flags=code_flags,
        a=a,
        b=b,
        sibling_of=(spare or evidence)[0]["id"],
        go_live=GoLive(
            flags=LINKED,
            statuses=statuses,
            ms=took,
            cpu_ms=cpu * 1000,
            replied=int(done.get("flags_replied", 0)),
            moved=int(done.get("flags_moved", 0)),
        ),
        board=len(board),
        live=sum(item["status"] == "live" for item in board),
    )


def distinct_order_codes(url: str, organization: str | None) -> int:
    """How many (system, code) pairs the organization's flags carry: what a rule is matched
    against (app/improvements/counts.py ``order_codes``)."""
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            query = (
                "SELECT count(*) FROM (SELECT DISTINCT order_code_system, order_code FROM flag "
                "WHERE order_code IS NOT NULL AND order_code_system IS NOT NULL "
                "AND organization_id = (SELECT id FROM organization WHERE code = :code)) AS c"
            )
            found = connection.execute(sa.text(query), {"code": organization or "main"})
            return int(found.scalar_one())
    finally:
        engine.dispose()


# --- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    name: str
    template: str  # the path below /api/v1, with {a}, {b} or {flag} for the ids
    params: Params

    def path(self, arranged: Arranged) -> str:
        ids = {"a": arranged.a, "b": arranged.b, "flag": arranged.sibling_of}
        return "/api/v1" + self.template.format(**ids)

    def show(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.params)
        return f"{self.template}?{query}" if query else self.template


REQUESTS = [
    Request("board", "/improvements", []),
    Request(f"(a) detail, {LINKED} flags", "/improvements/{a}", []),
    Request("(a) effect", "/improvements/{a}/effect", []),
    Request("(a) effect, run chart", "/improvements/{a}/effect", [("format", "svg")]),
    Request("(b) effect, rule target", "/improvements/{b}/effect", []),
    Request("improvements statistic", "/stats/improvements", []),
    Request("siblings of a flag of (a)'s code", "/flags/{flag}/siblings", []),
]


def measure(
    client: httpx.Client, server: Server, viewer: Viewer, runs: int, arranged: Arranged
) -> list[Latency]:
    measured = []
    for request in REQUESTS:
        latency = Latency(viewer.name(request.name), request.show())
        path = request.path(arranged)
        for _ in range(WARM_UPS):  # the first use of a query plan is not the steady state
            _get(client, path, request.params, viewer)
        cpu_before = server.cpu_seconds()
        for _ in range(runs):
            elapsed, _response = _get(client, path, request.params, viewer)
            latency.samples.append(elapsed)
        latency.cpu_seconds = server.cpu_seconds() - cpu_before
        print(
            f"  {latency.name:44} p50 {latency.p(50):7.1f}  p95 {latency.p(95):7.1f} ms  "
            f"CPU {latency.cpu_ms_per_request()} ms/req",
            flush=True,
        )
        measured.append(latency)
    return measured


# --- the report --------------------------------------------------------------------------------


def report(
    *,
    started: datetime,
    data: Dataset,
    seeded_in: float | None,
    machine: list[str],
    organization: str | None,
    arranged: Arranged,
    codes_carried: int,
    runs: int,
    measured: list[Latency],
) -> str:
    whose = f"organization {organization}" if organization else "the default organization"
    go = arranged.go_live
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(go.statuses.items()))
    lines = [
        f"## Improvement work, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- Data: {data.flags:,} synthetic flags, {data.events:,} timeline events, created "
        f"{data.oldest} to {data.newest}"
        + (f" (seeded in {seeded_in:,.0f} s)" if seeded_in is not None else ""),
        *machine,
        f"- Work of {whose}: (a) `{arranged.code}`, the commonest service code "
        f"({arranged.code_flags:,} flags), {LINKED} flags linked, live {LIVE_DAYS_AGO} days "
        f"ago; (b) rule `{RULE}` only, live {LIVE_DAYS_AGO} days ago; {PROPOSED} more proposed. "
        f"The board lists {arranged.board} improvements ({arranged.live} live, from this and "
        "earlier runs).",
        f"- The organization's flags carry {codes_carried:,} distinct order codes (what a rule "
        "target is matched against).",
        "",
        f"### Requests ({runs} runs each after {WARM_UPS} warm-ups; target p95 <= "
        f"{TARGET_P95_MS:.0f} ms)",
        "",
        "| request | path | runs | p50 ms | p95 ms | max ms | app CPU ms/req | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for item in measured:
        lines.append(
            f"| {item.name} | `{_cell(item.query)}` | {len(item.samples)} | {item.p(50):.1f} | "
            f"{item.p(95):.1f} | {max(item.samples):.1f} | {item.cpu_ms_per_request()} | "
            f"{_ok(item.p(95) <= TARGET_P95_MS)} |"
        )
    lines += [
        "",
        f"Going live with {go.flags} linked flags ({statuses}), once: {go.ms:,.0f} ms, app CPU "
        f"{go.cpu_ms:,.0f} ms; {go.replied} reporters' flags replied to, {go.moved} moved on "
        "to action taken, in one transaction.",
        "",
    ]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.improvements",
        description="Benchmark the improvement work API on PostgreSQL.",
    )
    add_database_arguments(
        parser,
        organizations_help="deal the flags over this many organizations (bench-01, ...); the "
        "work is bench-01's and is measured as its analyst too",
    )
    parser.add_argument("--runs", type=int, default=30, help="runs per request")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO_ROOT,
        help="checkout whose app/ the server runs (default: this one), to compare a change",
    )
    args = parser.parse_args(argv)
    if args.flags < 1 or args.runs < 1:
        parser.error("--flags and --runs must be positive")
    check_database_arguments(parser, args)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.now(UTC)
    address = server_url(args.server)
    url, seeded_in = prepare_database(args, address)
    data = describe_dataset(url, [])
    machine = machine_facts(address, args.database)
    organization = organization_codes(args.organizations)[0] if args.organizations else None
    secret, token_id = asyncio.run(_issue_admin_token(url))
    viewers = [Viewer("system admin" if organization else "", secret)]
    issued = [token_id]
    if organization:
        analyst_secret, analyst_token_id = asyncio.run(_issue_analyst_token(url, organization))
        viewers.append(Viewer(f"{organization} analyst", analyst_secret))
        issued.append(analyst_token_id)
    measured: list[Latency] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="valueloop-bench-") as workdir,
            running_app(url, Path(workdir), args.app_dir.resolve()) as server,
            httpx.Client(
                base_url=server.base_url,
                headers={"Authorization": f"Bearer {secret}"},
                timeout=httpx.Timeout(300.0),
                trust_env=False,  # never through a proxy: traffic stays on 127.0.0.1
            ) as client,
        ):
            print(f"App pid {server.pid} at {server.base_url}; arranging the work", flush=True)
            arranged = arrange(client, server, organization)
            time.sleep(3)  # the outbox worker sends the go-live's mail: not the reads' cost
            for viewer in viewers:
                print(f"Requests{' as ' + viewer.label if viewer.label else ''}", flush=True)
                measured += measure(client, server, viewer, args.runs, arranged)
    finally:
        for issued_id in issued:
            asyncio.run(_revoke_token(url, issued_id))
    text = report(
        started=started,
        data=data,
        seeded_in=seeded_in,
        machine=machine,
        organization=organization,
        arranged=arranged,
        codes_carried=distinct_order_codes(url, organization),
        runs=args.runs,
        measured=measured,
    )
    write_report("improvements", started, text)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        raise SystemExit(f"benchmark failed: {exc}") from exc
