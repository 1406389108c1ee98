"""``check --all``: every distribution of one or more accounts, checked statically, in parallel.

Each account is a :class:`~runbook_lib.aws.target.Target` (one per ``--profile``); its distributions are
listed (every page), read read-only (``aws.read.read_distribution``) and checked (``runbook.check``).
A distribution that cannot be read is reported as an error finding; it does not stop the others.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runbook_lib.aws.read import ReadCache, distribution_ids, read_distribution
from runbook_lib.errors import RunbookError
from runbook_lib.runbook.check import CheckResult, DistributionCheck, check_source
from runbook_lib.runbook.requirements import parse

__all__ = ["DEFAULT_WORKERS", "check_all", "counts"]

#: Reads in flight at once per account (botocore keeps 10 connections per client by default).
DEFAULT_WORKERS = 8
#: The clients a read uses, made before the pool starts: a boto3 session is not thread-safe, its clients are
#: (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html#multithreading-or-multiprocessing-with-clients).
_SERVICES = ("cloudfront", "apigateway", "apigatewayv2")


def _one(target: Any, dist_id: str, *, ids: list[str], named: tuple[str, ...], label: str,
         cache: ReadCache) -> DistributionCheck:
    try:
        result = check_source(read_distribution(target, dist_id, cache), ids, named)
    except RunbookError as err:
        finding = {"code": "unreadable", "severity": "error", "behavior": "default",
                   "effect": f"The distribution could not be read: {err}", "why": "", "doc_url": "", "fix": None}
        result = DistributionCheck(dist_id, "distribution", [], [finding])
    if label:
        result.name = f"{label}/{result.name}"
    return result


def check_all(targets: list[tuple[str, Any]], requirements: list[str] | str | None = None,
              named_api_origins: tuple[str, ...] = (), workers: int = DEFAULT_WORKERS) -> CheckResult:
    """Every distribution of every ``(label, target)``; ``label`` (a profile name) prefixes the names.

    Per account: the IDs are listed (every page), then up to ``workers`` distributions are read at once with the
    target's clients (one per service, shared; botocore's adaptive retries slow them down when AWS throttles), and
    an API behind several distributions is read once.
    """
    ids = parse(requirements)
    out: list[DistributionCheck] = []
    for label, target in targets:
        for service in _SERVICES:
            target.client(service)
        listed = distribution_ids(target)
        cache = ReadCache()
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            read = functools.partial(_one, target, ids=ids, named=named_api_origins, label=label, cache=cache)
            out.extend(pool.map(read, listed))
    return CheckResult("--all", out)


def counts(result: CheckResult) -> dict[str, int]:
    """How many distributions were checked, passed and failed, and how many had no API behavior."""
    return {"distributions": len(result.distributions),
            "ok": sum(d.ok and bool(d.behaviors) for d in result.distributions),
            "failed": sum(not d.ok for d in result.distributions),
            "no_api_behavior": sum(d.ok and not d.behaviors for d in result.distributions)}
