"""The CI rule (tests/prerequisites.py): a missing Chromium, Node.js or dev tool skips locally, fails on CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from tests import prerequisites
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import prerequisites  # type: ignore[no-redef]

TESTS = Path(__file__).resolve().parent
ABSENT_TOOL = "runbook-no-such-tool-7f3a"


def test_a_missing_tool_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=rf"{ABSENT_TOOL} is not available \(apt-get install x\)"):
        prerequisites.executable(ABSENT_TOOL, "apt-get install x")


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_missing_tool_fails_on_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI must run every test"):
        prerequisites.executable(ABSENT_TOOL, "apt-get install x")


def test_a_present_tool_is_found_wherever_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert prerequisites.executable(ABSENT_TOOL, "-", sys.executable) == sys.executable
    assert Path(prerequisites.executable("sh", "-")).name == "sh"


@pytest.mark.parametrize("ci, code, said", [
    ("", 0, "1 skipped"),
    ("false", 0, "1 skipped"),
    ("true", 1, "skipped on CI (the reason); CI must run every test"),
])
def test_on_ci_any_skip_is_a_failure(tmp_path: Path, ci: str, code: int, said: str) -> None:
    # A separate pytest run with the same hook as tests/conftest.py and one test that skips.
    (tmp_path / "conftest.py").write_text("from prerequisites import pytest_runtest_makereport  # noqa: F401\n")
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n\ndef test_skips():\n    pytest.skip('the reason')\n")
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(TESTS)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stdout + done.stderr
    assert said in done.stdout
