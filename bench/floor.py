"""The CPU floor of a flag submission: what the fixed stack costs per request, with no
ValueLoop logic.

    .venv/bin/python -m bench.floor [--variants empty,ehr,db,flag_floor,flag_floor_orm]
                                    [--clients 50] [--processes 2] [--seconds 10] [--warmup 3]

Why: the design targets "app CPU at most 3 ms per flag" (DESIGN.md, issue #12; 2-core
machine) for ``POST /api/v1/clinician/flags``, which looks up the app session in PostgreSQL,
re-reads the order from the EHR over HTTP (httpx) and writes the flag, a timeline event and an
audit row. Whether 3 ms is reachable depends first on what uvicorn + FastAPI + httpx +
SQLAlchemy (async, psycopg 3) cost by themselves for that shape of request; this measures it.

The variants, each a route of ``bench/floor_app.py`` (its docstring has the detail):
``empty`` (pydantic body, one async dependency, pydantic response), ``ehr`` (+ one httpx GET
of a 1.5 KB FHIR resource), ``db`` (+ one Core INSERT ... RETURNING, autocommit),
``flag_floor`` (session SELECT + EHR GET + one INSERT writing all three rows) and
``flag_floor_orm`` (the same, the rows written through an ORM session: BEGIN, three INSERTs,
COMMIT, the product's way).

What it does:

1. Creates a throwaway database on ``--server`` (``bench.flags.throwaway_database``), creates
   the floor's tables there and seeds one session row per client; drops it at the end.
2. Starts the "EHR" (a raw ASGI app under uvicorn returning one fixed ServiceRequest) and
   ``--processes`` app processes (``bench.floor_app`` under ``uvicorn.run(..., factory=True,
   access_log=False)``, uvicorn's loop and HTTP autodetection, as ``valueloop serve``), each on
   a free 127.0.0.1 port.
3. Per variant: ``--clients`` closed-loop clients (client i on app i mod P, one keep-alive
   connection each, ``bench.flags``'s minimal asyncio HTTP client, so the load costs little
   CPU), ``--warmup`` seconds not counted, then a ``--seconds`` window. CPU over the window:
   utime + stime of every process (``bench.flags.CpuLedger``: app processes, the EHR, this
   process, PostgreSQL's backends of the throwaway database and its background processes,
   and the machine's total from ``/proc/stat``), sampled every 0.5 s.
4. Reports per variant: requests/s, p50/p99 latency, errors, app CPU ms per request (all app
   processes' CPU in the window / requests answered in the window), the EHR's, PostgreSQL's
   and the load client's CPU per request, the whole machine's CPU; prints a markdown table
   and writes it to ``bench/results/floor-<timestamp>.md``.

On a 2-core machine with 50 clients everything is saturated, as in the flag benchmark: per
request CPU is then measured under contention (the same conditions as the 3 ms target).
``--clients 1`` gives the unloaded cost (which includes more event-loop wake-ups per request).

All loops are bounded; all traffic stays on 127.0.0.1. Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import floor_app
from bench.flags import (
    CLK_TCK,
    ROLES,
    ClientSpec,
    CpuLedger,
    Figures,
    LoadPlan,
    Orchestration,
    Shared,
    clean_env,
    figures,
    machine_ticks,
    orchestrate,
    percentile,
    postgres_version,
    run_clients,
    server_url,
    throwaway_database,
)
from bench.server import (
    BenchError,
    _wait_until_ready,
    free_port,
    stop_serving,
    write_report,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0  # per request, seconds
CPU_PER_FLAG_TARGET_MS = 3.0
NETWORK_OPERATIONS = {
    "empty": "none",
    "ehr": "1 HTTP GET",
    "db": "1 INSERT",
    "flag_floor": "SELECT + GET + 1 INSERT (3 rows)",
    "flag_floor_orm": "SELECT + GET + BEGIN, 3 INSERTs, COMMIT",
}


# --- the processes ---------------------------------------------------------------------------


@dataclass
class Served:
    """One uvicorn process of ``bench.floor_app`` (an app or the "EHR")."""

    label: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path


def serve(which: str, label: str, env: dict[str, str], log_path: Path) -> Served:
    """``python -m bench.floor_app WHICH`` on a free 127.0.0.1 port, waited for until ready
    (``GET /readyz`` answers 200; the "EHR" answers anything with 200)."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.floor_app", which, "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base_url, process, log_path)
    except BaseException:
        stop_serving(process)
        raise
    return Served(label=label, process=process, base_url=base_url, log_path=log_path)


