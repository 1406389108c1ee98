"""Tear down: remove everything :func:`runbook_lib.aws.provision.build` made for a stack, and nothing else.

What is removed is found the way ``provision.find`` finds it: by the ``runbook:stack`` tag. Cache and
origin request policies (no tags) are removed only when their ID is recorded on the stack's distribution
(:mod:`runbook_lib.aws.ownership`), whatever their name; the origin access control (no tags either) by
its exact name ``<stack>-oac``. A resource with the same name that does not carry the stack's tag is left
alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runbook_lib.aws import variants
from runbook_lib.aws.calls import aws_call, aws_errors, get_or_none
from runbook_lib.aws.distribution import wait_all_deployed
from runbook_lib.aws.names import REPLAY_PREFIX
from runbook_lib.aws.ownership import (
    delete_policy,
    find_api,
    find_distribution,
    find_http_apis,
    marked_functions,
    marked_policies,
    owned_policies,
)
from runbook_lib.aws.stack import TAG_KEY, account_id, mark, resource_names
from runbook_lib.aws.target import Target

__all__ = ["remove", "remove_all"]


@aws_errors
def remove(target: Target, stack_name: str, progress: bool = True, counted: bool = True,
           replay: bool = False) -> list[str]:
    """Remove everything ``provision.build`` (or ``replay.build``) made for ``stack_name`` (and its variants) and
    nothing else; returns what it removed. :func:`remove_all` for one stack."""
    return remove_all(target, [stack_name], progress, counted, replay)


@aws_errors
def remove_all(target: Target, stack_names: Sequence[str], progress: bool = True, counted: bool = True,
               replay: bool = False) -> list[str]:
    """Remove every stack in ``stack_names`` together; returns what was removed.

    On AWS a distribution must be disabled, and that change deployed (minutes), before it can be deleted
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToDeleteDistribution.html). So every
    distribution of every stack (each stack's own and its variants, :mod:`~runbook_lib.aws.variants`) is disabled
    first, then ONE wait covers them all (one deployment round, :mod:`~runbook_lib.aws.deployments`), then each is
    deleted. The policies a stack's distribution records are deleted after that, once nothing uses them.
    ``counted``: see ``distribution.wait_all_deployed``.

    ``replay``: the stacks are replays (``aws.replay``), which also own the policies and CloudFront Functions whose
    Comment is exactly ``runbook:stack=<stack>`` (found even when a crash left no distribution to record them on),
    and any number of REST and HTTP APIs tagged with the stack. A stack named ``names.REPLAY_PREFIX...`` is
    removed as a replay whatever ``replay`` says (notebook 09 removes leftover replays with its own stacks).
    """
    stacks = list(dict.fromkeys(stack_names))
    account = account_id(target) if stacks else ""
    found = {s: _distributions(target, s) for s in stacks}
    policies = {s: owned_policies(target, found[s][0]) if found[s] and _is_own(found[s][0], s) else []
                for s in stacks}
    dist_ids = [str(d["Id"]) for s in stacks for d in found[s]]
    for dist_id in dist_ids:
        _disable(target, dist_id)
    if dist_ids:
        wait_all_deployed(target, dist_ids, progress=progress, counted=counted)
    cf = target.client("cloudfront")
    removed: list[str] = []
    for dist_id in dist_ids:
        etag = cf.get_distribution(Id=dist_id)["ETag"]
        aws_call("cloudfront.DeleteDistribution", cf.delete_distribution, Id=dist_id, IfMatch=etag)
        removed.append(f"distribution {dist_id}")
    for stack_name in stacks:
        removed += [r for kind, policy_id in policies[stack_name] if (r := delete_policy(target, kind, policy_id))]
        is_replay = replay or stack_name.startswith(REPLAY_PREFIX)  # so a replay goes with the others' round
        removed += _teardown_marked(target, stack_name) if is_replay else []
        removed += _remove_rest(target, stack_name, resource_names(stack_name, account, target.region), is_replay)
    return removed


def _distributions(target: Target, stack_name: str) -> list[dict[str, Any]]:
    """The stack's own distribution first (when it has one), then its variants."""
    own = find_distribution(target, stack_name)
    return ([own] if own else []) + list(variants.find_all(target, stack_name).values())


def _is_own(dist: dict[str, Any], stack_name: str) -> bool:
    return bool(dist.get("Comment") == mark(stack_name))


def _disable(target: Target, dist_id: str) -> None:
    """Disable the distribution (an IfMatch update) unless it already is; no wait."""
    cf = target.client("cloudfront")
    current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=dist_id)
    if current["DistributionConfig"]["Enabled"]:
        cfg = {**current["DistributionConfig"], "Enabled": False}
        aws_call("cloudfront.UpdateDistribution", cf.update_distribution, Id=dist_id, IfMatch=current["ETag"],
                 DistributionConfig=cfg)


