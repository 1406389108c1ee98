"""``check --all``: adaptive retries through botocore's real retry path, pagination, parallel reads, several accounts.

The retry tests need real HTTP answers (tests/loopback_aws.py on 127.0.0.1): a Stubber answers before botocore's
retry handler runs, as the first test shows.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runbook_lib.cli import main
from runbook_lib.runbook import fleet
from tests.loopback_aws import LoopbackAws, aws_target, serving
from tests.stubbing import distribution_list, distribution_summary, stubbed_aws

SAVED = Path(__file__).parent / "fixtures" / "sources"
REGION = "eu-west-1"
API = "a1b2c3d4e5"


def _config(api_region: str = REGION, comment: str = "") -> dict[str, Any]:
    """The saved recommended distribution (CachingDisabled + AllViewerExceptHostHeader on /api/*)."""
    config: dict[str, Any] = copy.deepcopy(
        json.loads((SAVED / "recommended_get_distribution.json").read_text())["Distribution"]["DistributionConfig"])
    config["Origins"]["Items"][1]["DomainName"] = f"{API}.execute-api.{api_region}.amazonaws.com"
    config["Comment"] = comment
    return config


def _legacy() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((SAVED / "legacy_get_distribution_config.json").read_text())[
        "DistributionConfig"]
    config["Origins"]["Items"][1]["DomainName"] = f"{API}.execute-api.us-east-1.amazonaws.com"
    return config


def _served(*configs: dict[str, Any], **options: Any) -> LoopbackAws:
    aws = LoopbackAws(**options)
    for n, config in enumerate(configs):
        aws.add_distribution(f"E{n}", config)
    aws.add_rest_api(API, {"/": [], "/api": ["ANY"], "/api/{proxy+}": ["ANY"]}, ["prod"])
    return aws


def _calls(aws: LoopbackAws, word: str) -> list[str]:
    return [path for _, path in aws.requests if word in path]


def _lists(aws: LoopbackAws) -> list[str]:
    """The query of each ListDistributions request."""
    return [path.partition("?")[2] for _, path in aws.requests if path.partition("?")[0].endswith("/distribution")]


def test_a_stubber_answers_before_botocore_retries_so_it_cannot_test_them() -> None:
    """Stubber hooks botocore's ``before-call`` event: a queued Throttling is raised at once, never retried."""
    with stubbed_aws(REGION) as stub:
        stub.error("cloudfront", "ListDistributions", "Throttling", "Rate exceeded", 400)
        stub.ok("cloudfront", "ListDistributions", distribution_list())
        client = stub.target.client("cloudfront")
        assert client.meta.config.retries["mode"] == "adaptive"
        with pytest.raises(ClientError, match="Throttling"):
            client.list_distributions()
        client.list_distributions()  # the success was still queued: nothing retried the first call
        stub.assert_done()


def test_throttled_calls_are_retried_adaptively_and_then_succeed() -> None:
    aws = _served(_config(), _legacy(), throttle={"ListDistributions": 1, "GetDistributionConfig": 1})
    with serving(aws) as endpoint:
        target = aws_target(endpoint, REGION)
        result = fleet.check_all([("", target)], "query-strings,host-is-api", workers=1)
    assert target.client("cloudfront").meta.config.retries["mode"] == "adaptive"
    assert aws.throttle == {"ListDistributions": 0, "GetDistributionConfig": 0}  # every throttle was answered
    # one request more than calls for the configs and for the list (the throttled ones); then each succeeded
    assert len(_calls(aws, "/distribution/E")) == 2 + 1 and len(_lists(aws)) == 1 + 1
    assert [d.name for d in result.distributions] == ["E0", "E1"]
    assert not any(f["code"] == "unreadable" for d in result.distributions for f in d.findings)
    assert result.distributions[0].ok and not result.distributions[1].ok


def test_every_page_is_listed_with_its_marker() -> None:
    aws = _served(*[_config(comment=str(n)) for n in range(5)], page_size=2)
    with serving(aws) as endpoint:
        result = fleet.check_all([("", aws_target(endpoint, REGION))], "query-strings", workers=3)
    assert _lists(aws) == ["", "Marker=2", "Marker=4"]
    assert [d.name for d in result.distributions] == ["E0", "E1", "E2", "E3", "E4"]  # listing order, not finish order
    assert fleet.counts(result) == {"distributions": 5, "ok": 5, "failed": 0, "no_api_behavior": 0}


def test_reads_run_in_parallel_with_one_client_per_service_and_each_api_read_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    aws = _served(*[_config(comment=str(n)) for n in range(8)], latency=0.2)
    with serving(aws) as endpoint:
        target = aws_target(endpoint, REGION)
        made: list[str] = []
        real = target.session.client
        monkeypatch.setattr(target.session, "client", lambda service, **kw: made.append(service) or real(service, **kw))
        result = fleet.check_all([("", target)], "query-strings,path-reaches-route", workers=4)
    assert aws.max_in_flight >= 2, "the reads did not overlap"
    assert sorted(made) == ["apigateway", "apigatewayv2", "cloudfront"]  # not one per distribution
    assert len(_calls(aws, "/restapis/")) == 3  # GetRestApi, GetResources, GetStages: once for 8 distributions
    assert all(r["met"] is True for d in result.distributions for b in d.behaviors for r in b.requirements)


def test_several_accounts_each_listed_and_labelled() -> None:
    first, second = _served(_config()), _served(_legacy(), _config())
    with serving(first) as one, serving(second) as two:
        result = fleet.check_all([("prod", aws_target(one, REGION)), ("dev", aws_target(two, REGION))],
                                 "query-strings")
    assert [d.name for d in result.distributions] == ["prod/E0", "dev/E0", "dev/E1"]
    assert [d.ok for d in result.distributions] == [True, False, True]


def test_check_all_with_two_profiles_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check --all --target aws --profile prod --profile dev``: each profile is its own account (here its own
    loopback server, named by the profile's ``endpoint_url`` in the AWS config file), preflighted, listed, checked."""
    first, second = _served(_config()), _served(_legacy(), account="210987654321")
    with serving(first) as one, serving(second) as two:
        config = tmp_path / "config"
        config.write_text("".join(
            f"[profile {name}]\nregion = {REGION}\nendpoint_url = {url}\naws_access_key_id = AKID{name.upper()}\n"
            "aws_secret_access_key = secret\n\n" for name, url in (("prod", one), ("dev", two))))
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        out = io.StringIO()
        code = main(["check", "--all", "--target", "aws", "--profile", "prod", "--profile", "dev",
                     "--requirements", "query-strings"], out)
    assert code == 1, out.getvalue()
    assert ("POST", "sts:GetCallerIdentity") in first.requests and ("POST", "sts:GetCallerIdentity") in second.requests
    text = out.getvalue()
    assert "distribution prod/E0" in text and "distribution dev/E0" in text
    assert "distributions: 2, ok: 1, failed: 1" in text


def test_an_api_id_that_is_no_api_is_asked_once_too() -> None:
    config = _config()
    config["Origins"]["Items"][1]["DomainName"] = f"nope123.execute-api.{REGION}.amazonaws.com"
    aws = _served(config, copy.deepcopy(config))
    with serving(aws) as endpoint:
        result = fleet.check_all([("", aws_target(endpoint, REGION))], "path-reaches-route", workers=1)
    assert _calls(aws, "/nope123") == ["/restapis/nope123", "/v2/apis/nope123"]  # REST, then HTTP: once for both
    assert [r["met"] for d in result.distributions for b in d.behaviors for r in b.requirements] == [None, None]


def test_a_custom_policy_behind_several_distributions_is_read_once() -> None:
    policy_id = "11111111-2222-3333-4444-555555555555"
    config = _config(api_region="us-east-1")
    config["CacheBehaviors"]["Items"][0]["CachePolicyId"] = policy_id
    policy = {"CachePolicy": {"Id": policy_id, "LastModifiedTime": "2026-11-01T00:00:00Z", "CachePolicyConfig": {
        "Name": "api", "MinTTL": 0, "DefaultTTL": 1, "MaxTTL": 1, "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "all"}}}}}
    with stubbed_aws(REGION) as stub:
        stub.ok("cloudfront", "ListDistributions", distribution_list(
            distribution_summary("E1", config), distribution_summary("E2", config)), {})
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "1"}, {"Id": "E1"})
        stub.ok("cloudfront", "GetCachePolicy", policy, {"Id": policy_id})
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "2"}, {"Id": "E2"})
        result = fleet.check_all([("", stub.target)], "query-strings", workers=1)
        stub.assert_done()  # one GetCachePolicy for both; a second would have met no queued answer
    assert [d.name for d in result.distributions] == ["E1", "E2"]
    # both were checked with the policy as read (TTL 1 with no Authorization in the key: answers shared by users)
    first, second = ([f["code"] for f in d.findings] for d in result.distributions)
    assert first == second and "authorization-not-in-cache-key" in first
