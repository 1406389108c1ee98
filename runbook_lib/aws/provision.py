"""Build, find and describe the runbook's stack: echo API, site bucket, distribution.

The same code runs against both targets (``runbook_lib.aws.target`` holds the one difference, the API
origin's address). Everything created carries the tag ``runbook:stack=<stack name>`` or, where AWS
has no tags (origin access controls, cache policies), a name starting with the stack name, so
:func:`find` and :func:`runbook_lib.aws.teardown.remove` get it back and never touch anything else.

The pieces live by concept: :mod:`~runbook_lib.aws.echo_api` (role, function, REST API),
:mod:`~runbook_lib.aws.site` (bucket, OAC), :mod:`~runbook_lib.aws.distribution` (cache policy,
distribution) and :mod:`~runbook_lib.aws.stack` (the record and its names); this module puts them
together and re-exports what callers use.
"""

from __future__ import annotations

from typing import Any

from runbook_lib.aws import presets
from runbook_lib.aws.calls import aws_errors
from runbook_lib.aws.distribution import (
    api_behavior,
    contains,
    differs,
    distribution_config,
    ensure_cache_policy,
    ensure_distribution,
    find_cache_policy,
    find_distribution,
    wait_deployed,
)
from runbook_lib.aws.echo_api import API_ROUTES, echo_zip, ensure_api, ensure_function, ensure_role, find_api
from runbook_lib.aws.ownership import check_child
from runbook_lib.aws.site import ensure_bucket, ensure_oac, grant_distribution_read
from runbook_lib.aws.site_page import INDEX_HTML
from runbook_lib.aws.stack import STAGE, TAG_KEY, Stack, account_id, resource_names, save
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.policies import CACHING_DISABLED, CACHING_OPTIMIZED
from runbook_lib.runbook import progress as progress_bar

__all__ = [
    "API_ROUTES",
    "INDEX_HTML",
    "STAGE",
    "TAG_KEY",
    "Stack",
    "account_id",
    "api_behavior",
    "build",
    "describe",
    "differs",
    "distribution_config",
    "echo_zip",
    "ensure_api",
    "find",
    "find_api",
    "find_cache_policy",
    "find_distribution",
    "preset_of",
    "resource_names",
    "save",
    "wait_deployed",
]

_STEPS = ("role", "function", "api", "bucket", "oac", "cache policy", "distribution", "bucket policy")


@aws_errors
def build(target: Target, stack_name: str, preset: str = "recommended", progress: bool = True,
          api_routes: tuple[str, ...] = API_ROUTES, parent: str = "", wait: bool = True) -> Stack:
    """Create (or find and update) the echo API, the site bucket and the distribution.

    Re-running reuses everything it finds; changing ``preset`` updates the ``/api/*`` behavior in place.
    ``api_routes`` are the API's resources (each with ANY → the echo function); existing ones are kept.
    ``parent``: the main stack this one belongs to (the lab's and the path fixes' stacks), recorded as the
    tag ``runbook:parent``; building over a same-named stack that is not that parent's child is refused.
    ``wait=False`` leaves the distribution deploying: the caller waits for it together with others
    (``distribution.wait_all_deployed``, one deployment round).
    """
    chosen = presets.get(preset)
    if parent:
        check_child(target, stack_name, parent)
    account = account_id(target)
    names = resource_names(stack_name, account, target.region)
    stack = Stack(name=stack_name, target=target.name, region=target.region, preset=preset)
    with progress_bar.bar(total=len(_STEPS), desc="build", disable=not progress) as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        stack.role_arn = ensure_role(target, stack, names["role"], parent)
        step("role")
        function_arn = ensure_function(target, stack, names["function"], stack.role_arn, parent)
        stack.function_name = names["function"]
        step("function")
        stack.api_id = ensure_api(target, stack, names["api"], function_arn, account, api_routes, parent)
        step("api")
        ensure_bucket(target, stack, names["bucket"], parent)
        stack.bucket = names["bucket"]
        step("bucket")
        stack.oac_id = ensure_oac(target, names["oac"])
        step("oac")
        created: tuple[str, ...] = ()
        if chosen.custom_cache_policy:
            stack.cache_policy_id, is_new = ensure_cache_policy(target, names["cache_policy"])
            created = (stack.cache_policy_id,) if is_new else ()
        step("cache policy")
        dist = ensure_distribution(target, stack, chosen, names["comment"], progress, parent, created, wait)
        stack.distribution_id, stack.domain_name = str(dist["Id"]), str(dist["DomainName"])
        step("distribution")
        grant_distribution_read(target, stack.bucket, account, stack.distribution_id)
        step("bucket policy")
    return stack


@aws_errors
def find(target: Target, stack_name: str) -> Stack | None:
    """The stack as it stands in the account, or None when nothing of it exists."""
    dist = find_distribution(target, stack_name)
    api_id = find_api(target, stack_name)
    if dist is None and api_id is None:
        return None
    stack = Stack(name=stack_name, target=target.name, region=target.region, api_id=api_id)
    if dist is not None:
        stack.distribution_id, stack.domain_name = str(dist["Id"]), str(dist["DomainName"])
        cfg = target.client("cloudfront").get_distribution_config(Id=stack.distribution_id)["DistributionConfig"]
        stack.preset = preset_of(cfg)
    return stack


def preset_of(config: dict[str, Any]) -> str | None:
    """Which preset the ``/api/*`` behavior of ``config`` matches, or None when it matches none."""
    behavior = next((b for b in config.get("CacheBehaviors", {}).get("Items", []) or []
                     if b.get("PathPattern") == "/api/*"), None)
    if behavior is None:
        return None
    for preset in presets.PRESETS.values():
        want = preset.behavior_fields(behavior.get("CachePolicyId") if preset.custom_cache_policy else None)
        if preset.custom_cache_policy and behavior.get("CachePolicyId") in {
                CACHING_DISABLED, CACHING_OPTIMIZED}:
            continue
        if contains(behavior, want) and ("OriginRequestPolicyId" in want) == bool(
                behavior.get("OriginRequestPolicyId")):
            return preset.name
    return None


@aws_errors
def describe(target: Target, stack: Stack) -> dict[str, Any]:
    """The deployed ``/api/*`` behavior and API origin, as CloudFront holds them."""
    assert stack.distribution_id
    config = target.client("cloudfront").get_distribution_config(Id=stack.distribution_id)["DistributionConfig"]
    behavior = next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")
    origin = next(o for o in config["Origins"]["Items"] if o["Id"] == behavior["TargetOriginId"])
    keep = ("PathPattern", "TargetOriginId", "ViewerProtocolPolicy", "CachePolicyId", "OriginRequestPolicyId",
            "ForwardedValues", "AllowedMethods")
    return {
        "behavior": {k: behavior[k] for k in keep if k in behavior},
        "origin": {k: origin.get(k) for k in ("Id", "DomainName", "OriginPath", "CustomOriginConfig")},
    }
