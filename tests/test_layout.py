"""The package's layout holds (issue 7), for every module of ``runbook_lib``:

- the three subsystems point the right way: ``cloudfront`` and ``apigateway`` are pure (no AWS SDK, HTTP client or
  pandas), the AWS side never reaches up into the runbook layer;
- every module has an accurate ``__all__``;
- no module over 450 lines, no function over 60 (the team's limits, README);
- one fact in one place where a test can hold it (managed policy IDs, the default stack name).
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import runbook_lib
from runbook_lib.aws import names
from runbook_lib.cloudfront import policies

PACKAGE_DIR = Path(runbook_lib.__file__).parent
MODULES = sorted(["runbook_lib", *(m.name for m in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="runbook_lib."))])
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))
FORBIDDEN_IN_PURE = ("boto3", "botocore", "requests", "pandas")
PURE = ("runbook_lib.cloudfront", "runbook_lib.apigateway")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 450


def test_the_walk_finds_every_subsystem() -> None:
    # Guards the walk itself: a broken walk would make every test below vacuous.
    for name in ("cloudfront.model", "cloudfront.rules.api", "aws.provision", "aws.calls", "runbook.runner",
                 "runbook.probes", "apigateway.routing", "sources", "cli", "errors"):
        assert f"runbook_lib.{name}" in MODULES


# --- purity and direction -----------------------------------------------------------------------------------


def _loaded_after(imports: list[str]) -> list[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {imports!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _forbidden(loaded: list[str]) -> list[str]:
    return [m for m in loaded if m.split(".", 1)[0] in FORBIDDEN_IN_PURE]


def test_the_models_import_no_aws_sdk_http_client_or_pandas() -> None:
    pure = [m for m in MODULES if m.startswith(PURE)]
    loaded = _loaded_after(pure)
    assert "runbook_lib.cloudfront.model" in loaded and "runbook_lib.apigateway.routing" in loaded
    assert _forbidden(loaded) == []


def test_the_public_api_imports_without_pandas_or_the_sdk() -> None:
    assert _forbidden(_loaded_after(["runbook_lib"])) == []
    for name in ("simulate", "diagnose", "api_route", "Finding", "Fix", "SimulationResult", "ConfigError"):
        assert name in runbook_lib.__all__ and hasattr(runbook_lib, name)


def test_the_purity_check_can_fail() -> None:
    assert _forbidden(_loaded_after(["json", "requests"])) != []


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_aws_layer_does_not_import_the_runbook_layer() -> None:
    # The one exception is the progress bar (a tqdm wrapper both layers share).
    allowed = {"runbook_lib.runbook", "runbook_lib.runbook.progress"}
    wrong = sorted(f"aws/{p.name}: {m}" for p in (PACKAGE_DIR / "aws").glob("*.py") for m in _imports(p)
                   if m.startswith("runbook_lib.runbook") and m not in allowed)
    assert not wrong, f"runbook_lib/aws imports the runbook layer: {wrong}"


@pytest.mark.parametrize("module, forbidden", [
    ("runbook/probes.py", "runbook_lib.aws.provision"),       # probes read the site page's marker, not provisioning
    ("runbook/params.py", "runbook_lib.runbook.explain"),     # parameter checks do not need the explainer
    ("runbook/explain.py", "runbook_lib.aws.provision"),      # the no-AWS explainer builds configs purely
    ("runbook/path_fixes.py", "botocore"),                    # catalogue and probes only; AWS calls are in aws/
    ("cloudfront/configs.py", "runbook_lib.aws"),
])
def test_imports_point_the_right_way(module: str, forbidden: str) -> None:
    wrong = sorted(i for i in _imports(PACKAGE_DIR / module) if i == forbidden or i.startswith(forbidden + "."))
    assert not wrong, f"{module} imports {wrong}"


# --- __all__ and sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [m for m in MODULES if not m.endswith("__main__")])
def test_module_has_an_accurate_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__ list"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what does not exist: {missing}"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"


def _long_functions(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path.name}:{node.name} ({length} lines)")
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_module_and_function_sizes(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines (limit {MAX_MODULE_LINES})"
    assert _long_functions(path) == []


def test_the_size_check_can_fail(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "long.py"
    sample.write_text(f"def long() -> None:\n{body}\n", "utf-8")
    assert _long_functions(sample) == [f"long.py:long ({MAX_FUNCTION_LINES + 1} lines)"]


# --- one fact, one place --------------------------------------------------------------------------------------


def test_managed_policy_ids_are_written_only_in_the_policies_module() -> None:
    ids = [policies.CACHING_DISABLED, policies.CACHING_OPTIMIZED, policies.ALL_VIEWER,
           policies.ALL_VIEWER_EXCEPT_HOST_HEADER]
    copies = sorted(str(p.relative_to(PACKAGE_DIR)) for p in SOURCES if p.name != "policies.py"
                    and any(i in p.read_text("utf-8") for i in ids))
    assert not copies, f"managed policy IDs copied outside cloudfront/policies.py: {copies}"


def test_notebooks_default_to_the_one_default_stack_name(repo_root: Path) -> None:
    seen = 0
    for path in sorted((repo_root / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if "parameters" not in cell.get("metadata", {}).get("tags", []):
                continue
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("stack_name ="):
                    value = ast.literal_eval(line.split("=", 1)[1].split("#", 1)[0].strip())
                    assert value == names.DEFAULT_STACK, f"{path.name}: stack_name = {value!r}"
                    seen += 1
    assert seen >= 4  # 01, 02, 03 and 09 take a stack_name
