"""Tear down: remove everything :func:`runbook_lib.aws.provision.build` made for a stack, and nothing else.

What is removed is found the way ``provision.find`` finds it: by the ``runbook:stack`` tag. Cache and
origin request policies (no tags) are removed only when their ID is recorded on the stack's distribution
(:mod:`runbook_lib.aws.ownership`), whatever their name; the origin access control (no tags either) by
its exact name ``<stack>-oac``. A resource with the same name that does not carry the stack's tag is left
alone.
"""

from __future__ import annotations

from typing import Any

from runbook_lib.aws.calls import aws_call, aws_errors, get_or_none
from runbook_lib.aws.distribution import wait_deployed
from runbook_lib.aws.ownership import (
    delete_policy,
    find_api,
    find_distribution,
    find_http_apis,
    marked_functions,
    marked_policies,
    owned_policies,
)
from runbook_lib.aws.stack import TAG_KEY, account_id, resource_names
from runbook_lib.aws.target import Target

__all__ = ["remove"]


@aws_errors
def remove(target: Target, stack_name: str, progress: bool = True, counted: bool = True,
           replay: bool = False) -> list[str]:
    """Remove everything ``provision.build`` (or ``replay.build``) made for ``stack_name`` and nothing else;
    returns what it removed.

    On AWS a distribution must be disabled and deployed before it can be deleted (minutes); the policies it
    records are deleted after it, once nothing uses them. ``counted``: see ``distribution.wait_deployed``.

    ``replay``: the stack is a replay's (``aws.replay``), which also owns policies and CloudFront Functions whose
    Comment is exactly ``runbook:stack=<stack_name>`` (found even when a crash left no distribution to record
    them on), and any number of REST and HTTP APIs tagged with the stack.
    """
    account = account_id(target)
    names = resource_names(stack_name, account, target.region)
    removed: list[str] = []
    dist = find_distribution(target, stack_name)
    if dist is not None:
        policies = owned_policies(target, dist)
        removed += _teardown_distribution(target, dist, progress, counted)
        removed += [r for kind, policy_id in policies if (r := delete_policy(target, kind, policy_id))]
    if replay:
        removed += _teardown_marked(target, stack_name)
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


def _teardown_distribution(target: Target, dist: dict[str, Any], progress: bool, counted: bool) -> list[str]:
    """Disable, wait until deployed, delete
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToDeleteDistribution.html)."""
    cf = target.client("cloudfront")
    current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=dist["Id"])
    etag = current["ETag"]
    if current["DistributionConfig"]["Enabled"]:
        cfg = {**current["DistributionConfig"], "Enabled": False}
        etag = aws_call("cloudfront.UpdateDistribution", cf.update_distribution, Id=dist["Id"], IfMatch=etag,
                        DistributionConfig=cfg)["ETag"]
    wait_deployed(target, dist["Id"], progress=progress, counted=counted)
    etag = cf.get_distribution(Id=dist["Id"])["ETag"]
    aws_call("cloudfront.DeleteDistribution", cf.delete_distribution, Id=dist["Id"], IfMatch=etag)
    return [f"distribution {dist['Id']}"]


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
