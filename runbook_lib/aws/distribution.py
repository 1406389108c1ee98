"""The distribution: its custom cache policy, its DistributionConfig, creating or updating it, waiting for it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from runbook_lib.aws import deployments, presets
from runbook_lib.aws.calls import aws_call, aws_errors
from runbook_lib.aws.ownership import find_distribution, policy_tag, tag_list
from runbook_lib.aws.stack import Stack
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront import configs
from runbook_lib.errors import ProvisioningError
from runbook_lib.runbook import progress as progress_bar

__all__ = [
    "api_behavior",
    "contains",
    "differs",
    "distribution_config",
    "ensure_cache_policy",
    "ensure_distribution",
    "find_cache_policy",
    "find_distribution",
    "wait_all_deployed",
    "wait_deployed",
]


def find_cache_policy(target: Target, name: str) -> str | None:
    cf = target.client("cloudfront")
    items = aws_call("cloudfront.ListCachePolicies", cf.list_cache_policies, Type="custom")[
        "CachePolicyList"].get("Items", []) or []
    for item in items:
        if item["CachePolicy"]["CachePolicyConfig"]["Name"] == name:
            return str(item["CachePolicy"]["Id"])
    return None


def ensure_cache_policy(target: Target, name: str) -> tuple[str, bool]:
    """The custom cache policy of preset ``custom-auth-in-key``, named ``name``: (its ID, True when created now).

    Only a policy created here is recorded as the stack's (:mod:`~runbook_lib.aws.ownership`); one found by
    name is used but never claimed, so teardown leaves it.
    """
    existing = find_cache_policy(target, name)
    if existing:
        return existing, False
    config = {**configs.to_cache_policy_config(configs.API_AUTH_AND_QUERY), "Name": name}
    cf = target.client("cloudfront")
    return str(aws_call("cloudfront.CreateCachePolicy", cf.create_cache_policy,
                        CachePolicyConfig=config)["CachePolicy"]["Id"]), True


def api_behavior(preset: presets.Preset, custom_cache_policy_id: str | None = None) -> dict[str, Any]:
    """The ``/api/*`` cache behavior with ``preset``'s policies (:func:`configs.api_behavior`)."""
    return configs.api_behavior(preset.behavior_fields(custom_cache_policy_id))


def distribution_config(target: Target, stack: Stack, preset: presets.Preset, caller_reference: str,
                        comment: str) -> dict[str, Any]:
    """The whole DistributionConfig of a stack: S3 with OAC by default, ``/api/*`` → the API stage."""
    assert stack.api_id and stack.bucket and stack.oac_id
    return configs.site_and_api_config(
        bucket_domain=f"{stack.bucket}.s3.{target.region}.amazonaws.com", oac_id=stack.oac_id,
        api_origin=target.api_origin(stack.api_id, stack.stage),
        api_behavior=api_behavior(preset, stack.cache_policy_id),
        caller_reference=caller_reference, comment=comment,
    )


@aws_errors
def wait_deployed(target: Target, distribution_id: str, timeout: float = 1800, progress: bool = True,
                  counted: bool = True) -> None:
    """Poll until the distribution is ``Deployed`` (minutes on AWS, at once locally), with a progress bar.
    ``counted``: see :func:`wait_all_deployed`."""
    wait_all_deployed(target, [distribution_id], timeout=timeout, progress=progress, counted=counted)


@aws_errors
def wait_all_deployed(target: Target, distribution_ids: Iterable[str], timeout: float = 1800,
                      progress: bool = True, counted: bool = True) -> None:
    """Poll until every distribution in ``distribution_ids`` is ``Deployed``: one wait and one progress bar for
    all, so changes made together propagate together (one round, :mod:`~runbook_lib.aws.deployments`).

    ``counted=False``: the distributions stand for nothing on AWS (a local replay): their propagation is not
    simulated and their waits are not in the deployment ledger (:func:`deployments.exempt`).
    """
    cf = target.client("cloudfront")
    ids = tuple(dict.fromkeys(distribution_ids))
    for dist_id in ids if not counted else ():
        deployments.exempt(dist_id)
    start, began = time.monotonic(), time.time()
    changed = [d for d in ids if deployments.take_changed(d)]
    pending = {d: s for d in ids if (s := _status(cf, d)) != "Deployed"}
    try:
        if pending:  # locally always Deployed unless simulated; no bar for nothing
            _poll(cf, pending, start, timeout, progress, deployments.poll_interval(target.is_local))
    finally:
        waited = tuple(d for d in ids if d in changed or d in pending)
        if waited:
            deployments.record(deployments.Wait(began, time.time(), waited))


def _status(cf: Any, distribution_id: str) -> str:
    return str(cf.get_distribution(Id=distribution_id)["Distribution"]["Status"])


def _poll(cf: Any, pending: dict[str, str], start: float, timeout: float, progress: bool, every: float) -> None:
    left = dict(pending)
    desc = (f"{next(iter(left))}: waiting for Deployed" if len(left) == 1
            else f"{len(left)} distributions: waiting for Deployed")
    with progress_bar.bar(total=len(left), desc=desc, unit="dist", disable=not progress, leave=False) as bar:
        while left:
            bar.set_postfix_str(f"{', '.join(sorted(set(left.values())))}, {time.monotonic() - start:.0f} s")
            if time.monotonic() - start > timeout:
                raise ProvisioningError(
                    f"Distribution {', '.join(sorted(left))} is still {', '.join(sorted(set(left.values())))} "
                    f"after {timeout:.0f} s. Re-run the notebook later: it finds the distribution and waits again."
                )
            time.sleep(every)
            for dist_id in list(left):
                left[dist_id] = _status(cf, dist_id)
                if left[dist_id] == "Deployed":
                    del left[dist_id]
                    bar.update(1)


def ensure_distribution(target: Target, stack: Stack, preset: presets.Preset, comment: str, progress: bool,
                        parent: str = "", created_policies: tuple[str, ...] = (), wait: bool = True) -> dict[str, Any]:
    """Create the stack's distribution, or update it in place when its config differs; wait until deployed
    (unless ``wait`` is False: the caller then waits for it with others, :func:`wait_all_deployed`).

    Its tags record the owning stack (and ``parent``) and the cache policies in ``created_policies``.
    """
    cf = target.client("cloudfront")
    existing = find_distribution(target, stack.name)
    owned = [policy_tag("cache", policy_id) for policy_id in created_policies]
    if existing is None:
        config = distribution_config(target, stack, preset, f"{stack.name}-{time.time_ns()}", comment)
        dist = aws_call("cloudfront.CreateDistributionWithTags", cf.create_distribution_with_tags,
                        DistributionConfigWithTags={"DistributionConfig": config,
                                                    "Tags": {"Items": tag_list(stack.name, parent) + owned}})
        result = dict(dist["Distribution"])
    else:
        if owned:
            aws_call("cloudfront.TagResource", cf.tag_resource, Resource=existing["ARN"], Tags={"Items": owned})
        current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=existing["Id"])
        old = current["DistributionConfig"]
        new = distribution_config(target, stack, preset, old["CallerReference"], old.get("Comment", ""))
        result = existing
        if differs(old, new):
            # IfMatch: the ETag of the config we read, so a concurrent change is refused, not overwritten.
            updated = aws_call("cloudfront.UpdateDistribution", cf.update_distribution,
                               Id=existing["Id"], IfMatch=current["ETag"], DistributionConfig={**old, **new})
            result = dict(updated["Distribution"])
    if wait:
        wait_deployed(target, result["Id"], progress=progress)
    return result


def differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    # AWS fills in defaults (empty lists, FieldLevelEncryptionId...), so compare only what we set.
    keys = ("Origins", "DefaultCacheBehavior", "CacheBehaviors", "DefaultRootObject", "Enabled")
    return any(not contains(old.get(k), new.get(k)) for k in keys)


def contains(have: Any, want: Any) -> bool:
    """True when every field in ``want`` has the same value in ``have``."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(contains(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return False
        if all(isinstance(w, str) for w in want):
            # Lists of names (methods, headers, cookies...) are sets to CloudFront, and it returns them in
            # its own order (["HEAD", "GET"] for ["GET", "HEAD"]; terraform-provider-aws PR 7732), so an
            # ordered compare would update an unchanged distribution on every run.
            return all(isinstance(h, str) for h in have) and sorted(have) == sorted(want)
        return all(contains(h, w) for h, w in zip(have, want, strict=True))
    return bool(have == want)
