"""What some tests need besides pip packages (Chromium, Node.js, the dev tools), and the rule for when it is missing.

Locally a test whose prerequisite is missing is skipped, with the reason and the install command. With ``CI``
set it fails instead: CI must run every test. :func:`pytest_runtest_makereport` (a pytest hook, loaded by
tests/conftest.py) holds the same rule for any other skip, so nothing is ever skipped quietly on CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator
from typing import Any, NoReturn

import pytest

__all__ = ["executable", "in_ci", "missing", "pytest_runtest_makereport"]


def in_ci() -> bool:
    """``CI`` is set to anything but empty/0/false/no (GitHub Actions, GitLab and most others set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, install: str) -> NoReturn:
    """Skip the test (locally) or fail it (on CI): ``what`` is not available; ``install`` says how to get it."""
    reason = f"{what} is not available ({install}); this test needs it"
    if in_ci():
        pytest.fail(f"{reason}, and CI must run every test.", pytrace=False)
    pytest.skip(f"{reason}.")


def executable(name: str, install: str, *candidates: str) -> str:
    """The path of executable ``name`` (on PATH, else the first of ``candidates`` that exists), or :func:`missing`."""
    found = shutil.which(name) or next((c for c in candidates if os.path.exists(c)), None)
    if found is None:
        missing(name, install)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    """On CI a skipped test is reported as failed, with the skip's reason: nothing is skipped quietly there."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped on CI ({reason}); CI must run every test: install what it needs."
