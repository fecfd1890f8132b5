"""fhir_client's own import rules, on the source (tests/test_architecture.py has the rest)."""

from __future__ import annotations

import ast
from pathlib import Path

import fhir_client

PACKAGE = Path(fhir_client.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_only_r4b_models_are_imported_never_the_r5_defaults():
    # fhir.resources' top-level modules (fhir.resources.patient) are R5 since 7.0; EHRs speak R4.
    offending = {
        path.name: sorted(
            module
            for module in imported_modules(path)
            if module.startswith("fhir.resources") and not module.startswith("fhir.resources.R4B")
        )
        for path in sorted(PACKAGE.glob("*.py"))
    }

    assert {name: modules for name, modules in offending.items() if modules} == {}


def test_the_public_surface_is_what_all_declares():
    public = {name for name in vars(fhir_client) if not name.startswith("_")}
    modules = {
        "client",
        "context",
        "dates",
        "errors",
        "outcomes",
        "paging",
        "resources",
        "retry",
        "user",
    }

    assert public - modules == set(fhir_client.__all__)
