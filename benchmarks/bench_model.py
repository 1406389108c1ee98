"""Throughput of the forwarding model and of diagnose (a script, not a test).

Run: python benchmarks/bench_model.py
Targets: >= 20,000 simulated requests/s on one core for a 5-behavior config; diagnose over 1,000
generated distributions in < 2 s.
"""

from __future__ import annotations

import copy
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runbook_lib import diagnose, simulate  # noqa: E402
from runbook_lib.cloudfront.policies import ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED  # noqa: E402
from runbook_lib.cloudfront.policies import (  # noqa: E402
    ALL_VIEWER_EXCEPT_HOST_HEADER as ALL_VIEWER_EXCEPT_HOST,
)

METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


def qi(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": values}


def behavior(pattern: str | None, origin: str, **extra: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {**qi(METHODS), "CachedMethods": qi(["GET", "HEAD"])},
    }
    if pattern is not None:
        b["PathPattern"] = pattern
    b.update(extra)
    return b


def five_behaviors() -> dict[str, Any]:
    return {
        "Origins": qi(
            [
                {
                    "Id": "api",
                    "DomainName": "abc123.execute-api.us-east-1.amazonaws.com",
                    "OriginPath": "/prod",
                    "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
                },
                {"Id": "s3", "DomainName": "b.s3.us-east-1.amazonaws.com", "S3OriginConfig": {}},
            ]
        ),
        "DefaultCacheBehavior": behavior(None, "s3", CachePolicyId=CACHING_OPTIMIZED),
        "CacheBehaviors": qi(
            [
                behavior(
                    "/api/v1/*",
                    "api",
                    CachePolicyId=CACHING_DISABLED,
                    OriginRequestPolicyId=ALL_VIEWER_EXCEPT_HOST,
                ),
                behavior("/api/*", "api", CachePolicyId=CACHING_DISABLED),
                behavior(
                    "/legacy/*",
                    "api",
                    ForwardedValues={
                        "QueryString": True,
                        "Cookies": {"Forward": "all"},
                        "Headers": qi(["Authorization"]),
                    },
                ),
                behavior("*.jpg", "s3", CachePolicyId=CACHING_OPTIMIZED),
            ]
        ),
    }


REQUESTS = [
    {
        "method": "GET",
        "scheme": "https",
        "path": "/api/v1/items",
        "query": "since=2020-01-01&page=2",
        "headers": {
            "Host": "d1.cloudfront.net",
            "Authorization": "Bearer x",
            "Accept-Encoding": "gzip, br",
            "Cookie": "b=2; a=1",
            "User-Agent": "curl/8",
        },
    },
    {
        "method": "POST",
        "scheme": "https",
        "path": "/api/orders",
        "query": "",
        "headers": {
            "Host": "d1.cloudfront.net",
            "Content-Type": "application/json",
            "Authorization": "Bearer x",
        },
        "body": "{}",
    },
    {
        "method": "GET",
        "scheme": "https",
        "path": "/legacy/x",
        "query": "a=1",
        "headers": {"Host": "d1.cloudfront.net", "Cookie": "z=1; a=2"},
    },
    {
        "method": "GET",
        "scheme": "https",
        "path": "/img/logo.jpg",
        "query": "",
        "headers": {"Host": "d1.cloudfront.net", "Accept-Encoding": "gzip"},
    },
    {
        "method": "GET",
        "scheme": "http",
        "path": "/index.html",
        "query": "",
        "headers": {"Host": "d1.cloudfront.net"},
    },
]


def bench_simulate(seconds: float = 1.5) -> float:
    cfg = five_behaviors()
    simulate(cfg, REQUESTS[0])  # compile once
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for r in REQUESTS:
            simulate(cfg, r)
        n += len(REQUESTS)
    return n / (time.perf_counter() - start)


def generated(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    base = five_behaviors()
    out = []
    for i in range(count):
        cfg = copy.deepcopy(base)
        items = cfg["CacheBehaviors"]["Items"]
        rng.shuffle(items)
        items[0]["PathPattern"] = f"/p{i}/*"
        if rng.random() < 0.3:
            items[1]["OriginRequestPolicyId"] = rng.choice(
                [ALL_VIEWER_EXCEPT_HOST, ALL_VIEWER]
            )
        out.append(cfg)
    return out


def bench_diagnose(count: int = 1000) -> float:
    configs = generated(count)
    start = time.perf_counter()
    for cfg in configs:
        diagnose(cfg)
    return time.perf_counter() - start


def main() -> int:
    rps = bench_simulate()
    secs = bench_diagnose()
    ok_rps, ok_diag = rps >= 20_000, secs < 2.0
    print(
        f"simulate: {rps:,.0f} requests/s on one core (5 behaviors)  target >= 20,000: {'met' if ok_rps else 'NOT met'}"
    )
    print(f"diagnose: 1,000 generated distributions in {secs:.2f} s  target < 2 s: {'met' if ok_diag else 'NOT met'}")
    return 0 if ok_rps and ok_diag else 1


if __name__ == "__main__":
    sys.exit(main())