def prepare_database(database_url: str, clients: int) -> list[str]:
    """The floor's tables and one session row per client; the clients' session handles."""
    engine = sa.create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    handles = [f"floor-session-{index:04d}" for index in range(clients)]
    now = datetime.now(UTC)
    try:
        floor_app.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                sa.insert(floor_app.SESSIONS),
                [floor_app.session_row(handle, now) for handle in handles],
            )
            connection.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()
    return handles


def client_specs(handles: Sequence[str], processes: int) -> list[ClientSpec]:
    """Client i on app i mod P with its session, flagging ServiceRequests in turn (the bodies
    are ``bench.flags.flag_body``'s: the flag benchmark's mix of reasons, notes, anonymity)."""
    orders = [("ServiceRequest", f"sr-{number:05d}") for number in range(1, 21)]
    return [
        ClientSpec(
            index=index,
            home=index % processes,
            handle=handle,
            orders=orders,
            role=ROLES[index % len(ROLES)],
        )
        for index, handle in enumerate(handles)
    ]


# --- one variant under load ------------------------------------------------------------------


def interrupt_ticks() -> int:
    """irq + softirq ticks of the whole machine since boot (``/proc/stat``): the kernel's
    loopback network work lands there, in no process's utime or stime."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    return values[5] + values[6]


class FloorLedger(CpuLedger):
    """``CpuLedger`` that also counts the machine's interrupt time over the window, so that
    the kernel's share of our own traffic is not mistaken for other work on the machine."""

    def __init__(self, database: str) -> None:
        super().__init__(database)
        self.interrupts = (0, 0)

    def start(self) -> None:
        super().start()
        self.interrupts = (interrupt_ticks(), self.interrupts[1])

    def finish(self) -> None:
        super().finish()
        self.interrupts = (self.interrupts[0], interrupt_ticks())

    def interrupt_seconds(self) -> float:
        return (self.interrupts[1] - self.interrupts[0]) / CLK_TCK


@dataclass
class Measured:
    variant: str
    fig: Figures
    ledger: FloorLedger
    app_roles: list[str]

    def cpu_ms(self, *roles: str) -> float:
        """CPU ms per request answered in the window, of the processes in ``roles``."""
        seconds = sum(self.ledger.seconds(role) for role in roles)
        return seconds / self.fig.requests * 1000 if self.fig.requests else math.nan

    @property
    def app_ms(self) -> float:
        return self.cpu_ms(*self.app_roles)

    def busy_percent(self) -> tuple[float, float, float]:
        """The machine's busy CPU over the window, the kernel's interrupt time in it (mostly
        our loopback traffic) and the rest no process of ours took (other work on the
        machine), in % of one core."""
        window = self.fig.window
        if window <= 0:
            return math.nan, math.nan, math.nan
        busy = self.ledger.machine_busy_cores(window) * window
        interrupts = self.ledger.interrupt_seconds()
        ours = sum(
            self.ledger.seconds(role)
            for role in (*self.app_roles, "ehr", "client", "pg-ours", "pg-background")
        )
        return (
            busy / window * 100,
            interrupts / window * 100,
            (busy - interrupts - ours) / window * 100,
        )


def measure(
    variant: str,
    specs: list[ClientSpec],
    apps: Sequence[Served],
    ehr: Served,
    database: str,
    args: argparse.Namespace,
) -> Measured:
    """Closed-loop load on ``/floor/<variant>``: warm-up, then the measured window, CPU
    sampled by ``bench.flags.orchestrate`` in a thread while the clients run here."""
    values = multiprocessing.get_context("spawn")
    shared = Shared(
        start=values.Value("d", 0.0),
        t0=values.Value("d", 0.0),
        stop_at=values.Value("d", 0.0),
        created=values.Value("q", 0),
    )
    plan = LoadPlan(
        app_urls=[app.base_url for app in apps],
        clients=specs,
        max_tries=1,
        retry_seconds=TIMEOUT,
        timeout=TIMEOUT,
        think_ms=0,
        flags_target=None,
        http="raw",
        rate=None,
        path=f"/floor/{variant}",
    )
    ledger = FloorLedger(database)
    app_roles = [app.label for app in apps]
    for app in apps:
        ledger.watch(app.process.pid, app.label)
    ledger.watch(ehr.process.pid, "ehr")
    ledger.watch(os.getpid(), "client")
    now = time.monotonic()
    shared.start.value = now
    shared.t0.value = now + args.warmup
    shared.stop_at.value = shared.t0.value + args.seconds
    outcome = Orchestration(ledger=ledger)
    clock = threading.Thread(
        target=orchestrate,
        args=(shared, [], outcome),
        kwargs={
            "seconds": args.seconds,
            "kill_after": None,
            "kill_index": 0,
            "py_spy": None,
            "profile_path": Path(os.devnull),
        },
        name="bench-floor-clock",
        daemon=True,
    )
    clock.start()
    records = asyncio.run(run_clients(plan, shared, specs, TIMEOUT + 5))
    clock.join(timeout=args.warmup + args.seconds + 60)
    if clock.is_alive():
        raise BenchError("the benchmark's clock thread did not finish")
    if outcome.error is not None:
        raise BenchError(f"during the load: {outcome.error!r}") from outcome.error
    fig = figures(records, outcome.window_start, outcome.window_end)
    return Measured(variant=variant, fig=fig, ledger=ledger, app_roles=app_roles)


