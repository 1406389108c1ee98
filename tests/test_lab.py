"""`make lab`: JupyterLab with a local AWS; as root (most containers) it passes Jupyter's --allow-root."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from runbook_lib.runbook import runner


@pytest.mark.parametrize(("uid", "allowed"), [(0, True), (1000, False)], ids=["root", "user"])
def test_lab_passes_allow_root_only_as_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, uid: int,
                                            allowed: bool) -> None:
    calls: list[list[str]] = []

    @contextlib.contextmanager
    def fake_aws(**_: Any) -> Iterator[SimpleNamespace]:
        yield SimpleNamespace(endpoint_url="http://127.0.0.1:1")

    def fake_call(cmd: list[str], **_: Any) -> int:
        calls.append(cmd)
        return 0

    monkeypatch.setattr(runner, "LocalAWS", fake_aws)
    monkeypatch.setattr(runner.subprocess, "call", fake_call)
    monkeypatch.setattr(runner.os, "geteuid", lambda: uid)
    assert runner.lab(out_root=tmp_path) == 0
    assert ("--allow-root" in calls[0]) is allowed
    assert calls[0][1:4] == ["-m", "jupyter", "lab"] and "--ip=127.0.0.1" in calls[0]
