"""SMART launch benchmark: from the EHR's launch to the clinician context, over real HTTP.

    .venv/bin/python -m bench.launch [--runs 30] [--warmup 3] [--latency-ms 50]

What it does, in order:

1. Starts the simulated EHR (``ehr_sim.server.SimServer``, in a thread of this process) with
   ``Faults(latency_ms=50)``: every FHIR request (discovery included) and every token request
   waits that long before it is answered (the simulator does not delay its authorize page or
   its JWKS, so neither is counted below). ValueLoop is registered there as a public client
   whose redirect URI is the app's ``/launch/callback``. A recording middleware wraps the
   simulator and notes every request it sees (path, start, end, whether the latency applied).
2. Starts the real app (``valueloop serve``) in a subprocess on a free 127.0.0.1 port, in
   demo mode, on a fresh SQLite database in a temporary directory (``valueloop migrate``),
   with access logs at INFO, and registers the simulator with ``valueloop ehrs add``.
3. Times the browser's path, with httpx and no redirect following, ``--warmup`` times (not
   counted) and then ``--runs`` times: ``POST /_sim/launches`` (not timed), then
   ``GET /launch?iss&launch`` -> the simulator's authorize -> ``GET /launch/callback`` ->
   the session handle from the page's ``<meta name="valueloop-session">`` ->
   ``GET /api/v1/clinician/context`` with ``X-ValueLoop-Session``. "Launch to context ready"
   runs from the first request to the context response.
4. Splits each run: the EHR latency that cannot be avoided (sequential rounds of delayed
   requests seen at the simulator, times the latency) and our own time (the rest), with the
   app's own server time per step from its access log (``duration_ms``, matched by
   ``X-Request-ID``).
5. Baseline: the context's first batch of FHIR requests (the same URLs and token the app
   used in the last run) fetched one after another with plain httpx, and all at once.
6. Prints a markdown report and writes it to ``bench/results/launch-<timestamp>.md``.

All loops are bounded and all traffic stays on 127.0.0.1. Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.server import BenchError, free_port, serving, valueloop, write_report
from ehr_sim.clients import ClientRegistration, ClientRegistry
from ehr_sim.config import Faults, SimSettings
from ehr_sim.server import SimServer

REPO_ROOT = Path(__file__).resolve().parent.parent

OWN_TIME_TARGET_MS = 50.0  # the target for our own time, judged at p95
CLIENT_ID = "valueloop-bench"
USER = "Practitioner/prac-00001"
SESSION_HEADER = "X-ValueLoop-Session"
SESSION_META = re.compile(r'<meta name="valueloop-session" content="([^"]+)"')
TOKEN_PATH = "/auth/token"  # noqa: S105 - a URL path, not a secret
AUTHORIZE_PATH = "/auth/authorize"
JWKS_PATH = "/auth/jwks"
DISCOVERY_PREFIX = "/fhir/.well-known/"
APP_STEPS = ("launch", "callback", "context")


# --- numbers -----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of samples at or below."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def union_ms(intervals: Sequence[tuple[float, float]]) -> float:
    """Milliseconds covered by at least one of the (start, end) intervals (in seconds)."""
    total = 0.0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_start is not None and current_end is not None:
        total += current_end - current_start
    return total * 1000


# --- what the simulated EHR sees ---------------------------------------------------------------


def latency_applies(path: str) -> bool:
    """Where ``Faults.latency_ms`` acts: the FHIR API (discovery and metadata included) and
    the token endpoint, as in ``ehr_sim.faults``; not authorize, JWKS or ``/_sim``."""
    return path == "/fhir" or path.startswith("/fhir/") or path == TOKEN_PATH


@dataclass(frozen=True)
class SimHit:
    method: str
    path: str
    query: str
    started: float  # time.perf_counter(), the same clock as the client's (same process)
    ended: float
    status: int
    delayed: bool

    @property
    def kind(self) -> str:
        if self.path.startswith(DISCOVERY_PREFIX):
            return "discovery"
        if self.path == AUTHORIZE_PATH:
            return "authorize"
        if self.path == TOKEN_PATH:
            return "token"
        if self.path == JWKS_PATH:
            return "jwks"
        if self.path.startswith("/fhir/"):
            return "fhir"
        return "other"

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


class SimLog:
    """Requests the simulated EHR answered, in order of completion; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: list[SimHit] = []
        self.bearer: str | None = None  # the last FHIR request's access token (synthetic)

    def add(self, hit: SimHit, bearer: str | None) -> None:
        with self._lock:
            self._hits.append(hit)
            if bearer is not None:
                self.bearer = bearer

    def between(self, start: float, end: float) -> list[SimHit]:
        with self._lock:
            return [hit for hit in self._hits if hit.started >= start and hit.ended <= end]

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


