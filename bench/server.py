"""What both benchmarks need to run the real app: a free port and ``valueloop serve`` in a
subprocess, started from a given checkout and waited for until it is ready."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    *, port: int, env: Mapping[str, str], app_dir: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``valueloop serve`` on 127.0.0.1:``port``, output to ``log_path``; stopped on exit."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=app_dir,  # `-m app.cli` runs the app/ found here first
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(f"http://127.0.0.1:{port}", process, log_path)
            yield process
        finally:
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
