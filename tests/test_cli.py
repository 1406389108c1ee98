"""The CLI: simulate and diagnose from files, diagnose live through a botocore Stubber (no network)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

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
    assert code == 0
    codes = {f["code"] for f in json.loads(out)}
    assert "query-strings-dropped" in codes


def test_diagnose_human(config_file: Path) -> None:
    code, out = run(["diagnose", "--config", str(config_file)])
    assert code == 0 and "[error] query-strings-dropped (/api/*)" in out


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
