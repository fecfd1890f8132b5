"""Registry benchmark: list pages, statistics and exports over real HTTP, on PostgreSQL.

    .venv/bin/python -m bench.registry --flags 1000000

What it does, in order:

1. Creates its own database (``valueloop_bench`` on ``postgresql://postgres@127.0.0.1:5432``;
   never the ``test`` database, whose tables the test suite drops), migrates it and seeds it
   with synthetic flags (skipped when it already holds exactly ``--flags``; ``--reseed``
   starts over), then runs ``VACUUM (ANALYZE)`` so the planner sees the steady state
   autovacuum would leave.
2. Starts the real app (``valueloop serve``) in a subprocess on a free 127.0.0.1 port and
   issues itself an admin API token (revoked at the end).
3. Measures, one request at a time over HTTP with keep-alive:
   list pages for realistic filters and a 20-page cursor walk (p50/p95/p99), every statistic
   with and without a 90-day range (p50/p95), and CSV/NDJSON exports of about 10,000 and
   100,000 rows (rows/s, MB/s, and the server's RSS before and at its peak during the
   download, from ``/proc/<pid>/status``).
4. Prints a markdown report and writes it to ``bench/results/registry-<timestamp>.md``.

All loops are bounded and all traffic stays on 127.0.0.1. Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.auth import service as token_service
from app.auth.models import Role
from app.db import create_engine_for, create_sync_engine_for, session_factory
from app.demo import choices, synthetic
from app.flags import costs
from app.migrate import upgrade
from app.organizations import repository as organization_repository
from app.organizations import service as organization_service
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from app.staff import repository as staff_repository
from app.staff import service as staff_service
from app.staff.schemas import StaffCreate
from bench.server import BenchError, free_port, serving, write_report

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE_PREFIX = "valueloop_bench"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

LIST_TARGET_P95_MS = 50.0
STAT_TARGET_MS = 300.0
RSS_TARGET_MB = 200.0
# Exporting 10x the rows may cost at most this much more peak memory to count as "flat".
FLAT_MEMORY_SLACK_MB = 16.0

DEPARTMENT = choices.DEPARTMENTS[0]  # "Emergency Department"
MRI_LUMBAR = f"{costs.CPT}|72148"
REPORTER = "Practitioner/synth-pr-0001"

Params = list[tuple[str, str]]


# --- numbers -----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of samples at or below."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Latency:
    name: str
    query: str
    samples: list[float] = field(default_factory=list)
    # The app process's CPU time (user + system) over the counted requests.
    cpu_seconds: float | None = None

    def p(self, q: float) -> float:
        return percentile(self.samples, q)

    def cpu_ms_per_request(self) -> str:
        if self.cpu_seconds is None or not self.samples:
            return "-"
        return f"{self.cpu_seconds * 1000 / len(self.samples):.1f}"


@dataclass
class ExportResult:
    fmt: str
    target_rows: int
    rows: int
    expected_rows: int
    megabytes: float
    seconds: float
    rss_before_mb: float
    rss_peak_mb: float
    peak_source: str
    error: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds if self.seconds else 0.0

    @property
    def growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb


# --- the database ------------------------------------------------------------------------------


def server_url(raw: str) -> URL:
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"--server must be a postgresql:// URL, not {raw!r}")
    if url.database:
        raise SystemExit("--server names the server only; give the database with --database")
    if (url.host or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(
            "This benchmark creates and drops databases: run it against a local server "
            "(127.0.0.1) only."
        )
    return url


def database_url(server: URL, name: str) -> str:
    return server.set(database=name).render_as_string(hide_password=False)


def admin_connection(server: URL, dbname: str = "postgres") -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=server.host or "127.0.0.1",
        port=server.port or 5432,
        user=server.username or "postgres",
        password=server.password or None,
        dbname=dbname,
        autocommit=True,
    )


def ensure_database(server: URL, name: str, *, recreate: bool) -> None:
    if not name.startswith(DATABASE_PREFIX):
        raise SystemExit(
            f"Refusing database {name!r}: the benchmark only creates and drops databases "
            f"named {DATABASE_PREFIX}* (never the test suite's 'test')."
        )
    with admin_connection(server) as connection:
        exists = (
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is not None
        )
        if exists and recreate:
            print(f"Dropping database {name} to seed it again", flush=True)
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )
            exists = False
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}", flush=True)


def count_flags(url: str) -> int:
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM flag")).scalar_one())
    finally:
        engine.dispose()


def seed_with_progress(
    url: str, flags: int, seed: int, organizations: Sequence[uuid.UUID] = (DEFAULT_ORGANIZATION_ID,)
) -> float:
    """Seed ``flags`` synthetic flags, reporting progress every 30 s; the seconds it took.

    A side thread also runs ANALYZE on the tables a few seconds in and then every 30 s. The
    foreign-key check of each timeline event plans its lookup of the flag once per connection;
    planned on an empty table without statistics it may pick a whole-index scan (on
    ``ix_flag_updated``) and seeding turns quadratic. ANALYZE invalidates that plan, as
    autovacuum would in production (it may be off on a benchmark server).
    """
    engine = create_sync_engine_for(url)
    stop = threading.Event()

    def analyze_and_report() -> None:
        wait = 5.0
        while not stop.wait(wait):
            with engine.begin() as connection:
                connection.execute(sa.text("ANALYZE flag, flag_event"))
                done = connection.execute(sa.text("SELECT count(*) FROM flag")).scalar_one()
            print(f"  ... {done:,} of {flags:,} flags", flush=True)
            wait = 30.0

    reporter = threading.Thread(target=analyze_and_report, daemon=True)
    print(
        f"Seeding {flags:,} synthetic flags over {len(organizations)} organization(s) "
        "(minutes for a million)",
        flush=True,
    )
    started = time.perf_counter()
    reporter.start()
    try:
        synthetic.seed(engine, flags, seed=seed, organizations=organizations)
    finally:
        stop.set()
        reporter.join()
        engine.dispose()
    seconds = time.perf_counter() - started
    print(f"Seeded {flags:,} flags in {seconds:,.0f} s", flush=True)
    return seconds


def vacuum_analyze(server: URL, name: str) -> None:
    with admin_connection(server, name) as connection:
        connection.execute("VACUUM (ANALYZE) flag, flag_event, audit_event, api_token")


def organization_codes(count: int) -> list[str]:
    """The benchmark's organizations: ``bench-01`` to ``bench-NN`` (none: the default one)."""
    return [f"bench-{number:02d}" for number in range(1, count + 1)]


