"""Predicted vs observed: one row per (probe, check), a verdict each, and the run's summary."""

from __future__ import annotations

from typing import Any

import pandas as pd

from runbook_lib.cloudfront.behaviors import Behavior
from runbook_lib.cloudfront.model import compiled_behaviors
from runbook_lib.runbook import deviations, redact, reports
from runbook_lib.runbook.expectations import Expectation, expected, value
from runbook_lib.runbook.probes import ABSENT, Observation

__all__ = ["COLUMNS", "NOT_OBSERVED", "compare", "predict", "behaviour_line", "reporter", "styled", "summary",
           "verdict_line"]

COLUMNS = ["preset", "probe", "check", "expected", "observed", "verdict", "note"]
#: A check whose value only another party could have reported (never a pass, counted on its own).
NOT_OBSERVED = "not-observed"


def _display(check: str, val: Any) -> Any:
    """What a report shows: credentials masked (they were compared unmasked)."""
    return redact.mask(val) if redact.is_sensitive(check) and val != ABSENT else val


def reporter(check: str) -> str | None:
    """Who reports ``check``: the echo API for ``api.*`` (what it received), anyone for the rest."""
    return "api" if check.startswith("api.") else None


def _verdict(obs: Observation, check: str, want: Any, got: Any, behavior: Behavior, local: bool) -> tuple[str, str]:
    if obs.error:
        return "fail", obs.error
    who = reporter(check)
    if who is not None and obs.served_by != who:
        # (absent) == (absent) is no evidence when the party that would report the value never answered.
        return NOT_OBSERVED, f"answered by {obs.served_by}, not the echo API"
    if want == got:
        return "pass", ""
    ctx = deviations.Context(behavior, obs.probe, check, want, got, obs.status)
    dev = deviations.explain(ctx) if local else None
    return ("deviation", dev.id) if dev else ("fail", "")


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
    policies: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The results table: each observation against its expectation (:func:`predict`).

    A check only another party could report (an ``api.*`` check when the echo did not answer) is
    ``not-observed``. A mismatch is ``deviation`` only on the local target and only when a documented
    emulator deviation excuses exactly it; any other mismatch is ``fail``.
    """
    behaviors = {b.label: b for b in compiled_behaviors(config, policies)}
    rows: list[dict[str, Any]] = []
    for obs, exp in zip(observations, expectations, strict=True):
        behavior = behaviors[exp.behavior]
        for check in obs.probe.checks:
            want, got = value(exp, check), obs.get(check)
            verdict, note = _verdict(obs, check, want, got, behavior, local)
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
        "not_observed": int(counts.get(NOT_OBSERVED, 0)),
    }


def behaviour_line(table: pd.DataFrame) -> str:
    """Did CloudFront behave as AWS documents? (The other question, does the API get what it needs, is
    ``runbook_lib.runbook.requirement_checks``'s.)"""
    s = summary(table)
    judged = s["passed"] + s["failed"]
    extra = "".join(
        f"; {n} {what}" for n, what in ((s["deviations"], "known emulator deviations, not counted as passes"),
                                        (s["not_observed"], "not observed (the echo API did not answer)")) if n
    )
    if s["failed"]:
        failed = ", ".join(sorted(set(table.loc[table["verdict"] == "fail", "probe"])))
        return f"CloudFront did NOT behave as AWS documents: {s['failed']} of {judged} checks failed ({failed}){extra}"
    return f"CloudFront behaved as AWS documents ({s['passed']}/{judged}){extra}"


def verdict_line(table: pd.DataFrame, preset: str, unmet: list[str] | None = None) -> str:
    """One sentence a person can act on: PASS only when every check held and every requirement is met.

    ``unmet``: one phrase per requirement not met (``requirement_checks.unmet_phrases``).
    """
    failed = summary(table)["failed"] > 0 or bool(unmet)
    reasons = "".join(f"; {u}" for u in unmet or [])
    return f"{'FAIL' if failed else 'PASS'} (preset '{preset}'): {behaviour_line(table)}{reasons}."


def styled(table: pd.DataFrame) -> Any:
    """The table with its verdicts coloured, for notebooks and HTML reports."""
    colours = {"pass": "background-color:#d4edda", "fail": "background-color:#f8d7da",
               "deviation": "background-color:#fff3cd", NOT_OBSERVED: "background-color:#e2e3e5"}
    return reports.table(table).map(lambda v: colours.get(v, ""), subset=["verdict"])

