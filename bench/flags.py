"""Flag-submission load benchmark: 50 clinicians flagging orders at once, on PostgreSQL.

    .venv/bin/python -m bench.flags [--seconds 20] [--warmup 5] [--clients 50] [--processes 2]
    .venv/bin/python -m bench.flags --rate 345      # open loop: latency at the target rate
    .venv/bin/python -m bench.flags --kill          # SIGKILL one app process mid-load

The target (DESIGN.md, issue #12; 2-core machine): with PostgreSQL, two app processes and 50
concurrent clients, at least 345 new flags/s, p99 <= 100 ms, app CPU <= 3 ms per flag, zero
errors; and with one process SIGKILLed and restarted mid-load, nothing lost, doubled or
half-written.

What it does, in order:

1. Creates a throwaway database ``valueloop_bench_flags_<random>`` on
   ``postgresql://postgres@127.0.0.1:5432`` (``--server``), migrates it with
   ``valueloop migrate`` and drops it at the end (``--keep-database`` keeps it).
2. Starts the simulated EHR in its own process (``valueloop ehr-sim``: it must not share a GIL
   with the load client), with ValueLoop registered as a public client whose redirect URIs
   are every app process's ``/launch/callback``, and registers it with ValueLoop
   (``valueloop ehrs add``).
3. Starts ``--processes`` app processes (``valueloop serve``, demo mode), each on its own
   127.0.0.1 port with its own ``VALUELOOP_BASE_URL``, sharing the database, one
   ``VALUELOOP_SECRET_KEY`` and one data directory; logs at WARNING (no access log in the
   measurement), one log file per process.
4. Makes ``--clients`` real SMART launches through the simulator, the browser's path
   (``POST /_sim/launches`` -> ``GET /launch`` -> the EHR's authorize -> ``/launch/callback``
   -> the session handle from ``<meta name="valueloop-session">``), client i on app process
   i mod P, each on its own in-progress encounter as that encounter's attending practitioner;
   then ``GET /api/v1/clinician/context`` for each, to learn its orders.
5. Load: every client, one request at a time, flags its orders in turn
   (``POST /api/v1/clinician/flags`` with ``X-ValueLoop-Session``, a fresh idempotency key per
   flag, reasons, roles and anonymity mixed) against its own app process. Closed loop by
   default (the next flag when the last is answered: capacity; mean latency is then clients /
   throughput, Little's law); ``--rate R`` makes it an open loop, flags due evenly spaced at R
   per second in total, latency counted from when each was due. The first ``--warmup``
   seconds are not counted; the measured window lasts ``--seconds`` (or until ``--flags`` new
   flags). Clients run in this process (asyncio, with a minimal HTTP/1.1 client: httpx costs
   about 1.6 ms of CPU per request, ``--http httpx``) or, with ``--client-processes N``, in N
   worker processes.
6. CPU: utime + stime from ``/proc/PID/stat`` of each app process, the simulator, the load
   client(s), PostgreSQL's backends of this database and its background processes, sampled
   every 0.5 s over the measured window (the machine's total from ``/proc/stat``, so other
   work on the machine shows). App CPU per flag = the app processes' CPU time in the window
   / new flags acknowledged in the window.
7. ``--kill``: ``--kill-after`` seconds into the window, app process ``--kill-process`` is
   SIGKILLed and restarted on the same port (its start-up CPU is reported apart). Clients
   whose request fails with a connection error or a 5xx retry the SAME request with the SAME
   idempotency key (next attempt on the next app process, as a load balancer would) until it
   is acknowledged, at most ``--max-tries`` times.
8. Checks the database directly (psycopg), in every mode: every acknowledged flag exists with
   its key; no key has two flags; no flag has a key nobody sent; every flag has exactly one
   'created' timeline event and one 'create' audit row (else: half-written); flags = distinct
   acknowledged keys + keys never acknowledged whose request may have committed (in flight at
   a failure, reported apart). Then re-sends a sample of acknowledged requests (and every one
   that was retried) with the same key: each must answer 201, ``created=false``, same flag.
   A failed check makes the exit code 1 (missed performance targets do not).
9. Prints a markdown report and writes it to ``bench/results/flags-<timestamp>.md``.

Profiling one app process: ``--profile`` runs ``py-spy record`` on app process 0 over the
measured window if py-spy is installed (``pip install py-spy``; not a project dependency),
writing collapsed stacks to ``bench/results/flags-profile-<timestamp>.txt`` and the heaviest
functions into the report (the sampling costs CPU: do not
compare its figures with unprofiled runs). By hand: the report's first lines print the PIDs;
``py-spy top --pid PID`` or ``py-spy record --pid PID -o profile.svg --duration 20``.

All loops are bounded in count and time; all traffic stays on 127.0.0.1. Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from bench.server import BenchError, free_port, start_serving, stop_serving, valueloop, write_report

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DATABASE_PREFIX = "valueloop_bench_flags_"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

FLAGS_PER_SECOND_TARGET = 345.0
P99_TARGET_MS = 100.0
CPU_PER_FLAG_TARGET_MS = 3.0

CLIENT_ID = "valueloop-bench-flags"
SESSION_HEADER = "X-ValueLoop-Session"
SESSION_META = re.compile(r'<meta name="valueloop-session" content="([^"]+)"')
FLAGS_PATH = "/api/v1/clinician/flags"
CONTEXT_PATH = "/api/v1/clinician/context"
SAMPLE_SECONDS = 0.5
MAX_FLAGS_PER_CLIENT = 1_000_000  # a bound on each client's loop besides the clock
REPOST_SAMPLE = 50  # acknowledged flags re-sent at the end, besides every retried one
REPOST_MAX = 1000
CLK_TCK = os.sysconf("SC_CLK_TCK")

REASONS = ("not_indicated", "repeat_duplicate", "lower_cost_alternative", "low_benefit", "other")
DRIVERS = (None, "patient_request", "order_set_default", None, "defensive_medicine", "protocol")
# Mostly identified, some confidential and anonymous (anonymous keys have no reporter scope).
ANONYMITY = ("identified",) * 7 + ("confidential",) * 2 + ("anonymous",)
ROLES = ("physician",) * 5 + ("resident", "advanced_practice_provider", "nurse", "pharmacist")
NOTES = (
    "Synthetic benchmark note: guideline says not indicated here.",
    "Synthetic benchmark note: repeated within the last month.",
)


# --- numbers -----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of samples at or below."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def _ok(passed: bool) -> str:
    return "yes" if passed else "**no**"


# --- CPU from /proc ----------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # the 14th and 15th: utime, stime


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    return total - values[3] - values[4], total


PG_BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum",
    "logical replication",
    "stats collector",
    "archiver",
)


def postgres_pids(database: str, skip: set[int]) -> dict[int, str]:
    """PostgreSQL processes: "pg-ours" (backends of ``database``) or "pg-background"
    (postmaster, WAL writer, checkpointer, ...). Other databases' backends are left out.

    Processes found not to be PostgreSQL are added to ``skip`` and not read again (cheap
    enough to run every half second on a busy machine).
    """
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            with open(f"/proc/{entry.name}/comm", encoding="utf-8", errors="replace") as comm:
                if comm.read().strip() != "postgres":
                    skip.add(int(entry.name))
                    continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                title = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if f" {database} " in f" {title} ":
            found[int(entry.name)] = "pg-ours"
        elif not title.startswith("postgres:") or any(name in title for name in PG_BACKGROUND):
            found[int(entry.name)] = "pg-background"
    return found


class CpuLedger:
    """CPU seconds per role over a window, from periodic samples of each process.

    A process's use is its last sample minus its first (or minus the value at which it was
    adopted, for a restarted app: its start-up is not load). Processes that appear during
    the window start from zero; processes that vanish keep their last sample.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._roles: dict[int, str] = {}
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._fixed: dict[int, str] = {}  # pid -> role, processes we started
        self._born: set[int] = set()  # first seen after the window started
        self._not_postgres: set[int] = set()
        self.machine_start: tuple[int, int] = (0, 0)
        self.machine_end: tuple[int, int] = (0, 0)

    def watch(self, pid: int, role: str, *, baseline: float | None = None) -> None:
        with self._lock:
            self._fixed[pid] = role
            if baseline is not None:
                self._roles[pid] = role
                self._first[pid] = baseline
                self._last[pid] = baseline

    def start(self) -> None:
        self.machine_start = machine_ticks()
        self.sample(first=True)

    def finish(self) -> None:
        self.sample()
        self.machine_end = machine_ticks()

    def sample(self, *, first: bool = False) -> None:
        with self._lock:
            pids = dict(self._fixed)
        pids.update(postgres_pids(self.database, self._not_postgres))
        with self._lock:
            for pid, role in pids.items():
                seconds = process_cpu_seconds(pid)
                if seconds is None:
                    continue
                self._roles[pid] = role
                if pid not in self._first:
                    self._first[pid] = seconds if first else 0.0
                    if not first:
                        self._born.add(pid)
                self._last[pid] = seconds

    def forget(self, pid: int) -> None:
        """Stop sampling a process (killed); its last sample stays."""
        with self._lock:
            self._fixed.pop(pid, None)

    def seconds(self, role: str) -> float:
        with self._lock:
            return sum(
                self._last[pid] - self._first[pid]
                for pid, owner in self._roles.items()
                if owner == role
            )

    def pids(self, role: str) -> list[int]:
        with self._lock:
            return sorted(pid for pid, owner in self._roles.items() if owner == role)

    def born(self, role: str) -> int:
        """How many of the role's processes appeared during the window."""
        with self._lock:
            return sum(1 for pid in self._born if self._roles.get(pid) == role)

    def machine_busy_cores(self, window: float) -> float:
        busy = self.machine_end[0] - self.machine_start[0]
        return busy / CLK_TCK / window if window > 0 else math.nan


