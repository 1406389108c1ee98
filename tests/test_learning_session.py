"""A learner's session: "Run All" twice in one kernel, as JupyterLab does it (nbclient keeps the kernel)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from runbook_lib.aws import path_stack
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import ENDPOINT_ENV, connect
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import params


def _run_all_twice(notebook: Path, parameters: dict[str, str] | None = None) -> list[str]:
    """Execute every cell, then every cell again, in the same kernel; the errors of both passes.

    ``parameters``: new values for lines of the parameters cell (as a learner edits them before "Run All").
    """
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for name, value in (parameters or {}).items():
        cell.source, found = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", cell.source, flags=re.MULTILINE)
        assert found == 1, name
    client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                            resources={"metadata": {"path": str(notebook.parent)}})
    errors: list[str] = []
    with client.setup_kernel():
        for round_ in (1, 2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                client.execute_cell(cell, index)
                errors += [f"round {round_}, cell {index}: {o.get('ename')}: {o.get('evalue')}"
                           for o in cell.outputs if o.get("output_type") == "error"]
    return errors


def test_run_all_twice_in_one_kernel_works(repo_root: Path) -> None:
    # The explainer needs no AWS; the second pass used to fail with "unknown parameter 'p'; 'config'".
    assert _run_all_twice(repo_root / "notebooks" / "00_explainer.ipynb") == []


@pytest.mark.integration
def test_run_all_twice_works_for_the_pitfalls_lab(repo_root: Path, local_aws: LocalAWS,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The second pass deploys again (nothing changes, the path pitfall is put back) and reaches the same verdict.
    monkeypatch.setenv(ENDPOINT_ENV, local_aws.endpoint_url)  # the kernel inherits it, as under make lab
    try:
        assert _run_all_twice(repo_root / "notebooks" / "03_pitfalls_lab.ipynb", {"stack_name": "rb-twice"}) == []
    finally:
        target = connect("local", endpoint_url=local_aws.endpoint_url)
        path_stack.teardown(target, "rb-twice-paths", others=["rb-twice-lab"], progress=False)


_PARAMETERS_CELL = 'preset = "recommended"  # which preset\nrequest = "GET /api/data"\n'


def test_globals_of_an_earlier_run_are_not_taken_for_parameters() -> None:
    history = ["", _PARAMETERS_CELL, "p = params.validate(...)", "config = explain.example_config(p.preset)",
               _PARAMETERS_CELL, "p = params.validate(...)"]
    ns = {"In": history, "preset": "recommended", "request": "GET /api/data", "p": object(), "config": {}}
    assert params.validate("00_explainer", ns).preset == "recommended"


def test_an_injected_unknown_parameter_is_still_refused() -> None:
    # papermill's injected-parameters cell comes right after the parameters cell.
    history = ["", _PARAMETERS_CELL, 'presett = "allviewer"\n', "p = params.validate(...)"]
    ns = {"In": history, "preset": "recommended", "request": "GET /api/data", "presett": "allviewer"}
    with pytest.raises(ParameterError, match="unknown parameter 'presett'"):
        params.validate("00_explainer", ns)


def test_a_parameter_deleted_from_the_namespace_is_missing() -> None:
    ns = {"In": ["", _PARAMETERS_CELL, "p = params.validate(...)"], "preset": "recommended"}
    with pytest.raises(ParameterError, match="missing parameter 'request'"):
        params.validate("00_explainer", ns)
