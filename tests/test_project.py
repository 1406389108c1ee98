"""What a new user and CI meet: dependencies in step, clean notebooks, the README's commands, the public API."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import runbook_lib
from runbook_lib.runbook import notebooks


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_has_every_pyproject_dependency(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = (repo_root / "environment.yml").read_text()
    listed = {_name(m) for m in re.findall(r"^\s*-\s+([A-Za-z][\w.-]*[^\n#]*)", env, re.M)}
    assert wanted <= listed, f"missing from environment.yml: {sorted(wanted - listed)}"
    # The pins that matter (MiniStack pins botocore exactly) are the same in both.
    for pin in ("boto3==1.43.106", "ministack==1.5.33"):
        assert pin in env and pin in (repo_root / "pyproject.toml").read_text()


def test_committed_notebooks_have_no_outputs(repo_root: Path) -> None:
    assert notebooks.check([repo_root / "notebooks"]) == []


def test_readme_and_ci_use_the_same_commands(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    assert "make report" in readme and "make test" in readme and "make lab" in readme
    assert "make test" in (repo_root / ".ci" / "run").read_text()
    makefile = (repo_root / "Makefile").read_text()
    for target in ("report:", "test:", "lab:", "bench:"):
        assert target in makefile


def test_public_api_is_what_all_says() -> None:
    public = {n for n in dir(runbook_lib) if not n.startswith("_") and n != "annotations"}  # __future__
    modules = {n for n in public if isinstance(getattr(runbook_lib, n), type(runbook_lib))}
    assert public - modules == set(runbook_lib.__all__)


def test_every_dependency_is_pinned_in_the_constraints_make_installs(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    lines = [ln.strip() for ln in (repo_root / "constraints.txt").read_text().splitlines()]
    pins = dict(ln.lower().split("==", 1) for ln in lines if ln and not ln.startswith("#"))
    assert not wanted - set(pins), f"not pinned in constraints.txt: {sorted(wanted - set(pins))} (run `make lock`)"
    assert all(ln.startswith("#") or "==" in ln for ln in lines if ln), "constraints.txt pins with == only"
    for pin in ("boto3==1.43.106", "ministack==1.5.33"):  # the pins pyproject.toml itself makes agree
        assert pin in lines
    makefile = (repo_root / "Makefile").read_text()
    assert "pip install -c constraints.txt -e '.[dev]'" in makefile and "\nlock:" in makefile
    assert "make lock" in (repo_root / "README.md").read_text()