async def _ensure_organizations(url: str, codes: Sequence[str]) -> list[uuid.UUID]:
    engine = create_engine_for(url)
    try:
        async with session_factory(engine)() as session:
            ids = []
            for code in codes:
                found = await organization_repository.by_code(session, code)
                if found is None:
                    found = await organization_service.add(
                        session, code, name=f"Benchmark organization {code[6:]}"
                    )
                ids.append(found.id)
            await session.commit()
            return ids
    finally:
        await engine.dispose()


def _organizations_holding_flags(url: str) -> int:
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(DISTINCT organization_id) FROM flag")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def prepare_database(args: argparse.Namespace, server: URL) -> tuple[str, float | None]:
    """The benchmark database, migrated and holding exactly ``--flags`` flags (dealt over
    ``--organizations`` organizations, when given)."""
    url = database_url(server, args.database)
    ensure_database(server, args.database, recreate=args.reseed)
    upgrade(url)
    existing = count_flags(url)
    spread = max(args.organizations, 1)
    if existing not in (0, args.flags) or (
        existing and _organizations_holding_flags(url) != min(spread, existing)
    ):
        print(
            f"{args.database} holds {existing:,} flags, not {args.flags:,} over {spread} "
            "organization(s)",
            flush=True,
        )
        ensure_database(server, args.database, recreate=True)
        upgrade(url)
        existing = 0
    codes = organization_codes(args.organizations)
    organizations = asyncio.run(_ensure_organizations(url, codes)) if codes else []
    seeded_in = None
    if existing == 0:
        seeded_in = seed_with_progress(
            url, args.flags, args.seed, organizations or (DEFAULT_ORGANIZATION_ID,)
        )
    else:
        print(f"{args.database} already holds {existing:,} flags; not seeding", flush=True)
    print("VACUUM (ANALYZE)", flush=True)
    vacuum_analyze(server, args.database)
    return url, seeded_in


