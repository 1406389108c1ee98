"""The continuous deployment path of ``fix --apply`` on target aws, every call checked by botocore's Stubber.

Each request is validated against CloudFront's service model and serialised; the Stubber checks the order and
the parameters that matter (IfMatch, Staging, the policy's header, the marker header), and answers with
responses validated against the output shapes (tests/stubbing.py). An unqueued call raises, so "nothing else
happened" is asserted by queueing nothing else. Sequence and rules:
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/continuous-deployment.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from runbook_lib.aws import staging
from runbook_lib.cloudfront import configs
from runbook_lib.cloudfront.policies import ALL_VIEWER_EXCEPT_HOST_HEADER
from runbook_lib.errors import FixRefused, StagingUnavailable
from runbook_lib.runbook import fix_apply, fix_plan, probes

try:
    from tests import stubbing as aws_stubs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]

PRIMARY, STAGING, POLICY = "E1PRIMARY0001", "E2STAGING0002", "cd-policy-1"
STAGING_DOMAIN = "d2222staging.cloudfront.net"
WHEN = aws_stubs.WHEN


class Where:
    """Equal to any value for which ``test`` holds (a parameter check inside expected_params)."""

    def __init__(self, test: Callable[[Any], bool], what: str) -> None:
        self.test, self.what = test, what

    def __eq__(self, other: object) -> bool:
        return bool(self.test(other))

    def __hash__(self) -> int:  # pragma: no cover
        return id(self)

    def __repr__(self) -> str:
        return f"<{self.what}>"


def _config(**extra: Any) -> dict[str, Any]:
    from runbook_lib.aws import presets
    from runbook_lib.aws.target import aws_api_origin

    config = configs.site_and_api_config(
        bucket_domain="site.s3.eu-west-1.amazonaws.com", oac_id="E2OAC",
        api_origin=aws_api_origin("a1b2c3", "prod", "eu-west-1"),
        api_behavior=configs.api_behavior(presets.get("allviewer").behavior_fields(None)), caller_reference="ref",
        comment="mine")
    return aws_stubs.as_returned({**config, **extra})


@pytest.fixture
def aws() -> Iterator[aws_stubs.StubbedAws]:
    with aws_stubs.stubbed_aws("eu-west-1") as stubbed:
        yield stubbed
        stubbed.assert_done()


def _dist(dist_id: str, config: dict[str, Any], domain: str = "d111111abcdef8.cloudfront.net") -> dict[str, Any]:
    return {**aws_stubs.distribution(dist_id, config), "DomainName": domain}


def _get_config(aws: aws_stubs.StubbedAws, dist_id: str, config: dict[str, Any], etag: str) -> None:
    aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": etag}, {"Id": dist_id})


def _deployed(aws: aws_stubs.StubbedAws, dist_id: str, config: dict[str, Any], domain: str = "") -> None:
    aws.ok("cloudfront", "GetDistribution", {"Distribution": _dist(dist_id, config, domain or
                                                                   "d111111abcdef8.cloudfront.net"), "ETag": "x"},
           {"Id": dist_id})


def _update(aws: aws_stubs.StubbedAws, dist_id: str, if_match: str, config: Any, new_etag: str) -> None:
    aws.ok("cloudfront", "UpdateDistribution",
           {"Distribution": _dist(dist_id, _config()), "ETag": new_etag},
           {"Id": dist_id, "IfMatch": if_match, "DistributionConfig": config})


def _marked(present: bool) -> Where:
    def test(cfg: dict[str, Any]) -> bool:
        names = [h["HeaderName"] for o in cfg["Origins"]["Items"] for h in o["CustomHeaders"].get("Items", [])]
        fixed = cfg["CacheBehaviors"]["Items"][0]["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        return fixed and cfg["Staging"] is True and (names.count(staging.MARKER_HEADER) == len(
            cfg["Origins"]["Items"]) if present else staging.MARKER_HEADER not in names)
    return Where(test, f"the fixed staging config {'with' if present else 'without'} the marker")


def _copy(aws: aws_stubs.StubbedAws, staged: dict[str, Any]) -> None:
    aws.ok("cloudfront", "CopyDistribution",
           {"Distribution": _dist(STAGING, staged, STAGING_DOMAIN), "Location": "https://x/" + STAGING, "ETag": "S1"},
           {"PrimaryDistributionId": PRIMARY, "Staging": True, "IfMatch": "P1", "CallerReference": ANY,
            "Enabled": True})


def _stage(aws: aws_stubs.StubbedAws, staged: dict[str, Any], etag: str, marker: bool) -> None:
    _get_config(aws, STAGING, staged, etag)
    _update(aws, STAGING, etag, _marked(marker), etag + "+")
    _deployed(aws, STAGING, staged, STAGING_DOMAIN)


def _policy_config(header: Any, value: Any = "v1") -> dict[str, Any]:
    return {"StagingDistributionDnsNames": {"Quantity": 1, "Items": [STAGING_DOMAIN]}, "Enabled": True,
            "TrafficConfig": {"Type": "SingleHeader", "SingleHeaderConfig": {"Header": header, "Value": value}}}


def _create_policy(aws: aws_stubs.StubbedAws) -> None:
    starts = Where(lambda h: h.startswith("aws-cf-cd-"), "a header named aws-cf-cd-*")
    aws.ok("cloudfront", "CreateContinuousDeploymentPolicy",
           {"ContinuousDeploymentPolicy": {"Id": POLICY, "LastModifiedTime": WHEN,
                                           "ContinuousDeploymentPolicyConfig": _policy_config("aws-cf-cd-runbook")},
            "Location": "https://x/" + POLICY, "ETag": "C1"},
           {"ContinuousDeploymentPolicyConfig": _policy_config(starts, ANY)})


def _clean_up(aws: aws_stubs.StubbedAws, primary: dict[str, Any], staged: dict[str, Any], policy: bool = True) -> None:
    if policy:
        attached = {**primary, "ContinuousDeploymentPolicyId": POLICY}
        _get_config(aws, PRIMARY, attached, "P9")
        _update(aws, PRIMARY, "P9", {**attached, "ContinuousDeploymentPolicyId": ""}, "P10")
        _deployed(aws, PRIMARY, primary)
        aws.ok("cloudfront", "GetContinuousDeploymentPolicy",
               {"ContinuousDeploymentPolicy": {"Id": POLICY, "LastModifiedTime": WHEN,
                                               "ContinuousDeploymentPolicyConfig": _policy_config("aws-cf-cd-x")},
                "ETag": "C2"}, {"Id": POLICY})
        aws.ok("cloudfront", "DeleteContinuousDeploymentPolicy", {}, {"Id": POLICY, "IfMatch": "C2"})
    _get_config(aws, STAGING, staged, "S8")
    _update(aws, STAGING, "S8", {**staged, "Enabled": False}, "S9")
    _deployed(aws, STAGING, staged, STAGING_DOMAIN)
    aws.ok("cloudfront", "DeleteDistribution", {}, {"Id": STAGING, "IfMatch": "S9"})


def _through_the_probes(aws: aws_stubs.StubbedAws, primary: dict[str, Any], staged: dict[str, Any]) -> None:
    _copy(aws, staged)
    _stage(aws, staged, "S1", marker=True)
    _deployed(aws, STAGING, staged, STAGING_DOMAIN)
    _create_policy(aws)
    _get_config(aws, PRIMARY, primary, "P1")
    _update(aws, PRIMARY, "P1", {**primary, "ContinuousDeploymentPolicyId": POLICY}, "P2")
    _deployed(aws, PRIMARY, primary)
    _deployed(aws, PRIMARY, primary)


def _fixed(primary: dict[str, Any]) -> dict[str, Any]:
    plan = fix_plan.make_plan(primary)
    assert plan.changes
    return plan.fixed_config


def _promote(aws: aws_stubs.StubbedAws, primary: dict[str, Any], staged: dict[str, Any]) -> None:
    """The promote step: the staging copy read, the primary read with its policy, UpdateDistributionWithStagingConfig
    with both ETags, the primary deployed."""
    _stage(aws, staged, "S3", marker=False)
    _get_config(aws, PRIMARY, {**primary, "ContinuousDeploymentPolicyId": POLICY}, "P3")
    aws.ok("cloudfront", "UpdateDistributionWithStagingConfig",
           {"Distribution": _dist(PRIMARY, primary), "ETag": "P4"},
           {"Id": PRIMARY, "StagingDistributionId": STAGING, "IfMatch": "P3, S3+"})
    _deployed(aws, PRIMARY, primary)


def test_staging_path_copies_tests_with_the_header_promotes_and_removes_everything(
        aws: aws_stubs.StubbedAws) -> None:
    primary, log = _config(), []
    staged = {**primary, "Staging": True, "CallerReference": "copy"}
    seen: list[tuple[str, dict[str, str], Any]] = []
    _through_the_probes(aws, primary, staged)
    _promote(aws, primary, staged)
    _clean_up(aws, primary, staged)

    def check(domain: str, headers: dict[str, str], marker: Any) -> list[str]:
        seen.append((domain, headers, marker))
        return []

    result = staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary), check, log.append,
                                          progress=False)
    assert result.promoted and result.staging_id == STAGING and result.policy_id == POLICY
    [(domain, headers, marker)] = seen
    assert domain == "d111111abcdef8.cloudfront.net" and list(headers) == [result.header]
    assert result.header.startswith(staging.HEADER_PREFIX) and marker[0] == staging.MARKER_HEADER
    assert any("promoted" in line for line in log) and any("deleted staging" in line for line in log)


def test_failing_staging_probes_leave_the_primary_config_and_remove_the_copy(aws: aws_stubs.StubbedAws) -> None:
    primary = _config()
    staged = {**primary, "Staging": True}
    _through_the_probes(aws, primary, staged)
    _clean_up(aws, primary, staged)  # no UpdateDistributionWithStagingConfig is queued: promoting would raise
    result = staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary),
                                          lambda *_: ["query-strings: unmet"], lambda _: None, progress=False)
    assert not result.promoted and result.problems == ["query-strings: unmet"]


def test_precondition_failed_on_the_copy_changes_nothing(aws: aws_stubs.StubbedAws) -> None:
    aws.error("cloudfront", "CopyDistribution", "PreconditionFailed", "The If-Match version is out of date.", 412)
    primary = _config()
    with pytest.raises(FixRefused, match="PreconditionFailed"):
        staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary), lambda *_: [],
                                     lambda _: None, progress=False)


def test_a_primary_changed_while_staging_refuses_and_removes_the_copy(aws: aws_stubs.StubbedAws) -> None:
    primary = _config()
    staged = {**primary, "Staging": True}
    _copy(aws, staged)
    _stage(aws, staged, "S1", marker=True)
    _deployed(aws, STAGING, staged, STAGING_DOMAIN)
    _create_policy(aws)
    _get_config(aws, PRIMARY, primary, "P7")  # not P1: someone else updated it meanwhile
    _get_config(aws, PRIMARY, primary, "P7")  # clean-up: no policy attached, so no detach
    aws.ok("cloudfront", "GetContinuousDeploymentPolicy",
           {"ContinuousDeploymentPolicy": {"Id": POLICY, "LastModifiedTime": WHEN,
                                           "ContinuousDeploymentPolicyConfig": _policy_config("aws-cf-cd-x")},
            "ETag": "C2"}, {"Id": POLICY})
    aws.ok("cloudfront", "DeleteContinuousDeploymentPolicy", {}, {"Id": POLICY, "IfMatch": "C2"})
    _clean_up(aws, primary, staged, policy=False)
    with pytest.raises(FixRefused, match="changed while its staging copy was made"):
        staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary), lambda *_: [],
                                     lambda _: None, progress=False)


@pytest.mark.parametrize("code", ["TooManyContinuousDeploymentPolicies", "StagingDistributionInUse"])
def test_the_policy_quota_falls_back_and_removes_the_copy(aws: aws_stubs.StubbedAws, code: str) -> None:
    # 20 continuous deployment policies per account:
    # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/continuous-deployment-quotas-considerations.html
    primary = _config()
    staged = {**primary, "Staging": True}
    _copy(aws, staged)
    _stage(aws, staged, "S1", marker=True)
    _deployed(aws, STAGING, staged, STAGING_DOMAIN)
    aws.error("cloudfront", "CreateContinuousDeploymentPolicy", code, "quota", 400)
    _clean_up(aws, primary, staged, policy=False)
    with pytest.raises(StagingUnavailable, match=code):
        staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary), lambda *_: [],
                                     lambda _: None, progress=False)


def test_the_staging_distribution_quota_falls_back_before_anything_is_made(aws: aws_stubs.StubbedAws) -> None:
    aws.error("cloudfront", "CopyDistribution", "TooManyDistributions", "quota", 400)
    primary = _config()
    with pytest.raises(StagingUnavailable, match="TooManyDistributions"):
        staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary), lambda *_: [],
                                     lambda _: None, progress=False)


def test_http3_is_not_allowed_and_makes_no_call(aws: aws_stubs.StubbedAws) -> None:
    primary = _config(HttpVersion="http2and3")
    assert "HTTP/3" in staging.not_allowed(primary)
    with pytest.raises(StagingUnavailable, match="HTTP/3"):
        staging.promote_with_staging(aws.target, PRIMARY, "P1", primary, _fixed(primary), lambda *_: [],
                                     lambda _: None, progress=False)


def test_apply_on_aws_falls_back_to_a_direct_update_where_staging_is_not_allowed(
        aws: aws_stubs.StubbedAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    primary = _config(HttpVersion="http2and3")
    plan = fix_plan.make_plan(primary)
    plan.distribution_id, plan.etag, plan.target = PRIMARY, "P1", "aws"
    _get_config(aws, PRIMARY, primary, "P1")
    _update(aws, PRIMARY, "P1", plan.fixed_config, "P2")
    _deployed(aws, PRIMARY, primary)
    _deployed(aws, PRIMARY, primary)
    monkeypatch.setattr(fix_apply, "_probe", lambda *a, **k: ([], []))  # no probe leaves the process
    result = fix_apply.apply(plan, aws.target, tmp_path, progress=False)
    assert result.status == "applied" and result.via == "update"
    assert "continuous deployment not used (HTTP/3" in (tmp_path / "fix.log").read_text()


def test_apply_refuses_on_precondition_failed_and_creates_nothing(aws: aws_stubs.StubbedAws, tmp_path: Path) -> None:
    primary = _config()
    plan = fix_plan.make_plan(primary)
    plan.distribution_id, plan.etag = PRIMARY, "P1"
    _get_config(aws, PRIMARY, primary, "P1")
    aws.error("cloudfront", "UpdateDistribution", "PreconditionFailed", "The If-Match version is out of date.", 412)
    with pytest.raises(FixRefused, match="PreconditionFailed"):
        fix_apply.apply(plan, aws.target, tmp_path, staging=False, progress=False)


def test_unmarked_probes_did_not_prove_staging() -> None:
    probe = probes.Probe("p", "what", "GET", "/api/data")
    marker = (staging.MARKER_HEADER, "v1")
    hit = probes.Observation(probe, 200, "api", {"api.header.x-runbook-staging": "v1"}, 1.0)
    miss = probes.Observation(probe, 200, "api", {}, 1.0)
    assert fix_apply.unmarked([hit], marker) == []
    assert "not served through the staging copy" in fix_apply.unmarked([hit, miss], marker)[0]
    assert "no probe reached the API" in fix_apply.unmarked([], marker)[0]


def _fake_probe(marked: bool) -> Callable[..., tuple[list[Any], list[probes.Observation]]]:
    """Stands in for the live probes (nothing leaves the process): an echo observation that carries the staging
    marker only when ``marked`` (so it went through the staging copy), and no requirement verdicts."""
    def fake(target: Any, config: Any, domain: str, ids: Any, path: str, extra_headers: Any,
             progress: bool) -> tuple[list[Any], list[probes.Observation]]:
        probe = probes.Probe("query-single", "a query", "GET", "/api/data", "a=1")
        values = {"api.header.x-runbook-staging": "ab" * 12} if marked and extra_headers else {}
        return [], [probes.Observation(probe, 200, "api", values, 1.0)]
    return fake


@pytest.mark.parametrize("marked", [True, False])
def test_apply_on_aws_goes_through_staging_and_promotes_only_what_reached_staging(
        aws: aws_stubs.StubbedAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marked: bool) -> None:
    # The marker value is fixed here so the fake probes can carry it; everything else is the real path.
    monkeypatch.setattr(staging.secrets, "token_hex", lambda n: "ab" * n)
    monkeypatch.setattr(fix_apply, "_probe", _fake_probe(marked))
    primary = _config()
    staged = {**primary, "Staging": True}
    plan = fix_plan.make_plan(primary)
    plan.distribution_id, plan.etag, plan.target = PRIMARY, "P1", "aws"
    _get_config(aws, PRIMARY, primary, "P1")
    _through_the_probes(aws, primary, staged)
    if marked:
        _promote(aws, primary, staged)
    _clean_up(aws, primary, staged)
    if marked:
        _deployed(aws, PRIMARY, primary)  # the domain for the probes without the header
    result = fix_apply.apply(plan, aws.target, tmp_path, progress=False)
    log = (tmp_path / "fix.log").read_text()
    assert result.via == "staging" and "CopyDistribution" in log
    if marked:
        assert result.status == "applied" and "promoted staging" in log
    else:
        assert result.status == "rolled-back" and "not served through the staging copy" in result.message
        assert "promoted staging" not in log and "UpdateDistributionWithStagingConfig" not in log