# --- the report ----------------------------------------------------------------------------


def _f(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def _stack() -> str:
    """The stack's versions, and the event loop and HTTP parser uvicorn's autodetection picks
    (uvloop and httptools when importable, as for ``valueloop serve``)."""
    names = ("uvicorn", "fastapi", "starlette", "pydantic", "httpx", "sqlalchemy", "psycopg")
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return ", ".join(f"{name} {version(name)}" for name in names) + f"; loop {loop}, {parser}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def idle_check(seconds: float = 1.0) -> float:
    """The machine's busy CPU (% of one core) over a moment before anything starts: other
    work on the machine would inflate every figure."""
    busy_before, _ = machine_ticks()
    time.sleep(seconds)
    busy_after, _ = machine_ticks()
    return (busy_after - busy_before) / CLK_TCK / seconds * 100


def report(
    results: Sequence[Measured],
    args: argparse.Namespace,
    started: datetime,
    facts: dict[str, str],
) -> str:
    cores = os.cpu_count() or 1
    lines = [
        f"## Flag-submission CPU floor (fixed stack, no ValueLoop logic), "
        f"{started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- {args.clients} closed-loop client(s) in the benchmark process (asyncio, minimal "
        f"HTTP/1.1 client, keep-alive), client i on app process i mod {args.processes}; "
        f"warm-up {args.warmup:g} s, measured window {args.seconds:g} s per variant",
        f"- {args.processes} app process(es) `bench.floor_app` under uvicorn "
        f"(`factory=True, access_log=False`), {facts['stack']}; pool 20, no overflow, "
        "autocommit connections for Core; httpx limits as `app/main.py`",
        f"- EHR: raw ASGI app under uvicorn, fixed {len(floor_app.SERVICE_REQUEST):,}-byte "
        f"ServiceRequest; PostgreSQL {facts['pg']} on 127.0.0.1, throwaway database",
        f"- Machine: {cores} cores ({_cpu_model()}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average before {facts['load_before']}, "
        f"after {facts['load_after']}; busy before start {facts['idle']} % of a core",
        "",
        "CPU: utime + stime from `/proc/PID/stat` over the window, per request answered in "
        "the window (ms). Machine: busy CPU from `/proc/stat`, % of one core (of "
        f"{cores * 100}); irq: its interrupt and softirq time (mostly the loopback traffic, "
        "in no process's CPU); others: the rest that no process of this benchmark took "
        "(other work on the machine, which inflates every figure).",
        "",
        "| variant | network operations | requests/s | p50 ms | p99 ms | errors | "
        "**app CPU ms/req** | EHR ms/req | PG backends ms/req | PG background ms/req | "
        "load client ms/req | machine CPU % | irq % | others % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        fig = result.fig
        busy, interrupts, others = result.busy_percent()
        lines.append(
            f"| {result.variant} | {NETWORK_OPERATIONS[result.variant]} | "
            f"{fig.requests / fig.window if fig.window > 0 else 0:,.0f} | "
            f"{_ms(percentile(fig.latencies, 50))} | {_ms(percentile(fig.latencies, 99))} | "
            f"{sum(fig.errors.values()):,} | **{_f(result.app_ms)}** | "
            f"{_f(result.cpu_ms('ehr'))} | {_f(result.cpu_ms('pg-ours'))} | "
            f"{_f(result.cpu_ms('pg-background'))} | {_f(result.cpu_ms('client'))} | "
            f"{busy:,.0f} | {interrupts:,.0f} | {others:,.0f} |"
        )
    lines.append("")
    base = next((result for result in results if result.variant == "empty"), None)
    if base is not None and len(results) > 1:
        lines += [
            "App CPU each variant adds to `empty` (ms per request): "
            + "; ".join(
                f"{result.variant} +{_f(result.app_ms - base.app_ms)}"
                for result in results
                if result is not base
            )
            + ".",
            "",
        ]
    floor = next((r for r in results if r.variant == "flag_floor_orm"), None)
    if floor is not None and not math.isnan(floor.app_ms):
        lines += [
            f"Against the target of {CPU_PER_FLAG_TARGET_MS:g} ms app CPU per flag: the "
            f"product-shaped floor (`flag_floor_orm`) takes {_f(floor.app_ms)} ms, leaving "
            f"{_f(CPU_PER_FLAG_TARGET_MS - floor.app_ms)} ms for ValueLoop's own work.",
            "",
        ]
    for result in results:
        if result.fig.errors:
            lines.append(
                f"Errors in `{result.variant}`: "
                + ", ".join(f"{kind} x {n:,}" for kind, n in result.fig.errors.most_common())
            )
    lines += [f"Logs: {facts['logs']}", ""]
    return "\n".join(lines)


def log_problems(served: Sequence[Served]) -> str:
    """Lines that look like errors in each process's log (uvicorn logs only start-up and
    failures here: no access log)."""
    found = []
    for item in served:
        text = item.log_path.read_text(errors="replace") if item.log_path.exists() else ""
        bad = [
            line
            for line in text.splitlines()
            if "ERROR" in line or "Traceback" in line or "Exception" in line
        ]
        if bad:
            found.append(f"{item.label}: {len(bad)} error line(s), first: `{bad[0][:160]}`")
    return "; ".join(found) or "no errors logged"


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor",
        description="CPU per request of the fixed stack (uvicorn, FastAPI, httpx, SQLAlchemy "
        "async + psycopg) in the shape of a flag submission, without ValueLoop's logic.",
    )
    parser.add_argument(
        "--variants",
        default=",".join(floor_app.VARIANTS),
        help=f"comma list of {', '.join(floor_app.VARIANTS)} (default: all, in that order)",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent closed-loop clients")
    parser.add_argument("--processes", type=int, default=2, help="app processes")
    parser.add_argument("--seconds", type=float, default=10, help="measured window per variant")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load not counted")
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server (127.0.0.1) where the throwaway database is made",
    )
    args = parser.parse_args(argv)
    args.variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in args.variants if name not in floor_app.VARIANTS]
    if unknown or not args.variants:
        parser.error(f"--variants: unknown {unknown}; choose from {floor_app.VARIANTS}")
    if not 1 <= args.clients <= 500 or not 1 <= args.processes <= 8:
        parser.error("--clients must be 1..500 and --processes 1..8")
    if not 1 <= args.seconds <= 600 or not 0 <= args.warmup <= 120:
        parser.error("--seconds must be 1..600 and --warmup 0..120")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    server = server_url(args.server)
    started = datetime.now(UTC)
    idle = idle_check()
    load_before = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    results: list[Measured] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vl-bench-floor-")))
        database_url = stack.enter_context(throwaway_database(server, keep=False))
        database = make_url(database_url).database or ""
        handles = prepare_database(database_url, args.clients)
        ehr = serve("ehr", "ehr", clean_env(), workdir / "ehr.log")
        stack.callback(stop_serving, ehr.process)
        env = clean_env()
        env[floor_app.DATABASE_ENV] = (
            make_url(database_url)
            .set(drivername="postgresql+psycopg")
            .render_as_string(hide_password=False)
        )
        env[floor_app.EHR_ENV] = ehr.base_url
        apps: list[Served] = []
        for index in range(args.processes):
            app = serve("app", f"app-{index}", env, workdir / f"app-{index}.log")
            stack.callback(stop_serving, app.process)
            apps.append(app)
        print(
            f"Database {database}; EHR pid {ehr.process.pid} at {ehr.base_url}; "
            + ", ".join(f"{app.label} pid {app.process.pid} at {app.base_url}" for app in apps),
            flush=True,
        )
        specs = client_specs(handles, args.processes)
        for variant in args.variants:
            print(
                f"  {variant}: {args.clients} clients, warm-up {args.warmup:g} s, "
                f"window {args.seconds:g} s",
                flush=True,
            )
            result = measure(variant, specs, apps, ehr, database, args)
            results.append(result)
            print(
                f"    {result.fig.requests / max(result.fig.window, 1e-9):,.0f} requests/s, "
                f"app CPU {_f(result.app_ms)} ms/request",
                flush=True,
            )
            time.sleep(0.5)  # let the last requests' work settle before the next window
        facts = {
            "stack": _stack(),
            "pg": postgres_version(database_url),
            "load_before": load_before,
            "load_after": ", ".join(f"{value:.2f}" for value in os.getloadavg()),
            "idle": f"{idle:.0f}",
            "logs": log_problems([ehr, *apps]),
        }
    write_report("floor", started, report(results, args, started, facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
