"""Speed of the static ``check`` (a script, not a test).

Run: python benchmarks/bench_check.py
Targets (issue 10): a static check of one distribution under 1 s; 1,000 distributions checked statically
under 30 s. Here the 1,000 are the four fixture sources, repeated with their API behavior's settings varied,
read and checked in one process (no AWS calls).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runbook_lib.cloudfront.policies import ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED  # noqa: E402
from runbook_lib.runbook.check import check, check_source  # noqa: E402
from runbook_lib.sources import load_source  # noqa: E402

FIXTURES = [
    ROOT / "tests/fixtures/sources/legacy_get_distribution_config.json",
    ROOT / "tests/fixtures/cdk_app/template.json",
    ROOT / "tests/fixtures/sources/terraform_plan_allviewer.json",
    ROOT / "tests/fixtures/sources/recommended_get_distribution.json",
]


def one_distribution() -> None:
    for path in FIXTURES:
        start = time.perf_counter()
        check(str(path))
        first = time.perf_counter() - start
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "runbook_lib", "check", str(path), "--json", "--replay", "none"],
                              capture_output=True, cwd=ROOT, check=False)
        cli = time.perf_counter() - start
        print(f"check {path.name:42} in-process {first * 1000:6.1f} ms, CLI process {cli:5.2f} s "
              f"(exit {proc.returncode})")


def thousand() -> None:
    bases = [s for path in FIXTURES for s in load_source(str(path))]
    settings = [{"CachePolicyId": CACHING_OPTIMIZED}, {"CachePolicyId": CACHING_DISABLED},
                {"CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER}]
    sources = []
    for i in range(1000):
        source = copy.deepcopy(bases[i % len(bases)])
        behaviors = source.config["CacheBehaviors"].get("Items") or [source.config["DefaultCacheBehavior"]]
        if "ForwardedValues" not in behaviors[0]:
            behaviors[0].update(settings[i % len(settings)])
        source.config["Comment"] = f"variant {i}"
        sources.append(source)
    start = time.perf_counter()
    results = [check_source(s) for s in sources]
    took = time.perf_counter() - start
    failing = sum(not r.ok for r in results)
    print(f"1,000 distributions checked statically in {took:.2f} s ({failing} not ok); "
          f"JSON size {len(json.dumps([r.to_dict() for r in results])) // 1024} KiB")


if __name__ == "__main__":
    one_distribution()
    thousand()
