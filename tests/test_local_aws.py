"""The embedded local AWS starts on loopback, answers, and is always stopped; failures say how to fix."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import requests

from runbook_lib.aws import local as local_aws
from runbook_lib.aws.local import LocalAWS
from runbook_lib.errors import LocalStackError


def test_starts_on_loopback_and_stops(tmp_path: Path) -> None:
    with LocalAWS(log_dir=tmp_path) as aws:
        assert aws.endpoint_url.startswith("http://127.0.0.1:")
        assert requests.get(aws.endpoint_url + "/_ministack/health", timeout=5).status_code == 200
        proc = aws.process
        assert proc is not None and proc.poll() is None
    assert proc.poll() is not None  # stopped on normal exit
    assert (tmp_path / "ministack.log").stat().st_size > 0  # its log stays in the run folder


def test_stopped_on_ctrl_c(tmp_path: Path) -> None:
    aws = LocalAWS(log_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt), aws:
        proc = aws.process
        raise KeyboardInterrupt
    assert proc is not None and proc.poll() is not None


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(LocalStackError, match=f"Port {port} .* already in use"):
            LocalAWS(log_dir=tmp_path, port=port).start()


def test_missing_package_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = local_aws.importlib.util.find_spec
    monkeypatch.setattr(local_aws.importlib.util, "find_spec",
                        lambda name, *a: None if name == "ministack" else real(name, *a))
    with pytest.raises(LocalStackError, match=r"pip install ministack==1\.5\.33"):
        LocalAWS(log_dir=tmp_path).start()


def test_failed_start_shows_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalAWS, "command",
                        lambda self: [sys.executable, "-c", "print('boom: cannot bind'); raise SystemExit(3)"])
    with pytest.raises(LocalStackError, match=r"exited with code 3(.|\n)*boom: cannot bind"):
        LocalAWS(log_dir=tmp_path).start()


def test_endpoint_before_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LocalStackError, match="not started"):
        _ = LocalAWS(log_dir=tmp_path).endpoint_url


def test_make_lab_runs_jupyterlab_with_a_live_local_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook_lib.aws.target import ENDPOINT_ENV
    from runbook_lib.runbook import runner

    seen: dict[str, object] = {}

    def fake_lab(cmd: list[str], env: dict[str, str]) -> int:  # stands in for JupyterLab's process
        endpoint = env[ENDPOINT_ENV]
        seen["cmd"], seen["endpoint"] = cmd, endpoint
        seen["health"] = requests.get(endpoint + "/_ministack/health", timeout=5).status_code
        return 0

    monkeypatch.setattr(runner.subprocess, "call", fake_lab)
    assert runner.lab(out_root=tmp_path) == 0
    cmd = seen["cmd"]
    assert isinstance(cmd, list) and cmd[1:4] == ["-m", "jupyter", "lab"] and "--ip=127.0.0.1" in cmd
    assert seen["health"] == 200  # the notebooks' target='local' finds a running local AWS
    with pytest.raises(requests.ConnectionError):  # and it is stopped when Lab exits
        requests.get(str(seen["endpoint"]) + "/_ministack/health", timeout=2)
