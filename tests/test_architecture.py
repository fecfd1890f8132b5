"""Dependencies point one way (STYLE.md, DESIGN.md "Components"), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN: dict[str, set[str]] = {
    # The product never depends on the simulated EHR.
    "app": {"ehr_sim"},
    "frontend": {"ehr_sim", "app"},
    # The libraries know nothing of the product, of each other, or of the web framework.
    "smart": {"app", "fhir_client", "ehr_sim", "fastapi", "sqlmodel", "sqlalchemy"},
    "fhir_client": {"app", "smart", "ehr_sim", "fastapi", "sqlmodel", "sqlalchemy"},
    # The simulator stands alone too: it must not lean on the code it is used to test.
    "ehr_sim": {"app", "smart", "fhir_client"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_it_must_not_depend_on(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in files
        if imported_roots(path) & FORBIDDEN[package]
    }
    assert offending == {}


def test_the_walker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from ehr_sim.app import create_sim_app\n    import app.cli\n")

    assert imported_roots(module) == {"ehr_sim", "app"}
