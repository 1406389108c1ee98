"""Deployment rounds (a script, not a test): the headless report with CloudFront's propagation simulated.

Run: python benchmarks/bench_deploy.py
Runs ``report --simulate-deploy-seconds 5`` and the same run at S=0, each into a temporary folder, and prints
the deployment rounds R (summary.json ``deployments``) and both wall times side by side.
Targets (issue 13): R <= 3, and the S=5 run at most 3 x 5 s + 10 s (noise) slower than the S=0 run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 5.0
MAX_ROUNDS = 3
NOISE = 10.0


def run(seconds: float, out: Path) -> tuple[float, dict[str, int], bool]:
    """One headless report at S=``seconds``: (wall time, its ``deployments``, whether it was ok)."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "runbook_lib", "report", "--out", str(out),
                           "--simulate-deploy-seconds", str(seconds)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    took = time.monotonic() - start
    summary = json.loads((out / "latest" / "summary.json").read_text()) if (out / "latest").exists() else {}
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
    return took, summary.get("deployments", {"count": -1, "rounds": -1}), proc.returncode == 0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        slow, slow_dep, slow_ok = run(SECONDS, Path(tmp) / "s5")
        fast, fast_dep, fast_ok = run(0.0, Path(tmp) / "s0")
    budget = MAX_ROUNDS * SECONDS + NOISE
    print(f"{'':<28}{'S=5':>10}{'S=0':>10}")
    print(f"{'wall time (s)':<28}{slow:>10.1f}{fast:>10.1f}")
    print(f"{'deployments waited for':<28}{slow_dep['count']:>10}{fast_dep['count']:>10}")
    print(f"{'rounds R':<28}{slow_dep['rounds']:>10}{fast_dep['rounds']:>10}")
    print(f"extra time at S=5: {slow - fast:.1f} s (target <= {budget:.0f} s: {MAX_ROUNDS} x {SECONDS:.0f} s "
          f"+ {NOISE:.0f} s); rounds: {slow_dep['rounds']} (target <= {MAX_ROUNDS})")
    missed = [why for bad, why in (
        (not (slow_ok and fast_ok), "a report was not ok"),
        (slow_dep["rounds"] > MAX_ROUNDS or slow_dep["rounds"] < 0, f"R={slow_dep['rounds']} > {MAX_ROUNDS}"),
        (slow - fast > budget, f"S=5 run {slow - fast:.1f} s slower than S=0 (> {budget:.0f} s)"),
    ) if bad]
    print("bench_deploy: " + ("targets met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