def _remove_rest(target: Target, stack_name: str, names: dict[str, str], replay: bool) -> list[str]:
    """Everything of the stack but its distributions and policies: OAC, bucket, API(s), function, role."""
    removed: list[str] = []
    cf = target.client("cloudfront")
    for item in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) or []:
        if item["Name"] == names["oac"]:
            etag = cf.get_origin_access_control(Id=item["Id"])["ETag"]
            aws_call("cloudfront.DeleteOriginAccessControl", cf.delete_origin_access_control, Id=item["Id"],
                     IfMatch=etag)
            removed.append(f"origin access control {names['oac']}")
    removed += _teardown_bucket(target, stack_name, names["bucket"])
    removed += _teardown_apis(target, stack_name, replay)
    removed += _teardown_function(target, stack_name, names["function"])
    removed += _teardown_role(target, stack_name, names["role"])
    return removed


def _teardown_apis(target: Target, stack_name: str, replay: bool) -> list[str]:
    """The stack's REST API (a replay's: all of them, and its HTTP APIs)."""
    apig, removed = target.client("apigateway"), []
    while (api_id := find_api(target, stack_name)) is not None:
        aws_call("apigateway.DeleteRestApi", apig.delete_rest_api, restApiId=api_id)
        removed.append(f"REST API {api_id}")
        if not replay:
            break
    for http_api in find_http_apis(target, stack_name) if replay else []:
        v2 = target.client("apigatewayv2")
        aws_call("apigatewayv2.DeleteApi", v2.delete_api, ApiId=http_api)
        removed.append(f"HTTP API {http_api}")
    return removed


def _teardown_marked(target: Target, stack_name: str) -> list[str]:
    """A replay's policies and CloudFront Functions, by their Comment (:func:`ownership.mark`)."""
    removed = [r for kind, pid in marked_policies(target, stack_name) if (r := delete_policy(target, kind, pid))]
    cf = target.client("cloudfront")
    for name in marked_functions(target, stack_name):
        etag = aws_call("cloudfront.DescribeFunction", cf.describe_function, Name=name, Stage="DEVELOPMENT")["ETag"]
        aws_call("cloudfront.DeleteFunction", cf.delete_function, Name=name, IfMatch=etag)
        removed.append(f"CloudFront function {name}")
    return removed


def _teardown_bucket(target: Target, stack_name: str, bucket: str) -> list[str]:
    s3 = target.client("s3")
    tagging = get_or_none(f"s3.GetBucketTagging {bucket}", s3.get_bucket_tagging, Bucket=bucket)
    if tagging is None or {"Key": TAG_KEY, "Value": stack_name} not in tagging["TagSet"]:
        return []  # no such bucket, or same name but not ours: leave it
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            aws_call("s3.DeleteObjects", s3.delete_objects, Bucket=bucket, Delete={"Objects": doomed})
    aws_call("s3.DeleteBucket", s3.delete_bucket, Bucket=bucket)
    return [f"bucket {bucket}"]


def _teardown_function(target: Target, stack_name: str, name: str) -> list[str]:
    lam = target.client("lambda")
    fn = get_or_none(f"lambda.GetFunction {name}", lam.get_function, FunctionName=name)
    if fn is None or fn.get("Tags", {}).get(TAG_KEY) != stack_name:
        return []
    aws_call("lambda.DeleteFunction", lam.delete_function, FunctionName=name)
    return [f"function {name}"]


def _teardown_role(target: Target, stack_name: str, name: str) -> list[str]:
    iam = target.client("iam")
    found = get_or_none(f"iam.GetRole {name}", iam.get_role, RoleName=name)
    if found is None or {"Key": TAG_KEY, "Value": stack_name} not in found["Role"].get("Tags", []):
        return []
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        aws_call("iam.DetachRolePolicy", iam.detach_role_policy, RoleName=name, PolicyArn=policy["PolicyArn"])
    aws_call("iam.DeleteRole", iam.delete_role, RoleName=name)
    return [f"role {name}"]