# --- the stack: database, simulated EHR, app processes -----------------------------------------


def server_url(raw: str) -> URL:
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"--server must be a postgresql:// URL, not {raw!r}")
    if url.database:
        raise SystemExit("--server names the server only (the benchmark makes its database)")
    if (url.host or "127.0.0.1") not in LOOPBACK:
        raise SystemExit("This benchmark creates and drops a database: 127.0.0.1 only.")
    return url


def _conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def throwaway_database(server: URL, keep: bool) -> Iterator[str]:
    """A new empty database; dropped afterwards (``WITH (FORCE)``) unless ``keep``."""
    name = f"{DATABASE_PREFIX}{secrets.token_hex(4)}"
    admin = _conninfo(server.set(database="postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _conninfo(server.set(database=name))
    finally:
        if keep:
            print(f"Kept database {name}", flush=True)
        else:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def clean_env() -> dict[str, str]:
    """This process's environment without ValueLoop/simulator settings or proxies."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VALUELOOP_", "EHR_SIM_"))
        and key.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


@dataclass
class Sim:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/fhir"


@contextmanager
def running_sim(
    *,
    port: int,
    app_ports: Sequence[int],
    patients: int,
    latency_ms: int,
    app_dir: Path,
    log_path: Path,
) -> Iterator[Sim]:
    """``valueloop ehr-sim`` in its own process, with ValueLoop registered as a public client
    whose redirect URIs are every app process's callback."""
    registration = {
        "client_id": CLIENT_ID,
        "name": "ValueLoop (flag benchmark)",
        "kind": "public",
        "redirect_uris": [f"http://127.0.0.1:{p}/launch/callback" for p in app_ports],
        "launch_url": f"http://127.0.0.1:{app_ports[0]}/launch",
    }
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "ehr-sim",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--patients",
        str(patients),
        "--latency-ms",
        str(latency_ms),
        "--client",
        json.dumps(registration),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=app_dir, env=clean_env(), stdout=log, stderr=subprocess.STDOUT
        )
    sim = Sim(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            for _ in range(240):  # at most about a minute
                if process.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise BenchError(f"the simulated EHR exited with {process.returncode}:\n{tail}")
                try:
                    if client.get(f"{sim.fhir_base}/metadata").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            else:
                raise BenchError(f"the simulated EHR did not start; see {log_path}")
        yield sim
    finally:
        stop_serving(process)


@dataclass
class AppProcess:
    """One ``valueloop serve`` process on a fixed port; it can be killed and started again."""

    index: int
    port: int
    env: dict[str, str]
    app_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)  # every incarnation, in order

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, append: bool = False) -> None:
        self.process = start_serving(
            port=self.port, env=self.env, app_dir=self.app_dir, log_path=self.log_path,
            append=append,
        )  # fmt: skip
        self.pids.append(self.process.pid)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, connections cut mid-request."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None:
            stop_serving(self.process)


def app_env(
    *, port: int, database_url: str, data_dir: Path, secret_key: str, extra: dict[str, str]
) -> dict[str, str]:
    env = clean_env()
    env.update(
        {
            "VALUELOOP_MODE": "demo",
            "VALUELOOP_DATABASE_URL": database_url,
            "VALUELOOP_BASE_URL": f"http://127.0.0.1:{port}",
            "VALUELOOP_DATA_DIR": str(data_dir),  # shared, with the key below set explicitly
            "VALUELOOP_SECRET_KEY": secret_key,
            "VALUELOOP_LOG_LEVEL": "WARNING",  # errors and warnings only: no access log
            **extra,
        }
    )
    return env


# --- launches ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encounter:
    patient: str
    encounter: str
    user: str  # the encounter's attending practitioner, "Practitioner/..."


def in_progress_encounters(patients: int) -> list[Encounter]:
    """The simulator's in-progress encounters, from the same deterministic generator it uses
    (same seed and patient count: same ids; only the timestamps depend on the clock)."""
    from ehr_sim.data.generator import generate

    found: list[Encounter] = []
    for resource in generate(seed=1, patients=patients, now=datetime.now(UTC)):
        if resource["resourceType"] != "Encounter" or resource.get("status") != "in-progress":
            continue
        user = "Practitioner/prac-00001"
        for participant in resource.get("participant", []):
            reference = participant.get("individual", {}).get("reference", "")
            if reference.startswith("Practitioner/"):
                user = reference
                break
        found.append(
            Encounter(
                patient=resource["subject"]["reference"].split("/", 1)[1],
                encounter=resource["id"],
                user=user,
            )
        )
    if not found:
        raise BenchError("the simulated EHR has no in-progress encounter")
    return found


@dataclass
class ClientSpec:
    """One simulated clinician: a launched session on one app process, and its orders."""

    index: int
    home: int  # index of the app process it launched on and sends to
    handle: str
    orders: list[tuple[str, str]]  # (resource_type, fhir id)
    role: str


def _expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")


def _on(url: str, prefix: str, what: str) -> str:
    if not url.startswith(prefix) or urlsplit(url).hostname != "127.0.0.1":
        raise BenchError(f"{what} went to {url[:80]!r}, not {prefix}")
    return url


