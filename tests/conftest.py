"""Shared fixtures: one real MiniStack on loopback for the tests that need the local AWS.

Also the CI rule (tests/prerequisites.py): with ``CI`` set, a skipped test is reported as failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import Target, connect

try:
    from tests.prerequisites import pytest_runtest_makereport  # noqa: F401 - a hook: on CI a skip fails
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    from prerequisites import pytest_runtest_makereport  # type: ignore[no-redef] # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``after_stubber_tests`` run last (a stable sort keeps the others' order)."""
    items.sort(key=lambda item: item.get_closest_marker("after_stubber_tests") is not None)


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(log_dir=tmp_path_factory.mktemp("ministack")) as aws:
        yield aws


@pytest.fixture
def local_target(local_aws: LocalAWS) -> Target:
    return connect("local", endpoint_url=local_aws.endpoint_url)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
