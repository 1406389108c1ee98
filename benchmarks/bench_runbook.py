"""Benchmark (not a test): run on demand with `make bench`. Prints figures against the targets.

1. Wall time of the whole headless run (`make report`'s job, local target) against the same number of
   empty notebooks executed through papermill: the runbook's own overhead (target ratio <= 1.5).
2. Probe latency through runbook_lib (`probes.send`: request, classify, parse the echo) against raw
   `requests` to the same endpoint with the same headers (target ratio <= 1.2).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm
import requests

from runbook_lib.aws import provision
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import connect
from runbook_lib.runbook import probes, runner


def _empty_notebooks(n: int, folder: Path) -> float:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    start = time.perf_counter()
    for i in range(n):
        pm.execute_notebook(str(path), str(folder / f"empty-{i}.ipynb"), kernel_name="python3", progress_bar=False)
    return time.perf_counter() - start


def bench_run(folder: Path) -> None:
    start = time.perf_counter()
    result = runner.run(target="local", out_root=folder / "outputs")
    full = time.perf_counter() - start
    n = len(result.summary["notebooks"])
    empty = _empty_notebooks(n, folder)
    ratio = full / empty
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"\nwhole headless run: {full:.1f} s for {n} notebooks (ok={result.ok}); "
          f"{n} empty notebooks: {empty:.1f} s; ratio {ratio:.2f} (target <= 1.5: {verdict})")


def bench_probes(folder: Path, rounds: int = 200) -> None:
    with LocalAWS(log_dir=folder / "probe-bench") as aws:
        target = connect("local", endpoint_url=aws.endpoint_url)
        stack = provision.build(target, "rb-bench", "recommended", progress=False)
        assert stack.domain_name
        probe = probes.default_matrix("bench")[0]
        base, extra = target.viewer_endpoint(stack.domain_name, probe.scheme)
        url = f"{base}{probe.path}?{probe.query}"
        with requests.Session() as http:
            for _ in range(10):  # warm the Lambda and the connection
                probes.send(target, stack.domain_name, probe, http)
            lib, raw = [], []
            for _ in range(rounds):  # interleaved, so drift hits both alike
                t = time.perf_counter()
                probes.send(target, stack.domain_name, probe, http)
                lib.append(time.perf_counter() - t)
                t = time.perf_counter()
                _ = http.get(url, headers={**extra, **probe.header_dict()}, allow_redirects=False).content
                raw.append(time.perf_counter() - t)
    ml, mr = statistics.median(lib) * 1000, statistics.median(raw) * 1000
    ratio = ml / mr
    print(f"probe latency over {rounds} rounds (median): runbook_lib {ml:.1f} ms, raw requests {mr:.1f} ms; "
          f"ratio {ratio:.2f} (target <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'})")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_probes(folder)
        bench_run(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
