"""The embedded local AWS: MiniStack on loopback, started on a free port and always stopped.

MiniStack (PyPI ``ministack``, pinned in pyproject.toml) serves CloudFront, API Gateway, Lambda,
S3 and IAM on one port. See docs/deviations.md for where it differs from AWS.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import requests

from runbook_lib.errors import LocalStackError

__all__ = ["HOST", "MINISTACK_VERSION", "LocalAWS", "free_port"]

#: The version the runbook is tested against; keep in step with pyproject.toml.
MINISTACK_VERSION = "1.5.33"
HOST = "127.0.0.1"
_HEALTH_PATH = "/_ministack/health"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((HOST, port)) == 0


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class LocalAWS:
    """A MiniStack process bound to 127.0.0.1. Use as a context manager::

        with LocalAWS(log_dir=run_dir) as aws:
            boto3.client("cloudfront", endpoint_url=aws.endpoint_url, ...)

    It is stopped on normal exit, on an exception and on Ctrl-C; its log stays in ``log_dir``.
    """

    def __init__(self, log_dir: Path | str, port: int | None = None, startup_timeout: float = 30.0) -> None:
        self.log_dir = Path(log_dir)
        self.port = port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise LocalStackError("The local AWS is not started; call start() or use it in a `with` block.")
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / "ministack.log"

    def start(self) -> LocalAWS:
        if importlib.util.find_spec("ministack") is None:
            raise LocalStackError(
                f"The local AWS emulator is not installed in this Python ({sys.executable}). "
                f"Run `make report` (it builds .venv), or `pip install ministack=={MINISTACK_VERSION}`."
            )
        if self.port is None:
            self.port = free_port()
        elif _port_in_use(self.port):
            raise LocalStackError(
                f"Port {self.port} on {HOST} is already in use. Stop what listens there, "
                "or leave the port unset so a free one is chosen."
            )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.log_dir / "ministack-tmp"
        tmp.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "GATEWAY_PORT": str(self.port),
            "BIND_HOST": HOST,
            "MINISTACK_HOST": "localhost",
            # MiniStack keeps a PID file in TMPDIR; give it a folder of its own.
            "TMPDIR": str(tmp),
        }
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        finally:
            log.close()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def command(self) -> list[str]:
        return [sys.executable, "-m", "ministack"]

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = self.endpoint_url + _HEALTH_PATH
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise LocalStackError(
                    f"MiniStack exited with code {self.process.returncode} while starting. "
                    f"Its log is {self.log_path}:\n{self._log_tail()}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise LocalStackError(
            f"MiniStack did not answer {url} within {self.startup_timeout:.0f} s. Its log is {self.log_path}:\n"
            f"{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def problem(self, timeout: float = 1.0) -> str | None:
        """None while the local AWS answers its health check within ``timeout`` s; else what is wrong, with its log."""
        proc = self.process
        if proc is None:
            return "the local AWS is not running"
        if proc.poll() is not None:
            return f"the local AWS (pid {proc.pid}) exited with code {proc.returncode}; its log: {self.log_path}"
        try:
            if requests.get(self.endpoint_url + _HEALTH_PATH, timeout=timeout).status_code == 200:
                return None
        except requests.RequestException:
            pass
        return (f"the local AWS (pid {proc.pid}) at {self.endpoint_url} stopped answering its health check: "
                f"it is stuck or overloaded; its log: {self.log_path}")

    def stop(self) -> None:
        """Stop MiniStack and its Lambda workers: they share its process group (it runs in a session of its own)."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            _signal_group(proc.pid, signal.SIGCONT)  # a stopped (kill -STOP) process acts on SIGTERM only once resumed
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        _signal_group(proc.pid, signal.SIGKILL)  # workers that outlived MiniStack

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

