"""CloudFront deployments: simulating their propagation time locally, and a ledger of every wait for them.

On AWS every create or update of a distribution takes minutes to reach ``Deployed``
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToUpdateDistribution.html);
MiniStack reports ``Deployed`` at once, so locally the cost is invisible. With ``RUNBOOK_SIMULATE_DEPLOY_SECONDS=S``
(``report --simulate-deploy-seconds S``) the local target reports each distribution created or updated through
it as ``InProgress`` until S seconds after the change, so every waiter really waits.

Every wait for a changed distribution is appended to the ledger named by ``RUNBOOK_DEPLOYMENTS_LEDGER`` (the
runner points it at ``<run>/deployments.jsonl``; each notebook kernel inherits it). A round is a maximal set of
waits that overlap in time: on AWS a run costs about ``rounds`` x the propagation time.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib.errors import ParameterError

__all__ = [
    "LEDGER_ENV",
    "LEDGER_FILE",
    "SIMULATE_ENV",
    "Wait",
    "exempt",
    "install",
    "poll_interval",
    "read_ledger",
    "record",
    "rounds",
    "simulated_seconds",
    "summarize",
    "take_changed",
]

SIMULATE_ENV = "RUNBOOK_SIMULATE_DEPLOY_SECONDS"
LEDGER_ENV = "RUNBOOK_DEPLOYMENTS_LEDGER"
LEDGER_FILE = "deployments.jsonl"
#: How often a waiter asks AWS (CloudFront's own waiter polls every 60 s; 15 s keeps the bar lively).
_AWS_POLL = 15.0
_SIMULATED_POLL = 0.2
_CHANGES = ("CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution")

_lock = threading.Lock()
#: distribution ID → when it becomes Deployed, for changes made through this process.
_ready: dict[str, float] = {}
#: distributions this process changed and has not waited for since.
_unwaited: set[str] = set()
#: distributions that only model nothing (a replay on the emulator): never simulated, never in the ledger.
_exempt: set[str] = set()


@dataclass(frozen=True)
class Wait:
    """One wait for one or more distributions to be ``Deployed``: wall-clock seconds since the epoch."""

    start: float
    end: float
    distributions: tuple[str, ...]


def simulated_seconds(environ: Mapping[str, str] | None = None) -> float:
    """S from ``RUNBOOK_SIMULATE_DEPLOY_SECONDS`` (0 when unset); a bad value is refused with the fix."""
    raw = (os.environ if environ is None else environ).get(SIMULATE_ENV, "").strip()
    if not raw:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ParameterError(f"{SIMULATE_ENV}={raw!r} is not a number of seconds between 0 and 3600. "
                             f"Unset it, or set it to e.g. 5.")
    return seconds


def poll_interval(simulating: bool) -> float:
    return _SIMULATED_POLL if simulating else _AWS_POLL


def install(client: Any, simulate_seconds: float) -> None:
    """Hook a CloudFront ``client``: remember each create or update it makes and, when ``simulate_seconds`` > 0,
    report that distribution ``InProgress`` until ``simulate_seconds`` after the change."""
    def changed(parsed: dict[str, Any], **_: Any) -> None:
        dist_id = (parsed.get("Distribution") or {}).get("Id")
        if dist_id and dist_id not in _exempt:
            with _lock:
                _ready[dist_id] = time.time() + simulate_seconds
                _unwaited.add(dist_id)
            if simulate_seconds > 0:
                parsed["Distribution"]["Status"] = "InProgress"

    def status(parsed: dict[str, Any], **_: Any) -> None:
        dist = parsed.get("Distribution") or {}
        with _lock:
            ready = _ready.get(dist.get("Id", ""), 0.0)
        if dist and time.time() < ready:
            dist["Status"] = "InProgress"

    events = client.meta.events
    for op in _CHANGES:
        events.register(f"after-call.cloudfront.{op}", changed)
    if simulate_seconds > 0:
        events.register("after-call.cloudfront.GetDistribution", status)


def exempt(distribution_id: str) -> None:
    """Leave ``distribution_id`` out of the simulation and the ledger from now on: it exists only on the emulator
    (``check --replay local``), so its deployments model no cost on AWS (issue 13)."""
    with _lock:
        _exempt.add(distribution_id)
        _ready.pop(distribution_id, None)
        _unwaited.discard(distribution_id)


def take_changed(distribution_id: str) -> bool:
    """True (once) when this process created or updated ``distribution_id`` since it was last waited for."""
    with _lock:
        found = distribution_id in _unwaited
        _unwaited.discard(distribution_id)
        return found


def record(wait: Wait, environ: Mapping[str, str] | None = None) -> None:
    """Append ``wait`` to the ledger when ``RUNBOOK_DEPLOYMENTS_LEDGER`` names one."""
    path = (os.environ if environ is None else environ).get(LEDGER_ENV, "")
    if not path:
        return
    line = json.dumps({"start": wait.start, "end": wait.end, "distributions": list(wait.distributions)})
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def read_ledger(path: Path) -> list[Wait]:
    """Every wait in the ledger at ``path`` (none when it does not exist)."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Wait(float(r["start"]), float(r["end"]), tuple(r["distributions"])) for r in rows]


def rounds(waits: Iterable[Wait]) -> int:
    """How many rounds ``waits`` make: maximal sets of waits that overlap in time (touching ends overlap)."""
    count, end = 0, float("-inf")
    for wait in sorted(waits, key=lambda w: w.start):
        if wait.start > end:
            count += 1
            end = wait.end
        else:
            end = max(end, wait.end)
    return count


def summarize(path: Path) -> dict[str, int]:
    """``{"count": N, "rounds": R}`` for ``summary.json``: N waits, one per distribution waited for."""
    waits = read_ledger(path)
    return {"count": sum(len(w.distributions) for w in waits), "rounds": rounds(waits)}