async def launch_one(sim: Sim, app: AppProcess, encounter: Encounter) -> tuple[str, list[Any]]:
    """The browser's SMART launch; the session handle and the context's orders."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=30, trust_env=False) as browser:
        created = await browser.post(
            f"{sim.base_url}/_sim/launches",
            json={
                "user": encounter.user,
                "patient": encounter.patient,
                "encounter": encounter.encounter,
            },
        )
        _expect(created, 201, "creating the launch at the simulated EHR")
        first = await browser.get(
            f"{app.base_url}/launch",
            params={"iss": sim.fhir_base, "launch": str(created.json()["launch"])},
        )
        _expect(first, 302, "GET /launch")
        authorize = _on(first.headers["location"], f"{sim.base_url}/auth/authorize", "/launch")
        second = await browser.get(authorize)
        _expect(second, 302, "the simulated EHR's authorize")
        callback = _on(second.headers["location"], f"{app.base_url}/launch/callback", "authorize")
        third = await browser.get(callback)
        _expect(third, 200, "GET /launch/callback")
        match = SESSION_META.search(third.text)
        if match is None:
            raise BenchError("the in-EHR page carries no valueloop-session meta tag")
        context = await browser.get(
            f"{app.base_url}{CONTEXT_PATH}", headers={SESSION_HEADER: match.group(1)}
        )
        _expect(context, 200, "GET /api/v1/clinician/context")
        return match.group(1), list(context.json().get("orders") or [])


async def launch_all(
    sim: Sim, apps: Sequence[AppProcess], clients: int, encounters: Sequence[Encounter]
) -> list[ClientSpec]:
    """One launch per client, client i on app i mod P, a few at a time."""
    gate = asyncio.Semaphore(8)

    async def one(index: int) -> ClientSpec:
        async with gate:
            for offset in range(len(encounters)):  # bounded: skip encounters without orders
                encounter = encounters[(index + offset * clients) % len(encounters)]
                home = index % len(apps)
                handle, orders = await launch_one(sim, apps[home], encounter)
                usable = [
                    (str(order["resource_type"]), str(order["fhir_id"]))
                    for order in orders
                    if order.get("resource_type") and order.get("fhir_id")
                ]
                if usable:
                    return ClientSpec(
                        index=index,
                        home=home,
                        handle=handle,
                        orders=usable,
                        role=ROLES[index % len(ROLES)],
                    )
            raise BenchError("no in-progress encounter with orders to flag")

    return list(await asyncio.gather(*(one(index) for index in range(clients))))


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Attempt:
    app: int  # index of the app process it went to
    sent: float  # time.monotonic(): CLOCK_MONOTONIC, the same in every process on the machine
    ended: float = math.nan  # nan: never finished (cancelled at the end)
    status: int = 0  # 0: no HTTP response
    error: str | None = None  # the transport error's class
    created: bool | None = None
    flag_id: str | None = None

    @property
    def failed(self) -> bool:
        """Worth retrying: no response at all, or a 5xx (the request may have committed)."""
        return self.status == 0 or self.status >= 500

    @property
    def kind(self) -> str:
        if math.isnan(self.ended):
            return "unfinished (cancelled at the end of the run)"
        if self.status == 0:
            return f"no response ({self.error})"
        return f"HTTP {self.status}"


@dataclass
class FlagRecord:
    client: int
    key: str
    body: dict[str, Any]
    home: int
    # When the flag was due: its first send in a closed loop; its slot in the schedule with
    # --rate, so a client that falls behind shows the wait (no coordinated omission).
    scheduled: float = math.nan
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def latency(self) -> float:
        """Seconds from when the flag was due to its acknowledgement (nan: none)."""
        ack = self.ack
        if ack is None:
            return math.nan
        due = self.first_sent if math.isnan(self.scheduled) else self.scheduled
        return ack.ended - due

    @property
    def ack(self) -> Attempt | None:
        """The attempt that was acknowledged (201), if any."""
        last = self.attempts[-1] if self.attempts else None
        return last if last is not None and last.status == 201 else None

    @property
    def first_sent(self) -> float:
        return self.attempts[0].sent

    @property
    def had_failure(self) -> bool:
        return any(attempt.failed for attempt in self.attempts)


@dataclass
class LoadPlan:
    app_urls: list[str]
    clients: list[ClientSpec]
    max_tries: int
    retry_seconds: float
    timeout: float
    think_ms: float
    flags_target: int | None
    http: str  # "raw" or "httpx"
    rate: float | None  # flags/s offered by all clients together; None: closed loop
    path: str = FLAGS_PATH  # what the clients POST to (bench.floor points it elsewhere)


@dataclass
class Shared:
    """Clock marks and counters every load process sees (multiprocessing values)."""

    start: Any  # Value("d"): when the clients start, warm-up included (time.monotonic())
    t0: Any  # Value("d"): start of the measured window
    stop_at: Any  # Value("d"): no new flag is started from then on; the window's end
    created: Any  # Value("q"): new flags acknowledged inside the window so far


def flag_body(spec: ClientSpec, number: int) -> dict[str, Any]:
    resource_type, order_id = spec.orders[number % len(spec.orders)]
    mix = spec.index * 7 + number
    body: dict[str, Any] = {
        "resource_type": resource_type,
        "order_id": order_id,
        "reason": REASONS[mix % len(REASONS)],
        "timing": "before" if mix % 3 else "after",
        "anonymity": ANONYMITY[mix % len(ANONYMITY)],
        "reporter_role": spec.role,
        "idempotency_key": uuid.uuid4().hex,
    }
    driver = DRIVERS[mix % len(DRIVERS)]
    if driver is not None:
        body["driver"] = driver
    # A quarter carry a note; reason "other" always does (the app refuses it without one).
    if mix % 4 == 0 or body["reason"] == "other":
        body["note"] = NOTES[mix % len(NOTES)]
    return body


class TransportFailure(Exception):
    """No HTTP response: refused, reset, closed early or timed out (``kind`` names which)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


Answer = tuple[int, dict[str, str], bytes]  # status, headers (lower-case names), body


