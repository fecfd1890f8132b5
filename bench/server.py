"""What both benchmarks need to run the real app: a free port and ``valueloop serve`` in a
subprocess, started from a given checkout and waited for until it is ready."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_report(name: str, started: datetime, text: str) -> None:
    """Print the report and keep it as bench/results/<name>-<UTC time>.md (git-ignored)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{started:%Y%m%dT%H%M%SZ}.md"
    path.write_text(text + "\n", encoding="utf-8")
    print()
    print(text)
    print(f"Written to bench/results/{path.name}")


class BenchError(RuntimeError):
    """The benchmark could not run (not: a target was missed)."""


def valueloop(args: Sequence[str], env: dict[str, str], app_dir: Path) -> str:
    """One ``valueloop`` command (as ``python -m app.cli``, from ``app_dir``); its output."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"valueloop {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    *, port: int, env: Mapping[str, str], app_dir: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``valueloop serve`` on 127.0.0.1:``port``, output to ``log_path``; stopped on exit."""
    process = start_serving(port=port, env=env, app_dir=app_dir, log_path=log_path)
    try:
        yield process
    finally:
        stop_serving(process)


def start_serving(
    *, port: int, env: Mapping[str, str], app_dir: Path, log_path: Path, append: bool = False
) -> subprocess.Popen[bytes]:
    """Start ``valueloop serve`` on 127.0.0.1:``port`` and wait until it is ready.

    Output goes to ``log_path`` (appended to with ``append``, e.g. for a restarted process).
    The caller stops it with :func:`stop_serving`; if it never becomes ready, it is stopped
    here and :class:`BenchError` is raised.
    """
    with open(log_path, "ab" if append else "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=app_dir,  # `-m app.cli` runs the app/ found here first
            env=dict(env),
            stdout=log,  # the child keeps its own descriptor once started
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}", process, log_path)
    except BaseException:
        stop_serving(process)
        raise
    return process


def stop_serving(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process from :func:`start_serving` (kill it after 15 s); wait for it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    with httpx.Client(base_url=base_url, trust_env=False, timeout=2.0) as client:
        for _ in range(240):  # at most about a minute
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise BenchError(f"the app exited with {process.returncode}:\n{tail}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    raise BenchError(f"the app did not become ready; see {log_path}")
