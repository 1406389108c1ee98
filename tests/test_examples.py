"""The README's examples work verbatim from the repository root (examples/ ships the configs they name)."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest


def _readme_commands(repo_root: Path, command: str) -> list[str]:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"`(\.venv/bin/python -m runbook_lib {command} [^`]+)`", text)


@pytest.mark.parametrize(("command", "exit_code"), [("simulate", 0), ("diagnose", 1)])
def test_readme_simulate_and_diagnose_run_verbatim(repo_root: Path, command: str, exit_code: int) -> None:
    found = _readme_commands(repo_root, command)
    assert found, f"the README shows no {command} example"
    for line in found:
        done = subprocess.run(["bash", "-c", line], cwd=repo_root, capture_output=True, text=True, timeout=120,
                              check=False)
        # diagnose exits 1 on the sample: the console's CachingOptimized default drops query strings.
        assert done.returncode == exit_code, (line, done.stdout[-1500:], done.stderr[-1500:])
        assert "Traceback" not in done.stderr
    if command == "diagnose":
        assert "query-strings-dropped" in done.stdout


def test_examples_readme_commands_run(repo_root: Path) -> None:
    text = (repo_root / "examples" / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^(\.venv/bin/python -m runbook_lib .+)$", text, re.MULTILINE)
    codes = [subprocess.run(["bash", "-c", line], cwd=repo_root, capture_output=True, timeout=120,
                            check=False).returncode for line in lines]
    assert codes == [0, 1, 0], list(zip(lines, codes, strict=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
def test_readme_papermill_block_runs(repo_root: Path) -> None:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(\.venv/bin/python -m runbook_lib local-aws .*?)```", text, re.DOTALL)
    assert block, "the README's papermill example is gone"
    # Verbatim but for the port: tests may run side by side on one machine.
    script = "set -e\n" + block.group(1).replace("45660", str(_free_port()))
    made = [repo_root / "outputs" / n for n in ("local-aws.txt", "01.ipynb", "09.ipynb")]
    try:
        done = subprocess.run(["bash", "-c", script], cwd=repo_root, capture_output=True, text=True, timeout=600,
                              check=False)
        assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
        assert "nothing of the stack is left" in (repo_root / "outputs" / "09.ipynb").read_text()
    finally:
        for path in made:
            path.unlink(missing_ok=True)
