"""Variants: more distributions of one stack, each with its own configuration, deployed side by side.

The pitfalls lab shows each broken configuration next to its fix. Every change to a distribution takes minutes to
reach the edge locations on AWS
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToUpdateDistribution.html), so rather than
change one distribution ten times, one after the other, the lab creates one distribution per configuration up front
and waits for all of them at once: one deployment round (:mod:`~runbook_lib.aws.deployments`).

A variant belongs to its stack the way the stack's own distribution does: the tag ``runbook:stack=<stack>`` (and
``runbook:parent`` for a child stack), plus ``runbook:variant=<name>``, and the Comment ``runbook:stack=<stack>
variant=<name>``. That Comment is never the stack's own, so ``ownership.find_distribution`` never takes a variant
for the stack's distribution; :func:`runbook_lib.aws.teardown.remove` removes the variants with their stack.
"""

from __future__ import annotations

import time
from typing import Any

from runbook_lib.aws.calls import aws_call, aws_errors
from runbook_lib.aws.distribution import differs
from runbook_lib.aws.ownership import tag_list
from runbook_lib.aws.stack import TAG_KEY, mark
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.docs import cloudfront_guide

__all__ = ["DISTRIBUTIONS_PER_ACCOUNT", "QUOTAS_PAGE", "VARIANT_KEY", "comment", "find_all", "put", "quota_note"]

VARIANT_KEY = "runbook:variant"
#: "Distributions per AWS account", default quota (AWS raises it on request; disabled distributions count until
#: deleted).
QUOTAS_PAGE = cloudfront_guide("cloudfront-limits.html#limits-web-distributions")
DISTRIBUTIONS_PER_ACCOUNT = 500
#: Warn from this share of the quota on.
_NEAR = 0.8


def comment(stack_name: str, variant: str) -> str:
    """The Comment marker of variant ``variant`` of ``stack_name``."""
    return f"{mark(stack_name)} variant={variant}"


def _tags(cf: Any, arn: str) -> dict[str, str]:
    items = aws_call("cloudfront.ListTagsForResource", cf.list_tags_for_resource, Resource=arn)["Tags"]
    return {t["Key"]: t.get("Value", "") for t in items.get("Items", []) or []}


@aws_errors
def find_all(target: Target, stack_name: str) -> dict[str, dict[str, Any]]:
    """Variant name → distribution summary, for every variant of ``stack_name`` (Comment and tags both match)."""
    cf = target.client("cloudfront")
    prefix = comment(stack_name, "")
    found: dict[str, dict[str, Any]] = {}
    for page in cf.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items", []) or []:
            marker = str(item.get("Comment", ""))
            if not marker.startswith(prefix):
                continue
            tags = _tags(cf, str(item["ARN"]))
            name = marker.removeprefix(prefix)
            if tags.get(TAG_KEY) == stack_name and tags.get(VARIANT_KEY) == name:
                found[name] = dict(item)
    return found


@aws_errors
def put(target: Target, stack_name: str, variant: str, config: dict[str, Any], parent: str = "",
        existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create variant ``variant`` of ``stack_name`` with DistributionConfig ``config``, or update it in place
    (IfMatch) when its configuration differs; never waits (the caller waits for all its variants at once).

    ``existing``: the variant's summary when the caller already looked it up (:func:`find_all`). Returns the
    distribution (``Id``, ``DomainName``, ...).
    """
    cf = target.client("cloudfront")
    if existing is None:
        tags = [*tag_list(stack_name, parent), {"Key": VARIANT_KEY, "Value": variant}]
        created = {**config, "CallerReference": f"{stack_name}-{variant}-{time.time_ns()}",
                   "Comment": comment(stack_name, variant)}
        dist = aws_call("cloudfront.CreateDistributionWithTags", cf.create_distribution_with_tags,
                        DistributionConfigWithTags={"DistributionConfig": created, "Tags": {"Items": tags}})
        return dict(dist["Distribution"])
    current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=existing["Id"])
    old = current["DistributionConfig"]
    new = {**config, "CallerReference": old["CallerReference"], "Comment": old.get("Comment", "")}
    if not differs(old, new):
        return existing
    updated = aws_call("cloudfront.UpdateDistribution", cf.update_distribution, Id=existing["Id"],
                       IfMatch=current["ETag"], DistributionConfig={**old, **new})
    return dict(updated["Distribution"])


@aws_errors
def quota_note(target: Target, to_create: int) -> tuple[str, bool]:
    """How many distributions the account will hold after creating ``to_create`` more, against AWS's default
    quota; (one sentence, True when near or over it)."""
    cf = target.client("cloudfront")
    have = sum(len(page["DistributionList"].get("Items", []) or [])
               for page in cf.get_paginator("list_distributions").paginate())
    total, quota = have + to_create, DISTRIBUTIONS_PER_ACCOUNT
    line = (f"{have} distributions in the account + {to_create} to create = {total} of the default quota of "
            f"{quota} distributions per account ({QUOTAS_PAGE})")
    if total > quota:
        return (f"{line}: over it. Unless your quota was raised, AWS refuses the creates (TooManyDistributions): "
                "delete distributions you no longer need (disabled ones count until deleted) or request a higher "
                "quota in the Service Quotas console."), True
    if total >= _NEAR * quota:
        return f"{line}: near it. Delete distributions you no longer need, or request a higher quota.", True
    return line + ".", False
