"""The main job (`make report`): every notebook, headless, into ``outputs/<UTC timestamp>/``.

It starts the embedded local AWS for ``target="local"`` (and always stops it), executes the
notebooks in order with papermill, renders each to HTML (code hidden; a failed one still gets its
report, error first), writes ``summary.json`` and points ``outputs/latest`` at the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import papermill as pm

from runbook_lib.aws import deployments
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.names import DEFAULT_STACK
from runbook_lib.aws.presets import PRESETS
from runbook_lib.aws.target import ENDPOINT_ENV, TARGETS, connect
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import (
    lab_results,
    lifecycle,
    params,
    redact,
    reports,
    requirements,
    results,
    run_folders,
    run_index,
    share,
)

__all__ = ["NOTEBOOKS", "NOTEBOOK_DIR", "RunResult", "lab", "print_summary", "run"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
#: Run order. Teardown runs last, and runs even when an earlier notebook failed.
NOTEBOOKS = ("00_explainer", "01_build_origin", "02_verify_forwarding", "03_pitfalls_lab", "04_your_distribution",
             "05_fix_safely", "09_teardown")


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.summary.get("ok"))


def _log(msg: str) -> None:
    print(msg, flush=True)


@contextlib.contextmanager
def _local_aws(target: str, run_dir: Path) -> Iterator[LocalAWS | None]:
    if target != "local":
        yield None
        return
    _log("starting the local AWS (MiniStack) on 127.0.0.1 ...")
    with LocalAWS(log_dir=run_dir) as aws:
        pid = aws.process.pid if aws.process else None
        _log(f"local AWS ready at {aws.endpoint_url} (pid {pid}, log: {aws.log_path})")
        yield aws


@contextlib.contextmanager
def _deployment_env(run_dir: Path, seconds: float) -> Iterator[None]:
    """Point every notebook kernel (they inherit the environment) at the run's deployment ledger and S."""
    saved = {k: os.environ.get(k) for k in (deployments.LEDGER_ENV, deployments.SIMULATE_ENV)}
    os.environ[deployments.LEDGER_ENV] = str((run_dir / deployments.LEDGER_FILE).resolve())
    os.environ[deployments.SIMULATE_ENV] = str(seconds)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _check_declared(name: str, given: dict[str, Any]) -> None:
    """Refuse a parameter the notebook does not declare before spending a kernel on it."""
    declared = pm.inspect_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"))
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(f"{name} has no parameter {', '.join(unknown)}; it takes: {', '.join(declared)}.")


def run(
    target: str = "local",
    out_root: Path | str = "outputs",
    stack_name: str = DEFAULT_STACK,
    region: str = "",
    profile: str = "",
    notebooks: tuple[str, ...] = NOTEBOOKS,
    preset: str = "recommended",
    requirement_ids: str = "",
    notebook_timeout: float = 0.0,
    simulate_deploy_seconds: float = 0.0,
) -> RunResult:
    """Every notebook in order; the main stack is built with ``preset`` and verified against ``requirement_ids``
    (comma-separated ids or a .json/.yaml file; empty: the six defaults). ``notebook_timeout``: seconds each
    notebook may take (0: ``lifecycle.DEFAULT_TIMEOUTS`` for the target). ``simulate_deploy_seconds``: locally,
    each create or update of a distribution is Deployed that many seconds later (:mod:`~runbook_lib.aws.deployments`).

    A signal (Ctrl-C, SIGTERM, SIGHUP) stops the local AWS and the kernel, writes ``summary.json`` with
    ``"status": "interrupted"`` and raises :class:`lifecycle.RunInterrupted`; ``latest`` is left pointing at
    the last complete run."""
    if target not in TARGETS:
        raise ParameterError(f"target={target!r} is not known. Valid choices: {', '.join(TARGETS)}.")
    if preset not in PRESETS:
        raise ParameterError(f"preset={preset!r} is not known. Valid choices: {', '.join(PRESETS)}.")
    requirements.parse(requirement_ids)  # refuse a bad list before any notebook runs
    if simulate_deploy_seconds and target != "local":
        raise ParameterError("simulate_deploy_seconds is for target='local' only: AWS takes its own time. "
                             "Drop --simulate-deploy-seconds or use --target local.")
    deployments.simulated_seconds({deployments.SIMULATE_ENV: str(simulate_deploy_seconds)})  # refuse a bad S
    if target == "aws":  # credentials, profile and region checked once, before any notebook runs
        connect("aws", region, profile=profile)
    out_root = Path(out_root)
    run_dir = run_folders.new_run_dir(out_root)
    limit = notebook_timeout or lifecycle.DEFAULT_TIMEOUTS[target]
    result = RunResult(run_dir)
    entries: list[dict[str, Any]] = []
    try:
        with (lifecycle.signals_interrupt(), redact.run_key(), lifecycle.kernel_tmp(run_dir),
              _deployment_env(run_dir, simulate_deploy_seconds), _local_aws(target, run_dir) as aws):
            base = {"target": target, "stack_name": stack_name, "region": region, "profile": profile,
                    "endpoint_url": aws.endpoint_url if aws else "", "results_dir": str(run_dir.resolve()),
                    "preset": preset, "requirements": requirement_ids}
            _execute_all(notebooks, base, run_dir, limit, aws, entries)
    except KeyboardInterrupt as err:
        signum = err.signum if isinstance(err, lifecycle.RunInterrupted) else signal.SIGINT
        done = {e["name"] for e in entries}
        current = next((n for n in notebooks if n not in done), "(none)")
        entries.append({"name": current, "status": "interrupted", "html": None,
                        "error": f"stopped by {signal.Signals(signum).name}"})
        _write_summary(result, target, preset, entries, notebooks, status="interrupted")
        raise lifecycle.RunInterrupted(signum, run_dir) from None
    _write_summary(result, target, preset, entries, notebooks, status="complete")
    run_folders.point_latest(out_root, run_dir)
    return result


