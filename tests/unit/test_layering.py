"""Who may import whom: the product never reaches up into the benchmarks or the tests, and the
launcher, the load engine and the ChatKit client sit below the console script that uses them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BELOW_THE_CLI = ("services/launcher", "services/loadgen", "services/chatkit_client")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):  # imports inside functions count too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_under(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in files:
        bad = sorted(
            m
            for m in imported_modules(path)
            if any(m == f or m.startswith(f + ".") for f in forbidden)
        )
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_product_never_imports_the_benchmarks_or_the_tests() -> None:
    assert offenders(modules_under("services", "shared"), ("bench", "tests")) == {}


@pytest.mark.parametrize("folder", BELOW_THE_CLI)
def test_shared_machinery_does_not_import_the_console_script(folder: str) -> None:
    assert modules_under(folder), folder
    assert offenders(modules_under(folder), ("services.cli",)) == {}
