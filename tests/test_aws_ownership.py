"""Teardown removes exactly what the stack created: children by their parent tag, policies by the IDs its
distribution records, never a same-prefixed stack or a hand-made policy (issue 9, item 1).

Against the real local AWS (MiniStack), and the 09_teardown notebook itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import papermill as pm
import pytest

from runbook_lib.aws import ownership, provision, teardown
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.names import lab_stack
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.configs import API_AUTH_AND_QUERY, to_cache_policy_config
from runbook_lib.errors import ProvisioningError

pytestmark = pytest.mark.integration

_ORP_CONFIG = {"Comment": "made by hand", "HeadersConfig": {"HeaderBehavior": "none"},
               "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "all"}}


def _hand_made_policies(target: Target, prefix: str) -> tuple[str, str]:
    """An origin request policy and a cache policy a person made, named like the lab's (``<prefix>-user-*``)."""
    cf = target.client("cloudfront")
    orp = cf.create_origin_request_policy(OriginRequestPolicyConfig={**_ORP_CONFIG, "Name": f"{prefix}-user-orp"})
    cp = cf.create_cache_policy(CachePolicyConfig={**to_cache_policy_config(API_AUTH_AND_QUERY),
                                                   "Name": f"{prefix}-user-cp"})
    return str(orp["OriginRequestPolicy"]["Id"]), str(cp["CachePolicy"]["Id"])


def _policy_ids(target: Target) -> set[str]:
    cf = target.client("cloudfront")
    orps = cf.list_origin_request_policies(Type="custom")["OriginRequestPolicyList"].get("Items", []) or []
    cps = cf.list_cache_policies(Type="custom")["CachePolicyList"].get("Items", []) or []
    return {i["OriginRequestPolicy"]["Id"] for i in orps} | {i["CachePolicy"]["Id"] for i in cps}


def _run_teardown_notebook(repo_root: Path, tmp_path: Path, local_aws: LocalAWS, stack_name: str) -> str:
    out = tmp_path / "09.ipynb"
    pm.execute_notebook(str(repo_root / "notebooks" / "09_teardown.ipynb"), str(out), kernel_name="python3",
                        parameters={"stack_name": stack_name, "endpoint_url": local_aws.endpoint_url},
                        progress_bar=False)
    return out.read_text()


def test_teardown_of_a_stack_leaves_a_same_prefixed_stack_and_hand_made_policies(
        local_target: Target, local_aws: LocalAWS, repo_root: Path, tmp_path: Path) -> None:
    provision.build(local_target, "stk-a", progress=False)
    other = provision.build(local_target, "stk-a-lab", "custom-auth-in-key", progress=False)  # on its own
    hand_made = _hand_made_policies(local_target, "stk-a-lab")

    executed = _run_teardown_notebook(repo_root, tmp_path, local_aws, "stk-a")

    assert "nothing of the stack is left" in executed
    assert provision.find(local_target, "stk-a") is None
    still = provision.find(local_target, "stk-a-lab")
    assert still is not None and still.distribution_id == other.distribution_id
    assert set(hand_made) <= _policy_ids(local_target)
    assert other.cache_policy_id in _policy_ids(local_target)
    # The lab of stk-a may not build over the stack that is not its child, nor adopt it.
    with pytest.raises(ProvisioningError, match="is not a child of 'stk-a'"):
        provision.build(local_target, lab_stack("stk-a"), progress=False, parent="stk-a")
    teardown.remove(local_target, "stk-a-lab", progress=False)
    assert other.cache_policy_id not in _policy_ids(local_target)  # it created that one: recorded, removed
    assert set(hand_made) <= _policy_ids(local_target)


def test_a_child_and_the_policies_it_recorded_go_with_its_parent(
        local_target: Target, local_aws: LocalAWS, repo_root: Path, tmp_path: Path) -> None:
    provision.build(local_target, "stk-b", progress=False)
    child = lab_stack("stk-b")
    provision.build(local_target, child, progress=False, parent="stk-b")
    cf = local_target.client("cloudfront")
    made = cf.create_origin_request_policy(OriginRequestPolicyConfig={**_ORP_CONFIG, "Name": f"{child}-orp-x"})
    made_id = str(made["OriginRequestPolicy"]["Id"])
    ownership.record_policy(local_target, child, "origin-request", made_id)
    hand_made = _hand_made_policies(local_target, child)
    assert ownership.children(local_target, "stk-b", (child, "stk-b-paths")) == [child]

    executed = _run_teardown_notebook(repo_root, tmp_path, local_aws, "stk-b")

    assert f"removed origin request policy {child}-orp-x" in executed
    assert provision.find(local_target, child) is None and provision.find(local_target, "stk-b") is None
    ids = _policy_ids(local_target)
    assert made_id not in ids and set(hand_made) <= ids
    for policy_id, kind in zip(hand_made, ("origin-request", "cache"), strict=True):
        assert ownership.delete_policy(local_target, kind, policy_id)  # type: ignore[arg-type]


def test_policy_records_are_tags_of_the_distribution(local_target: Target) -> None:
    stack = provision.build(local_target, "stk-c", "custom-auth-in-key", progress=False)
    dist: Any = ownership.find_distribution(local_target, "stk-c")
    assert ownership.owned_policies(local_target, dist) == [("cache", stack.cache_policy_id)]
    removed = teardown.remove(local_target, "stk-c", progress=False)
    assert "cache policy stk-c-api-auth-and-query" in removed
