"""Speed of ``check --all`` over 1,000 distributions (a script, not a test).

Run: python benchmarks/bench_fleet.py
Target (issue 10 item 8): 1,000 distributions checked statically under 30 s. The fleet path runs as it does for a
user (``runbook.fleet.check_all`` on an aws Target: ListDistributions page by page, then each distribution read
read-only and checked), served two ways:

- by botocore's Stubber, in process: every request validated against botocore's model, no network (the CPU cost
  of the runbook and botocore alone; one worker, since a Stubber answers in queue order);
- by a loopback server answering real HTTP (tests/loopback_aws.py) with LATENCY seconds per answer, like an AWS
  round trip: the parallel reads at work. The same with one worker is measured on the first 100 and scaled.

Half of the distributions have an API origin in the account's region, so their API's resources and stages are
read too (GetRestApi, GetResources, GetStages), as ``distribution:<ID>`` does. Exits 1 when a figure misses.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runbook_lib.cloudfront.policies import ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED  # noqa: E402
from runbook_lib.runbook import fleet  # noqa: E402
from tests.loopback_aws import LoopbackAws, aws_target, serving  # noqa: E402
from tests.stubbing import distribution_list, distribution_summary, stubbed_aws  # noqa: E402

N = 1000
TARGET_S = 30.0
LATENCY = 0.05
REGION = "eu-west-1"
APIS = 20
RESOURCES = {"/": [], "/api": ["ANY"], "/api/{proxy+}": ["ANY"]}
SAVED = ROOT / "tests/fixtures/sources"


def _configs() -> list[tuple[str, dict[str, Any], str]]:
    """N (id, config, api id or "") made of the saved fixtures, the API behavior's settings varied."""
    recommended = json.loads((SAVED / "recommended_get_distribution.json").read_text())["Distribution"][
        "DistributionConfig"]
    legacy = json.loads((SAVED / "legacy_get_distribution_config.json").read_text())["DistributionConfig"]
    settings = [{"CachePolicyId": CACHING_OPTIMIZED}, {"CachePolicyId": CACHING_DISABLED},
                {"CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER}]
    out = []
    for i in range(N):
        config = copy.deepcopy(legacy if i % 4 == 3 else recommended)
        config["Comment"] = f"fleet {i}"
        config["CallerReference"] = f"fleet-{i}"
        api = config["CacheBehaviors"]["Items"][0]
        if "ForwardedValues" not in api and i % 4:  # every fourth recommended one is left as it is: correct
            api.pop("OriginRequestPolicyId", None)
            api.update(settings[i % 3])
        api_id = f"api{i % APIS:04d}x" if i % 2 == 0 else ""
        region = REGION if api_id else "us-east-1"  # the odd ones' API is in another region: not read
        for origin in config["Origins"]["Items"]:
            if ".execute-api." in origin["DomainName"]:
                origin["DomainName"] = f"{api_id or 'far0001'}.execute-api.{region}.amazonaws.com"
        out.append((f"E{i:05d}FLEET", config, api_id))
    return out


def _queue(stub: Any, fleet_configs: list[tuple[str, dict[str, Any], str]]) -> None:
    for start in range(0, N, 100):
        page = [distribution_summary(i, c) for i, c, _ in fleet_configs[start:start + 100]]
        answer = distribution_list(*page, next_marker=str(start + 100) if start + 100 < N else "")
        stub.ok("cloudfront", "ListDistributions", answer, {"Marker": str(start)} if start else {})
    read: set[str] = set()
    for dist_id, config, api_id in fleet_configs:
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "E1"}, {"Id": dist_id})
        if api_id and api_id not in read:  # an API behind several distributions is read once
            read.add(api_id)
            stub.ok("apigateway", "GetRestApi", {"id": api_id, "name": api_id}, {"restApiId": api_id})
            stub.ok("apigateway", "GetResources", {"items": [
                {"id": f"r{n}", "path": p, "resourceMethods": {m: {} for m in ms}}
                for n, (p, ms) in enumerate(RESOURCES.items())]}, {"restApiId": api_id, "embed": ["methods"]})
            stub.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]}, {"restApiId": api_id})


def stubbed() -> float:
    configs = _configs()
    with stubbed_aws(REGION) as stub:
        _queue(stub, configs)
        start = time.perf_counter()
        result = fleet.check_all([("", stub.target)], workers=1)
        took = time.perf_counter() - start
        stub.assert_done()
    counts = fleet.counts(result)
    print(f"fleet via Stubber, 1 worker, {stub.queued} calls checked against botocore's model: "
          f"{counts['distributions']:,} distributions in {took:5.2f} s (target < {TARGET_S:.0f} s); {counts}")
    return took


def loopback(workers: int, n: int = N) -> tuple[float, int, int]:
    aws = LoopbackAws(latency=LATENCY)
    for dist_id, config, _ in _configs()[:n]:
        aws.add_distribution(dist_id, config)
    for k in range(APIS):
        aws.add_rest_api(f"api{k:04d}x", RESOURCES, ["prod"])
    with serving(aws) as endpoint:
        start = time.perf_counter()
        result = fleet.check_all([("", aws_target(endpoint, REGION))], workers=workers)
        took = time.perf_counter() - start
    assert len(result.distributions) == n, len(result.distributions)
    return took, len(aws.requests), aws.max_in_flight


def main() -> int:
    misses = []
    took = stubbed()
    if took >= TARGET_S:
        misses.append("stubbed")
    default = fleet.DEFAULT_WORKERS
    parallel, calls, in_flight = loopback(default)
    one, _, _ = loopback(1, n=100)
    print(f"fleet via loopback HTTP, {LATENCY * 1000:.0f} ms per answer, {calls:,} requests: {N:,} distributions in "
          f"{parallel:5.2f} s with {default} workers (at most {in_flight} requests at once; target < "
          f"{TARGET_S:.0f} s); 1 worker: {one * N / 100:5.1f} s (100 in {one:.2f} s, scaled)")
    if parallel >= TARGET_S:
        misses.append("loopback")
    if misses:
        print(f"MISSED: {', '.join(misses)}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
