"""Who owns what: every resource the runbook creates records the stack that owns it, so teardown removes
exactly its own.

- Resources that take tags (IAM role, Lambda function, REST API, S3 bucket, distribution) carry
  ``runbook:stack=<stack>``; a lab or path-fix stack also carries ``runbook:parent=<main stack>``, which is
  what makes it a child (never its name).
- CloudFront cache and origin request policies take no tags
  (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/tagging.html lists what can be tagged),
  so the policies a stack creates are recorded on its distribution: one tag per policy,
  ``runbook:policy:<id>=<kind>``. Teardown deletes those IDs and no other policy, whatever its name.
"""

from __future__ import annotations

from typing import Any, Literal

from runbook_lib.aws.calls import aws_call, aws_errors, get_or_none
from runbook_lib.aws.stack import TAG_KEY, mark
from runbook_lib.aws.target import Target
from runbook_lib.errors import ProvisioningError

__all__ = [
    "PARENT_KEY",
    "POLICY_KEY_PREFIX",
    "PolicyKind",
    "check_child",
    "children",
    "delete_policy",
    "find_api",
    "find_distribution",
    "find_http_apis",
    "function_comments",
    "mark",
    "marked_functions",
    "marked_policies",
    "owned_policies",
    "parent_of",
    "policy_comments",
    "policy_tag",
    "record_policy",
    "tag_dict",
    "tag_list",
]

PARENT_KEY = "runbook:parent"
#: ``runbook:policy:<policy id>`` = ``cache`` | ``origin-request``, on the owning distribution.
POLICY_KEY_PREFIX = "runbook:policy:"
PolicyKind = Literal["cache", "origin-request"]
_API = {  # kind → (boto3 get, boto3 delete, response key, label)
    "cache": ("get_cache_policy", "delete_cache_policy", "CachePolicy", "cache policy"),
    "origin-request": ("get_origin_request_policy", "delete_origin_request_policy", "OriginRequestPolicy",
                       "origin request policy"),
}


def tag_dict(stack_name: str, parent: str = "") -> dict[str, str]:
    """The ownership tags of a resource of ``stack_name`` (a child of ``parent`` when given)."""
    return {TAG_KEY: stack_name, **({PARENT_KEY: parent} if parent else {})}


def tag_list(stack_name: str, parent: str = "") -> list[dict[str, str]]:
    """:func:`tag_dict` as ``[{"Key": ..., "Value": ...}]`` (IAM, S3, CloudFront)."""
    return [{"Key": k, "Value": v} for k, v in tag_dict(stack_name, parent).items()]


def policy_tag(kind: PolicyKind, policy_id: str) -> dict[str, str]:
    """The distribution tag that records ``policy_id`` as created by the distribution's stack."""
    return {"Key": f"{POLICY_KEY_PREFIX}{policy_id}", "Value": kind}


def find_distribution(target: Target, stack_name: str) -> dict[str, Any] | None:
    """The summary of the distribution tagged ``runbook:stack=<stack_name>`` (with that comment), or None."""
    cf = target.client("cloudfront")
    comment = mark(stack_name)
    for page in cf.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items", []) or []:
            if item.get("Comment") != comment:
                continue
            tags = cf.list_tags_for_resource(Resource=item["ARN"])["Tags"].get("Items", [])
            if {"Key": TAG_KEY, "Value": stack_name} in tags:
                return dict(item)
    return None


def _api_tags(target: Target, stack_name: str) -> dict[str, str] | None:
    apig = target.client("apigateway")
    for page in apig.get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("tags", {}).get(TAG_KEY) == stack_name:
                return {"id": str(api["id"]), **api["tags"]}
    return None


def find_http_apis(target: Target, stack_name: str) -> list[str]:
    """The IDs of the HTTP APIs (API Gateway v2) tagged ``runbook:stack=<stack_name>``."""
    v2 = target.client("apigatewayv2")
    return [str(api["ApiId"]) for page in v2.get_paginator("get_apis").paginate()
            for api in page.get("Items", []) if (api.get("Tags") or {}).get(TAG_KEY) == stack_name]


def policy_comments(target: Target) -> list[tuple[PolicyKind, str, str]]:
    """(kind, ID, Comment) of every custom cache and origin request policy on the target."""
    cf = target.client("cloudfront")
    found: list[tuple[PolicyKind, str, str]] = []
    for kind, call, key in (("cache", cf.list_cache_policies, "CachePolicy"),
                            ("origin-request", cf.list_origin_request_policies, "OriginRequestPolicy")):
        listed = aws_call(f"cloudfront.List{key}s", call, Type="custom")[f"{key}List"].get("Items", []) or []
        found += [(kind, str(i[key]["Id"]), str(i[key][f"{key}Config"].get("Comment", "")))  # type: ignore[misc]
                  for i in listed]
    return found


