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
from runbook_lib.aws.ownership import delete_policy, find_api, find_distribution, owned_policies
from runbook_lib.aws.stack import TAG_KEY, account_id, resource_names
from runbook_lib.aws.target import Target

__all__ = ["remove"]


@aws_errors
def remove(target: Target, stack_name: str, progress: bool = True) -> list[str]:
    """Remove everything ``provision.build`` made for ``stack_name`` and nothing else; returns what it removed.

    On AWS a distribution must be disabled and deployed before it can be deleted (minutes); the policies it
    records are deleted after it, once nothing uses them.
    """
    account = account_id(target)
    names = resource_names(stack_name, account, target.region)
    removed: list[str] = []
    dist = find_distribution(target, stack_name)
    if dist is not None:
        policies = owned_policies(target, dist)
        removed += _teardown_distribution(target, dist, progress)
        removed += [r for kind, policy_id in policies if (r := delete_policy(target, kind, policy_id))]
    cf = target.client("cloudfront")
    for item in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) or []:
        if item["Name"] == names["oac"]:
            etag = cf.get_origin_access_control(Id=item["Id"])["ETag"]
            aws_call("cloudfront.DeleteOriginAccessControl", cf.delete_origin_access_control, Id=item["Id"],
                     IfMatch=etag)
            removed.append(f"origin access control {names['oac']}")
    removed += _teardown_bucket(target, stack_name, names["bucket"])
    api_id = find_api(target, stack_name)
    if api_id:
        apig = target.client("apigateway")
        aws_call("apigateway.DeleteRestApi", apig.delete_rest_api, restApiId=api_id)
        removed.append(f"REST API {api_id}")
    removed += _teardown_function(target, stack_name, names["function"])
    removed += _teardown_role(target, stack_name, names["role"])
    return removed


def _teardown_distribution(target: Target, dist: dict[str, Any], progress: bool) -> list[str]:
    """Disable, wait until deployed, delete
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToDeleteDistribution.html)."""
    cf = target.client("cloudfront")
    current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=dist["Id"])
    etag = current["ETag"]
    if current["DistributionConfig"]["Enabled"]:
        cfg = {**current["DistributionConfig"], "Enabled": False}
        etag = aws_call("cloudfront.UpdateDistribution", cf.update_distribution, Id=dist["Id"], IfMatch=etag,
                        DistributionConfig=cfg)["ETag"]
    wait_deployed(target, dist["Id"], progress=progress)
    etag = cf.get_distribution(Id=dist["Id"])["ETag"]
    aws_call("cloudfront.DeleteDistribution", cf.delete_distribution, Id=dist["Id"], IfMatch=etag)
    return [f"distribution {dist['Id']}"]


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