def _write_summary(result: RunResult, target: str, preset: str, entries: list[dict[str, Any]],
                   notebooks: tuple[str, ...], status: str) -> None:
    run_dir = result.run_dir
    result.summary = _summary(target, run_dir.name, preset, entries, run_dir, notebooks)
    result.summary["status"] = status
    if status != "complete":
        result.summary["ok"] = False
    (run_dir / "summary.json").write_text(json.dumps(result.summary, indent=2))
    run_index.render_index(result.summary, run_dir)
    share.render_report(result.summary, run_dir)


def _execute_all(notebooks: tuple[str, ...], base: dict[str, Any], run_dir: Path, limit: float,
                 aws: LocalAWS | None, entries: list[dict[str, Any]]) -> None:
    """Each notebook in turn, with the local AWS's health checked before each: once it is dead or stuck, the
    rest are skipped with the reason (its log named) instead of each waiting minutes for a read timeout."""
    down = ""
    for name in notebooks:
        down = down or ((aws.problem(timeout=3.0) or "") if aws else "")
        if down:
            entries.append({"name": name, "status": "skipped", "html": None, "error": down})
            _log(f"  {name:<24} skipped  ({down})")
            continue
        entry = _execute(name, base, run_dir, limit, aws)
        entries.append(entry)
        down = entry.pop("emulator_down", "")


def _execute(name: str, base: dict[str, Any], run_dir: Path, limit: float, aws: LocalAWS | None) -> dict[str, Any]:
    spec = params.SPECS.get(name, {})
    parameters = {k: v for k, v in base.items() if k in spec}
    _check_declared(name, parameters)
    out_nb = run_dir / f"{name}.ipynb"
    start = time.monotonic()
    status, error, down = "ok", None, ""

    def work() -> object:
        return pm.execute_notebook(
            str(NOTEBOOK_DIR / f"{name}.ipynb"), str(out_nb), parameters=parameters, kernel_name="python3",
            progress_bar=False, cwd=str(run_dir), request_save_on_cell_execute=False,
            # ipykernel warns on every start that its loopback TCP channel is unencrypted, and logs
            # "KeyboardInterrupt caught in kernel" at ERROR when papermill stops it: noise here. A cell's
            # own error still reaches the notebook, its report and the summary.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            kernel_manager_class=lifecycle.TrackedKernelManager,
        )

    try:
        lifecycle.supervise(work, limit, aws.problem if aws else None)
    except pm.PapermillExecutionError as err:
        status, error = "error", f"{err.ename}: {err.evalue}"
    except lifecycle.NotebookAborted as err:
        status, error, down = "error", str(err), str(err) if err.emulator_down else ""
    except Exception as err:  # a dead kernel: the run goes on (teardown still runs), marked failed
        status, error = "error", f"{type(err).__name__}: {err}"
    html = (reports.render_html(out_nb, run_dir / f"{name}.html", title=name, back_link="index.html")
            if out_nb.exists() else None)
    took = time.monotonic() - start
    _log(f"  {name:<24} {status:<5} {took:6.1f} s" + (f"  {error}" if error else ""))
    entry: dict[str, Any] = {"name": name, "status": status, "html": html.name if html else None}
    if error:
        entry["error"] = error
    if down:
        entry["emulator_down"] = down
    return entry


