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
from runbook_lib.runbook import pitfalls

try:
    from tests import stubbing as aws_stubs
    from tests.test_provision_aws import deployed_config
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]
    from test_provision_aws import deployed_config  # type: ignore[no-redef]

STACK = "rb-test"
REGION = "eu-west-1"
VARIANT_COMMENT = "runbook:stack=rb-test variant=allviewer"


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
    assert {r["configuration"] for r in shown.rows} >= set(pitfalls.lab.CONFIGURATIONS)
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