class RawHttp:
    """Just enough HTTP/1.1 to POST JSON and read the answer, over asyncio streams: one
    keep-alive connection per app process, one request at a time (one per client).

    It exists to keep the load client cheap: httpx costs about 1.6 ms of CPU per request
    here, which at 345 requests/s would take most of a core on a 2-core machine from the
    processes being measured. Used only for the flag POSTs; launches use httpx.
    """

    def __init__(
        self, app_urls: Sequence[str], handle: str, timeout: float, path: str = FLAGS_PATH
    ) -> None:
        self._timeout = timeout
        self._addresses: list[tuple[str, int]] = []
        self._heads: list[bytes] = []
        for url in app_urls:
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 80
            self._addresses.append((host, port))
            self._heads.append(
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nAccept: application/json\r\n"
                f"{SESSION_HEADER}: {handle}\r\nContent-Length: ".encode("latin-1")
            )
        self._connections: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def post(self, app: int, payload: bytes) -> Answer:
        try:
            return await asyncio.wait_for(self._exchange(app, payload), self._timeout)
        except TimeoutError as exc:
            self._drop(app)
            raise TransportFailure("ReadTimeout") from exc
        except (OSError, EOFError, ValueError, IndexError) as exc:  # EOFError: IncompleteRead
            self._drop(app)
            raise TransportFailure(type(exc).__name__) from exc

    async def _exchange(self, app: int, payload: bytes) -> Answer:
        connection = self._connections.get(app)
        if connection is not None and (connection[0].at_eof() or connection[1].is_closing()):
            self._drop(app)  # the server closed it while idle
            connection = None
        if connection is None:
            connection = await asyncio.open_connection(*self._addresses[app])
            self._connections[app] = connection
        reader, writer = connection
        writer.write(self._heads[app] + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked(reader)
        else:
            body = await reader.read(1_000_000)
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self._drop(app)
        return status, headers, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        for _ in range(10_000):  # bounded
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        raise ValueError("too many chunks")

    def _drop(self, app: int) -> None:
        connection = self._connections.pop(app, None)
        if connection is not None:
            connection[1].close()

    def close(self) -> None:
        for app in list(self._connections):
            self._drop(app)


class HttpxHttp:
    """The same interface over a shared ``httpx.AsyncClient`` (``--http httpx``)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        app_urls: Sequence[str],
        handle: str,
        path: str = FLAGS_PATH,
    ) -> None:
        self._http = http
        self._urls = [url + path for url in app_urls]
        self._headers = {SESSION_HEADER: handle, "Content-Type": "application/json"}

    async def post(self, app: int, payload: bytes) -> Answer:
        try:
            response = await self._http.post(
                self._urls[app], content=payload, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise TransportFailure(type(exc).__name__) from exc
        return response.status_code, dict(response.headers), response.content

    def close(self) -> None:
        pass


Poster = RawHttp | HttpxHttp


async def submit(poster: Poster, plan: LoadPlan, record: FlagRecord) -> None:
    """Send one flag; on a connection error or 5xx, the same request again (same key), on
    the next app process, until it is acknowledged or the tries or time run out."""
    payload = json.dumps(record.body).encode()
    for number in range(plan.max_tries):
        if number and time.monotonic() - record.first_sent > plan.retry_seconds:
            return
        app = (record.home + number) % len(plan.app_urls)
        attempt = Attempt(app=app, sent=time.monotonic())
        record.attempts.append(attempt)
        retry_after = 0.0
        try:
            status, headers, content = await poster.post(app, payload)
        except TransportFailure as exc:
            attempt.ended = time.monotonic()
            attempt.error = exc.kind
        else:
            attempt.ended = time.monotonic()
            attempt.status = status
            if status == 201:
                receipt = json.loads(content)
                attempt.created = bool(receipt.get("created"))
                attempt.flag_id = str(receipt.get("flag_id"))
                return
            if status < 500:
                return  # the request itself is wrong: retrying it cannot help
            try:
                retry_after = min(2.0, float(headers.get("retry-after", "0")))
            except ValueError:
                retry_after = 0.0
        if number + 1 < plan.max_tries:
            backoff = min(1.0, 0.05 * 2**number) * (0.5 + random.random())
            await asyncio.sleep(max(backoff, retry_after))


async def client_loop(
    poster: Poster,
    plan: LoadPlan,
    shared: Shared,
    spec: ClientSpec,
    records: list[FlagRecord],
) -> None:
    # --rate: this client's flags are due every `interval` s, the clients staggered so the
    # flags are due evenly spaced overall; one request at a time, so a late one delays the next
    interval = len(plan.clients) / plan.rate if plan.rate else 0.0
    due = shared.start.value + spec.index / plan.rate if plan.rate else math.nan
    try:
        for number in range(MAX_FLAGS_PER_CLIENT):
            if plan.rate:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            if time.monotonic() >= shared.stop_at.value:
                return
            body = flag_body(spec, number)
            record = FlagRecord(
                client=spec.index,
                key=str(body["idempotency_key"]),
                body=body,
                home=spec.home,
                scheduled=due,
            )
            due += interval
            records.append(record)
            await submit(poster, plan, record)
            ack = record.ack
            if ack is None:
                await asyncio.sleep(0.05)  # not acknowledged: do not spin on a broken client
            elif ack.created and plan.flags_target and ack.ended >= shared.t0.value:
                with shared.created.get_lock():
                    shared.created.value += 1
                    if shared.created.value >= plan.flags_target:
                        shared.stop_at.value = min(shared.stop_at.value, ack.ended)
            if plan.think_ms:
                await asyncio.sleep(plan.think_ms / 1000)
    finally:
        poster.close()


async def run_clients(
    plan: LoadPlan, shared: Shared, specs: Sequence[ClientSpec], drain_seconds: float
) -> list[FlagRecord]:
    """Every client in ``specs`` until the window closes; then each finishes its flag
    (retries included), for at most ``drain_seconds``."""
    records: list[FlagRecord] = []
    limits = httpx.Limits(
        max_connections=len(specs) * len(plan.app_urls) + 10,
        max_keepalive_connections=len(specs) * len(plan.app_urls) + 10,
    )
    async with httpx.AsyncClient(timeout=plan.timeout, limits=limits, trust_env=False) as http:
        posters: list[Poster] = [
            RawHttp(plan.app_urls, spec.handle, plan.timeout, plan.path)
            if plan.http == "raw"
            else HttpxHttp(http, plan.app_urls, spec.handle, plan.path)
            for spec in specs
        ]
        tasks = [
            asyncio.create_task(client_loop(poster, plan, shared, spec, records))
            for poster, spec in zip(posters, specs, strict=True)
        ]
        deadline = shared.stop_at.value + drain_seconds
        while tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # the window may close early (--flags): look again at the deadline every second
            done, pending = await asyncio.wait(tasks, timeout=min(remaining, 1.0))
            for task in done:
                task.result()  # a bug in a client loop is a bench error, not a figure
            tasks = list(pending)
            deadline = shared.stop_at.value + drain_seconds
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return records


def worker_main(
    plan: LoadPlan,
    shared: Shared,
    specs: list[ClientSpec],
    drain_seconds: float,
    ready: Any,
    go: Any,
    results: multiprocessing.connection.Connection,
) -> None:
    """A load-client process (``--client-processes``): its clients, its records back."""
    ready.put(os.getpid())
    if not go.wait(120):
        results.send([])
        return
    results.send(asyncio.run(run_clients(plan, shared, specs, drain_seconds)))
    results.close()


# --- orchestration: the window, CPU samples, the kill --------------------------------------------


@dataclass
class KillEvent:
    app: int
    old_pid: int
    killed_at: float = math.nan
    ready_at: float = math.nan
    new_pid: int | None = None
    startup_cpu: float = math.nan


@dataclass
class Orchestration:
    ledger: CpuLedger
    window_start: float = math.nan
    window_end: float = math.nan
    kill: KillEvent | None = None
    profile: Path | None = None
    error: BaseException | None = None


def orchestrate(
    shared: Shared,
    apps: Sequence[AppProcess],
    outcome: Orchestration,
    *,
    seconds: float,
    kill_after: float | None,
    kill_index: int,
    py_spy: str | None,
    profile_path: Path,
) -> None:
    """In a thread: CPU samples over the window, the kill and restart, the profiler."""
    ledger = outcome.ledger
    profiler: subprocess.Popen[bytes] | None = None
    try:
        t0 = shared.t0.value
        _sleep_until(t0)
        ledger.start()
        outcome.window_start = t0
        if py_spy is not None:
            profiler = subprocess.Popen(
                [py_spy, "record", "--pid", str(apps[0].pid), "--duration", str(int(seconds)),
                 "--rate", "100", "--nonblocking", "--format", "raw", "--output",
                 str(profile_path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        kill_at = t0 + kill_after if kill_after is not None else math.inf
        hard_end = t0 + seconds + 5  # bounded even if the stop mark misbehaves
        while True:
            now = time.monotonic()
            if now >= shared.stop_at.value or now >= hard_end:
                break
            if now >= kill_at:
                kill_at = math.inf
                outcome.kill = kill_and_restart(apps[kill_index], ledger)
                continue
            time.sleep(min(SAMPLE_SECONDS, max(0.0, min(shared.stop_at.value, kill_at) - now)))
            ledger.sample()
        ledger.finish()
        outcome.window_end = min(time.monotonic(), shared.stop_at.value)
        if profiler is not None:
            if profiler.poll() is None:
                profiler.send_signal(signal.SIGINT)  # the window ended early: write it now
            profiler.wait(timeout=60)
            outcome.profile = profile_path if profile_path.exists() else None
    except BaseException as exc:  # handed to the main thread
        outcome.error = exc
        shared.stop_at.value = min(shared.stop_at.value, time.monotonic())
    finally:
        if profiler is not None and profiler.poll() is None:
            profiler.kill()
            profiler.wait(timeout=15)


def kill_and_restart(app: AppProcess, ledger: CpuLedger) -> KillEvent:
    event = KillEvent(app=app.index, old_pid=app.pid)
    ledger.sample()  # its CPU up to the kill
    ledger.forget(app.pid)
    event.killed_at = time.monotonic()
    app.kill()
    print(f"  killed app {app.index} (pid {event.old_pid}) with SIGKILL; restarting", flush=True)
    app.start(append=True)
    event.ready_at = time.monotonic()
    event.new_pid = app.pid
    event.startup_cpu = process_cpu_seconds(app.pid) or 0.0
    ledger.watch(app.pid, f"app-{app.index}", baseline=event.startup_cpu)
    print(
        f"  app {app.index} ready again as pid {app.pid} after "
        f"{event.ready_at - event.killed_at:.2f} s",
        flush=True,
    )
    return event


def _sleep_until(moment: float) -> None:
    for _ in range(100_000):  # bounded
        remaining = moment - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(remaining, 0.5))


def run_load(
    args: argparse.Namespace,
    plan: LoadPlan,
    apps: Sequence[AppProcess],
    sim: Sim,
    database: str,
    profile_path: Path,
) -> tuple[list[FlagRecord], Orchestration, list[int]]:
    """Run the clients (here or in worker processes) while a thread keeps the clock."""
    ctx = multiprocessing.get_context("spawn")
    shared = Shared(
        start=ctx.Value("d", 0.0),
        t0=ctx.Value("d", 0.0),
        stop_at=ctx.Value("d", 0.0),
        created=ctx.Value("q", 0),
    )
    ledger = CpuLedger(database)
    for app in apps:
        ledger.watch(app.pid, f"app-{app.index}")
    ledger.watch(sim.process.pid, "sim")
    ledger.watch(os.getpid(), "client")
    drain = args.retry_seconds + args.timeout + 5
    workers: list[tuple[Any, multiprocessing.connection.Connection]] = []
    worker_pids: list[int] = []
    ready, go = ctx.Queue(), ctx.Event()
    try:
        for number in range(args.client_processes):
            specs = plan.clients[number :: args.client_processes]
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(
                target=worker_main,
                args=(plan, shared, specs, drain, ready, go, send),
                name=f"bench-flags-client-{number}",
                daemon=True,
            )
            process.start()
            send.close()
            workers.append((process, receive))
        for _ in workers:
            pid = ready.get(timeout=120)
            worker_pids.append(pid)
            ledger.watch(pid, "client")
        start = time.monotonic() + 0.2
        shared.start.value = start
        shared.t0.value = start + args.warmup
        shared.stop_at.value = shared.t0.value + args.seconds
        outcome = Orchestration(ledger=ledger)
        py_spy = (shutil.which("py-spy") or _venv_tool("py-spy")) if args.profile else None
        if args.profile and py_spy is None:
            print("  --profile: py-spy is not installed (pip install py-spy); not profiling")
        kill_after = args.kill_after if args.kill else None
        clock = threading.Thread(
            target=orchestrate,
            args=(shared, apps, outcome),
            kwargs={
                "seconds": args.seconds,
                "kill_after": kill_after,
                "kill_index": args.kill_process,
                "py_spy": py_spy,
                "profile_path": profile_path,
            },
            name="bench-flags-clock",
            daemon=True,
        )
        clock.start()
        go.set()
        _sleep_until(start)
        records: list[FlagRecord] = []
        if workers:
            for process, receive in workers:
                if not receive.poll(args.warmup + args.seconds + drain + 120):
                    raise BenchError(f"load process {process.name} sent no results")
                records.extend(receive.recv())
                process.join(timeout=30)
        else:
            records = asyncio.run(run_clients(plan, shared, plan.clients, drain))
        clock.join(timeout=args.seconds + args.warmup + 180)
        if clock.is_alive():
            raise BenchError("the benchmark's clock thread did not finish")
        if outcome.error is not None:
            raise BenchError(f"during the load: {outcome.error!r}") from outcome.error
        return records, outcome, worker_pids
    finally:
        for process, receive in workers:
            receive.close()
            if process.is_alive():
                process.terminate()
                process.join(timeout=15)


def _venv_tool(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


# --- checks against the database -----------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def verify_database(database_url: str, records: Sequence[FlagRecord]) -> tuple[list[Check], Any]:
    """Compare what clients were told with what the database holds."""
    with psycopg.connect(database_url) as connection:
        flags = connection.execute("SELECT id::text, idempotency_key FROM flag").fetchall()
        per_key = connection.execute(
            "SELECT issuer, idempotency_scope, idempotency_key, count(*) FROM flag "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1"
        ).fetchall()
        events: dict[str, int] = dict(
            connection.execute(
                "SELECT flag_id::text, count(*) FROM flag_event WHERE kind = 'created' "
                "GROUP BY flag_id"
            ).fetchall()
        )
        audits: dict[str, int] = dict(
            connection.execute(
                "SELECT entity_id, count(*) FROM audit_event "
                "WHERE entity_type = 'flag' AND action = 'create' GROUP BY entity_id"
            ).fetchall()
        )
    by_key: dict[str, list[str]] = {}
    for flag_id, key in flags:
        by_key.setdefault(key, []).append(flag_id)
    flag_ids = {flag_id for flag_id, _ in flags}
    sent = {record.key: record for record in records}
    acked = {record.key: record.ack for record in records if record.ack is not None}

    checks: list[Check] = []
    lost = [key for key, ack in acked.items() if ack.flag_id not in by_key.get(key, [])]
    checks.append(
        Check(
            "every acknowledged flag is in the database, under its key",
            not lost,
            f"{len(acked):,} acknowledged, {len(lost):,} missing",
        )
    )
    doubled = [key for key, ids in by_key.items() if len(ids) > 1]
    checks.append(
        Check(
            "no idempotency key has two flags",
            not doubled and not per_key,
            f"{len(doubled) + len(per_key):,} keys with more than one flag",
        )
    )
    ack_ids = Counter(ack.flag_id for ack in acked.values())
    shared_ids = [flag_id for flag_id, count in ack_ids.items() if count > 1]
    checks.append(
        Check(
            "no two acknowledged keys were given the same flag",
            not shared_ids,
            f"{len(shared_ids):,} flag ids acknowledged for more than one key",
        )
    )
    strangers = [key for key in by_key if key not in sent]
    checks.append(
        Check(
            "every flag in the database was sent by a client",
            not strangers,
            f"{len(strangers):,} flags with keys nobody sent",
        )
    )
    no_event = [flag_id for flag_id in flag_ids if events.get(flag_id, 0) != 1]
    stray_events = [flag_id for flag_id in events if flag_id not in flag_ids]
    checks.append(
        Check(
            "every flag has exactly one 'created' timeline event",
            not no_event and not stray_events,
            f"{len(no_event):,} flags without exactly one; {len(stray_events):,} events of "
            "flags that do not exist",
        )
    )
    no_audit = [flag_id for flag_id in flag_ids if audits.get(flag_id, 0) != 1]
    stray_audits = [entity for entity in audits if entity not in flag_ids]
    checks.append(
        Check(
            "every flag has exactly one 'create' audit row",
            not no_audit and not stray_audits,
            f"{len(no_audit):,} flags without exactly one; {len(stray_audits):,} audit rows of "
            "flags that do not exist",
        )
    )
    unacked = [record for record in records if record.ack is None]
    committed = [record for record in unacked if record.key in by_key]
    unexplained = [record for record in committed if not record.had_failure]
    checks.append(
        Check(
            "flags = acknowledged keys + unacknowledged keys whose request may have committed",
            len(flags) == len(acked) + len(committed) and not unexplained,
            f"{len(flags):,} flags = {len(acked):,} acknowledged + {len(committed):,} never "
            f"acknowledged but committed (each had a request cut off or answered 5xx: "
            f"{len(committed) - len(unexplained):,}); {len(unacked) - len(committed):,} "
            "never acknowledged and not committed",
        )
    )
    created_false = [key for key, ack in acked.items() if not ack.created]
    odd = [key for key in created_false if not sent[key].had_failure]
    checks.append(
        Check(
            "created=false only for a retry after a failed attempt",
            not odd,
            f"{len(created_false):,} acknowledged with created=false (an earlier attempt had "
            f"committed), {len(odd):,} of them without a failed attempt before",
        )
    )
    return checks, {"flags": len(flags), "by_key": by_key, "committed": committed}


async def repost(
    plan: LoadPlan, records: Sequence[FlagRecord], by_key: dict[str, list[str]], seed: int
) -> Check:
    """The same request again, same key: the same flag, created=false, every time."""
    specs = {spec.index: spec for spec in plan.clients}
    retried = [r for r in records if r.ack is not None and len(r.attempts) > 1]
    plain = [r for r in records if r.ack is not None and len(r.attempts) == 1]
    committed = [r for r in records if r.ack is None and r.key in by_key]
    chosen = (retried + committed)[:REPOST_MAX]
    chosen += random.Random(seed).sample(plain, min(REPOST_SAMPLE, len(plain)))
    wrong: list[str] = []
    gate = asyncio.Semaphore(10)
    async with httpx.AsyncClient(timeout=plan.timeout, trust_env=False) as http:

        async def one(number: int, record: FlagRecord) -> None:
            expected = record.ack.flag_id if record.ack is not None else by_key[record.key][0]
            url = plan.app_urls[number % len(plan.app_urls)] + FLAGS_PATH
            headers = {SESSION_HEADER: specs[record.client].handle}
            async with gate:
                try:
                    response = await http.post(url, json=record.body, headers=headers)
                except httpx.HTTPError as exc:
                    wrong.append(f"no response ({type(exc).__name__})")
                    return
            if response.status_code != 201:
                wrong.append(f"HTTP {response.status_code}")
                return
            receipt = response.json()
            if receipt.get("created") or str(receipt.get("flag_id")) != expected:
                wrong.append(f"created={receipt.get('created')}, other flag id")

        await asyncio.gather(*(one(n, record) for n, record in enumerate(chosen)))
    kinds = Counter(wrong)
    return Check(
        "a repeated request with the same key returns the same flag, created=false",
        not wrong,
        f"{len(chosen):,} re-sent ({len(retried):,} that had been retried, {len(committed):,} "
        f"committed but never acknowledged, {min(REPOST_SAMPLE, len(plain)):,} sampled); "
        + (", ".join(f"{kind}: {count}" for kind, count in kinds.items()) or "all as expected"),
    )


# --- the report --------------------------------------------------------------------------------


@dataclass
class Figures:
    window: float
    counted: list[FlagRecord]  # new flags acknowledged inside the window
    latencies: list[float]  # first send to acknowledgement, seconds
    attempt_latencies: list[float]  # every attempt answered inside the window
    errors: Counter[str]  # attempts ending inside the window, not 201 created=true
    requests: int  # attempts ending inside the window
    per_app: dict[int, list[float]]
    per_second: list[int]

    @property
    def rate(self) -> float:
        return len(self.counted) / self.window if self.window > 0 else 0.0


def figures(records: Sequence[FlagRecord], start: float, end: float) -> Figures:
    counted: list[FlagRecord] = []
    errors: Counter[str] = Counter()
    attempt_latencies: list[float] = []
    per_app: dict[int, list[float]] = {}
    per_second = [0] * max(1, math.ceil(end - start))
    requests = 0
    for record in records:
        for attempt in record.attempts:
            finished = attempt.ended if not math.isnan(attempt.ended) else None
            if finished is None or not start <= finished <= end:
                if finished is None and attempt.sent <= end:
                    errors[attempt.kind] += 1
                continue
            requests += 1
            attempt_latencies.append(attempt.ended - attempt.sent)
            if attempt.status == 201 and attempt.created:
                counted.append(record)
                per_app.setdefault(attempt.app, []).append(attempt.ended - attempt.sent)
                per_second[min(len(per_second) - 1, int(attempt.ended - start))] += 1
            elif attempt.status == 201:
                errors["HTTP 201 created=false (retry of a committed request)"] += 1
            else:
                errors[attempt.kind] += 1
    latencies = [record.latency for record in counted]
    return Figures(
        window=end - start,
        counted=counted,
        latencies=latencies,
        attempt_latencies=attempt_latencies,
        errors=errors,
        requests=requests,
        per_app=per_app,
        per_second=per_second,
    )


def log_summary(path: Path) -> list[str]:
    """Warnings and errors an app process logged, by message (JSON lines), and other lines."""
    if not path.exists():
        return [f"`{path.name}`: no log"]
    messages: Counter[str] = Counter()
    other = 0
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                other += 1
                continue
            messages[f"{entry.get('level')}: {entry.get('logger')}: {entry.get('message')}"] += 1
        elif line.strip():
            other += 1
    if not messages and not other:
        return [f"`{path.name}`: empty"]
    lines = [f"`{path.name}`:"]
    lines += [f"  - {count:,} x {message[:160]}" for message, count in messages.most_common(8)]
    if other:
        lines.append(f"  - {other:,} other lines (not JSON: start-up banner, tracebacks)")
    return lines


def git_facts() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app", "smart", "fhir_client"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (app/, smart/ or fhir_client/ have uncommitted changes)" if dirty else "")


PG_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "blks_hit",
    "blks_read",
)


def pg_counters(database_url: str) -> dict[str, int]:
    """This database's cumulative counters from ``pg_stat_database`` (backends report them
    about once a second, so read them a moment after the load)."""
    query = sql.SQL("SELECT {} FROM pg_stat_database WHERE datname = current_database()").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in PG_COUNTERS)
    )
    with psycopg.connect(database_url) as connection:
        row = connection.execute(query).fetchone()
    return dict(zip(PG_COUNTERS, (int(value or 0) for value in row or ()), strict=False))


def postgres_version(database_url: str) -> str:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


@dataclass
class RunFacts:
    started: datetime
    args: argparse.Namespace
    apps: Sequence[AppProcess]
    sim: Sim
    database: str
    pg_version: str
    load_before: tuple[float, float, float]
    worker_pids: list[int]
    pg_work: dict[str, int]  # pg_stat_database deltas over the whole load
    flags_total: int  # flags in the database after the load


def report(
    facts: RunFacts,
    records: Sequence[FlagRecord],
    outcome: Orchestration,
    checks: Sequence[Check],
    logs: Sequence[str],
) -> str:
    args = facts.args
    start, end = outcome.window_start, outcome.window_end
    fig = figures(records, start, end)
    ledger = outcome.ledger
    window = fig.window
    flags = len(fig.counted)
    app_cpu = sum(ledger.seconds(f"app-{app.index}") for app in facts.apps)
    per_flag_ms = app_cpu / flags * 1000 if flags else math.nan
    errors = sum(fig.errors.values())
    never = sum(1 for record in records if record.ack is None)
    p99 = percentile(fig.latencies, 99)
    mode = "kill" if args.kill else "normal"
    load_after = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    load_before = ", ".join(f"{value:.2f}" for value in facts.load_before)
    cpu_model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    http = "a minimal asyncio HTTP/1.1 client" if args.http == "raw" else "httpx"
    if args.rate:
        pacing = (
            f"open loop: {args.rate:g} flags/s offered (each client's flags due every "
            f"{args.clients / args.rate * 1000:.0f} ms, staggered; latency counts from when a "
            "flag was due, so a client that falls behind shows it)"
        )
    else:
        pacing = (
            f"closed loop (next flag when the last is answered, think time {args.think_ms:g} ms)"
        )
    clients_where = (
        f"in the benchmark process (asyncio, {http})"
        if not args.client_processes
        else f"in {args.client_processes} worker process(es) (asyncio, {http})"
    )
    lines = [
        f"## Flag submission benchmark ({mode}), {facts.started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- {args.clients} clients (real SMART launches, client i on app process i mod "
        f"{args.processes}), {clients_where}, one request at a time, {pacing}; warm-up "
        f"{args.warmup:g} s not counted; measured window {window:.1f} s"
        + (f" (or until {args.flags:,} flags)" if args.flags else ""),
        f"- {args.processes} app process(es) (`valueloop serve`, demo mode, log level WARNING): "
        + ", ".join(
            f"app {app.index} on :{app.port} (pid {', then '.join(map(str, app.pids))})"
            for app in facts.apps
        ),
        f"- PostgreSQL {facts.pg_version} on 127.0.0.1, throwaway database `{facts.database}`"
        + (f"; app settings {' '.join(args.app_env)}" if args.app_env else ""),
        f"- Simulated EHR in its own process (pid {facts.sim.process.pid}), {args.patients} "
        f"synthetic patients, latency {args.latency_ms} ms; every flag re-reads its order, the "
        "patient and the encounter from it",
        f"- Machine: {os.cpu_count()} cores ({cpu_model}), {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; load average before "
        f"{load_before}, after {load_after}",
        f"- Commit {git_facts()}"
        + ("" if args.app_dir == REPO_ROOT else f"; app served from `{args.app_dir}`"),
        "",
        "### Figures against the target",
        "",
        "| measure | value | target | met |",
        "|---|---:|---|---|",
        f"| new flags/s (201, created=true, in the window) | {fig.rate:,.1f} | >= "
        f"{FLAGS_PER_SECOND_TARGET:g} | {_ok(fig.rate >= FLAGS_PER_SECOND_TARGET)} |",
        f"| p99 latency, ms | {_ms(p99)} | <= {P99_TARGET_MS:g} | "
        f"{_ok(p99 * 1000 <= P99_TARGET_MS)} |",
        f"| app CPU per flag, ms | {per_flag_ms:,.2f} | <= {CPU_PER_FLAG_TARGET_MS:g} | "
        f"{_ok(per_flag_ms <= CPU_PER_FLAG_TARGET_MS)} |",
        *(
            [
                f"| attempts that failed and were retried (kill) | {errors:,} | - | - |",
                f"| flags never acknowledged, after retries | {never:,} | 0 | {_ok(never == 0)} |",
            ]
            if args.kill
            else [
                f"| errors (requests not answered 201 created=true) | {errors:,} | 0 | "
                f"{_ok(errors == 0)} |"
            ]
        ),
        "",
        f"{flags:,} new flags in {window:.1f} s; {fig.requests:,} requests answered in the "
        f"window. Latency ({'due time' if args.rate else 'first send'} to acknowledgement) "
        f"p50 {_ms(percentile(fig.latencies, 50))}, p95 {_ms(percentile(fig.latencies, 95))}, "
        f"p99 {_ms(p99)}, max {_ms(max(fig.latencies, default=math.nan))} ms.",
        "",
    ]
    if not args.rate and not args.think_ms:
        lines += [
            f"Closed loop: mean latency = clients / throughput (Little's law), here "
            f"{args.clients} / {fig.rate:,.1f} = {args.clients / max(fig.rate, 1e-9) * 1000:,.0f}"
            f" ms. At {FLAGS_PER_SECOND_TARGET:g} flags/s {args.clients} clients wait "
            f"{args.clients / FLAGS_PER_SECOND_TARGET * 1000:.0f} ms on average, so the p99 "
            f"target is judged with an open-loop run (`--rate {FLAGS_PER_SECOND_TARGET:g}`); "
            "this run measures capacity.",
            "",
        ]
    if fig.errors:
        lines += ["| error (attempts ending in the window) | count |", "|---|---:|"]
        lines += [f"| {kind} | {count:,} |" for kind, count in fig.errors.most_common()]
        lines.append("")
    lines += [
        "| app process | new flags | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        *(
            f"| app {index} | {len(samples):,} | {_ms(percentile(samples, 50))} | "
            f"{_ms(percentile(samples, 99))} |"
            for index, samples in sorted(fig.per_app.items())
        ),
        "",
        "### CPU over the measured window",
        "",
        "utime + stime from `/proc/PID/stat`, sampled every 0.5 s; % of one core.",
        "",
        "| process | pids | CPU s | % of a core | ms per new flag |",
        "|---|---|---:|---:|---:|",
    ]

    def row(label: str, roles: Sequence[str]) -> str:
        seconds = sum(ledger.seconds(role) for role in roles)
        pids = sorted({pid for role in roles for pid in ledger.pids(role)})
        shown = ", ".join(map(str, pids[:6])) + (f" (+{len(pids) - 6})" if len(pids) > 6 else "")
        per_flag = f"{seconds / flags * 1000:,.2f}" if flags else "-"
        return (
            f"| {label} | {shown} | {seconds:,.2f} | {seconds / window * 100:,.0f} | {per_flag} |"
        )

    app_roles = [f"app-{app.index}" for app in facts.apps]
    ours = [*app_roles, "sim", "client", "pg-ours", "pg-background"]
    busy = ledger.machine_busy_cores(window)
    ours_seconds = sum(ledger.seconds(role) for role in ours)
    lines += [
        *(row(f"app {app.index}", [f"app-{app.index}"]) for app in facts.apps),
        row("**app processes together**", app_roles),
        row("simulated EHR", ["sim"]),
        row(
            "load client ("
            + ("this process" if not args.client_processes else "workers + this")
            + ")",
            ["client"],
        ),
        row("PostgreSQL, backends of this database", ["pg-ours"]),
        row("PostgreSQL, background processes", ["pg-background"]),
        f"| the whole machine (`/proc/stat`) | | {busy * window:,.2f} | {busy * 100:,.0f} "
        f"(of {(os.cpu_count() or 1) * 100}) | |",
        f"| everything else on the machine | | {busy * window - ours_seconds:,.2f} | "
        f"{(busy * window - ours_seconds) / window * 100:,.0f} | |",
        "",
        f"Load client: {ledger.seconds('client') / max(fig.requests, 1) * 1000:,.2f} ms CPU per "
        f"request answered ({fig.requests:,} requests). PostgreSQL: "
        f"{len(ledger.pids('pg-ours')):,} backends of this database during the window, "
        f"{ledger.born('pg-ours'):,} of them started during it (new connections).",
        "",
    ]
    if facts.pg_work and facts.flags_total:
        per = {name: value / facts.flags_total for name, value in facts.pg_work.items()}
        lines += [
            f"PostgreSQL work per flag over the whole load (warm-up and drain included, "
            f"{facts.flags_total:,} flags; `pg_stat_database`): {per['xact_commit']:.2f} "
            f"commits, {per['xact_rollback']:.2f} rollbacks, rows inserted "
            f"{per['tup_inserted']:.2f}, updated {per['tup_updated']:.2f}, fetched "
            f"{per['tup_fetched']:.1f}, returned by scans {per['tup_returned']:.1f}; buffer hits "
            f"{per['blks_hit']:.1f}, reads {per['blks_read']:.2f}.",
            "",
        ]
    if outcome.kill is not None:
        lines += kill_section(outcome.kill, records, start, fig)
    if args.kill or len(fig.per_second) <= 60:
        lines += [
            "New flags per second of the window: " + " ".join(map(str, fig.per_second)),
            "",
        ]
    lines += [
        "### Checks against the database",
        "",
        "| check | passed | detail |",
        "|---|---|---|",
        *(f"| {check.name} | {_ok(check.passed)} | {check.detail} |" for check in checks),
        "",
        "### App and simulator logs (warnings and errors)",
        "",
        *logs,
        "",
    ]
    if outcome.profile is not None:
        lines += profile_section(outcome.profile)
    return "\n".join(lines)


def profile_section(path: Path, top: int = 25) -> list[str]:
    """The profile's heaviest functions, by the share of samples they were on the stack in
    (inclusive) and on top of it (self), from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(frame) for frame in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if total == 0:
        return [f"Profile of app 0: `{path}` (no samples)", ""]

    def rows(counter: Counter[str]) -> list[str]:
        return [f"| {name} | {100 * n / total:.1f}% |" for name, n in counter.most_common(top)]

    return [
        f"### Profile of app 0 ({total:,} samples; collapsed stacks in `{path}`)",
        "",
        "| on the stack (inclusive) | share |",
        "|---|---:|",
        *rows(inclusive),
        "",
        "| on top of the stack (self) | share |",
        "|---|---:|",
        *rows(own),
        "",
    ]


