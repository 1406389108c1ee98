"""The CloudFront model's layout holds: pure (no AWS SDK, HTTP client or pandas), every module has an
accurate ``__all__``, and no function or module outgrows the team's limits."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import runbook_lib.cloudfront

PACKAGE_DIR = Path(runbook_lib.cloudfront.__file__).parent
FORBIDDEN = ("boto3", "botocore", "requests", "pandas")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 450


def _module_names() -> list[str]:
    found = ["runbook_lib.cloudfront"]
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="runbook_lib.cloudfront."):
        found.append(info.name)
    return sorted(found)


MODULES = _module_names()
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def test_the_package_has_the_expected_modules() -> None:
    # Guards the walk itself: a broken walk would make every test below vacuous.
    for name in ("model", "diagnosis", "fixes", "rules.config", "rules.api", "policies", "docs"):
        assert f"runbook_lib.cloudfront.{name}" in MODULES


def _loaded_after(imports: list[str]) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {imports!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _forbidden(loaded: list[str]) -> list[str]:
    return [m for m in loaded if m.split(".", 1)[0] in FORBIDDEN]


def test_cloudfront_imports_no_aws_sdk_http_client_or_pandas() -> None:
    loaded = _loaded_after(MODULES)
    assert "runbook_lib.cloudfront.model" in loaded
    assert _forbidden(loaded) == []


def test_public_api_imports_without_pandas_or_the_sdk() -> None:
    loaded = _loaded_after(["runbook_lib"])
    assert _forbidden(loaded) == []
    import runbook_lib

    for name in ("simulate", "diagnose", "Finding", "Fix", "SimulationResult", "ConfigError", "RunbookError"):
        assert name in runbook_lib.__all__ and hasattr(runbook_lib, name)


def test_the_purity_check_can_fail() -> None:
    # The same probe does see a forbidden module when one is imported.
    assert _forbidden(_loaded_after(["json", "requests"])) != []


@pytest.mark.parametrize("name", MODULES)
def test_module_has_accurate_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__ list"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what does not exist: {missing}"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path.name}:{node.name} ({length} lines)")
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_sizes(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines (limit {MAX_MODULE_LINES})"
    assert _long_functions(path) == []


def test_the_size_check_can_fail(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "long.py"
    sample.write_text(f"def long() -> None:\n{body}\n", "utf-8")
    assert _long_functions(sample) == [f"long.py:long ({MAX_FUNCTION_LINES + 1} lines)"]
