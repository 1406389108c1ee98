"""The AWS side's shape: every module declares its public names, stays small, and points the right way."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
from pathlib import Path

import pytest

import runbook_lib.aws
from runbook_lib.aws import names

AWS_DIR = Path(runbook_lib.aws.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(AWS_DIR)]))


@pytest.mark.parametrize("name", MODULES)
def test_every_aws_module_has_an_all_that_names_real_things(name: str) -> None:
    module = importlib.import_module(f"runbook_lib.aws.{name}")
    assert hasattr(module, "__all__"), f"runbook_lib/aws/{name}.py has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"runbook_lib/aws/{name}.py __all__ names what it does not define: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_aws_modules_and_functions_stay_small(name: str) -> None:
    source = (AWS_DIR / f"{name}.py").read_text()
    assert len(source.splitlines()) <= 450
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"  # type: ignore[operator]
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > 60]  # type: ignore[operator]
    assert not long, f"runbook_lib/aws/{name}.py has functions over 60 lines: {long}"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_aws_layer_does_not_import_the_runbook_layer() -> None:
    # The one exception is the progress bar helper (a tqdm wrapper shared by both layers).
    allowed = {"runbook_lib.runbook", "runbook_lib.runbook.progress"}
    wrong = {f"aws/{p.name}: {m}" for p in AWS_DIR.glob("*.py") for m in _imports(p)
             if m.startswith("runbook_lib.runbook") and m not in allowed}
    assert not wrong, f"runbook_lib/aws imports the runbook layer: {sorted(wrong)}"


def test_the_pure_configs_and_the_explainer_need_no_provisioning() -> None:
    configs = Path(runbook_lib.aws.__file__).parent.parent / "cloudfront" / "configs.py"
    assert not {m for m in _imports(configs) if m.split(".")[0] in {"boto3", "botocore", "requests", "pandas"}
                or m.startswith(("runbook_lib.aws", "runbook_lib.runbook"))}
    explain = Path(runbook_lib.aws.__file__).parent.parent / "runbook" / "explain.py"
    assert not {m for m in _imports(explain) if "provision" in m}


def test_presets_use_the_managed_policy_ids_of_the_model() -> None:
    source = (AWS_DIR / "presets.py").read_text()
    from runbook_lib.cloudfront import policies

    ids = [policies.CACHING_DISABLED, policies.CACHING_OPTIMIZED, policies.ALL_VIEWER,
           policies.ALL_VIEWER_EXCEPT_HOST_HEADER]
    assert not [i for i in ids if i in source], "aws/presets.py copies a managed policy ID"


def test_notebooks_default_to_the_one_default_stack_name(repo_root: Path) -> None:
    seen = 0
    for path in sorted((repo_root / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        for cell in params:
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("stack_name ="):
                    value = ast.literal_eval(line.split("=", 1)[1].split("#", 1)[0].strip())
                    assert value == names.DEFAULT_STACK, f"{path.name}: stack_name = {value!r}"
                    seen += 1
    assert seen >= 4  # 01, 02, 03 and 09 take a stack_name
