"""The container deployment is valid as written (no Docker engine runs on our machines)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import in_ci

ROOT = Path(__file__).resolve().parent.parent


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if in_ci():
            pytest.fail("docker-compose is missing: scripts/test installs it under CI=true")
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    return found


def compose_config(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VALUELOOP_")}
    env.update(environment)
    return subprocess.run(  # noqa: S603  (fixed arguments)
        [docker_compose(), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_with_a_secret_key():
    result = compose_config({"VALUELOOP_SECRET_KEY": "k" * 48})

    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret_key():
    result = compose_config({})

    assert result.returncode != 0
    assert "VALUELOOP_SECRET_KEY" in result.stderr
