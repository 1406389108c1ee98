"""The CLI: simulate and diagnose from files, diagnose live through a botocore Stubber (no network)."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from botocore.stub import Stubber

from runbook_lib import cli

try:
    from tests.model_fixtures import ALL_VIEWER_EXCEPT_HOST, API_DOMAIN, behavior, dist, qi
except ImportError:  # pragma: no cover
    from model_fixtures import ALL_VIEWER_EXCEPT_HOST, API_DOMAIN, behavior, dist, qi  # type: ignore[no-redef]


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(argv, out)
    return code, out.getvalue()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "dist.json"
    path.write_text(json.dumps({"ETag": "E1", "DistributionConfig": dist(behavior("/api/*"))}))
    return path


def test_simulate_json_accepts_whole_response(config_file: Path) -> None:
    code, out = run(
        [
            "simulate",
            "--config",
            str(config_file),
            "--request",
            "GET /api/data?since=2020-01-01",
            "-H",
            "Authorization: Bearer x",
            "--json",
        ]
    )
    assert code == 0
    result = json.loads(out)
    assert result["behavior"] == "/api/*"
    assert result["origin_request"]["path"] == "/prod/api/data"
    assert result["origin_request"]["query"] is None  # CachingDisabled alone forwards no query strings
    assert "authorization" not in result["origin_request"]["headers"]
    assert result["origin_request"]["headers"]["host"] == API_DOMAIN


def test_simulate_human(config_file: Path) -> None:
    code, out = run(
        ["simulate", "--config", str(config_file), "--request", "POST /api/x", "--scheme", "http"]
    )
    assert code == 0
    assert "behavior:      /api/*" in out and "POST /prod/api/x" in out


def test_simulate_redirect_human(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(dist(behavior("/api/*", protocol="redirect-to-https"))))
    code, out = run(["simulate", "--config", str(path), "--request", "GET /api/x", "--scheme", "http"])
    assert code == 0 and "301" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "--config", "/nonexistent.json", "--request", "GET /"], "Cannot read config file"),
        (["simulate", "--config", "{cfg}", "--request", "GET"], "--request must look like"),
        (["simulate", "--config", "{cfg}", "--request", "GET /", "-H", "nocolon"], "-H must look like"),
        (["simulate", "--config", "{bad}", "--request", "GET /"], "no DistributionConfig"),
        (["frobnicate"], "invalid choice"),
        (["diagnose", "--distribution-id", "E1", "--target", "local"], "--endpoint-url"),
    ],
)
def test_errors_one_line_exit_2(
    argv: list[str], message: str, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    argv = [a.replace("{cfg}", str(config_file)).replace("{bad}", str(bad)) for a in argv]
    code, _ = run(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_diagnose_file_json(config_file: Path) -> None:
    code, out = run(["diagnose", "--config", str(config_file), "--json"])
    assert code == 1  # an [error] finding: --fail-on error is the default
    codes = {f["code"] for f in json.loads(out)}
    assert "query-strings-dropped" in codes


def test_diagnose_human(config_file: Path) -> None:
    code, out = run(["diagnose", "--config", str(config_file)])
    assert code == 1 and "[error] query-strings-dropped (/api/*)" in out


@pytest.fixture
def warnings_only_file(tmp_path: Path) -> Path:
    # CachingDisabled + AllViewerExceptHostHeader: everything reaches the API; only the /api prefix warning.
    path = tmp_path / "recommended.json"
    path.write_text(json.dumps(dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST))))
    return path


@pytest.mark.parametrize("fail_on, with_errors, warnings_only", [
    (None, 1, 0), ("error", 1, 0), ("warning", 1, 1), ("never", 0, 0),
])
def test_diagnose_fail_on(config_file: Path, warnings_only_file: Path, capsys: pytest.CaptureFixture[str],
                          fail_on: str | None, with_errors: int, warnings_only: int) -> None:
    option = [] if fail_on is None else ["--fail-on", fail_on]
    for path, expected in ((config_file, with_errors), (warnings_only_file, warnings_only)):
        code, out = run(["diagnose", "--config", str(path), "--json", *option])
        severities = {f["severity"] for f in json.loads(out)}
        assert severities == ({"error", "warning"} if path == config_file else {"warning"})  # the premise
        assert code == expected, (path.name, fail_on)
        err = capsys.readouterr().err
        # A failing exit names what failed and how to change it; a passing one is silent.
        assert (f"at or above {fail_on or 'error'!r}" in err and "--fail-on never" in err) == bool(expected)


def test_diagnose_fail_on_refuses_an_unknown_level(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["diagnose", "--config", str(config_file), "--fail-on", "info"])
    assert code == 2 and "invalid choice: 'info'" in capsys.readouterr().err


def _stubbed(monkeypatch: pytest.MonkeyPatch, cfg: dict[str, Any], policy: dict[str, Any] | None) -> Stubber:
    client = boto3.client(
        "cloudfront", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    stub = Stubber(client)
    stub.add_response("get_distribution_config", {"ETag": "E1", "DistributionConfig": cfg}, {"Id": "EDIST"})
    if policy is not None:
        stub.add_response(
            "get_cache_policy",
            {
                "ETag": "E2",
                "CachePolicy": {
                    "Id": "cp-custom",
                    "LastModifiedTime": "2026-01-01",
                    "CachePolicyConfig": policy,
                },
            },
            {"Id": "cp-custom"},
        )
    stub.activate()
    seen: dict[str, Any] = {}

    def fake(target: str, endpoint_url: str | None) -> Any:
        seen.update(target=target, endpoint_url=endpoint_url)
        return client

    monkeypatch.setattr(cli, "make_cloudfront_client", fake)
    return stub


def test_diagnose_live_fetches_custom_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = {
        "Name": "api-auth",
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 1,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False,
            "EnableAcceptEncodingBrotli": False,
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": qi(["Authorization"])},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"},
        },
    }
    cfg = dist(behavior("/api/*", cache="cp-custom", orp=ALL_VIEWER_EXCEPT_HOST))
    stub = _stubbed(monkeypatch, cfg, policy)
    code, out = run(
        [
            "diagnose",
            "--distribution-id",
            "EDIST",
            "--target",
            "local",
            "--endpoint-url",
            "http://127.0.0.1:4566",
            "--json",
        ]
    )
    stub.assert_no_pending_responses()
    assert code == 0
    codes = {f["code"] for f in json.loads(out)}
    assert "config-error" not in codes  # the custom policy was fetched, so it is known
    assert "authorization-not-forwarded" not in codes  # it keys on Authorization


def test_diagnose_live_client_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client(
        "cloudfront", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    stub = Stubber(client)
    stub.add_client_error(
        "get_distribution_config",
        "NoSuchDistribution",
        "The specified distribution does not exist.",
        404,
        expected_params={"Id": "ENOPE"},
    )
    stub.activate()
    monkeypatch.setattr(cli, "make_cloudfront_client", lambda target, url: client)
    code, _ = run(["diagnose", "--distribution-id", "ENOPE"])
    assert code == 2 and "NoSuchDistribution" in capsys.readouterr().err


# --- local-aws: the embedded local AWS alone, in a real subprocess --------------------------------------


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """Lines of ``stream`` as they come (a thread reads, so a test can wait with a timeout)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still has a PID until its parent reaps it; it runs nothing.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.integration
@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_local_aws_serves_until_signalled_then_stops_ministack(tmp_path: Path, stop_with: signal.Signals) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "runbook_lib", "local-aws", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = 0
    try:
        out = _lines(proc.stdout)  # type: ignore[arg-type]
        first = out.get(timeout=60)
        assert first.startswith("endpoint_url=http://127.0.0.1:"), first
        endpoint = first.strip().split("=", 1)[1]
        pid = int(out.get(timeout=5).strip().removeprefix("ministack_pid="))
        assert pid != proc.pid and _alive(pid)
        # The endpoint is a working AWS: one real boto3 call.
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
        s3.create_bucket(Bucket="rb-local-aws-cmd")
        assert "rb-local-aws-cmd" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        s3.close()
        proc.send_signal(stop_with)
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"MiniStack (pid {pid}) still runs after local-aws stopped"
        assert not _listening(int(endpoint.rsplit(":", 1)[1]))
        assert "The local AWS is stopped." in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if pid and _alive(pid):  # a failed run must not leave the MiniStack it started behind
            os.kill(pid, signal.SIGTERM)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
