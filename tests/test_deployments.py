"""Deployment rounds: the pure round counting, the ledger, and a simulated propagation time on MiniStack."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from runbook_lib.aws import deployments, distribution
from runbook_lib.aws.target import Target, connect
from runbook_lib.errors import ParameterError

W = deployments.Wait


@pytest.mark.parametrize(("waits", "expected"), [
    ([], 0),
    ([W(0, 5, ("A",))], 1),
    ([W(0, 5, ("A",)), W(6, 9, ("B",))], 2),                      # one after the other: two rounds
    ([W(0, 5, ("A",)), W(2, 3, ("B",)), W(4, 8, ("C",))], 1),     # each overlaps the round so far
    ([W(10, 12, ("C",)), W(0, 5, ("A",)), W(5, 6, ("B",))], 2),   # order of the ledger does not matter; ends touch
    ([W(0, 1, ("A",)), W(2, 3, ("B",)), W(4, 5, ("C",)), W(4.5, 7, ("D", "E"))], 3),
])
def test_rounds_are_maximal_sets_of_overlapping_waits(waits: list[deployments.Wait], expected: int) -> None:
    assert deployments.rounds(waits) == expected


def test_summary_counts_each_distribution_waited_for(tmp_path: Path) -> None:
    ledger = tmp_path / deployments.LEDGER_FILE
    env = {deployments.LEDGER_ENV: str(ledger)}
    deployments.record(W(0, 4, ("A", "B")), env)
    deployments.record(W(10, 11, ("C",)), env)
    assert deployments.summarize(ledger) == {"count": 3, "rounds": 2}
    assert deployments.summarize(tmp_path / "missing.jsonl") == {"count": 0, "rounds": 0}
    deployments.record(W(0, 1, ("D",)), {})  # no ledger named: nothing written
    assert len(ledger.read_text().splitlines()) == 2


@pytest.mark.parametrize("raw", ["-1", "soon", "7200"])
def test_a_bad_simulated_time_is_refused_with_the_fix(raw: str) -> None:
    with pytest.raises(ParameterError, match="between 0 and 3600"):
        deployments.simulated_seconds({deployments.SIMULATE_ENV: raw})


def _distribution(target: Target, tag: str) -> str:
    config = json.loads((Path(__file__).resolve().parent.parent / "examples" / "dist.json").read_text())
    config["CallerReference"] = f"deployments-{os.getpid()}-{tag}-{time.time_ns()}"
    return str(target.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def test_a_simulated_wait_lasts_s_seconds_and_is_recorded(
        local_target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / deployments.LEDGER_FILE
    monkeypatch.setenv(deployments.SIMULATE_ENV, "1.5")
    monkeypatch.setenv(deployments.LEDGER_ENV, str(ledger))
    target = connect("local", endpoint_url=local_target.endpoint_url)  # fresh clients see S
    cf = target.client("cloudfront")
    first, second = _distribution(target, "a"), _distribution(target, "b")
    assert cf.get_distribution(Id=first)["Distribution"]["Status"] == "InProgress"
    start = time.monotonic()
    distribution.wait_all_deployed(target, [first, second], progress=False)
    took = time.monotonic() - start
    assert 1.0 <= took < 5.0
    assert cf.get_distribution(Id=second)["Distribution"]["Status"] == "Deployed"
    distribution.wait_deployed(target, first, progress=False)  # nothing changed since: not a deployment
    [wait] = deployments.read_ledger(ledger)
    assert sorted(wait.distributions) == sorted([first, second])
    assert deployments.summarize(ledger) == {"count": 2, "rounds": 1}


def test_without_simulation_local_waits_are_instant_but_still_counted(
        local_target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / deployments.LEDGER_FILE
    monkeypatch.delenv(deployments.SIMULATE_ENV, raising=False)
    monkeypatch.setenv(deployments.LEDGER_ENV, str(ledger))
    target = connect("local", endpoint_url=local_target.endpoint_url)

    def no_polling(*args: object) -> None:  # instant: Deployed at the first look, so the waiter never polls
        raise AssertionError("a local wait without simulation polled")

    monkeypatch.setattr(distribution, "_poll", no_polling)
    for tag in ("c", "d"):
        distribution.wait_deployed(target, _distribution(target, tag), progress=False)
    assert deployments.summarize(ledger) == {"count": 2, "rounds": 2}