class RecordingMiddleware:
    """Outermost on the simulator, so a request's time includes the injected latency.

    The hit is recorded just before the last body message goes out, so it is in the log by
    the time the client holds the response.
    """

    def __init__(self, app: ASGIApp, log: SimLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        path: str = scope["path"]
        bearer = None
        if path.startswith("/fhir/") and not path.startswith(DISCOVERY_PREFIX):
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            if authorization.lower().startswith("bearer "):
                bearer = authorization[7:]

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                hit = SimHit(
                    method=scope["method"],
                    path=path,
                    query=scope["query_string"].decode("latin-1"),
                    started=started,
                    ended=time.perf_counter(),
                    status=status,
                    delayed=latency_applies(path),
                )
                self.log.add(hit, bearer)
            await send(message)

        await self.app(scope, receive, recording_send)


def sequential_rounds(hits: Sequence[SimHit]) -> int:
    """How many times in a row the latency was waited for: delayed requests that overlap
    (a concurrent batch) count once, one that starts after its predecessors ended again."""
    rounds = 0
    round_first_end = -math.inf
    for hit in sorted((h for h in hits if h.delayed), key=lambda h: h.started):
        if hit.started >= round_first_end:
            rounds += 1
            round_first_end = hit.ended
        else:
            round_first_end = min(round_first_end, hit.ended)
    return rounds


def fhir_batches(hits: Sequence[SimHit]) -> list[list[SimHit]]:
    """The FHIR reads and searches (discovery aside) grouped into concurrent batches."""
    batches: list[list[SimHit]] = []
    first_end = -math.inf
    for hit in sorted((h for h in hits if h.kind == "fhir"), key=lambda h: h.started):
        if hit.started >= first_end:
            batches.append([hit])
            first_end = hit.ended
        else:
            batches[-1].append(hit)
            first_end = min(first_end, hit.ended)
    return batches


# --- the app -----------------------------------------------------------------------------------


@dataclass
class App:
    pid: int
    base_url: str
    log_path: Path

    def access_durations(self) -> dict[str, float]:
        """``duration_ms`` of each access-log line, by request id (JSON lines on stderr)."""
        durations: dict[str, float] = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("logger") == "valueloop.access" and "request_id" in entry:
                durations[str(entry["request_id"])] = float(entry["duration_ms"])
        return durations


def app_env(base_url: str, workdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VALUELOOP_") and key.lower() not in {"http_proxy", "https_proxy"}
    }
    env.update(
        {
            "VALUELOOP_MODE": "demo",
            "VALUELOOP_DATABASE_URL": f"sqlite:///{workdir / 'valueloop.db'}",
            "VALUELOOP_BASE_URL": base_url,
            "VALUELOOP_DATA_DIR": str(workdir / "var"),
            "VALUELOOP_LOG_LEVEL": "INFO",  # the access log's duration_ms per request
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


@contextmanager
def running_app(
    port: int, workdir: Path, app_dir: Path, sim: SimServer, client_id: str
) -> Iterator[App]:
    """A migrated fresh SQLite database, the simulator registered, ``valueloop serve``."""
    base_url = f"http://127.0.0.1:{port}"
    env = app_env(base_url, workdir)
    valueloop(["migrate"], env, app_dir)
    valueloop(
        ["ehrs", "add", sim.fhir_base, "--client-id", client_id, "--frame-origin", sim.base_url],
        env,
        app_dir,
    )
    log_path = workdir / "server.log"
    with serving(port=port, env=env, app_dir=app_dir, log_path=log_path) as process:
        yield App(pid=process.pid, base_url=base_url, log_path=log_path)


@contextmanager
def running_sim(port: int, patients: int, latency_ms: int) -> Iterator[tuple[SimServer, SimLog]]:
    """The simulated EHR with ValueLoop (on ``port``) registered as a public client."""
    clients = ClientRegistry(
        [
            ClientRegistration(
                client_id=CLIENT_ID,
                name="ValueLoop (benchmark)",
                redirect_uris=[f"http://127.0.0.1:{port}/launch/callback"],
                launch_url=f"http://127.0.0.1:{port}/launch",
            )
        ]
    )
    settings = SimSettings(patients=patients, faults=Faults(latency_ms=latency_ms))
    sim = SimServer(settings, clients)
    log = SimLog()
    sim.app.add_middleware(RecordingMiddleware, log=log)  # outermost: sees the latency too
    with sim:
        yield sim, log


# --- one launch --------------------------------------------------------------------------------


@dataclass
class LaunchRun:
    total_ms: float
    step_ms: dict[str, float]  # client-side: launch, authorize, callback, context
    request_ids: dict[str, str]  # app step -> X-Request-ID
    windows: dict[str, tuple[float, float]]  # app step -> (sent, answered)
    hits: list[SimHit]
    orders: int
    warnings: int
    latency_ms: float
    server_ms: dict[str, float] = field(default_factory=dict)  # from the access log

    @property
    def rounds(self) -> int:
        return sequential_rounds(self.hits)

    @property
    def accounted_ms(self) -> float:
        return self.rounds * self.latency_ms

    @property
    def own_ms(self) -> float:
        return self.total_ms - self.accounted_ms

    @property
    def in_ehr_ms(self) -> float:
        return union_ms([(hit.started, hit.ended) for hit in self.hits])

    @property
    def batches(self) -> list[list[SimHit]]:
        return fhir_batches(self.hits)

    def count(self, kind: str) -> int:
        return sum(1 for hit in self.hits if hit.kind == kind)

    def ehr_wait_ms(self, step: str) -> float:
        """Time the app spent waiting on the EHR while serving ``step`` (measured at the sim)."""
        start, end = self.windows[step]
        return union_ms(
            [(hit.started, hit.ended) for hit in self.hits if start <= hit.started <= end]
        )

    def app_own_ms(self, step: str) -> float | None:
        """The app's server time for ``step`` without its EHR waits."""
        if step not in self.server_ms:
            return None
        return self.server_ms[step] - self.ehr_wait_ms(step)

    @property
    def fhir_span_ms(self) -> float:
        """The context's first FHIR batch as the simulator saw it: first start to last end."""
        batch = self.batches[0] if self.batches else []
        if not batch:
            return 0.0
        return (max(hit.ended for hit in batch) - min(hit.started for hit in batch)) * 1000


def _expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")


def _loopback(url: str, prefix: str, what: str) -> str:
    if not url.startswith(prefix) or urlsplit(url).hostname != "127.0.0.1":
        raise BenchError(f"{what} went to {url[:80]!r}, not {prefix}")
    return url


def in_progress_encounter(sim: SimServer, index: int) -> tuple[str, str]:
    """An in-progress encounter's (patient, encounter), cycling through them."""
    encounters = [e for e in sim.state.store.all("Encounter") if e["status"] == "in-progress"]
    if not encounters:
        raise BenchError("the simulated EHR has no in-progress encounter")
    encounter = encounters[index % len(encounters)]
    return str(encounter["subject"]["reference"].split("/")[1]), str(encounter["id"])


def one_launch(
    browser: httpx.Client, sim: SimServer, log: SimLog, app: App, run_id: str, index: int
) -> LaunchRun:
    patient, encounter = in_progress_encounter(sim, index)
    created = browser.post(
        f"{sim.base_url}/_sim/launches",
        json={"user": USER, "patient": patient, "encounter": encounter},
    )
    _expect(created, 201, "creating the launch at the simulated EHR")
    launch = str(created.json()["launch"])
    log.clear()  # only this launch's requests from here on
    ids = {step: f"{run_id}-{index:04d}-{step}" for step in APP_STEPS}
    windows: dict[str, tuple[float, float]] = {}
    steps: dict[str, float] = {}

    started = time.perf_counter()
    sent = started
    first = browser.get(
        f"{app.base_url}/launch",
        params={"iss": sim.fhir_base, "launch": launch},
        headers={"X-Request-ID": ids["launch"]},
    )
    answered = time.perf_counter()
    windows["launch"], steps["launch"] = (sent, answered), (answered - sent) * 1000
    _expect(first, 302, "GET /launch")
    authorize = _loopback(first.headers["location"], f"{sim.base_url}{AUTHORIZE_PATH}", "/launch")

    sent = time.perf_counter()
    second = browser.get(authorize)
    answered = time.perf_counter()
    steps["authorize"] = (answered - sent) * 1000
    _expect(second, 302, "the simulated EHR's authorize")
    callback = _loopback(
        second.headers["location"], f"{app.base_url}/launch/callback", "the authorize redirect"
    )

    sent = time.perf_counter()
    third = browser.get(callback, headers={"X-Request-ID": ids["callback"]})
    answered = time.perf_counter()
    windows["callback"], steps["callback"] = (sent, answered), (answered - sent) * 1000
    _expect(third, 200, "GET /launch/callback")
    match = SESSION_META.search(third.text)
    if match is None:
        raise BenchError("the in-EHR page carries no valueloop-session meta tag")

    sent = time.perf_counter()
    fourth = browser.get(
        f"{app.base_url}/api/v1/clinician/context",
        headers={SESSION_HEADER: match.group(1), "X-Request-ID": ids["context"]},
    )
    ended = time.perf_counter()
    windows["context"], steps["context"] = (sent, ended), (ended - sent) * 1000
    _expect(fourth, 200, "GET /api/v1/clinician/context")
    context = fourth.json()
    return LaunchRun(
        total_ms=(ended - started) * 1000,
        step_ms=steps,
        request_ids=ids,
        windows=windows,
        hits=log.between(started, ended),
        orders=len(context.get("orders") or []),
        warnings=len(context.get("warnings") or []),
        latency_ms=float(sim.state.faults.latency_ms),
    )


def attach_server_times(runs: Sequence[LaunchRun], app: App) -> None:
    time.sleep(0.3)  # let the server flush its last log lines
    durations = app.access_durations()
    for run in runs:
        for step, request_id in run.request_ids.items():
            if request_id in durations:
                run.server_ms[step] = durations[request_id]


# --- the baseline: the same FHIR requests, one after another and all at once ---------------------


@dataclass
class FetchBaseline:
    requests: list[str]  # "GET /fhir/Type?..." without values that could identify anyone
    sequential_ms: list[float]
    parallel_ms: list[float]


def _describe(hit: SimHit) -> str:
    names = sorted({part.split("=", 1)[0] for part in hit.query.split("&") if part})
    resource = hit.path.removeprefix("/fhir/").split("/")[0]
    if hit.path.count("/") >= 3:
        return f"{resource} read"
    return f"{resource} search ({', '.join(names)})"


def measure_baseline(sim: SimServer, log: SimLog, run: LaunchRun, repeats: int) -> FetchBaseline:
    batch = sorted(run.batches[0], key=lambda hit: hit.started) if run.batches else []
    if not batch or log.bearer is None:
        raise BenchError("the last launch made no FHIR requests to replay")
    urls = [f"{sim.base_url}{hit.path}" + (f"?{hit.query}" if hit.query else "") for hit in batch]
    headers = {"Authorization": f"Bearer {log.bearer}", "Accept": "application/fhir+json"}
    sequential: list[float] = []
    with httpx.Client(headers=headers, timeout=30, trust_env=False) as client:
        for attempt in range(repeats + 1):  # the first warms the connection up
            started = time.perf_counter()
            for url in urls:
                _expect(client.get(url), 200, f"GET {url[len(sim.base_url) :][:60]}")
            if attempt:
                sequential.append((time.perf_counter() - started) * 1000)
    parallel = asyncio.run(_parallel(urls, headers, repeats))
    return FetchBaseline(
        requests=[_describe(hit) for hit in batch], sequential_ms=sequential, parallel_ms=parallel
    )


async def _parallel(urls: list[str], headers: dict[str, str], repeats: int) -> list[float]:
    timings: list[float] = []
    async with httpx.AsyncClient(headers=headers, timeout=30, trust_env=False) as client:
        for attempt in range(repeats + 1):
            started = time.perf_counter()
            responses = await asyncio.gather(*(client.get(url) for url in urls))
            for url, response in zip(urls, responses, strict=True):
                _expect(response, 200, f"GET {url[:60]}")
            if attempt:
                timings.append((time.perf_counter() - started) * 1000)
    return timings


# --- the report --------------------------------------------------------------------------------


def _ok(passed: bool) -> str:
    return "yes" if passed else "**no**"


def _row(name: str, samples: Sequence[float], target: str | None = None) -> str:
    """A table row of p50, p95 and max; ``target`` adds a last cell (None: no such column)."""
    extra = "" if target is None else f" {target} |"
    if not samples:
        return f"| {name} | - | - | - |{extra}"
    cells = f"| {name} | {percentile(samples, 50):.1f} | {percentile(samples, 95):.1f} | "
    return f"{cells}{max(samples):.1f} |{extra}"


def _counts(values: Sequence[int]) -> str:
    found: dict[int, int] = {}
    for value in values:
        found[value] = found.get(value, 0) + 1
    return ", ".join(f"{value} in {times} run(s)" for value, times in sorted(found.items()))


def _cold_line(cold: LaunchRun) -> str:
    steps = "; ".join(
        f"`{step}` {cold.server_ms[step]:.1f} ms (EHR waits {cold.ehr_wait_ms(step):.1f})"
        for step in APP_STEPS
        if step in cold.server_ms
    )
    return (
        f"Cold first launch after the app started (not counted above): total "
        f"{cold.total_ms:.1f} ms, {cold.rounds} delayed rounds ({cold.count('discovery')} "
        f"discovery, {cold.count('token')} token, {len(cold.batches)} FHIR batch(es); "
        f"{cold.count('jwks')} JWKS fetch, not delayed), our own time {cold.own_ms:.1f} ms; "
        f"server time {steps}."
    )


def machine_facts() -> list[str]:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app", "smart", "fhir_client"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (app/, smart/ or fhir_client/ have uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"- Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; load average at the end {load}",
        "- One app process (`valueloop serve`, SQLite in a temporary directory, access log at "
        "INFO); the simulated EHR in a thread of the benchmark process; one client, one launch "
        "at a time, keep-alive",
        f"- Commit {commit}",
    ]


def report(
    *,
    started: datetime,
    args: argparse.Namespace,
    app_dir: Path,
    cold: LaunchRun,
    runs: list[LaunchRun],
    baseline: FetchBaseline,
) -> str:
    latency = args.latency_ms
    own = [run.own_ms for run in runs]
    passed = percentile(own, 95) < OWN_TIME_TARGET_MS
    saved = percentile(baseline.sequential_ms, 50) - percentile([r.fhir_span_ms for r in runs], 50)
    lines = [
        f"## Launch benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- {len(runs)} measured EHR launches after {args.warmup} warm-up launches; simulated "
        f"EHR with {args.patients} synthetic patients and `Faults(latency_ms={latency})` "
        "(FHIR, discovery and token requests; not authorize or JWKS)",
        *machine_facts(),
        *([] if app_dir == REPO_ROOT else [f"- App served from `{app_dir}`, not this checkout"]),
        "",
        "### Launch to context ready",
        "",
        "From `GET /launch?iss&launch` to the `GET /api/v1/clinician/context` response, through "
        "the EHR's authorize and `/launch/callback`. EHR latency accounted = sequential rounds "
        f"of delayed EHR requests x {latency} ms; our own time = total - EHR latency accounted.",
        "",
        "| measure | p50 ms | p95 ms | max ms | target |",
        "|---|---:|---:|---:|---|",
        _row("total, launch to context ready", [run.total_ms for run in runs], ""),
        _row("EHR latency accounted", [run.accounted_ms for run in runs], ""),
        _row(
            "**our own time**",
            own,
            f"< {OWN_TIME_TARGET_MS:.0f} ms at p95: {_ok(passed)}",
        ),
        _row("time inside the EHR (measured at the simulator)", [r.in_ehr_ms for r in runs], ""),
        _row("outside the EHR (total - inside)", [r.total_ms - r.in_ehr_ms for r in runs], ""),
        "",
        _cold_line(cold),
        "",
        "EHR requests per measured launch: "
        f"authorize {_counts([r.count('authorize') for r in runs])}; "
        f"token {_counts([r.count('token') for r in runs])}; "
        f"discovery {_counts([r.count('discovery') for r in runs])}; "
        f"JWKS {_counts([r.count('jwks') for r in runs])}; "
        f"FHIR requests {_counts([r.count('fhir') for r in runs])}; "
        f"FHIR batches {_counts([len(r.batches) for r in runs])}; "
        f"sequential delayed rounds {_counts([r.rounds for r in runs])}. "
        f"Orders on the page: {_counts([r.orders for r in runs])}; context warnings: "
        f"{_counts([r.warnings for r in runs])}.",
        "",
        "### Where our own time goes (p50/p95 of each part; parts do not add up exactly)",
        "",
        "| part | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for step, label in (
        ("launch", "app `/launch` (server, access log)"),
        ("callback", "app `/launch/callback` (server) without its EHR waits (token, JWKS)"),
        ("context", "app `/api/v1/clinician/context` (server) without its FHIR waits"),
    ):
        values = [value for run in runs if (value := run.app_own_ms(step)) is not None]
        lines.append(_row(label, values))
    lines += [
        _row(
            "EHR processing beyond the latency (inside the EHR - accounted)",
            [run.in_ehr_ms - run.accounted_ms for run in runs],
        ),
        _row(
            "client and HTTP outside both servers",
            [
                run.total_ms - run.in_ehr_ms - sum(run.app_own_ms(s) or 0.0 for s in APP_STEPS)
                for run in runs
            ],
        ),
        "",
        "| step as the browser sees it | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
        *(
            _row(f"`{step}`", [run.step_ms[step] for run in runs])
            for step in ("launch", "authorize", "callback", "context")
        ),
        *(
            _row(f"`{step}` server time (access log)", values)
            for step in APP_STEPS
            if (values := [run.server_ms[step] for run in runs if step in run.server_ms])
        ),
        "",
        "### Fetching the launch context: one after another vs the app's parallel batch",
        "",
        f"The context's first FHIR batch ({len(baseline.requests)} requests: "
        f"{'; '.join(baseline.requests)}), replayed with the last launch's token, "
        f"{len(baseline.sequential_ms)} times each.",
        "",
        "| fetch | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
        _row("sequential, plain httpx (one after another)", baseline.sequential_ms),
        _row("parallel, plain httpx (`asyncio.gather`)", baseline.parallel_ms),
        _row(
            "the app's batch, as the simulator saw it (first start to last end)",
            [run.fhir_span_ms for run in runs],
        ),
        _row(
            "the app's whole context request (server, access log)",
            [run.server_ms["context"] for run in runs if "context" in run.server_ms],
        ),
        "",
        f"The app's parallel batch saves {saved:.0f} ms at p50 against fetching the same "
        "requests one after another.",
        "",
    ]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.launch",
        description="Benchmark the SMART launch (launch to context ready) against the "
        "simulated EHR with added latency.",
    )
    parser.add_argument("--runs", type=int, default=30, help="measured launches")
    parser.add_argument("--warmup", type=int, default=3, help="launches before measuring")
    parser.add_argument(
        "--latency-ms", type=int, default=50, help="added to every FHIR and token request"
    )
    parser.add_argument("--patients", type=int, default=120, help="synthetic patients in the EHR")
    parser.add_argument(
        "--baseline-repeats", type=int, default=30, help="repeats of each baseline fetch"
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO_ROOT,
        help="checkout whose app/ the server runs (default: this one), to compare a change",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 10_000 or not 1 <= args.warmup <= 100:
        parser.error("--runs must be 1..10000 and --warmup 1..100 (the first is the cold one)")
    if not 0 <= args.latency_ms <= 10_000 or not 1 <= args.baseline_repeats <= 10_000:
        parser.error("--latency-ms must be 0..10000 and --baseline-repeats 1..10000")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    run_id = f"bench-{secrets.token_hex(4)}"
    app_dir = args.app_dir.resolve()
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="valueloop-launch-bench-") as workdir,
        running_sim(port, args.patients, args.latency_ms) as (sim, log),
        running_app(port, Path(workdir), app_dir, sim, CLIENT_ID) as app,
        httpx.Client(follow_redirects=False, timeout=30, trust_env=False) as browser,
    ):
        print(f"Simulated EHR at {sim.base_url}; app pid {app.pid} at {app.base_url}", flush=True)
        warm = [one_launch(browser, sim, log, app, run_id, i) for i in range(args.warmup)]
        runs: list[LaunchRun] = []
        for index in range(args.warmup, args.warmup + args.runs):
            run = one_launch(browser, sim, log, app, run_id, index)
            runs.append(run)
            print(
                f"  launch {len(runs):3}: total {run.total_ms:6.1f} ms, {run.rounds} rounds, "
                f"own {run.own_ms:5.1f} ms",
                flush=True,
            )
        attach_server_times([*warm, *runs], app)
        print("Baseline fetches", flush=True)
        baseline = measure_baseline(sim, log, runs[-1], args.baseline_repeats)
    text = report(
        started=started, args=args, app_dir=app_dir, cold=warm[0], runs=runs, baseline=baseline
    )
    write_report("launch", started, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
