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
    "lowvalue": {"app", "smart", "fhir_client", "ehr_sim", "fastapi", "sqlmodel", "sqlalchemy"},
    # The simulator stands alone too: it must not lean on the code it is used to test.
    "ehr_sim": {"app", "smart", "fhir_client"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, ``from a import b`` counting as both ``a`` and ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


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


# Inside the product: the flag workflow is the core that insights, the reporter's view and the
# demo data build on, never the other way round; the kit knows no domain; demo data is the
# command line's, never the served app's. The clinician API builds on the launch and the
# registered EHRs, which know nothing of it.
_DOMAINS = (
    "app.flags",
    "app.insights",
    "app.reporter",
    "app.demo",
    "app.launch",
    "app.clinician",
    "app.ehrs",
    "app.staff",
    "app.auth",
    "app.audit",
    "app.dashboard",
    "app.notifications",
    "app.reports",
    "app.improvements",
)
INSIDE_APP: dict[str, tuple[str, ...]] = {
    # Notifications build on flags; flags announce through app/flags/hooks.py instead.
    "app/flags": (
        "app.improvements",
        "app.insights",
        "app.reporter",
        "app.demo",
        "app.kit.charts",
        "app.notifications",
        "app.reports",
    ),
    "app/kit": _DOMAINS,
    "app/reporter": ("app.demo", "app.insights"),
    # The report builds on flags and reads the statistics' vocabulary, never the reverse.
    "app/reports": ("app.demo", "app.reporter", "app.dashboard"),
    "app/insights": ("app.demo", "app.reporter", "app.reports"),
    # Improvement work builds on flags and notifications; statistics and reports read it.
    "app/improvements": (
        "app.insights",
        "app.reports",
        "app.reporter",
        "app.demo",
        "app.dashboard",
    ),
    "app/launch": ("app.clinician",),
    "app/ehrs": ("app.clinician",),
}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)


@pytest.mark.parametrize("folder", sorted(INSIDE_APP))
def test_app_package_imports_nothing_it_must_not_depend_on(folder):
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"{folder}/ has no Python files"
    offending = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := sorted(m for m in imported_modules(path) if _within(m, INSIDE_APP[folder])))
    }
    assert offending == {}


def test_only_the_command_line_imports_the_demo_data():
    importers = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if "demo" not in path.relative_to(ROOT / "app").parts
        and any(_within(module, ("app.demo",)) for module in imported_modules(path))
    }
    assert importers == {"app/cli.py"}


def test_the_walker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from ehr_sim.app import create_sim_app\n    import app.cli\n")

    assert imported_roots(module) == {"ehr_sim", "app"}
