"""Parameters are refused at the first cell, with the valid choices; the specs match the notebooks."""

from __future__ import annotations

from pathlib import Path

import papermill as pm
import pytest

from runbook_lib.errors import ParameterError
from runbook_lib.runbook import params


def _ns(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"target": "local", "stack_name": "cf-apigw-runbook", "region": "", "profile": "",
                               "endpoint_url": "", "results_dir": "", "preset": "recommended"}
    base.update(overrides)
    return base


def test_valid_parameters_come_back_as_attributes() -> None:
    p = params.validate("01_build_origin", {**_ns(), "__name__": "__main__", "In": [], "params": params})
    assert (p.target, p.preset) == ("local", "recommended")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"preset": "fast"}, r"preset='fast' is not valid\. Valid choices: recommended, legacy-no-query"),
    ({"target": "azure"}, r"target='azure' is not valid\. Valid choices: local, aws"),
    ({"stack_name": "My Stack"}, r"stack_name='My Stack' is not valid\. Use 3-30 characters"),
    ({"presett": "recommended"}, r"unknown parameter 'presett'"),
])
def test_bad_parameters_are_refused_with_the_fix(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        params.validate("01_build_origin", _ns(**overrides))
    assert "Its parameters are:" in str(info.value)  # and the message lists every parameter


def test_missing_parameter_is_named() -> None:
    ns = _ns()
    del ns["preset"]
    with pytest.raises(ParameterError, match="missing parameter 'preset'"):
        params.validate("01_build_origin", ns)


@pytest.mark.parametrize("name", sorted(params.SPECS))
def test_spec_matches_the_notebook_parameters_cell(name: str, repo_root: Path) -> None:
    declared = pm.inspect_notebook(str(repo_root / "notebooks" / f"{name}.ipynb"))
    assert set(declared) == set(params.SPECS[name])
    assert all(p["help"] for p in declared.values()), "every parameter has a comment"
