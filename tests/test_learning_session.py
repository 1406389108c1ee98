"""A learner's session: "Run All" twice in one kernel, as JupyterLab does it (nbclient keeps the kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from runbook_lib.errors import ParameterError
from runbook_lib.runbook import params


def _run_all_twice(notebook: Path) -> list[str]:
    """Execute every cell, then every cell again, in the same kernel; the error names of the second pass."""
    nb = nbformat.read(notebook, as_version=4)
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
