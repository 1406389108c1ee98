"""Benchmark (not a test): ``check --replay local`` of one distribution: build the replay, probe it, remove it.

Run: python benchmarks/bench_replay.py
Target (issue 10, item 8): a local replay with probes of one distribution under 20 s. Each source is checked as a
person or a scheduler would, as a fresh process: ``python -m runbook_lib check SOURCE --replay local
--endpoint-url URL --json``, against one local AWS this script starts first (its start is printed apart; a check
without --endpoint-url starts its own, which bench_check_vs_notebook.py times). Printed per source: the whole
check, the probes and their time (from the check's JSON), beside the target. Exits 1 on a miss, or when a check
fails to run (exit 2).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runbook_lib.aws.local import LocalAWS  # noqa: E402

SOURCES = [
    ROOT / "tests/fixtures/cdk_app/template.json",  # an echo API with the template's routes
    ROOT / "tests/fixtures/sources/legacy_get_distribution_config.json",  # a catch-all echo
]
TARGET_S = 20.0


def replay_once(source: Path, endpoint_url: str) -> tuple[float, dict[str, object]]:
    """One ``check --replay local`` as a fresh process: its wall time and its JSON."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "runbook_lib", "check", str(source), "--replay", "local",
                           "--endpoint-url", endpoint_url, "--json"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1 is the check's verdict on the config, not a failure to run
        raise SystemExit(f"check {source.name} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return took, json.loads(done.stdout)


def _probed(data: dict[str, object]) -> tuple[int, float]:
    behaviors = [b for d in data["distributions"] for b in d["behaviors"]]  # type: ignore[attr-defined]
    replays = [b["replay"] for b in behaviors if b.get("replay")]
    return sum(r["probes"] for r in replays), sum(r["seconds"] for r in replays)


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as logs:
        start = time.perf_counter()
        with LocalAWS(log_dir=logs) as aws:
            print(f"local AWS started in {time.perf_counter() - start:.2f} s (not counted below)")
            for source in SOURCES:
                took, data = replay_once(source, aws.endpoint_url)
                probes, probing = _probed(data)
                met = took < TARGET_S and probes > 0
                ok = ok and met
                print(f"check --replay local {source.name:40} {took:5.2f} s (build, {probes} probes in "
                      f"{probing:.2f} s, removal; verdict {'PASS' if data['ok'] else 'FAIL'}); "
                      f"target < {TARGET_S:.0f} s: {'met' if met else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
