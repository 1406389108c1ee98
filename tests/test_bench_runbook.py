"""benchmarks/bench_runbook.py: its local echo server answers as the echo function, and a missed target fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs

import pytest

from runbook_lib.aws.target import Target
from runbook_lib.runbook import probes


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_runbook.py"
    spec = importlib.util.spec_from_file_location("bench_runbook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_runbook"] = module
    spec.loader.exec_module(module)
    return module


def test_the_local_server_answers_as_the_echo_function(bench: ModuleType) -> None:
    with bench.echo_server() as base_url:
        target = Target("local", "us-east-1", base_url)
        for probe in probes.default_matrix("t0ken"):
            seen = probes.send(target, "d111111abcdef8.cloudfront.net", probe)
            assert seen.status == 200, probe.id
            if probe.method != "HEAD":
                assert seen.served_by == "api" and seen.get("api.method") == probe.method, probe.id
                sent = parse_qs(probe.query, keep_blank_values=True) or None
                assert seen.get("api.query") == probes.format_query(sent), probe.id


def test_a_missed_target_makes_the_script_fail(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    met = bench.Figure("fast", "1 us", "1 us", 1.0, 1.2)
    missed = bench.Figure("slow", "2 us", "1 us", 2.0, 1.2)
    failed_run = bench.Figure("run", "1 s", "1 s", 1.0, 1.5, note="FAILED: the run was not ok")
    assert bench.report([met]) == 0
    assert bench.report([met, missed]) == 1
    assert bench.report([failed_run]) == 1
    out = capsys.readouterr()
    assert "NOT MET" in out.out and "target missed: slow" in out.err and "target missed: run" in out.err


def test_the_probe_benchmark_measures_both_sides(bench: ModuleType) -> None:
    figure = bench.bench_probes(rounds=3)
    assert figure.ours.startswith("probes.send") and figure.baseline.startswith("raw requests")
    assert figure.ratio > 0 and figure.target == 1.2
