"""Benchmark (not a test): `check --replay local` of a saved config beside one empty notebook plus the replay's probing.

Both run as a scheduler would start them, as fresh processes: `python -m runbook_lib check FILE --replay local
--json` (it starts its own local AWS, replays the distribution behind the echo API, probes it, removes it and
stops the local AWS) and `python -m papermill empty.ipynb out.ipynb` (a one-cell notebook: kernel start, execute,
write). The baseline is the empty notebook plus the replay's own probing (the time its probes took, from the
check's JSON): what a notebook that sent the same probes would at least cost. Each is timed three times; the
medians are printed side by side, with the static check (`--replay none`) for reference. Exits 1 when the check
takes more than 1.5x the baseline (issue 12's budget for a scheduled check).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SAVED = ROOT / "tests" / "fixtures" / "sources" / "legacy_get_distribution_config.json"
RATIO = 1.5
ROUNDS = 3


def _timed(argv: list[str], ok_codes: tuple[int, ...]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    took = time.perf_counter() - start
    if done.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return took, done.stdout


def _probing(check_json: str) -> float:
    """Seconds the replay's probes took, summed over its behaviors (``check --json``: behaviors[].replay)."""
    data = json.loads(check_json)
    seconds = [b["replay"]["seconds"] for d in data["distributions"] for b in d["behaviors"] if b.get("replay")]
    if not seconds:
        raise SystemExit("the check's JSON has no replay figures: did it replay?")
    return float(sum(seconds))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, empty)
        cmd = [sys.executable, "-m", "runbook_lib", "check", str(SAVED), "--json"]
        # exit 1 is the check's verdict on this config (query strings unmet), not a failure to run
        replays = [_timed([*cmd, "--replay", "local"], (0, 1)) for _ in range(ROUNDS)]
        static = [_timed([*cmd, "--replay", "none"], (0, 1))[0] for _ in range(ROUNDS)]
        paper = [_timed([sys.executable, "-m", "papermill", "--no-progress-bar", str(empty),
                         str(Path(tmp) / f"out-{i}.ipynb")], (0,))[0] for i in range(ROUNDS)]
    c, p = statistics.median(t for t, _ in replays), statistics.median(paper)
    probing = statistics.median(_probing(out) for _, out in replays)
    ratio = c / (p + probing)
    verdict = "met" if ratio <= RATIO else "NOT met"
    print(f"\ncheck --replay local of a saved config: {c:.2f} s; one empty notebook through papermill {p:.2f} s "
          f"+ the replay's probing {probing:.2f} s = {p + probing:.2f} s; ratio {ratio:.2f} (target <= {RATIO}: "
          f"{verdict}); static check (--replay none) {statistics.median(static):.2f} s; medians of {ROUNDS} runs each")
    return 0 if ratio <= RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
