"""The runbook layer's shape (issue 7): each module declares its public names, stays small, and points the right way.

The modules listed are the runbook-layer modules whose layout this test holds; the rule is the team's (README):
modules <= 450 lines, functions <= 60, an ``__all__`` naming only what the module defines or imports.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "runbook_lib.cli", "runbook_lib.aws.path_stack", "runbook_lib.aws.site_page",
    "runbook_lib.runbook.explain", "runbook_lib.runbook.notebooks", "runbook_lib.runbook.params",
    "runbook_lib.runbook.path_fixes", "runbook_lib.runbook.policy_code", "runbook_lib.runbook.probes",
    "runbook_lib.runbook.progress", "runbook_lib.runbook.redact", "runbook_lib.runbook.reports",
    "runbook_lib.runbook.request_line", "runbook_lib.runbook.run_index", "runbook_lib.runbook.serve",
)


def _source(module: str) -> tuple[Path, ast.Module]:
    path = ROOT / (module.replace(".", "/") + ".py")
    return path, ast.parse(path.read_text())


@pytest.mark.parametrize("module", MODULES)
def test_module_declares_all_and_each_name_exists(module: str) -> None:
    loaded = importlib.import_module(module)
    assert isinstance(getattr(loaded, "__all__", None), list), f"{module} has no __all__"
    missing = [name for name in loaded.__all__ if not hasattr(loaded, name)]
    assert not missing, f"{module}.__all__ names what it does not define: {missing}"
    assert len(set(loaded.__all__)) == len(loaded.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_module_and_function_sizes(module: str) -> None:
    path, tree = _source(module)
    assert len(path.read_text().splitlines()) <= 450, f"{path.name} is over 450 lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"  # type: ignore[operator]
            for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > 60]  # type: ignore[operator]
    assert not long, f"{path.name}: functions over 60 lines: {long}"


def _imports(module: str) -> set[str]:
    _, tree = _source(module)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module, forbidden", [
    # The AWS side never reaches up into the runbook layer.
    ("runbook_lib.aws.path_stack", "runbook_lib.runbook"),
    ("runbook_lib.aws.site_page", "runbook_lib.runbook"),
    # Probes read the site page's marker, not the provisioning code; parameters do not need the explainer.
    ("runbook_lib.runbook.probes", "runbook_lib.aws.provision"),
    ("runbook_lib.runbook.params", "runbook_lib.runbook.explain"),
    ("runbook_lib.runbook.path_fixes", "botocore"),
])
def test_imports_point_the_right_way(module: str, forbidden: str) -> None:
    wrong = sorted(i for i in _imports(module) if i == forbidden or i.startswith(forbidden + "."))
    assert not wrong, f"{module} imports {wrong}"
