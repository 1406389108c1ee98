"""Benchmarks of the runbook layer (a script, not a test): ``make bench`` runs it.

Each figure is printed beside its baseline and its target; the script exits 1 when any target is missed.

1. Probe overhead. ``probes.send`` (build the viewer request, send it, tell who answered, parse the echo)
   against raw ``requests`` sending the same requests, to the same server, with the same headers, over the same
   keep-alive session: paired, alternating which goes first, so drift hits both alike. The server is stdlib
   ``http.server`` on 127.0.0.1 in a thread that answers with the echo function's own handler
   (``runbook_lib.aws.echo_lambda``) in microseconds, so the figure is the library's own cost per probe, not a
   Lambda's. Target: median ratio <= 1.2.
2. The whole headless run (``make report``'s job, local target) against the same number of empty notebooks
   executed through papermill: the runbook's own overhead. Target: ratio <= 1.5.

``--only probes`` (seconds) or ``--only run`` (minutes) runs one of them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runbook_lib.aws import echo_lambda  # noqa: E402
from runbook_lib.aws.target import Target  # noqa: E402
from runbook_lib.runbook import probes  # noqa: E402

PROBE_TARGET = 1.2
RUN_TARGET = 1.5
_DOMAIN = "d111111abcdef8.cloudfront.net"


@dataclass
class Figure:
    what: str
    ours: str
    baseline: str
    ratio: float
    target: float
    note: str = ""

    @property
    def met(self) -> bool:
        return self.ratio <= self.target and not self.note.startswith("FAILED")


# --- 1. probe overhead --------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers every method as the echo Lambda behind API Gateway would: what it received, as JSON."""

    protocol_version = "HTTP/1.1"  # keep-alive, as CloudFront and API Gateway speak it
    disable_nagle_algorithm = True  # headers and body go out at once, never held back for an ACK

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        path, _, query = self.path.partition("?")
        received: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            received.setdefault(name, []).append(value)
        event = {
            "httpMethod": self.command, "path": path, "resource": "/api/{proxy+}",
            "multiValueQueryStringParameters": parse_qs(query, keep_blank_values=True) or None,
            "multiValueHeaders": received, "requestContext": {"stage": "prod", "path": "/prod" + path},
            "body": body,
        }
        answer = echo_lambda.handler(event, None)
        data = b"" if self.command == "HEAD" else str(answer["body"]).encode()
        self.send_response(int(answer["statusCode"]))
        for name, value in answer["headers"].items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(str(answer["body"]).encode())))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def echo_server() -> Iterator[str]:
    """The echo handler behind http.server on 127.0.0.1 (a free port), in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextmanager
def _quick_gil_handover() -> Iterator[None]:
    """The server thread shares the interpreter with the client. With CPython's default 5 ms switch interval
    the side that waits for an answer can wait a whole time slice for the GIL, which dwarfs a ~0.5 ms exchange
    and lands on whichever side happens to wait: that would time the GIL's scheduler, not the library."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def bench_probes(rounds: int = 200) -> Figure:
    """Each probe of the default matrix ``rounds`` times through the library and raw, paired and alternating;
    per probe the median of each (a short exchange is rarely preempted, a long series often is), then the mean
    over the matrix. Both use one keep-alive session, so the same connection and server thread serve both and
    the only difference is the library's code."""
    matrix = probes.default_matrix("bench-token")
    with echo_server() as base_url, requests.Session() as http, _quick_gil_handover():
        target = Target("local", "us-east-1", base_url)

        def library(probe: probes.Probe) -> None:
            obs = probes.send(target, _DOMAIN, probe, http)
            # A HEAD answer has no body to tell the echo by; every other one is the echo's.
            assert obs.status == 200 and (probe.method == "HEAD" or obs.served_by == "api"), (probe.id, obs)

        def plain(probe: probes.Probe) -> None:
            _, extra = target.viewer_endpoint(_DOMAIN, probe.scheme)
            url = base_url + probe.path + (f"?{probe.query}" if probe.query else "")
            # The same timeout as the library's, so both sockets behave alike.
            response = http.request(probe.method, url, headers={**extra, **probe.header_dict()}, data=probe.body,
                                   allow_redirects=False, timeout=30)
            assert response.content is not None  # read the body, as the library does

        lib: dict[str, list[float]] = {p.id: [] for p in matrix}
        base: dict[str, list[float]] = {p.id: [] for p in matrix}
        for i in range(10 + rounds):  # the first 10 rounds warm both connections and code paths
            for j, probe in enumerate(matrix):
                pair = ((library, lib), (plain, base)) if (i + j) % 2 else ((plain, base), (library, lib))
                for fn, times in pair:
                    took = _timed(lambda: fn(probe))  # noqa: B023 - called at once, inside this iteration
                    if i >= 10:
                        times[probe.id].append(took)
    ml = statistics.mean(statistics.median(t) for t in lib.values()) * 1e6
    mb = statistics.mean(statistics.median(t) for t in base.values()) * 1e6
    return Figure(
        f"probe ({rounds} x {len(matrix)} probes, local echo)", f"probes.send {ml:.0f} us",
        f"raw requests {mb:.0f} us", ml / mb, PROBE_TARGET, note=f"library overhead {ml - mb:+.0f} us per probe")


# --- 2. the whole headless run ------------------------------------------------------------------------


def _empty_notebooks(n: int, folder: Path) -> float:
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    start = time.perf_counter()
    for i in range(n):
        pm.execute_notebook(str(path), str(folder / f"empty-{i}.ipynb"), kernel_name="python3", progress_bar=False)
    return time.perf_counter() - start


def bench_run(folder: Path) -> Figure:
    from runbook_lib.runbook import runner

    start = time.perf_counter()
    result = runner.run(target="local", out_root=folder / "outputs")
    full = time.perf_counter() - start
    n = len(result.summary["notebooks"])
    empty = _empty_notebooks(n, folder)
    note = "" if result.ok else f"FAILED: the run was not ok (see {result.run_dir})"
    return Figure(f"whole headless run ({n} notebooks)", f"runbook {full:.1f} s", f"{n} empty notebooks {empty:.1f} s",
                  full / empty, RUN_TARGET, note)


# --- report -------------------------------------------------------------------------------------------


def report(figures: list[Figure]) -> int:
    """The figures side by side; 1 when a target is missed."""
    rows = [("benchmark", "runbook_lib", "baseline", "ratio", "target", "verdict")]
    rows += [(f.what, f.ours, f.baseline, f"{f.ratio:.2f}", f"<= {f.target}", "met" if f.met else "NOT MET")
             for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for f in figures:
        if f.note:
            print(f"  {f.what}: {f.note}")
    missed = [f.what for f in figures if not f.met]
    if missed:
        print(f"\nbench_runbook: target missed: {'; '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("probes", "run"), help="run one benchmark (default: both)")
    args = parser.parse_args(argv)
    figures = []
    if args.only in (None, "probes"):
        figures.append(bench_probes())
    if args.only in (None, "run"):
        with tempfile.TemporaryDirectory() as tmp:
            figures.append(bench_run(Path(tmp)))
    return report(figures)


if __name__ == "__main__":
    sys.exit(main())
