"""A run ends cleanly however it ends: signals stop the local AWS and its workers, a stuck local AWS is
named within seconds, run folders never collide and ``latest`` only ever points at a complete run.

The signal tests start `python -m runbook_lib report` as a real subprocess in a session of its own and
only ever signal that process (and, for the stuck-emulator test, the MiniStack it reports starting).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_lib.runbook import lifecycle, run_folders, runner

_READY = re.compile(r"local AWS ready at \S+ \(pid (\d+), log: (\S+)\)")


def _group(pgid: int) -> set[int]:
    """PIDs of the live (not zombie) processes in process group ``pgid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.add(int(stat.parent.name))
    return found


class _Report:
    """`python -m runbook_lib report` in its own session; its output goes to files (no pipe can fill up and
    block it, and nothing is left to close)."""

    def __init__(self, out: Path, tmpdir: Path, *extra: str) -> None:
        env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
        self.out_log, self.err_log = out.parent / "report.out", out.parent / "report.err"
        with self.out_log.open("w") as stdout, self.err_log.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "runbook_lib", "report", "--out", str(out), *extra],
                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            )

    @property
    def lines(self) -> list[str]:
        return self.out_log.read_text().splitlines()

    @property
    def err(self) -> str:
        return self.err_log.read_text()

    @property
    def ministack(self) -> int | None:
        found = [m for line in self.lines if (m := _READY.search(line))]
        return int(found[0].group(1)) if found else None

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if m := re.search(pattern, line):
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines) + self.err)

    def finish(self, timeout: float = 120) -> int:
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def reports(tmp_path: Path) -> Iterator[list[_Report]]:
    started: list[_Report] = []
    yield started
    for r in started:  # never leave one behind, even when an assertion failed
        if r.proc.poll() is None:
            os.killpg(r.proc.pid, signal.SIGKILL)
            if r.ministack is not None and _group(r.ministack):  # its MiniStack runs in a session of its own
                os.killpg(r.ministack, signal.SIGKILL)
        r.proc.wait()


def _previous_complete_run(out: Path) -> Path:
    done = out / "20200101T000000Z"
    done.mkdir(parents=True)
    (done / "summary.json").write_text(json.dumps({"ok": True, "status": "complete"}))
    run_folders.point_latest(out, done)
    return done


def _gone(pids: set[int], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_group(p) for p in pids):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration
def test_sigterm_stops_ministack_its_workers_and_the_kernel_and_marks_the_run_interrupted(
    tmp_path: Path, reports: list[_Report]
) -> None:
    out, tmpdir = tmp_path / "out", tmp_path / "tmp"
    tmpdir.mkdir()
    previous = _previous_complete_run(out)
    report = _Report(out, tmpdir)
    reports.append(report)
    ministack = int(report.wait_for(_READY.pattern).group(1))
    report.wait_for(r"01_build_origin ")  # 02 invokes the echo Lambda: MiniStack starts its workers
    deadline = time.monotonic() + 120
    while len(_group(ministack)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = _group(ministack) - {ministack}
    assert workers, "no Lambda worker appeared in MiniStack's process group"
    os.kill(report.proc.pid, signal.SIGTERM)  # what `timeout` or a CI cancel sends
    assert report.finish() == 128 + signal.SIGTERM
    assert _gone({ministack}), f"left running: {_group(ministack)}"
    assert "Traceback" not in report.err
    assert report.err.strip().splitlines()[-1].startswith("interrupted by SIGTERM")
    run_dir = next(p for p in out.iterdir() if p.name.startswith("2") and p != previous)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["ok"] is False
    assert summary["notebooks"][-1]["status"] == "interrupted"
    assert (out / "latest").resolve() == previous.resolve()  # still the last complete run
    assert not list(tmpdir.glob("*.json")), "kernel connection files left in TMPDIR"
    assert not (run_dir / ".kernels").exists()


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT])
def test_sighup_and_ctrl_c_stop_the_local_aws_with_one_line(
    sig: signal.Signals, tmp_path: Path, reports: list[_Report]
) -> None:
    report = _Report(tmp_path / "out", tmp_path)
    reports.append(report)
    ministack = int(report.wait_for(_READY.pattern).group(1))
    os.kill(report.proc.pid, sig)
    assert report.finish() == 128 + sig
    assert _gone({ministack})
    assert report.err.strip().splitlines() == [report.err.strip()]  # one line, no traceback
    assert report.err.startswith(f"interrupted by {sig.name}")
    assert not (tmp_path / "out" / "latest").exists()


