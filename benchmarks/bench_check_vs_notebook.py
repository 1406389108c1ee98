"""Benchmark (not a test): `check` of a saved config beside one empty notebook run through papermill.

Both run as a scheduler would start them, as fresh processes: `python -m runbook_lib check FILE --json` (a static
check: the forwarding and API Gateway models, no AWS) and `python -m papermill empty.ipynb out.ipynb` (a
one-cell notebook: kernel start, execute, write). Each is timed three times; the medians are printed side by
side. Exits 1 when the check takes more than 1.5x the empty notebook (issue 12's budget for a scheduled check).
"""

from __future__ import annotations

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


def _timed(argv: list[str], ok_codes: tuple[int, ...]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    took = time.perf_counter() - start
    if done.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return took


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, empty)
        # exit 1 is the check's verdict on this config (query strings unmet), not a failure to run
        check = [_timed([sys.executable, "-m", "runbook_lib", "check", str(SAVED), "--json"], (0, 1))
                 for _ in range(ROUNDS)]
        paper = [_timed([sys.executable, "-m", "papermill", "--no-progress-bar", str(empty),
                         str(Path(tmp) / f"out-{i}.ipynb")], (0,)) for i in range(ROUNDS)]
    c, p = statistics.median(check), statistics.median(paper)
    ratio = c / p
    verdict = "met" if ratio <= RATIO else "NOT met"
    print(f"\ncheck of a saved config (static): {c:.2f} s; one empty notebook through papermill: {p:.2f} s; "
          f"ratio {ratio:.2f} (target <= {RATIO}: {verdict}); medians of {ROUNDS} runs each")
    return 0 if ratio <= RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
