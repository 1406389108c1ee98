"""AWS errors reach a user as one line that names the fix, exit 2 (issue 9, item 5): no credentials, an
unknown profile, expired tokens, throttling; checked once before any notebook runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import papermill as pm
import pytest
from botocore.exceptions import EndpointConnectionError

from runbook_lib.aws import calls, provision
from runbook_lib.aws.target import preflight
from runbook_lib.errors import AwsAccessError, ProvisioningError

try:
    from tests import stubbing as aws_stubs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]


def _no_credentials_env(**extra: str) -> dict[str, str]:
    """An environment where boto3 finds no credentials and asks no metadata service (nothing leaves)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true", **extra}


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook_lib", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_diagnose_without_credentials_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _cli(["diagnose", "--distribution-id", "E123"], _no_credentials_env(), tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "No usable AWS credentials" in done.stderr and "aws sso login" in done.stderr


def test_a_bogus_profile_names_the_fix(tmp_path: Path) -> None:
    done = _cli(["diagnose", "--distribution-id", "E123"], _no_credentials_env(AWS_PROFILE="bogus"), tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "profile (bogus) could not be found" in done.stderr
    assert "aws configure --profile bogus" in done.stderr and "aws configure list-profiles" in done.stderr


def test_report_on_aws_checks_access_once_before_any_notebook(tmp_path: Path) -> None:
    env = _no_credentials_env()
    done = _cli(["report", "--target", "aws", "--region", "eu-west-1", "--out", str(tmp_path / "out")], env, tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "No usable AWS credentials" in done.stderr
    assert not (tmp_path / "out").exists()  # no run folder, no notebook ran
    no_region = _cli(["report", "--target", "aws", "--out", str(tmp_path / "out")], env, tmp_path)
    assert no_region.returncode == 2 and "needs a region" in no_region.stderr
    assert not (tmp_path / "out").exists()


def test_a_notebook_connect_cell_shows_one_line(tmp_path: Path, repo_root: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in _no_credentials_env().items():
        monkeypatch.setenv(key, value)
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(repo_root / "notebooks" / "09_teardown.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"target": "aws", "region": "eu-west-1", "profile": "bogus"},
                            kernel_name="python3", progress_bar=False)
    assert info.value.ename == "AwsAccessError"
    assert "aws configure --profile bogus" in info.value.evalue
    assert len(info.value.traceback) == 1  # the error and its fix, not a traceback


@pytest.mark.parametrize(("code", "words"), [
    ("ExpiredToken", "aws sso login"),
    ("ExpiredTokenException", "aws sso login"),
    ("Throttling", "adaptive retries"),
    ("TooManyRequestsException", "adaptive retries"),
])
def test_expired_tokens_and_throttling_become_access_errors(code: str, words: str) -> None:
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        aws.error("sts", "GetCallerIdentity", code, "The security token included in the request is expired", 400)
        with pytest.raises(AwsAccessError, match=words) as info:
            preflight(aws.target)
        aws.assert_done()
    assert info.value.code == code and "\n" not in str(info.value)


def test_public_functions_convert_access_errors_too() -> None:
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        aws.error("cloudfront", "ListDistributions", "ExpiredToken", "expired", 403)
        with pytest.raises(AwsAccessError, match="find: ListDistributions"):
            provision.find(aws.target, "rb-test")
        aws.error("cloudfront", "ListDistributions", "AccessDenied", "not authorized", 403)
        with pytest.raises(ProvisioningError, match="IAM policy"):
            provision.find(aws.target, "rb-test")


def test_an_unreachable_endpoint_names_the_network() -> None:
    err = calls.convert(EndpointConnectionError(endpoint_url="https://sts.eu-west-1.amazonaws.com/"))
    assert isinstance(err, AwsAccessError) and "could not be reached" in str(err)


def test_clients_retry_throttling_adaptively() -> None:
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        for service in aws_stubs.SERVICES:
            retries = aws.target.client(service).meta.config.retries
            assert retries["mode"] == "adaptive" and retries["total_max_attempts"] >= 5
