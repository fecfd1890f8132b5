"""smart/ keeps to its public surface and its one-way dependencies (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import smart

SOURCE = Path(smart.__file__).resolve().parent
FILES = sorted(SOURCE.glob("*.py"))


def test_every_public_name_resolves():
    missing = [name for name in smart.__all__ if not hasattr(smart, name)]

    assert missing == []
    assert len(set(smart.__all__)) == len(smart.__all__)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_no_module_creates_its_own_http_client(path):
    # The caller's AsyncClient carries the app's transport, limits and (one day) httpx2.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    created = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
        in {"AsyncClient", "Client"}
    ]

    assert created == []


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_no_module_uses_authlib_client_integrations_or_jose(path):
    # authlib's httpx integration creates its own clients; authlib.jose is deprecated in
    # favour of joserfc.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)

    forbidden = ("authlib.integrations", "authlib.jose", "requests")
    assert sorted(module for module in modules if module.startswith(forbidden)) == []
