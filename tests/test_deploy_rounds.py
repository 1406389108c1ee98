"""Deployment rounds (issue 13): the lab's configurations deployed side by side and waited for once, every stack torn
down with one wait, and the account's distribution quota.

Against the real local AWS with CloudFront's propagation simulated, and the AWS calls against the service model
(botocore Stubber, tests/stubbing.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY
from stubbing import stubbed_aws

from runbook_lib.aws import deployments, path_stack, provision, variants
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import connect
from runbook_lib.cloudfront.configs import API_AUTH_AND_QUERY, to_cache_policy_config
from runbook_lib.runbook import pitfalls

try:
    from tests import stubbing as aws_stubs
    from tests import test_path_fixes as pf
    from tests.test_provision_aws import (
        API_ID,
        DIST_ARN,
        DIST_ID,
        DOMAIN,
        OAC_ID,
        POLICY_ID,
        POLICY_NAME,
        POLICY_TAG,
        TAG,
        bucket,
        deployed_config,
        no_sleep,  # noqa: F401 - a fixture
    )
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]
    import test_path_fixes as pf  # type: ignore[no-redef]
    from test_provision_aws import (  # type: ignore[no-redef]
        API_ID,
        DIST_ARN,
        DIST_ID,
        DOMAIN,
        OAC_ID,
        POLICY_ID,
        POLICY_NAME,
        POLICY_TAG,
        TAG,
        bucket,
        deployed_config,
        no_sleep,  # noqa: F401 - a fixture
    )

STACK = "rb-test"
REGION = "eu-west-1"
VARIANT_COMMENT = "runbook:stack=rb-test variant=allviewer"
aws = pf.aws  # the stubbed target with apigatewayv2 too (a fixture)


def _summary(dist_id: str, comment: str) -> dict[str, Any]:
    return aws_stubs.distribution_summary(dist_id, {**deployed_config(REGION, "recommended"), "Comment": comment})


# --- AWS: every request against the service model ------------------------------------------------------------


def test_aws_a_variant_is_created_with_its_tags_and_comment_and_not_waited_for() -> None:
    config = deployed_config(REGION, "allviewer")
    with stubbed_aws(REGION) as aws:
        aws.ok("cloudfront", "CreateDistributionWithTags",
               {"Distribution": aws_stubs.distribution("E2VARIANT", config, "InProgress")},
               {"DistributionConfigWithTags": {
                   "DistributionConfig": {**config, "CallerReference": ANY, "Comment": VARIANT_COMMENT},
                   "Tags": {"Items": [{"Key": "runbook:stack", "Value": STACK},
                                      {"Key": "runbook:parent", "Value": "main"},
                                      {"Key": "runbook:variant", "Value": "allviewer"}]}}})
        # No GetDistribution is queued: a wait would fail here (the caller waits for all variants at once).
        dist = variants.put(aws.target, STACK, "allviewer", config, parent="main")
        aws.assert_done()
    assert dist["Id"] == "E2VARIANT"


@pytest.mark.parametrize("changed", [True, False], ids=["changed", "unchanged"])
def test_aws_an_existing_variant_is_updated_in_place_only_when_changed(changed: bool) -> None:
    deployed = {**aws_stubs.as_returned(deployed_config(REGION, "allviewer")), "Comment": VARIANT_COMMENT}
    wanted = deployed_config(REGION, "recommended" if changed else "allviewer")
    existing = _summary("E2VARIANT", VARIANT_COMMENT)
    with stubbed_aws(REGION) as aws:
        aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": deployed, "ETag": "E1"},
               {"Id": "E2VARIANT"})
        if changed:  # IfMatch: a concurrent change is refused, not overwritten; Comment and reference kept
            aws.ok("cloudfront", "UpdateDistribution",
                   {"Distribution": aws_stubs.distribution("E2VARIANT", deployed, "InProgress"), "ETag": "E2"},
                   {"Id": "E2VARIANT", "IfMatch": "E1", "DistributionConfig": {
                       **deployed, **wanted, "CallerReference": deployed["CallerReference"],
                       "Comment": VARIANT_COMMENT}})
        variants.put(aws.target, STACK, "allviewer", wanted, existing=existing)
        aws.assert_done()


def test_aws_find_all_takes_only_variants_tagged_for_the_stack() -> None:
    ours = {"Tags": {"Items": [{"Key": "runbook:stack", "Value": STACK},
                               {"Key": "runbook:variant", "Value": "allviewer"}]}}
    theirs = {"Tags": {"Items": [{"Key": "runbook:stack", "Value": "another"},
                                 {"Key": "runbook:variant", "Value": "legacy-no-query"}]}}
    with stubbed_aws(REGION) as aws:
        aws.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(
            _summary("E1OWN", "runbook:stack=rb-test"),                       # the stack's own: not a variant
            _summary("E2VARIANT", VARIANT_COMMENT),
            _summary("E3LOOKALIKE", "runbook:stack=rb-test variant=legacy-no-query"),  # same comment, not ours
            _summary("E4OTHER", "runbook:stack=rb-test-2 variant=allviewer")), {})
        aws.ok("cloudfront", "ListTagsForResource", ours, {"Resource": aws_stubs.distribution("E2VARIANT", {})["ARN"]})
        aws.ok("cloudfront", "ListTagsForResource", theirs,
               {"Resource": aws_stubs.distribution("E3LOOKALIKE", {})["ARN"]})
        found = variants.find_all(aws.target, STACK)
        aws.assert_done()
    assert list(found) == ["allviewer"] and found["allviewer"]["Id"] == "E2VARIANT"


@pytest.mark.parametrize(("have", "to_create", "near", "words"), [
    (3, 10, False, "3 distributions in the account + 10 to create = 13 of the default quota of 500"),
    (392, 10, True, "= 402 of the default quota of 500 distributions per account"),
    (495, 10, True, "over it. Unless your quota was raised, AWS refuses the creates (TooManyDistributions)"),
])
def test_aws_the_distribution_quota_is_counted_before_creating(have: int, to_create: int, near: bool,
                                                               words: str) -> None:
    # Distributions per AWS account: 500 by default (cloudfront-limits.html#limits-web-distributions).
    item = _summary("E1", "someone's")
    pages = [[item] * min(100, have - start) for start in range(0, have, 100)]
    with stubbed_aws(REGION) as aws:
        for n, page in enumerate(pages):
            more = f"m{n + 1}" if n + 1 < len(pages) else ""
            aws.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(*page, next_marker=more),
                   {"Marker": f"m{n}"} if n else {})
        line, is_near = variants.quota_note(aws.target, to_create)
        aws.assert_done()
    assert is_near is near and words in line and variants.QUOTAS_PAGE in line


def _built(region: str = REGION) -> provision.Stack:
    """What provision.build returns for the lab's stack (its own calls are tests/test_provision_aws.py's)."""
    return provision.Stack(name=STACK, target="aws", region=region, preset="recommended", api_id=API_ID,
                           bucket=bucket(region), oac_id=OAC_ID, distribution_id=DIST_ID, domain_name=DOMAIN)


def _variant_created(aws: aws_stubs.StubbedAws, dist_id: str, variant: str, parent: str = "") -> None:
    tags = [{"Key": "runbook:stack", "Value": STACK}, *([{"Key": "runbook:parent", "Value": parent}] if parent
                                                         else []), {"Key": "runbook:variant", "Value": variant}]
    aws.ok("cloudfront", "CreateDistributionWithTags",
           {"Distribution": aws_stubs.distribution(dist_id, deployed_config(REGION, "recommended"), "InProgress")},
           {"DistributionConfigWithTags": {"DistributionConfig": ANY, "Tags": {"Items": tags}}})


def test_aws_the_lab_deploys_once_and_without_the_refused_policy_has_no_such_configuration(
        monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]) -> None:
    """On AWS the origin request policy naming Authorization is refused (the pitfall's symptom): the lab deploys its
    own distribution and four variants, and waits once for all five."""
    monkeypatch.setattr(provision, "build", lambda *a, **k: _built())
    own = aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, deployed_config(REGION, "recommended")))
    policy_config = {**to_cache_policy_config(API_AUTH_AND_QUERY), "Name": POLICY_NAME}
    with stubbed_aws(REGION) as aws:
        for _ in range(3):  # what exists: variants, the stack's own distribution; then the quota's count
            aws.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(), {})
        aws.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
        aws.ok("cloudfront", "ListCachePolicies", aws_stubs.cache_policy_list(), {"Type": "custom"})
        aws.ok("cloudfront", "CreateCachePolicy",
               {"CachePolicy": aws_stubs.cache_policy(POLICY_ID, policy_config), "ETag": "ECP1"},
               {"CachePolicyConfig": policy_config})
        aws.ok("cloudfront", "ListDistributions", own, {})  # the policy is recorded on the lab's distribution
        aws.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG]}}, {"Resource": DIST_ARN})
        aws.ok("cloudfront", "TagResource", {}, {"Resource": DIST_ARN, "Tags": {"Items": [POLICY_TAG]}})
        aws.error("cloudfront", "CreateOriginRequestPolicy", "InvalidArgument",
                  "The parameter Headers contains Authorization that is not allowed.", 400)
        aws.ok("cloudfront", "ListDistributions", own, {})  # its variants: none yet
        ids = ["E2LEGACY", "E3OPTIMIZED", "E4ALLVIEWER", "E5AUTHKEY"]
        for dist_id, variant in zip(ids, ("legacy-no-query", "caching-optimized", "allviewer", "custom-auth-in-key"),
                                    strict=True):
            _variant_created(aws, dist_id, variant, parent="rb-main")
        for dist_id in [DIST_ID, *ids]:  # ONE wait: every distribution is polled in the same loop
            aws.ok("cloudfront", "GetDistribution", {"Distribution": aws_stubs.distribution(
                dist_id, deployed_config(REGION, "recommended"), "InProgress"), "ETag": "E1"}, {"Id": dist_id})
        for dist_id in [DIST_ID, *ids]:
            aws.ok("cloudfront", "GetDistribution", {"Distribution": aws_stubs.distribution(
                dist_id, deployed_config(REGION, "recommended")), "ETag": "E1"}, {"Id": dist_id})
        lab = pitfalls.Lab(aws.target, STACK, progress=False, parent="rb-main")
        shown = lab.deploy(("lab",))
        aws.assert_done()
    assert list(lab.distributions) == ["recommended", "legacy-no-query", "caching-optimized", "allviewer",
                                       "custom-auth-in-key"]
    assert no_sleep == [15.0] and "+ 6 to create" in shown.quota  # planned before the refusal
    policy_id, err = lab.orp_attempt()  # kept: the refusal is the pitfall's symptom
    assert policy_id is None and err is not None and err.response["Error"]["Code"] == "InvalidArgument"


def test_aws_the_path_fixes_deploy_without_a_domain_and_do_not_wait(monkeypatch: pytest.MonkeyPatch,
                                                                   aws: aws_stubs.StubbedAws) -> None:
    """Without domain_name and certificate_arn the base-path-mapping fix is left out on AWS; the other two fixes that
    change CloudFront get a distribution each, and nothing is waited for (the caller waits for all at once)."""
    monkeypatch.setattr(provision, "build", lambda *a, **k: _built())
    config = pf.broken_config(aws.target)
    pf.queue_locate(aws, config)
    aws.ok("apigateway", "GetResources", {"items": [{"id": "root00", "path": "/"}, {"id": "r1", "path": "/items"}]},
           {"restApiId": pf.API_ID, "limit": 500})
    aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "E1"},
           {"Id": pf.DIST_ID})  # already the pitfall: not updated
    aws.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]}, {"restApiId": pf.API_ID})
    aws.ok("apigateway", "CreateDeployment", {"id": "dep003"},
           {"restApiId": pf.API_ID, "stageName": "api", "description": ANY})
    aws.error("cloudfront", "DescribeFunction", "NoSuchFunctionExists", "The function does not exist.", 404)
    aws.ok("cloudfront", "CreateFunction", {"FunctionSummary": pf.function_summary(), "ETag": "F1"})
    aws.ok("cloudfront", "DescribeFunction", {"FunctionSummary": pf.function_summary(), "ETag": "F1"})
    aws.ok("cloudfront", "PublishFunction", {"FunctionSummary": pf.function_summary("LIVE")})
    aws.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(), {})
    for dist_id, fix_id in (("E2ORIGINPATH", "path-fix-origin-path"), ("E3FUNCTION", "path-fix-cloudfront-function")):
        aws.ok("cloudfront", "CreateDistributionWithTags", {"Distribution": aws_stubs.distribution(
            dist_id, config, "InProgress")}, {"DistributionConfigWithTags": {"DistributionConfig": ANY, "Tags": {
                "Items": [{"Key": "runbook:stack", "Value": pf.STACK}, {"Key": "runbook:variant", "Value": fix_id}]}}})
    ids = path_stack.deploy(aws.target, pf.STACK)
    aws.assert_done()
    assert ids == {"api-prefix-missing-route": pf.DIST_ID, "path-fix-origin-path": "E2ORIGINPATH",
                   "path-fix-cloudfront-function": "E3FUNCTION"}


# --- local: the real MiniStack, CloudFront's propagation simulated ---------------------------------------------


@pytest.fixture
def simulated(local_aws: LocalAWS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(deployments.SIMULATE_ENV, "1")
    monkeypatch.setenv(deployments.LEDGER_ENV, str(tmp_path / deployments.LEDGER_FILE))
    yield connect("local", endpoint_url=local_aws.endpoint_url)  # a fresh target: its clients see S


def test_the_lab_deploys_in_one_round_and_every_stack_goes_in_one_more(simulated: Any, tmp_path: Path) -> None:
    ledger = tmp_path / deployments.LEDGER_FILE
    lab = pitfalls.Lab(simulated, "rb-rounds", progress=False, paths_stack="rb-rounds-paths", parent="rb-main")
    start = time.monotonic()
    shown = lab.deploy()
    took = time.monotonic() - start
    [deploy] = deployments.read_ledger(ledger)
    # Six configurations of the lab and four of the path stack (its own distribution and three fixes), all at once.
    assert len(deploy.distributions) == 10 and 1.0 <= took < 25, (deploy, took)
    assert [r["configuration"] for r in shown.rows] == [*pitfalls.lab.CONFIGURATIONS, "api-prefix-missing-route",
                                                         *path_stack.VARIANT_FIXES]
    assert "of the default quota of 500" in shown.quota and not shown.near_quota
    # Deployed again (a second "Run All"): nothing changed, nothing to wait for.
    pitfalls.Lab(simulated, "rb-rounds", progress=False, paths_stack="rb-rounds-paths", parent="rb-main").deploy()
    assert len(deployments.read_ledger(ledger)) == 1
    removed = path_stack.teardown(simulated, "rb-rounds-paths", others=["rb-rounds"], progress=False)
    waits = deployments.read_ledger(ledger)
    assert len(waits) == 2 and sorted(waits[1].distributions) == sorted(deploy.distributions)
    assert deployments.summarize(ledger) == {"count": 20, "rounds": 2}
    assert sum(r.startswith("distribution ") for r in removed) == 10
    assert "origin request policy rb-rounds-orp-authorization" in removed  # recorded on the lab's distribution
    for stack in ("rb-rounds", "rb-rounds-paths"):
        assert provision.find(simulated, stack) is None and variants.find_all(simulated, stack) == {}


def test_the_deploy_cell_says_quota_warning_near_the_quota_and_links_the_page() -> None:
    near = pitfalls.Deployment([{"configuration": "allviewer"}], f"402 of 500 ({variants.QUOTAS_PAGE}): near it.", True)
    shown = near._repr_html_()
    assert "<b>Quota WARNING</b>" in shown and f'<a href="{variants.QUOTAS_PAGE}">' in shown and "allviewer" in shown
    assert "WARNING" not in pitfalls.Deployment([], "13 of 500.", False)._repr_html_()
