"""Product code stays in pieces a reader can hold: no module over 500 lines, no function over
60 (STYLE.md, "Size is a smell"). Migrations are history and exempt.

A module that grows past the limit holds two jobs, and a long function reads better as its
named steps; this test says which one crossed the line so it is split when it happens, not in a
later clean-up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("app", "smart", "fhir_client", "lowvalue")
EXEMPT = (ROOT / "app" / "migrations",)
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def product_modules() -> Iterator[Path]:
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(path.is_relative_to(exempt) for exempt in EXEMPT):
                yield path


def test_product_code_is_measured() -> None:
    # Guards the walk itself: a wrong root would make the size tests pass on nothing.
    assert len(list(product_modules())) > 50


def test_no_product_module_is_over_500_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in product_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_no_product_function_is_over_60_lines() -> None:
    too_long: dict[str, int] = {}
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                # From the first decorator: a decorator is part of what a reader takes in.
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert too_long == {}
