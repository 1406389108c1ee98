"""A run's life: its folder, the signals that end it, and the watch kept on each notebook.

- Run folders are created with ``mkdir`` (atomic), so two runs started in the same second get two
  folders; ``latest`` is switched by renaming a fresh symlink over it (``os.replace``), never unlinked first.
- SIGINT, SIGTERM (a CI timeout or cancel) and SIGHUP (a closed terminal) raise :class:`RunInterrupted`
  in the main thread, so every ``with``/``finally`` runs: the local AWS is stopped, the kernel killed and
  the run folder gets an "interrupted" summary.
- A notebook runs in a worker thread (so nbclient installs no signal handlers of its own) while the main
  thread watches it: its time limit and, locally, the local AWS's health. A stuck or dead emulator is
  named within seconds, with its log, instead of by a read timeout minutes later.
- Kernel connection files go to a private folder inside the run folder, removed when the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from jupyter_client.manager import AsyncKernelManager

__all__ = ["DEFAULT_TIMEOUTS", "NotebookAborted", "RunInterrupted", "TrackedKernelManager", "kernel_tmp",
           "signals_interrupt", "supervise"]

#: Per-notebook time limit in seconds when none is given: minutes locally; on AWS a distribution takes
#: many minutes to deploy and to disable before it can be deleted.
DEFAULT_TIMEOUTS = {"local": 10 * 60.0, "aws": 90 * 60.0}
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: The local AWS counts as stuck after this many health checks in a row go unanswered (one a second).
_MISSES = 3


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (Ctrl-C, SIGTERM, SIGHUP); ``run_dir`` is its partial folder."""

    def __init__(self, signum: int = signal.SIGINT, run_dir: Path | None = None) -> None:
        self.signum = signum
        self.run_dir = run_dir
        super().__init__(signal.Signals(signum).name)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class NotebookAborted(Exception):
    """A notebook was stopped by the watch: it ran past its time limit, or the local AWS stopped answering."""

    def __init__(self, message: str, emulator_down: bool = False) -> None:
        super().__init__(message)
        #: True when the local AWS is dead or stuck: the notebooks after this one cannot run either.
        self.emulator_down = emulator_down


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise :class:`RunInterrupted` once; later ones are
    ignored so the cleanup they started can finish. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if not fired:
            fired.append(signum)
            raise RunInterrupted(signum)

    previous = {s: signal.signal(s, handler) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def kernel_tmp(run_dir: Path) -> Iterator[Path]:
    """Kernel connection files (jupyter_client writes them with ``tempfile.mkstemp``) go to a private folder
    of the run, removed at the end, instead of piling up in /tmp when a run is cut short."""
    folder = run_dir.resolve() / ".kernels"  # absolute: the kernels run with the run folder as cwd
    folder.mkdir(exist_ok=True)
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)


class TrackedKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, remembering each live kernel so the watch can kill it from another thread."""

    live: set[TrackedKernelManager] = set()

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        TrackedKernelManager.live.add(self)  # before the process exists: kill_all skips a kernel with none yet
        await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        TrackedKernelManager.live.discard(self)
        await super()._async_cleanup_resources(restart=restart)

    @classmethod
    def kill_all(cls) -> int:
        """SIGKILL every live kernel's process group (kernels run in a session of their own); how many."""
        killed = 0
        for km in list(cls.live):
            process = getattr(km.provisioner, "process", None)
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                    killed += 1
        return killed


def supervise(work: Callable[[], object], timeout: float, health: Callable[[], str | None] | None,
              interval: float = 1.0) -> None:
    """Run ``work`` (a notebook) in a worker thread and watch it from this one.

    Raises what ``work`` raised; :class:`NotebookAborted` when it runs past ``timeout`` seconds or ``health``
    (None when fine, else what is wrong) reports a problem ``_MISSES`` times in a row; :class:`RunInterrupted`
    on a signal. In the last two cases the kernel is killed first, so the worker ends.
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as err:  # handed to the main thread
            errors.append(err)
        finally:  # nbclient made this thread an event loop; close it (and its self-pipe sockets)
            with contextlib.suppress(RuntimeError):
                asyncio.get_event_loop_policy().get_event_loop().close()

    worker = threading.Thread(target=target, name="notebook", daemon=True)
    worker.start()
    deadline, misses = time.monotonic() + timeout, 0
    try:
        while worker.is_alive():
            worker.join(interval)
            if not worker.is_alive():
                break
            if time.monotonic() > deadline:
                raise NotebookAborted(f"did not finish within {timeout:.0f} s (the per-notebook time limit); "
                                      "raise it with --notebook-timeout (minutes) if the target is just slow")
            problem = health() if health else None
            misses = misses + 1 if problem else 0
            if problem and (misses >= _MISSES or "exited" in problem):
                raise NotebookAborted(problem, emulator_down=True)
    except BaseException:
        _stop_kernels(worker)
        raise
    if errors:
        raise errors[0]


def _stop_kernels(worker: threading.Thread) -> None:
    """Kill the notebook's kernel and give its thread time to clean up (connection file included)."""
    log = logging.getLogger("papermill")
    log.disabled = True  # nbclient would log "Kernel died while waiting for execute reply" for the kill
    try:
        killed = TrackedKernelManager.kill_all()
        worker.join(15 if killed else 1)
        TrackedKernelManager.kill_all()  # one launched while the first kill ran
    finally:
        log.disabled = False