def function_comments(target: Target) -> dict[str, str]:
    """Name → Comment of every CloudFront Function on the target (listed once per stage; each name once)."""
    cf = target.client("cloudfront")
    listed = aws_call("cloudfront.ListFunctions", cf.list_functions)["FunctionList"].get("Items", []) or []
    return {str(f["Name"]): str(f.get("FunctionConfig", {}).get("Comment", "")) for f in listed}


@aws_errors
def marked_policies(target: Target, stack_name: str) -> list[tuple[PolicyKind, str]]:
    """(kind, ID) of each custom cache / origin request policy whose Comment is exactly :func:`mark`."""
    return [(kind, pid) for kind, pid, comment in policy_comments(target) if comment == mark(stack_name)]


@aws_errors
def marked_functions(target: Target, stack_name: str) -> list[str]:
    """The names of the CloudFront Functions whose Comment is exactly :func:`mark`."""
    return [name for name, comment in function_comments(target).items() if comment == mark(stack_name)]


def find_api(target: Target, stack_name: str) -> str | None:
    """The ID of the REST API tagged ``runbook:stack=<stack_name>``, or None."""
    found = _api_tags(target, stack_name)
    return found["id"] if found else None


def _distribution_tags(target: Target, arn: str) -> dict[str, str]:
    cf = target.client("cloudfront")
    items = aws_call("cloudfront.ListTagsForResource", cf.list_tags_for_resource, Resource=arn)["Tags"]
    return {t["Key"]: t.get("Value", "") for t in items.get("Items", []) or []}


@aws_errors
def record_policy(target: Target, stack_name: str, kind: PolicyKind, policy_id: str) -> None:
    """Record on ``stack_name``'s distribution that the stack created policy ``policy_id``."""
    dist = find_distribution(target, stack_name)
    if dist is None:
        raise ProvisioningError(
            f"Policy {policy_id} was created for stack {stack_name!r}, but the stack has no distribution to "
            "record it on. Build the stack first; delete the policy by hand if it is not needed."
        )
    cf = target.client("cloudfront")
    aws_call("cloudfront.TagResource", cf.tag_resource, Resource=dist["ARN"],
             Tags={"Items": [policy_tag(kind, policy_id)]})


@aws_errors
def owned_policies(target: Target, distribution: dict[str, Any]) -> list[tuple[PolicyKind, str]]:
    """The (kind, ID) of every policy recorded on ``distribution`` (a summary with its ``ARN``)."""
    tags = _distribution_tags(target, str(distribution["ARN"]))
    out: list[tuple[PolicyKind, str]] = []
    for key, value in tags.items():
        if key.startswith(POLICY_KEY_PREFIX) and value in _API:
            out.append((value, key.removeprefix(POLICY_KEY_PREFIX)))  # type: ignore[arg-type]
    return out


@aws_errors
def delete_policy(target: Target, kind: PolicyKind, policy_id: str) -> str | None:
    """Delete policy ``policy_id`` (no longer used by any distribution); what was removed, None if gone."""
    get, delete, key, label = _API[kind]
    cf = target.client("cloudfront")
    found = get_or_none(f"cloudfront.Get{key} {policy_id}", getattr(cf, get), Id=policy_id)
    if found is None:
        return None
    name = found[key][f"{key}Config"]["Name"]
    aws_call(f"cloudfront.Delete{key}", getattr(cf, delete), Id=policy_id, IfMatch=found["ETag"])
    return f"{label} {name}"


@aws_errors
def parent_of(target: Target, stack_name: str) -> str | None:
    """The ``runbook:parent`` of ``stack_name`` (from its distribution, else its REST API); None when it has
    none or does not exist."""
    dist = find_distribution(target, stack_name)
    if dist is not None:
        return _distribution_tags(target, str(dist["ARN"])).get(PARENT_KEY)
    api = _api_tags(target, stack_name)
    return api.get(PARENT_KEY) if api else None


@aws_errors
def children(target: Target, stack_name: str, candidates: tuple[str, ...]) -> list[str]:
    """Those of ``candidates`` (the stack names a child could have) tagged as children of ``stack_name``."""
    return [c for c in candidates if parent_of(target, c) == stack_name]


@aws_errors
def check_child(target: Target, stack_name: str, parent: str) -> None:
    """Refuse to build a child ``stack_name`` of ``parent`` over a stack of that name that is not its child."""
    exists = find_distribution(target, stack_name) is not None or find_api(target, stack_name) is not None
    if exists and parent_of(target, stack_name) != parent:
        raise ProvisioningError(
            f"A stack named {stack_name!r} exists and is not a child of {parent!r} (no tag {PARENT_KEY}={parent}). "
            f"The runbook never changes or removes it; pass another stack_name than {parent!r}, or remove "
            f"{stack_name!r} with 09_teardown (stack_name={stack_name!r}) if it is a leftover."
        )
