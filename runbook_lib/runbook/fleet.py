"""``check --all``: every distribution of one or more accounts, checked statically, in parallel.

Each account is a :class:`~runbook_lib.aws.target.Target` (one per ``--profile``); its distributions are
listed (every page), read read-only (``aws.read.read_distribution``) and checked (``runbook.check``).
A distribution that cannot be read is reported as an error finding; it does not stop the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runbook_lib.aws.read import distribution_ids, read_distribution
from runbook_lib.errors import RunbookError
from runbook_lib.runbook.check import CheckResult, DistributionCheck, check_source
from runbook_lib.runbook.requirements import parse

__all__ = ["check_all", "counts"]


def _one(target: Any, dist_id: str, ids: list[str], named: tuple[str, ...], label: str) -> DistributionCheck:
    try:
        result = check_source(read_distribution(target, dist_id), ids, named)
    except RunbookError as err:
        finding = {"code": "unreadable", "severity": "error", "behavior": "default",
                   "effect": f"The distribution could not be read: {err}", "why": "", "doc_url": "", "fix": None}
        result = DistributionCheck(dist_id, "distribution", [], [finding])
    if label:
        result.name = f"{label}/{result.name}"
    return result


def check_all(targets: list[tuple[str, Any]], requirements: list[str] | str | None = None,
              named_api_origins: tuple[str, ...] = (), workers: int = 8) -> CheckResult:
    """Every distribution of every ``(label, target)``; ``label`` (a profile name) prefixes the names."""
    ids = parse(requirements)
    out: list[DistributionCheck] = []
    for label, target in targets:
        listed = distribution_ids(target)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            n = len(listed)
            out.extend(pool.map(_one, [target] * n, listed, [ids] * n, [named_api_origins] * n, [label] * n))
    return CheckResult("--all", out)


def counts(result: CheckResult) -> dict[str, int]:
    """How many distributions were checked, passed and failed, and how many had no API behavior."""
    return {"distributions": len(result.distributions),
            "ok": sum(d.ok and bool(d.behaviors) for d in result.distributions),
            "failed": sum(not d.ok for d in result.distributions),
            "no_api_behavior": sum(d.ok and not d.behaviors for d in result.distributions)}
