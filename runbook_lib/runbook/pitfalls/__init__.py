"""The pitfalls lab: each failure people report, reproduced live, then fixed and proven with probes.

Every pitfall runs the same steps (:class:`~runbook_lib.runbook.pitfall_steps.Steps`): configure → symptom (probe)
→ why → fix → verify (probe again). Every configuration the pitfalls need is deployed up front, each on its own
distribution, in one deployment round (:meth:`Lab.deploy`); the steps then probe those distributions. Where the
local target cannot show the symptom (a documented emulator deviation), the outcome says so and names the
deviation; it is never reported as seen.

One module per concept: :mod:`.lab` (the deployed configurations), :mod:`.outcome` (what a pitfall proved),
:mod:`.by_preset` (a preset shows it, another fixes it), :mod:`.policies` (policies CloudFront refuses),
:mod:`.paths` (the /api prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runbook_lib.aws.target import Target
from runbook_lib.aws.teardown import remove
from runbook_lib.errors import ParameterError
from runbook_lib.runbook.pitfall_steps import Steps
from runbook_lib.runbook.pitfalls.by_preset import allviewer_steps, caching_optimized_steps, legacy_steps
from runbook_lib.runbook.pitfalls.lab import Deployment, Lab
from runbook_lib.runbook.pitfalls.outcome import Outcome, evidence, validate_request
from runbook_lib.runbook.pitfalls.paths import api_prefix_steps
from runbook_lib.runbook.pitfalls.policies import auth_in_orp_steps, zero_ttl_steps
from runbook_lib.runbook.progress import bar

__all__ = ["PITFALLS", "PITFALL_IDS", "STEPS", "Deployment", "Lab", "Outcome", "Steps", "allviewer_host_403",
           "api_prefix_missing_route", "authorization_in_orp", "caching_optimized_query_dropped", "evidence",
           "legacy_query_dropped", "run", "steps", "table", "teardown", "validate_request",
           "zero_ttl_headers_in_key"]

#: Every pitfall as the steps a learner runs cell by cell (configure → symptom → why → fix → verify).
STEPS: dict[str, Callable[[Lab], Steps]] = {
    "legacy-query-dropped": legacy_steps,
    "caching-optimized-query-dropped": caching_optimized_steps,
    "allviewer-host-403": allviewer_steps,
    "authorization-in-orp": auth_in_orp_steps,
    "zero-ttl-headers-in-key": zero_ttl_steps,
    "api-prefix-missing-route": api_prefix_steps,
}
PITFALL_IDS = tuple(STEPS)


def legacy_query_dropped(lab: Lab) -> Outcome:
    return legacy_steps(lab).run()


def caching_optimized_query_dropped(lab: Lab) -> Outcome:
    return caching_optimized_steps(lab).run()


def allviewer_host_403(lab: Lab) -> Outcome:
    return allviewer_steps(lab).run()


def authorization_in_orp(lab: Lab) -> Outcome:
    return auth_in_orp_steps(lab).run()


def zero_ttl_headers_in_key(lab: Lab) -> Outcome:
    return zero_ttl_steps(lab).run()


def api_prefix_missing_route(lab: Lab) -> Outcome:
    return api_prefix_steps(lab).run()


#: Each pitfall in one call: the same steps (:meth:`Steps.run`), so both paths return the same Outcome.
PITFALLS: dict[str, Callable[[Lab], Outcome]] = {
    "legacy-query-dropped": legacy_query_dropped,
    "caching-optimized-query-dropped": caching_optimized_query_dropped,
    "allviewer-host-403": allviewer_host_403,
    "authorization-in-orp": authorization_in_orp,
    "zero-ttl-headers-in-key": zero_ttl_headers_in_key,
    "api-prefix-missing-route": api_prefix_missing_route,
}


def steps(pitfall_id: str, lab: Lab) -> Steps:
    """Pitfall ``pitfall_id`` as steps to run one cell at a time; ``.verify()`` returns its :class:`Outcome`."""
    if pitfall_id not in STEPS:
        raise ParameterError(f"Unknown pitfall {pitfall_id!r}; expected one of {', '.join(STEPS)}.")
    return STEPS[pitfall_id](lab)


def run(target: Target, stack_name: str, ids: list[str] | None = None, progress: bool = True,
        paths_stack: str = "", parent: str = "") -> list[Outcome]:
    """Every pitfall (or those in ``ids``), in order, on ``stack_name`` (and ``paths_stack`` for the path one);
    both stacks are tagged as children of ``parent`` when given. What they need is deployed first, in one round."""
    lab = Lab(target, stack_name, progress, paths_stack, parent)
    chosen = ids or list(PITFALLS)
    # Only the stacks the chosen pitfalls probe: the path pitfall has its own.
    parts = {"paths" if i == "api-prefix-missing-route" else "lab" for i in chosen}
    lab.deploy(tuple(p for p in ("lab", "paths") if p in parts))
    return [PITFALLS[i](lab) for i in bar(chosen, desc="pitfalls", disable=not progress)]


def table(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """symptom → cause → fix → verified, one row per pitfall."""
    return [{"pitfall": o.id, "symptom": o.symptom, "cause": o.cause, "fix": o.fix,
             "symptom seen": o.symptom_seen, "fix verified": o.fix_verified, "note": o.note, "AWS doc": o.doc_url}
            for o in outcomes]


def teardown(target: Target, stack_name: str, progress: bool = True) -> list[str]:
    """Remove the lab's stack, every configuration deployed beside it, and the policies the pitfalls created
    (their IDs are recorded on the lab's distribution: :mod:`runbook_lib.aws.ownership`), nothing else."""
    return remove(target, stack_name, progress=progress)