@dataclass(frozen=True)
class Dataset:
    """Facts about the seeded data that the scenarios' parameters depend on."""

    flags: int
    events: int
    oldest: date
    newest: date
    export_windows: dict[int, tuple[date | None, int]]

    @property
    def since_90_days(self) -> date:
        return self.newest - timedelta(days=89)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def describe_dataset(url: str, export_targets: Sequence[int]) -> Dataset:
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            flags, oldest, newest = connection.execute(
                sa.text("SELECT count(*), min(created_at), max(created_at) FROM flag")
            ).one()
            events = connection.execute(sa.text("SELECT count(*) FROM flag_event")).scalar_one()
            windows: dict[int, tuple[date | None, int]] = {}
            for target in export_targets:
                if target >= flags:
                    windows[target] = (None, flags)
                    continue
                # The day of the target-th newest flag: exporting from it gives about target rows.
                boundary = connection.execute(
                    sa.text(
                        "SELECT created_at FROM flag ORDER BY created_at DESC, id DESC "
                        "OFFSET :skip LIMIT 1"
                    ),
                    {"skip": target - 1},
                ).scalar_one()
                day = boundary.astimezone(UTC).date()
                matching = connection.execute(
                    sa.text("SELECT count(*) FROM flag WHERE created_at >= :since"),
                    {"since": _start_of(day)},
                ).scalar_one()
                windows[target] = (day, int(matching))
    finally:
        engine.dispose()
    return Dataset(
        flags=int(flags),
        events=int(events),
        oldest=oldest.astimezone(UTC).date(),
        newest=newest.astimezone(UTC).date(),
        export_windows=windows,
    )


# --- the app under test ------------------------------------------------------------------------


def proc_status_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (and the other Vm* lines) of a process, in kB."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Vm"):
                key, _, rest = line.partition(":")
                values[key] = int(rest.split()[0])
    return values