def _frame_name(frame: str) -> str:
    """``fn (path/to/module.py:12)`` as ``fn (module.py)``: lines split one function apart."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    return f"{name} ({'/'.join(file.split('/')[-2:])})"


def kill_section(
    kill: KillEvent, records: Sequence[FlagRecord], start: float, fig: Figures
) -> list[str]:
    cut = [
        (record, attempt)
        for record in records
        for attempt in record.attempts
        if attempt.app == kill.app
        and attempt.sent <= kill.killed_at <= attempt.ended
        and attempt.failed
    ]
    refused = sum(
        1
        for record in records
        for attempt in record.attempts
        if attempt.app == kill.app
        and kill.killed_at < attempt.sent < kill.ready_at
        and attempt.status == 0
    )
    retried = [record for record in records if len(record.attempts) > 1]
    recovered = [record for record in retried if record.ack is not None]
    not_created = [record for record in recovered if record.ack and not record.ack.created]
    never = [record for record in records if record.ack is None]
    cut_keys = {record.key for record, _ in cut}
    return [
        "### Kill and restart",
        "",
        f"- App {kill.app} (pid {kill.old_pid}) got SIGKILL {kill.killed_at - start:.1f} s into "
        f"the window; restarted on the same port as pid {kill.new_pid}, ready "
        f"{kill.ready_at - kill.killed_at:.2f} s later (start-up CPU {kill.startup_cpu:.2f} s, "
        "not counted above).",
        f"- Requests in flight to it at the kill (cut off): {len(cut):,}; refused while it was "
        f"down: {refused:,}.",
        f"- Flags retried: {len(retried):,}; acknowledged after a retry: {len(recovered):,}, of "
        f"which {len(not_created):,} with created=false (the cut-off request had committed; "
        f"{sum(1 for r in not_created if r.key in cut_keys):,} of those were in flight at the "
        f"kill); never acknowledged: {len(never):,}.",
        f"- Latency of every attempt answered in the window: p50 "
        f"{_ms(percentile(fig.attempt_latencies, 50))}, p99 "
        f"{_ms(percentile(fig.attempt_latencies, 99))} ms.",
        "",
    ]


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.flags",
        description="Flag-submission load benchmark: clients flag orders through real SMART "
        "sessions against app processes on PostgreSQL; optionally kills one mid-load.",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (launches)")
    parser.add_argument("--processes", type=int, default=2, help="app processes")
    parser.add_argument("--seconds", type=float, default=20, help="measured window")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load not counted")
    parser.add_argument(
        "--flags", type=int, default=None, help="end the window after this many new flags"
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=0,
        help="run the clients in N worker processes (0: in this process)",
    )
    parser.add_argument(
        "--http",
        choices=("raw", "httpx"),
        default="raw",
        help="the load's HTTP client: a minimal asyncio one (cheap) or httpx",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: flags/s offered by all clients together, evenly spaced (default: "
        "closed loop, each client sends its next flag when the last is answered)",
    )
    parser.add_argument("--think-ms", type=float, default=0, help="pause between a client's flags")
    parser.add_argument("--kill", action="store_true", help="SIGKILL an app process mid-load")
    parser.add_argument(
        "--kill-after", type=float, default=None, help="seconds into the window (default: 40%%)"
    )
    parser.add_argument("--kill-process", type=int, default=0, help="which app process")
    parser.add_argument(
        "--max-tries",
        type=int,
        default=None,
        help="attempts per flag on a connection error or 5xx (default: 1, with --kill 30)",
    )
    parser.add_argument(
        "--retry-seconds", type=float, default=60, help="give up retrying a flag after this long"
    )
    parser.add_argument("--timeout", type=float, default=30, help="per-request timeout, seconds")
    parser.add_argument("--latency-ms", type=int, default=0, help="simulated EHR latency")
    parser.add_argument("--patients", type=int, default=120, help="synthetic patients in the EHR")
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="VALUELOOP_NAME=VALUE",
        help="extra app setting, e.g. VALUELOOP_DATABASE_POOL_SIZE=20 (repeatable)",
    )
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server (127.0.0.1) where the throwaway database is made",
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    parser.add_argument("--profile", action="store_true", help="py-spy record app 0 (if installed)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the re-sent sample (the keys are random)"
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO_ROOT,
        help="checkout whose app/ the servers run (default: this one), to compare a change",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 500 or not 1 <= args.processes <= 8:
        parser.error("--clients must be 1..500 and --processes 1..8")
    if not 1 <= args.seconds <= 3600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds must be 1..3600 and --warmup 0..600")
    if args.flags is not None and not 1 <= args.flags <= 10_000_000:
        parser.error("--flags must be 1..10000000")
    if not 0 <= args.client_processes <= 16 or not 0 <= args.think_ms <= 60_000:
        parser.error("--client-processes must be 0..16 and --think-ms 0..60000")
    if args.rate is not None and not 0.1 <= args.rate <= 100_000:
        parser.error("--rate must be 0.1..100000 flags/s")
    if args.rate is not None and args.think_ms:
        parser.error("--rate sets the pace; leave --think-ms out")
    if not 0 <= args.kill_process < args.processes:
        parser.error("--kill-process must name one of the app processes (0-based)")
    if args.kill_after is None:
        args.kill_after = args.seconds * 0.4
    if args.kill and not 0 <= args.kill_after < args.seconds:
        parser.error("--kill-after must fall inside the measured window")
    if args.max_tries is None:
        args.max_tries = 30 if args.kill else 1
    if not 1 <= args.max_tries <= 100 or not 0 < args.retry_seconds <= 600:
        parser.error("--max-tries must be 1..100 and --retry-seconds 0..600")
    if not 0 < args.timeout <= 120 or not 0 <= args.latency_ms <= 10_000:
        parser.error("--timeout must be 0..120 and --latency-ms 0..10000")
    if not 1 <= args.patients <= 5000:
        parser.error("--patients must be 1..5000")
    for item in args.app_env:
        name, equals, _ = item.partition("=")
        if not equals or not name.startswith("VALUELOOP_"):
            parser.error(f"--app-env takes VALUELOOP_NAME=VALUE, not {item!r}")
    args.app_dir = args.app_dir.resolve()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    server = server_url(args.server)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    extra = {name: value for name, _, value in (item.partition("=") for item in args.app_env)}
    profile_path = RESULTS_DIR / f"flags-profile-{started:%Y%m%dT%H%M%SZ}.txt"
    if args.profile:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vl-bench-flags-")))
        database_url = stack.enter_context(throwaway_database(server, args.keep_database))
        database = make_url(database_url).database or ""
        app_ports = [free_port() for _ in range(args.processes)]
        if len(set(app_ports)) != len(app_ports):
            raise BenchError("could not find distinct free ports")
        print(f"Database {database}; starting the simulated EHR", flush=True)
        sim = stack.enter_context(
            running_sim(
                port=free_port(),
                app_ports=app_ports,
                patients=args.patients,
                latency_ms=args.latency_ms,
                app_dir=args.app_dir,
                log_path=workdir / "ehr-sim.log",
            )
        )
        secret_key = secrets.token_urlsafe(48)
        data_dir = workdir / "var"
        envs = [
            app_env(
                port=port,
                database_url=database_url,
                data_dir=data_dir,
                secret_key=secret_key,
                extra=extra,
            )
            for port in app_ports
        ]
        valueloop(["migrate"], envs[0], args.app_dir)
        valueloop(
            ["ehrs", "add", sim.fhir_base, "--client-id", CLIENT_ID, "--frame-origin",
             sim.base_url, "--name", "Simulated EHR (flag benchmark)"],
            envs[0],
            args.app_dir,
        )  # fmt: skip
        apps = [
            AppProcess(
                index=index,
                port=port,
                env=env,
                app_dir=args.app_dir,
                log_path=workdir / f"app-{index}.log",
            )
            for index, (port, env) in enumerate(zip(app_ports, envs, strict=True))
        ]
        for app in apps:
            stack.callback(app.stop)
            app.start()
        print(
            "App processes: "
            + ", ".join(f"app {app.index} pid {app.pid} at {app.base_url}" for app in apps)
            + f"; simulated EHR pid {sim.process.pid} at {sim.base_url}",
            flush=True,
        )
        encounters = in_progress_encounters(args.patients)
        launched = time.monotonic()
        specs = asyncio.run(launch_all(sim, apps, args.clients, encounters))
        print(
            f"{len(specs)} launches in {time.monotonic() - launched:.1f} s "
            f"({sum(len(spec.orders) for spec in specs)} orders); load: warm-up "
            f"{args.warmup:g} s, then {args.seconds:g} s measured",
            flush=True,
        )
        plan = LoadPlan(
            app_urls=[app.base_url for app in apps],
            clients=specs,
            max_tries=args.max_tries,
            retry_seconds=args.retry_seconds,
            timeout=args.timeout,
            think_ms=args.think_ms,
            flags_target=args.flags,
            http=args.http,
            rate=args.rate,
        )
        counters_before = pg_counters(database_url)
        records, outcome, worker_pids = run_load(args, plan, apps, sim, database, profile_path)
        time.sleep(1.5)  # backends report their counters about once a second
        counters_after = pg_counters(database_url)
        print(f"Load done: {len(records):,} flags sent; checking the database", flush=True)
        checks, found = verify_database(database_url, records)
        checks.append(asyncio.run(repost(plan, records, found["by_key"], args.seed)))
        time.sleep(0.3)  # let the servers flush their last log lines
        logs: list[str] = []
        for app in apps:
            logs += log_summary(app.log_path)
        logs += log_summary(sim.log_path)
        facts = RunFacts(
            started=started,
            args=args,
            apps=apps,
            sim=sim,
            database=database,
            pg_version=postgres_version(database_url),
            load_before=load_before,
            worker_pids=worker_pids,
            pg_work={k: counters_after[k] - counters_before.get(k, 0) for k in counters_after},
            flags_total=int(found["flags"]),
        )
        text = report(facts, records, outcome, checks, logs)
        kept = RESULTS_DIR / f"flags-{started:%Y%m%dT%H%M%SZ}-logs"
        kept.mkdir(parents=True, exist_ok=True)
        for path in [*(app.log_path for app in apps), sim.log_path]:
            if path.exists():
                shutil.copy(path, kept / path.name)
    write_report("flags", started, text + f"\nLogs kept in `bench/results/{kept.name}/`.")
    failed = [check for check in checks if not check.passed]
    if failed:
        print(f"{len(failed)} check(s) failed: " + "; ".join(check.name for check in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
