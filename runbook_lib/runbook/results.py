"""Predicted vs observed: one row per (probe, check), a verdict each, and the run's summary."""

from __future__ import annotations

from typing import Any

import pandas as pd

from runbook_lib.runbook import deviations, redact, reports
from runbook_lib.runbook.expectations import Expectation, expected, value
from runbook_lib.runbook.probes import ABSENT, Observation

COLUMNS = ["preset", "probe", "check", "expected", "observed", "verdict", "note"]
VERDICTS = ("pass", "fail", "deviation")


def _display(check: str, val: Any) -> Any:
    """What a report shows: credentials masked (they were compared unmasked)."""
    return redact.mask(val) if redact.is_sensitive(check) and val != ABSENT else val


def _behavior(config: dict[str, Any], label: str) -> dict[str, Any]:
    for b in config.get("CacheBehaviors", {}).get("Items", []) or []:
        if b.get("PathPattern") == label:
            return dict(b)
    return dict(config.get("DefaultCacheBehavior", {}))


def predict(observations: list[Observation], config: dict[str, Any], *, host: str, stage: str,
            policies: dict[str, Any] | None = None) -> list[Expectation]:
    """What AWS would do with each observation's probe, for ``config`` (the AWS form: ``Target.as_on_aws``)."""
    return [expected(config, obs.probe, host, stage, policies) for obs in observations]


def compare(
    observations: list[Observation],
    expectations: list[Expectation],
    config: dict[str, Any],
    *,
    preset: str,
    local: bool,
) -> pd.DataFrame:
    """The results table: each observation against its expectation (:func:`predict`).

    A mismatch is ``deviation`` only on the local target and only when a documented emulator
    deviation explains it; any other mismatch is ``fail``.
    """
    rows: list[dict[str, Any]] = []
    for obs, exp in zip(observations, expectations, strict=True):
        behavior = _behavior(config, exp.behavior)
        for check in obs.probe.checks:
            want, got = value(exp, check), obs.get(check)
            note = ""
            if obs.error:
                verdict, note = "fail", obs.error
            elif want == got:
                verdict = "pass"
            else:
                dev = deviations.explain(deviations.Context(behavior, obs.probe, check, want, got)) if local else None
                verdict, note = ("deviation", dev.id) if dev else ("fail", "")
            rows.append({
                "preset": preset, "probe": obs.probe.id, "check": check,
                "expected": _display(check, want), "observed": _display(check, got),
                "verdict": verdict, "note": note,
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(table: pd.DataFrame) -> dict[str, int]:
    counts = table["verdict"].value_counts()
    return {
        "total": len(table),
        "passed": int(counts.get("pass", 0)),
        "failed": int(counts.get("fail", 0)),
        "deviations": int(counts.get("deviation", 0)),
    }


def verdict_line(table: pd.DataFrame, preset: str) -> str:
    """One sentence a person can act on."""
    s = summary(table)
    if s["failed"]:
        failed = ", ".join(sorted(set(table.loc[table["verdict"] == "fail", "probe"])))
        return f"FAIL: {s['failed']} of {s['total']} checks did not match AWS's documented behaviour ({failed})."
    extra = f"; {s['deviations']} known emulator deviations, not counted as passes" if s["deviations"] else ""
    return f"PASS: all {s['passed']} checks matched AWS's documented behaviour for preset '{preset}'{extra}."


def styled(table: pd.DataFrame) -> Any:
    """The table with its verdicts coloured, for notebooks and HTML reports."""
    colours = {"pass": "background-color:#d4edda", "fail": "background-color:#f8d7da",
               "deviation": "background-color:#fff3cd"}
    return reports.table(table).map(lambda v: colours.get(v, ""), subset=["verdict"])


__all__ = ["COLUMNS", "VERDICTS", "compare", "predict", "styled", "summary", "verdict_line"]