def _summary(target: str, stamp: str, preset: str, entries: list[dict[str, Any]], run_dir: Path,
             notebooks: tuple[str, ...]) -> dict[str, Any]:
    """``summary.json``: ok only when every notebook ran, every check held, every requirement is met and
    every pitfall and path fix was verified."""
    probes = _probe_counts(run_dir / "probes.csv")
    verified = "02_verify_forwarding" in notebooks
    needs = _requirements(run_dir / "verify.json") if verified else None
    lab = _pitfalls(run_dir / "pitfalls.json") if "03_pitfalls_lab" in notebooks else None
    ok = (all(e["status"] == "ok" for e in entries)
          and (not verified or (probes["total"] > 0 and probes["failed"] == 0))
          and (needs is None or (bool(needs) and all(r["met"] is True for r in needs)))
          and (lab is None or not lab_results.problems(lab, local=target == "local")))
    summary: dict[str, Any] = {"target": target, "ok": ok, "run": stamp, "preset": preset, "notebooks": entries,
                               "probes": probes,
                               "deployments": deployments.summarize(run_dir / deployments.LEDGER_FILE)}
    if needs is not None:
        summary["requirements"] = needs
    if lab is not None:
        summary["pitfalls"] = lab
    return summary


def _requirements(path: Path) -> list[dict[str, Any]]:
    """The main stack's requirement verdicts, as ``verify.save`` wrote them ([] when verify did not finish)."""
    if not path.exists():
        return []
    keep = ("id", "met", "evidence", "fix")
    return [{k: r[k] for k in keep} for r in json.loads(path.read_text()).get("requirements", [])]


def _probe_counts(csv: Path) -> dict[str, int]:
    if not csv.exists():
        return {"total": 0, "passed": 0, "failed": 0, "deviations": 0, "not_observed": 0}
    return results.summary(pd.read_csv(csv))


def _pitfalls(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())) if path.exists() else []




def print_summary(result: RunResult) -> None:
    s = result.summary
    p = s["probes"]
    why = share.why_failed(s)
    word = "PASS" if result.ok else "FAIL" + (f" ({'; '.join(why)})" if why else "")
    _log(f"\n{word}: target={s['target']}, preset={s.get('preset')}, {p['total']} checks: "
         f"{p['passed']} passed, {p['failed']} failed, {p['deviations']} known emulator deviations, "
         f"{p.get('not_observed', 0)} not observed")
    needs = s.get("requirements")
    if needs is not None:
        unmet = [r for r in needs if r["met"] is not True]
        _log(f"  requirements: {len(needs) - len(unmet)} of {len(needs)} met"
             + ("" if needs else " (none decided: verify did not finish)"))
        for r in unmet:
            word = "UNMET" if r["met"] is False else "UNKNOWN"
            _log(f"  requirement {r['id']}: {word}: {r['evidence'][:300]} Fix: {r['fix']}")
    dep = s.get("deployments")
    if dep:
        _log(f"  deployments: {dep['count']} waited for, in {dep['rounds']} rounds")
    for nb in s["notebooks"]:
        _log(f"  {nb['name']}: {nb['status']}" + (f" ({nb['error']})" if nb.get("error") else ""))
    for pit in s.get("pitfalls", []):
        # A failed fix shows its whole note: it says what went wrong, or what to install.
        note = pit["note"] if not pit["fix_verified"] else str(pit.get("deviation") or pit["note"]).split(":", 1)[0]
        note = f" ({note})" if note else ""
        symptom = "" if pit.get("kind") == "path-fix" else \
            f"symptom {'seen' if pit['symptom_seen'] else 'not seen'}, "
        _log(f"  {pit.get('kind', 'pitfall')} {pit['id']}: {symptom}"
             f"fix {'verified' if pit['fix_verified'] else 'NOT verified'}{note}")
    if "pitfalls" in s:
        for problem in lab_results.problems(s["pitfalls"], local=s["target"] == "local"):
            _log(f"  lab problem: {problem}")
    _log(f"reports: {result.run_dir / 'index.html'} (also {result.run_dir.parent / 'latest' / 'index.html'}); "
         f"one file to share: {result.run_dir / 'report.html'}")


def lab(out_root: Path | str = "outputs", extra_args: tuple[str, ...] = ()) -> int:
    """JupyterLab on the notebooks, with a local AWS running for as long as Lab runs."""
    run_dir = Path(out_root) / "lab"
    with lifecycle.signals_interrupt(), LocalAWS(log_dir=run_dir) as aws:
        _log(f"local AWS at {aws.endpoint_url}; notebooks with target='local' find it through ${ENDPOINT_ENV}")
        env = {**os.environ, ENDPOINT_ENV: aws.endpoint_url}
        # Jupyter refuses to start as root without --allow-root; in a container root is the usual user.
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        cmd = [sys.executable, "-m", "jupyter", "lab", "--ip=127.0.0.1", *as_root, str(NOTEBOOK_DIR), *extra_args]
        try:
            return subprocess.call(cmd, env=env)
        except KeyboardInterrupt:
            return 130