@pytest.mark.integration
def test_a_stuck_local_aws_is_named_within_seconds_with_its_log(tmp_path: Path, reports: list[_Report]) -> None:
    report = _Report(tmp_path / "out", tmp_path)
    reports.append(report)
    ready = report.wait_for(_READY.pattern)
    ministack, log = int(ready.group(1)), ready.group(2)
    report.wait_for(r"00_explainer ")  # 01_build_origin is now talking to the local AWS
    os.kill(ministack, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        line = report.wait_for(r"stopped answering", timeout=60).string
        took = time.monotonic() - stopped
    finally:
        if _group(ministack):
            os.kill(ministack, signal.SIGCONT)
    assert took < 20, f"noticed after {took:.0f} s"
    assert log in line
    assert report.finish(timeout=120) == 1
    assert _gone({ministack})
    summary = json.loads(next((tmp_path / "out").glob("2*/summary.json")).read_text())
    assert summary["ok"] is False
    assert summary["notebooks"][-1] == {**summary["notebooks"][-1], "name": "09_teardown", "status": "skipped"}


def test_a_notebook_past_its_time_limit_is_stopped() -> None:
    start = time.monotonic()
    with pytest.raises(lifecycle.NotebookAborted, match="did not finish within 1 s"):
        lifecycle.supervise(lambda: time.sleep(30), timeout=1, health=None, interval=0.1)
    assert time.monotonic() - start < 5


def test_an_unanswered_health_check_stops_the_notebook_after_three_misses() -> None:
    calls: list[int] = []

    def health() -> str | None:
        calls.append(1)
        return "the local AWS stopped answering; its log: x/ministack.log"

    with pytest.raises(lifecycle.NotebookAborted, match="stopped answering") as err:
        lifecycle.supervise(lambda: time.sleep(30), timeout=60, health=health, interval=0.05)
    assert err.value.emulator_down and len(calls) == 3


def test_supervise_hands_back_what_the_notebook_raised() -> None:
    def boom() -> None:
        raise ValueError("from the notebook")

    with pytest.raises(ValueError, match="from the notebook"):
        lifecycle.supervise(boom, timeout=60, health=None, interval=0.05)


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    dirs = [run_folders.new_run_dir(tmp_path) for _ in range(5)]
    assert len(set(dirs)) == 5 and all(d.is_dir() for d in dirs)


def test_two_runner_runs_in_the_same_second_do_not_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []
    monkeypatch.setattr(runner, "_execute_all", lambda notebooks, base, run_dir, *a: seen.append(run_dir))
    monkeypatch.setattr(runner, "connect", lambda *a, **k: None)  # no AWS here: no credentials preflight
    monkeypatch.setattr(runner, "_summary", lambda *a: {"ok": True, "probes": {}, "notebooks": []})
    for _ in range(2):
        runner.run(target="aws", out_root=tmp_path, notebooks=())
    assert len(set(seen)) == 2


def test_latest_is_switched_by_rename_never_removed_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    run_folders.point_latest(tmp_path, first)

    def no_unlink(self: Path, missing_ok: bool = False) -> None:
        raise AssertionError(f"{self} unlinked: a reader could find no latest")

    monkeypatch.setattr(Path, "unlink", no_unlink)
    run_folders.point_latest(tmp_path, second)
    assert (tmp_path / "latest").resolve() == second.resolve()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".latest")] == []


def test_the_closing_line_names_the_real_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "elsewhere" / "20260101T000000Z"
    result = runner.RunResult(run_dir, {"ok": True, "target": "local", "probes": {"total": 0, "passed": 0,
                                                                                   "failed": 0, "deviations": 0},
                                        "notebooks": []})
    runner.print_summary(result)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"{run_dir / 'index.html'}" in last and f"{tmp_path / 'elsewhere' / 'latest' / 'index.html'}" in last
    assert "outputs/latest" not in last


def test_kernel_folder_is_absolute_for_a_relative_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `make report` passes out_root="outputs" (relative) and papermill runs each kernel with the run folder as
    # its cwd: a relative connection-file folder would then point at outputs/<run>/outputs/<run>/.kernels.
    monkeypatch.chdir(tmp_path)
    Path("run").mkdir()
    with lifecycle.kernel_tmp(Path("run")) as folder:
        assert folder.is_absolute() and folder == (tmp_path / "run" / ".kernels")
