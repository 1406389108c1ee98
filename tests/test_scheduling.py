"""docs/scheduling.md: each recipe works as written (the cron line runs, the workflow passes actionlint, the
Airflow DAG's PapermillOperator arguments are papermill's and the notebook runs with them)."""

from __future__ import annotations

import inspect
import json
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import papermill as pm
import pytest
import yaml

from runbook_lib.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scheduling.md"
LEGACY = ROOT / "tests" / "fixtures" / "sources" / "legacy_get_distribution_config.json"
AWS_SOURCE = "distribution:E2EXAMPLE123 --target aws --region eu-west-1"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def _block(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, f"docs/scheduling.md should have exactly one ```{language} block"
    return str(blocks[0])


# --- cron ------------------------------------------------------------------------------------------------

_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\d+(-\d+)?)(/\d+)?)*$")
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _cron_fields_ok(fields: list[str]) -> bool:
    for field, (low, high) in zip(fields, _RANGES, strict=True):
        if not _FIELD.match(field):
            return False
        if any(not low <= int(n) <= high for n in re.findall(r"(?<![/\d])\d+", field)):
            return False
    return True


def test_cron_field_checker_can_fail() -> None:
    assert _cron_fields_ok("17 6 * * *".split()) and _cron_fields_ok("*/15 0-5,22 1 1-12 0".split())
    assert not _cron_fields_ok("61 6 * * *".split()) and not _cron_fields_ok("17 6 * * mon-fri!".split())


def test_cron_line_runs_and_keeps_history(tmp_path: Path) -> None:
    [line] = [x for x in _block("cron").splitlines() if x.strip()]
    fields, command = line.split()[:5], line.split(None, 5)[5]
    assert _cron_fields_ok(fields) and "%" not in command  # cron turns % into a newline
    assert command.startswith("cd /srv/runbook && ") and AWS_SOURCE in command
    # The same line in a checkout at tmp_path, on a saved config instead of the account.
    checkout = tmp_path / "runbook"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    python = checkout / ".venv" / "bin" / "python"  # this venv's interpreter (a symlink would lose the venv)
    python.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    python.chmod(0o755)
    static = f"{shlex.quote(str(LEGACY))} --replay none"  # the account's distribution is read, not replayed
    local = command.replace("/srv/runbook", str(checkout)).replace(AWS_SOURCE, static)
    for _ in range(2):
        done = subprocess.run(["sh", "-c", local], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr  # the legacy config does not give the API its query strings
    out = checkout / "outputs" / "checks"
    history = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    assert len(history) == 2 and history[1]["ok"] is False
    log = (out / "cron.log").read_text()
    assert "this is the first run" in log and "configuration and policies: unchanged" in log
    assert (out / "junit.xml").read_text().count("<failure") >= 1


# --- GitHub Actions --------------------------------------------------------------------------------------


def _actionlint(workflow: str, folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / ".github" / "workflows" / "cloudfront-check.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow)
    return subprocess.run([str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=folder)


def test_github_workflow_passes_actionlint(tmp_path: Path) -> None:
    assert ACTIONLINT.exists(), "actionlint comes with the dev extras: run `make venv`"
    workflow = _block("yaml")
    done = _actionlint(workflow, tmp_path / "good")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = workflow.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon")
    assert _actionlint(broken, tmp_path / "bad").returncode != 0  # the lint can fail


def test_github_workflow_runs_the_check_command() -> None:
    workflow = yaml.safe_load(_block("yaml"))
    steps = workflow["jobs"]["check"]["steps"]
    [run] = [s["run"] for s in steps if "runbook_lib check" in str(s.get("run", ""))]
    argv = shlex.split(run.replace("$DISTRIBUTION_ID", "E2EXAMPLE123"))
    assert argv[:3] == ["python", "-m", "runbook_lib"]
    args = build_parser().parse_args(argv[3:])  # every flag is one check takes
    assert args.source == "distribution:E2EXAMPLE123" and args.out and args.junit.startswith(args.out)
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"] == args.out  # the history survives from one run to the next
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert "schedule" in triggers


# --- Airflow ---------------------------------------------------------------------------------------------

#: PapermillOperator's own arguments (apache-airflow-providers-papermill) -> papermill.execute_notebook's.
_OPERATOR_TO_PAPERMILL = {"input_nb": "input_path", "output_nb": "output_path", "parameters": "parameters",
                          "kernel_name": "kernel_name", "language_name": "language"}
_BASE_OPERATOR = {"task_id"}


def _run_dag(source: str) -> list[dict[str, Any]]:
    """Execute the DAG file with stand-ins for airflow's DAG and PapermillOperator; returns each operator's
    keyword arguments."""
    calls: list[dict[str, Any]] = []

    class _Dag:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

        def __enter__(self) -> _Dag:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    modules = {name: types.ModuleType(name) for name in
               ("airflow", "airflow.providers", "airflow.providers.papermill",
                "airflow.providers.papermill.operators", "airflow.providers.papermill.operators.papermill")}
    modules["airflow"].DAG = _Dag  # type: ignore[attr-defined]
    modules["airflow.providers.papermill.operators.papermill"].PapermillOperator = (  # type: ignore[attr-defined]
        lambda **kw: calls.append(kw))
    with pytest.MonkeyPatch.context() as mp:
        for name, module in modules.items():
            mp.setitem(sys.modules, name, module)
        exec(compile(source, "cloudfront_check_dag.py", "exec"), {"__name__": "dag"})
    return calls


def test_airflow_dag_arguments_are_papermills_and_the_notebook_runs(tmp_path: Path) -> None:
    [call] = _run_dag(_block("python"))
    accepted = inspect.signature(pm.execute_notebook).parameters
    mapped = {_OPERATOR_TO_PAPERMILL[k]: v for k, v in call.items() if k not in _BASE_OPERATOR}
    assert set(call) - _BASE_OPERATOR <= set(_OPERATOR_TO_PAPERMILL) and set(mapped) <= set(accepted)
    notebook = Path(mapped["input_path"].replace("/srv/runbook", str(ROOT)))
    assert notebook.name == "04_your_distribution.ipynb" and notebook.is_file()
    declared = pm.inspect_notebook(str(notebook))
    assert set(mapped["parameters"]) <= set(declared)  # papermill would only warn; the notebook refuses
    # Run it as Airflow would, on a saved config instead of the account, into tmp_path.
    params = {**mapped["parameters"], "source": str(LEGACY), "target": "local", "region": "",
              "results_dir": str(tmp_path / "results")}
    output = mapped["output_path"].replace("/srv/runbook/outputs/airflow", str(tmp_path))
    output = output.replace("{{ ts_nodash }}", "20260101T061700")
    pm.execute_notebook(str(notebook), output, parameters=params, kernel_name=mapped["kernel_name"],
                        progress_bar=False, cwd=str(ROOT))
    assert Path(output).is_file()
    data = json.loads((tmp_path / "results" / "check.json").read_text())
    assert data["ok"] is False and data["source"] == str(LEGACY)