@dataclass
class Server:
    pid: int
    base_url: str
    log_path: Path
    lifetime_peak_kb: int = 0

    def last_error(self) -> str | None:
        """The last exception line the server logged (uvicorn prints tracebacks)."""
        found = None
        for line in self.log_path.read_text(errors="replace").splitlines():
            if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*:", line):
                found = line.strip()
        return found

    def rss_kb(self) -> int:
        return proc_status_kb(self.pid)["VmRSS"]

    def hwm_kb(self) -> int:
        return proc_status_kb(self.pid)["VmHWM"]

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux clear_refs "5"), keeping the lifetime peak."""
        self.lifetime_peak_kb = max(self.lifetime_peak_kb, self.hwm_kb())
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w", encoding="ascii") as clear_refs:
                clear_refs.write("5")
        except OSError:
            return False
        return True

    def peak_kb(self) -> int:
        return max(self.lifetime_peak_kb, self.hwm_kb())

    def cpu_seconds(self) -> float:
        """User + system CPU time the app process has used (``/proc/<pid>/stat``)."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples a process's VmRSS every ``interval`` seconds while running."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, proc_status_kb(self.pid)["VmRSS"])
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def running_app(url: str, workdir: Path, app_dir: Path) -> Iterator[Server]:
    """``valueloop serve`` from ``app_dir`` on a free loopback port, in demo mode."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "VALUELOOP_MODE": "demo",
        "VALUELOOP_DATABASE_URL": url,
        "VALUELOOP_BASE_URL": base_url,
        "VALUELOOP_DATA_DIR": str(workdir / "var"),
        "VALUELOOP_LOG_LEVEL": "WARNING",
    }
    log_path = workdir / "server.log"
    with serving(port=port, env=env, app_dir=app_dir, log_path=log_path) as process:
        yield Server(pid=process.pid, base_url=base_url, log_path=log_path)


async def _issue_admin_token(url: str) -> tuple[str, uuid.UUID]:
    engine = create_engine_for(url)
    try:
        async with session_factory(engine)() as session:
            issued = token_service.issue(
                session, name="registry benchmark", role=Role.ADMIN, created_by="bench"
            )
            await session.commit()
            return issued.secret, issued.record.id
    finally:
        await engine.dispose()


async def _issue_analyst_token(url: str, code: str) -> tuple[str, uuid.UUID]:
    """A token for an analyst of organization ``code`` (added to the directory on first use)."""
    engine = create_engine_for(url)
    email = f"bench-analyst@{code}.example.org"
    try:
        async with session_factory(engine)() as session:
            person = await staff_repository.by_email(session, email)
            if person is None:
                person = await staff_service.add(
                    session,
                    StaffCreate(
                        email=email,
                        name=f"Benchmark analyst ({code})",
                        role=Role.ANALYST,
                        organization=code,
                    ),
                )
            issued = token_service.issue(
                session, name=person.name, role=Role.ANALYST, created_by="bench", staff=person
            )
            await session.commit()
            return issued.secret, issued.record.id
    finally:
        await engine.dispose()


async def _revoke_token(url: str, token_id: uuid.UUID) -> None:
    engine = create_engine_for(url)
    try:
        async with session_factory(engine)() as session:
            await token_service.revoke(session, token_id)
            await session.commit()
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Viewer:
    """Who the measured requests are made as: a token, and filters added to every request."""

    label: str
    secret: str
    params: Params = field(default_factory=list)

    def name(self, scenario: str) -> str:
        return f"{self.label}: {scenario}" if self.label else scenario


# --- measurements ------------------------------------------------------------------------------


def _get(
    client: httpx.Client, path: str, params: Params, viewer: Viewer | None = None
) -> tuple[float, httpx.Response]:
    headers = {"Authorization": f"Bearer {viewer.secret}"} if viewer else None
    query = tuple(params + viewer.params) if viewer else tuple(params)
    started = time.perf_counter()
    response = client.get(path, params=query, headers=headers)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise BenchError(
            f"GET {path} {params} answered {response.status_code}: {response.text[:500]}"
        )
    return elapsed_ms, response


def _show(params: Params) -> str:
    return "&".join(f"{key}={value}" for key, value in params)


def _cell(text: str) -> str:
    """Text for a markdown table cell: a bare | would split the cell."""
    return text.replace("|", "\\|")


def list_scenarios(data: Dataset) -> list[tuple[str, Params]]:
    since = data.since_90_days.isoformat()
    return [
        ("newest first, no filter", []),
        ("status", [("status", "submitted")]),
        ("department and status", [("department", DEPARTMENT), ("status", "triaged")]),
        ("reason, last 90 days", [("reason", "not_indicated"), ("created_from", since)]),
        ("service (order code)", [("order_code", MRI_LUMBAR)]),
        ("text in note", [("q", "back pain")]),
        ("recently updated", [("sort", "-updated_at")]),
        ("two statuses", [("status", "closed"), ("status", "action_taken")]),
        ("reporter", [("reporter", REPORTER)]),
        ("rare combination", [("driver", "payer_rule"), ("priority", "urgent")]),
    ]


def measure_lists(
    client: httpx.Client, server: Server, data: Dataset, requests: int, viewer: Viewer
) -> list[Latency]:
    results = []
    for name, params in list_scenarios(data):
        result = Latency(viewer.name(name), _show(params + viewer.params) or "(none)")
        for _ in range(5):  # warm-up, not counted
            _get(client, "/api/v1/flags", params, viewer)
        cpu_before = server.cpu_seconds()
        for _ in range(requests):
            elapsed, _response = _get(client, "/api/v1/flags", params, viewer)
            result.samples.append(elapsed)
        result.cpu_seconds = server.cpu_seconds() - cpu_before
        _progress(result)
        results.append(result)
    return results


def measure_cursor_walk(
    client: httpx.Client, requests: int, pages: int, viewer: Viewer
) -> list[Latency]:
    """Walk ``pages`` pages with next_cursor, repeated until ``requests`` pages were read."""
    walks = math.ceil(requests / pages)
    every = Latency(
        viewer.name(f"cursor walk, {pages} pages x {walks}"), "next_cursor from each page"
    )
    last = Latency(viewer.name(f"cursor walk, page {pages} only"), "as above")
    for walk in range(walks + 1):  # the first walk warms up
        params: Params = []
        for page in range(1, pages + 1):
            elapsed, response = _get(client, "/api/v1/flags", params, viewer)
            cursor = response.json()["next_cursor"]
            if walk:
                every.samples.append(elapsed)
                if page == pages:
                    last.samples.append(elapsed)
            if cursor is None:
                break
            params = [("cursor", cursor)]
    _progress(every)
    return [every, last]


def stat_endpoints() -> list[tuple[str, str, Params]]:
    breakdowns = [
        (f"breakdown by {by}", "/api/v1/stats/breakdown", [("by", by)])
        for by in ("service", "reason", "driver", "department")
    ]
    return [
        *breakdowns,
        ("weekly trend", "/api/v1/stats/weekly", []),
        ("closed loop", "/api/v1/stats/loop", []),
        ("time to close", "/api/v1/stats/close-times", []),
        ("cycle time", "/api/v1/stats/cycle-time", []),
    ]


def measure_statistics(
    client: httpx.Client, server: Server, data: Dataset, runs: int, viewer: Viewer
) -> list[Latency]:
    ranges: list[tuple[str, Params]] = [
        ("all time", []),
        (
            "90 days",
            [
                ("created_from", data.since_90_days.isoformat()),
                ("created_to", data.newest.isoformat()),
            ],
        ),
    ]
    results = []
    for name, path, params in stat_endpoints():
        for range_name, range_params in ranges:
            query = params + range_params
            endpoint = path.removeprefix("/api/v1")
            shown_query = query + viewer.params
            shown = f"{endpoint}?{_show(shown_query)}" if shown_query else endpoint
            result = Latency(viewer.name(f"{name}, {range_name}"), shown)
            for _ in range(2):  # warm-up
                _get(client, path, query, viewer)
            cpu_before = server.cpu_seconds()
            for _ in range(runs):
                elapsed, _response = _get(client, path, query, viewer)
                result.samples.append(elapsed)
            result.cpu_seconds = server.cpu_seconds() - cpu_before
            _progress(result)
            results.append(result)
    return results


def measure_export(
    client: httpx.Client, server: Server, fmt: str, target: int, window: tuple[date | None, int]
) -> ExportResult:
    since, expected = window
    params: Params = [("format", fmt)]
    if since is not None:
        params.append(("created_from", since.isoformat()))
    exact_peak = server.reset_peak()
    before_kb = server.rss_kb()
    size = 0
    newlines = 0
    error = None
    with RssSampler(server.pid) as sampler:
        started = time.perf_counter()
        try:
            with client.stream("GET", "/api/v1/exports/flags", params=tuple(params)) as response:
                if response.status_code != 200:
                    response.read()
                    raise BenchError(f"HTTP {response.status_code}: {response.text[:300]}")
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    newlines += chunk.count(b"\n")
        except (httpx.HTTPError, BenchError) as exc:
            time.sleep(0.5)  # let the server finish logging
            error = f"{type(exc).__name__}: {exc}"
            logged = server.last_error()
            if logged:
                error += f"; server logged: {logged.split(' (Background on', 1)[0]}"
        seconds = time.perf_counter() - started
    peak_kb = max(sampler.peak_kb, server.hwm_kb() if exact_peak else 0)
    rows = max(newlines - 1, 0) if fmt == "csv" else newlines  # CSV has a header line
    if error is None and rows != expected:
        print(f"  ! {fmt} export gave {rows} rows, expected {expected}", flush=True)
    result = ExportResult(
        fmt=fmt,
        target_rows=target,
        rows=rows,
        expected_rows=expected,
        megabytes=size / 1_000_000,
        seconds=seconds,
        rss_before_mb=before_kb / 1024,
        rss_peak_mb=peak_kb / 1024,
        peak_source="VmHWM" if exact_peak else f"VmRSS x{sampler.samples}",
        error=error,
    )
    if error:
        print(f"  ! {fmt} export of {expected:,} rows FAILED after {rows:,}: {error}", flush=True)
    else:
        print(
            f"  export {fmt:6} {rows:>9,} rows  {result.rows_per_second:>9,.0f} rows/s  "
            f"RSS {result.rss_before_mb:.0f} -> peak {result.rss_peak_mb:.0f} MB",
            flush=True,
        )
    return result


def measure_exports(
    client: httpx.Client, server: Server, data: Dataset, targets: Sequence[int]
) -> list[ExportResult]:
    smallest = data.export_windows[targets[0]][0]
    warm_up: Params = [("created_from", smallest.isoformat())] if smallest else []
    for fmt in ("csv", "ndjson"):  # warm up: first-use allocations are not the export's
        try:
            with client.stream(
                "GET", "/api/v1/exports/flags", params=(("format", fmt), *warm_up)
            ) as response:
                for _ in response.iter_bytes():
                    pass
        except httpx.HTTPError:
            pass  # measured (and reported) below
    results = []
    for target in targets:
        for fmt in ("csv", "ndjson"):
            results.append(measure_export(client, server, fmt, target, data.export_windows[target]))
    return results


def _progress(result: Latency) -> None:
    print(
        f"  {result.name:42} p50 {result.p(50):7.1f}  p95 {result.p(95):7.1f}  "
        f"p99 {result.p(99):7.1f} ms",
        flush=True,
    )


# --- the report --------------------------------------------------------------------------------


def _ok(passed: bool) -> str:
    return "yes" if passed else "**no**"


def machine_facts(server: URL, database: str) -> list[str]:
    cpu = "unknown CPU"
    memory = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    with admin_connection(server, database) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        settings = {
            name: connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")
        }
    shown = ", ".join(f"{name}={row[0] if row else '?'}" for name, row in settings.items())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (app/ has uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return [
        f"- Machine: {os.cpu_count()} cores ({cpu}), {memory} RAM, {platform.system()} "
        f"{platform.release()}",
        f"- PostgreSQL {version[0] if version else '?'} on 127.0.0.1 (defaults: {shown})",
        f"- Python {platform.python_version()}; one app process (`valueloop serve`, uvicorn), "
        "one client on the same machine, one request at a time, keep-alive",
        f"- Commit {commit}",
    ]


def report(
    *,
    started: datetime,
    machine: list[str],
    app_dir: Path,
    data: Dataset,
    seeded_in: float | None,
    lists: list[Latency],
    stats: list[Latency],
    exports: list[ExportResult],
    server_peak_mb: float | None,
) -> str:
    lines = [
        f"## Registry benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- Data: {data.flags:,} synthetic flags, {data.events:,} timeline events, created "
        f"{data.oldest} to {data.newest}"
        + (f" (seeded in {seeded_in:,.0f} s)" if seeded_in is not None else ""),
        *machine,
        *([] if app_dir == REPO_ROOT else [f"- App served from `{app_dir}`, not this checkout"]),
        "",
    ]
    if lists:
        lines += [
            f"### List pages (`GET /api/v1/flags`, 50 per page; target p95 <= "
            f"{LIST_TARGET_P95_MS:.0f} ms)",
            "",
            "| scenario | filters | requests | p50 ms | p95 ms | p99 ms | max ms "
            "| app CPU ms/req | p95 target |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for item in lists:
            lines.append(
                f"| {item.name} | `{_cell(item.query)}` | {len(item.samples)} | {item.p(50):.1f} | "
                f"{item.p(95):.1f} | {item.p(99):.1f} | {max(item.samples):.1f} | "
                f"{item.cpu_ms_per_request()} | {_ok(item.p(95) <= LIST_TARGET_P95_MS)} |"
            )
        lines.append("")
    if stats:
        lines += [
            f"### Statistics (target <= {STAT_TARGET_MS:.0f} ms, judged at p95)",
            "",
            "| statistic | query | runs | p50 ms | p95 ms | max ms | app CPU ms/req | target |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for item in stats:
            lines.append(
                f"| {item.name} | `{_cell(item.query)}` | {len(item.samples)} | {item.p(50):.1f} | "
                f"{item.p(95):.1f} | {max(item.samples):.1f} | {item.cpu_ms_per_request()} | "
                f"{_ok(item.p(95) <= STAT_TARGET_MS)} |"
            )
        lines.append("")
    if exports:
        lines += [
            "### Exports (`GET /api/v1/exports/flags`, streamed; server RSS from /proc)",
            "",
            "| format | rows | MB | seconds | rows/s | MB/s | RSS before MB | peak RSS MB "
            "| growth MB | peak from |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for result in exports:
            if result.error:
                lines.append(
                    f"| {result.fmt} | **failed** after {result.rows:,} of "
                    f"{result.expected_rows:,} | {result.megabytes:.1f} | {result.seconds:.2f} "
                    f"| - | - | {result.rss_before_mb:.1f} | {result.rss_peak_mb:.1f} | "
                    f"{result.growth_mb:+.1f} | {result.peak_source} |"
                )
                continue
            lines.append(
                f"| {result.fmt} | {result.rows:,} | {result.megabytes:.1f} | "
                f"{result.seconds:.2f} | {result.rows_per_second:,.0f} | "
                f"{result.mb_per_second:.1f} | {result.rss_before_mb:.1f} | "
                f"{result.rss_peak_mb:.1f} | {result.growth_mb:+.1f} | {result.peak_source} |"
            )
        lines.append("")
        failures = [
            f"- {result.fmt} export of {result.expected_rows:,} rows failed: `{result.error}`"
            for result in exports
            if result.error
        ]
        lines += [*failures, ""] if failures else []
        lines += _flatness(exports)
    if server_peak_mb is not None:
        lines += [
            f"App process peak RSS over the whole run (VmHWM): {server_peak_mb:.1f} MB "
            f"(target < {RSS_TARGET_MB:.0f} MB: {_ok(server_peak_mb < RSS_TARGET_MB)}).",
            "",
        ]
    return "\n".join(lines)


def _flatness(exports: list[ExportResult]) -> list[str]:
    lines = []
    for fmt in ("csv", "ndjson"):
        runs = sorted((r for r in exports if r.fmt == fmt and not r.error), key=lambda r: r.rows)
        if len(runs) < 2:
            continue
        small, large = runs[0], runs[-1]
        extra = large.growth_mb - small.growth_mb
        flat = extra <= FLAT_MEMORY_SLACK_MB
        lines.append(
            f"- {fmt}: {large.rows:,} rows raised peak RSS by {large.growth_mb:+.1f} MB, "
            f"{small.rows:,} rows by {small.growth_mb:+.1f} MB; "
            f"{large.rows / max(small.rows, 1):.0f}x the rows, {extra:+.1f} MB difference "
            f"(flat: at most +{FLAT_MEMORY_SLACK_MB:.0f} MB): {_ok(flat)}"
        )
    return [*lines, ""] if lines else []


# --- main --------------------------------------------------------------------------------------


_ORGANIZATIONS_HELP = (
    "deal the flags over this many organizations (bench-01, ...) and measure as an analyst of "
    "bench-01 and at the system level (with and without ?organization=bench-01)"
)


def add_database_arguments(parser: argparse.ArgumentParser, *, organizations_help: str) -> None:
    """The options every benchmark on this database shares: its size, server and name."""
    parser.add_argument("--flags", type=int, default=1_000_000, help="flags to seed")
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432",
        help="local PostgreSQL server (no database in the URL)",
    )
    parser.add_argument(
        "--database",
        default=None,
        help=f"benchmark database, created if missing; must start with {DATABASE_PREFIX} "
        f"(default {DATABASE_PREFIX}, or {DATABASE_PREFIX}_orgsN with --organizations N)",
    )
    parser.add_argument("--organizations", type=int, default=0, help=organizations_help)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed again")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the synthetic data")


def check_database_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse what :func:`add_database_arguments` cannot take, and name the database."""
    if args.organizations < 0 or args.organizations > 99:
        parser.error("--organizations must be between 0 and 99")
    if args.database is None:
        suffix = f"_orgs{args.organizations}" if args.organizations else ""
        args.database = DATABASE_PREFIX + suffix


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.registry",
        description="Benchmark the registry API (lists, statistics, exports) on PostgreSQL.",
    )
    add_database_arguments(parser, organizations_help=_ORGANIZATIONS_HELP)
    parser.add_argument("--requests", type=int, default=200, help="requests per list scenario")
    parser.add_argument("--pages", type=int, default=20, help="pages per cursor walk")
    parser.add_argument("--stat-runs", type=int, default=20, help="runs per statistic")
    parser.add_argument(
        "--export-rows",
        default="10000,100000",
        help="comma-separated row counts to export (each in CSV and NDJSON)",
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO_ROOT,
        help="checkout whose app/ the server runs (default: this one), to compare a change",
    )
    parser.add_argument(
        "--parts",
        default="lists,stats,exports",
        help="comma-separated subset of lists,stats,exports",
    )
    args = parser.parse_args(argv)
    if args.flags < 1 or args.requests < 1 or args.pages < 1 or args.stat_runs < 1:
        parser.error("--flags, --requests, --pages and --stat-runs must be positive")
    check_database_arguments(parser, args)
    args.export_targets = sorted({int(n) for n in args.export_rows.split(",") if n.strip()})
    args.part_set = {part.strip() for part in args.parts.split(",") if part.strip()}
    unknown = args.part_set - {"lists", "stats", "exports"}
    if unknown:
        parser.error(f"unknown --parts {sorted(unknown)}")
    if "exports" in args.part_set and (not args.export_targets or min(args.export_targets) < 1):
        parser.error("--export-rows needs at least one positive row count")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    server_address = server_url(args.server)
    url, seeded_in = prepare_database(args, server_address)
    data = describe_dataset(url, args.export_targets)
    machine = machine_facts(server_address, args.database)
    secret, token_id = asyncio.run(_issue_admin_token(url))
    viewers = [Viewer("system admin" if args.organizations else "", secret)]
    issued = [token_id]
    if args.organizations:
        code = organization_codes(args.organizations)[0]
        viewers.append(Viewer(f"system admin, {code} only", secret, [("organization", code)]))
        analyst_secret, analyst_token_id = asyncio.run(_issue_analyst_token(url, code))
        viewers.append(Viewer(f"{code} analyst", analyst_secret))
        issued.append(analyst_token_id)
    lists: list[Latency] = []
    stats: list[Latency] = []
    exports: list[ExportResult] = []
    server_peak_mb = None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="valueloop-bench-") as workdir,
            running_app(url, Path(workdir), args.app_dir.resolve()) as server,
            httpx.Client(
                base_url=server.base_url,
                headers={"Authorization": f"Bearer {secret}"},
                timeout=httpx.Timeout(120.0),
                trust_env=False,  # never through a proxy: traffic stays on 127.0.0.1
            ) as client,
        ):
            print(f"App pid {server.pid} at {server.base_url}", flush=True)
            if "lists" in args.part_set:
                print("List pages", flush=True)
                for viewer in viewers:
                    lists += measure_lists(client, server, data, args.requests, viewer)
                    lists += measure_cursor_walk(client, args.requests, args.pages, viewer)
            if "stats" in args.part_set:
                print("Statistics", flush=True)
                for viewer in viewers:
                    stats += measure_statistics(client, server, data, args.stat_runs, viewer)
            if "exports" in args.part_set:
                print("Exports", flush=True)
                exports = measure_exports(client, server, data, args.export_targets)
            server_peak_mb = server.peak_kb() / 1024
    finally:
        for issued_id in issued:
            asyncio.run(_revoke_token(url, issued_id))
    text = report(
        started=started,
        machine=machine,
        app_dir=args.app_dir.resolve(),
        data=data,
        seeded_in=seeded_in,
        lists=lists,
        stats=stats,
        exports=exports,
        server_peak_mb=server_peak_mb,
    )
    write_report("registry", started, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
