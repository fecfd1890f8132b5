"""``valueloop ehr-sim``: plugged into the product's command without the product importing it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def valueloop(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_valueloop_help_lists_the_simulator_command():
    result = valueloop("--help")

    assert result.returncode == 0, result.stderr
    assert "ehr-sim" in result.stdout


def test_a_malformed_client_registration_is_refused_with_a_message():
    result = valueloop("ehr-sim", "--client", '{"client_id": "x"}')

    assert result.returncode == 2
    assert "Cannot start the simulated EHR" in result.stderr
    assert "redirect_uris" in result.stderr


def test_ehr_sim_serves_fhir_and_discovery_on_the_given_port():
    port = free_port()
    client = {
        "client_id": "valueloop",
        "name": "ValueLoop",
        "redirect_uris": ["http://127.0.0.1:8000/launch/callback"],
        "launch_url": "http://127.0.0.1:8000/launch",
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "app.cli",
            "ehr-sim",
            "--port",
            str(port),
            "--patients",
            "5",
            "--client",
            json.dumps(client),
            "--cds-service",
            "http://127.0.0.1:8000/cds-services/valueloop-order-sign",
            "--showcase-patient",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                discovery = httpx.get(f"{base}/fhir/.well-known/smart-configuration", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "ehr-sim exited early"
                assert time.monotonic() < deadline, "ehr-sim did not start in 30 s"
                time.sleep(0.1)
        assert discovery.json()["token_endpoint"] == f"{base}/auth/token"
        assert httpx.get(f"{base}/fhir/metadata", timeout=5).json()["fhirVersion"] == "4.0.1"
        assert "Launch ValueLoop" in httpx.get(
            f"{base}/chart/patients/pt-0001", timeout=5
        ).text or (httpx.get(f"{base}/", timeout=5).status_code == 200)
        showcase = httpx.get(f"{base}/chart/encounters/enc-showcase-back-pain", timeout=5).text
        assert "CDS services: http://127.0.0.1:8000/cds-services/valueloop-order-sign" in showcase
        assert httpx.get(f"{base}/cds/jwks", timeout=5).json()["keys"][0]["alg"] == "ES384"
    finally:
        process.terminate()
        process.communicate(timeout=10)  # also closes the pipes
