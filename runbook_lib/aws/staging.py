"""CloudFront continuous deployment: test a fixed configuration on a staging copy, then promote it.

https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/continuous-deployment.html

1. CopyDistribution (Staging=True, IfMatch = the primary's ETag) makes the staging copy;
2. the fix goes onto the copy, with an origin custom header only the copy sends (the marker), so each probe
   can prove it reached staging: CloudFront may send every request to the primary at traffic peaks
   (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/continuous-deployment-quotas-considerations.html);
3. a continuous deployment policy routes requests carrying header ``aws-cf-cd-<name>`` to the copy; it is
   attached to the primary (UpdateDistribution with ContinuousDeploymentPolicyId, IfMatch);
4. ``check`` probes through the production domain with that header; a problem detaches and removes everything,
   and the primary's configuration is never touched;
5. the marker is removed from the copy, then UpdateDistributionWithStagingConfig (IfMatch
   "<primary ETag>, <staging ETag>") copies the staging configuration onto the primary (the primary keeps its
   Aliases and ContinuousDeploymentPolicyId:
   https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistributionWithStagingConfig.html);
6. the policy is detached and deleted, the copy disabled and deleted.

Not allowed, so :class:`StagingUnavailable` (the caller then updates directly): a distribution with HTTP/3,
the staging distribution or policy quota reached (20 each per account).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runbook_lib.aws.calls import aws_call
from runbook_lib.aws.distribution import wait_deployed
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.errors import FixRefused, ProvisioningError, StagingUnavailable

__all__ = ["HEADER_PREFIX", "MARKER_HEADER", "QUOTA_CODES", "Staged", "not_allowed", "promote_with_staging"]

#: "The header name must start with aws-cf-cd-" (API_SingleHeaderConfig.html).
HEADER_PREFIX = "aws-cf-cd-"
#: The origin custom header only the staging copy sends: the echo API reports it, proving a probe hit staging.
MARKER_HEADER = "X-Runbook-Staging"
#: Answers that mean the account cannot have one more staging distribution or policy.
QUOTA_CODES = frozenset({"TooManyDistributions", "TooManyContinuousDeploymentPolicies", "StagingDistributionInUse"})

#: ``check(domain, headers, marker)``: problems seen probing ``domain`` with ``headers`` ([] when none).
Check = Callable[[str, dict[str, str], "tuple[str, str] | None"], list[str]]
Log = Callable[[str], None]


@dataclass
class Staged:
    """What happened: ``promoted`` is False when the staging probes found ``problems`` (primary untouched)."""

    promoted: bool
    staging_id: str
    policy_id: str
    header: str
    problems: list[str]


def not_allowed(config: dict[str, Any]) -> str:
    """Why continuous deployment cannot be used for ``config`` ('' when it can)."""
    if str(config.get("HttpVersion", "")) in ("http3", "http2and3"):
        return f"HTTP/3 is enabled (HttpVersion {config['HttpVersion']}): continuous deployment does not support it"
    if config.get("Staging"):
        return "this distribution is itself a staging distribution"
    return ""


def _read(cf: Any, dist_id: str) -> tuple[dict[str, Any], str]:
    answer = aws_call(f"cloudfront.GetDistributionConfig {dist_id}", cf.get_distribution_config, Id=dist_id)
    return answer["DistributionConfig"], str(answer["ETag"])


def _mark(config: dict[str, Any], marker: tuple[str, str] | None) -> dict[str, Any]:
    """``config`` with the marker header on every origin (or removed from every origin when None)."""
    origins = []
    for origin in items(config.get("Origins")):
        kept = [h for h in items(origin.get("CustomHeaders")) if h.get("HeaderName") != MARKER_HEADER]
        if marker is not None:
            kept.append({"HeaderName": marker[0], "HeaderValue": marker[1]})
        origins.append({**origin, "CustomHeaders": {"Quantity": len(kept), **({"Items": kept} if kept else {})}})
    return {**config, "Origins": {**config["Origins"], "Items": origins}}


def _copy(cf: Any, primary_id: str, etag: str) -> tuple[str, str]:
    try:
        made = aws_call(f"cloudfront.CopyDistribution {primary_id}", cf.copy_distribution,
                        PrimaryDistributionId=primary_id, Staging=True, IfMatch=etag,
                        CallerReference=f"runbook-fix-{time.time_ns()}", Enabled=True)
    except ProvisioningError as err:
        if err.code == "PreconditionFailed":
            raise FixRefused(f"CopyDistribution {primary_id}: PreconditionFailed, the distribution changed since "
                             "the plan. Nothing was changed; plan again.") from err
        if err.code in QUOTA_CODES:
            raise StagingUnavailable(f"No staging copy: {err}") from err
        raise
    return str(made["Distribution"]["Id"]), str(made["ETag"])


def _update(cf: Any, dist_id: str, etag: str, config: dict[str, Any], log: Log, what: str) -> str:
    answer = aws_call(f"cloudfront.UpdateDistribution {dist_id} ({what})", cf.update_distribution, Id=dist_id,
                      IfMatch=etag, DistributionConfig=config)
    log(f"UpdateDistribution {dist_id}: {what}")
    return str(answer["ETag"])


def _policy(cf: Any, staging_domain: str, header: str, value: str) -> str:
    config = {"StagingDistributionDnsNames": {"Quantity": 1, "Items": [staging_domain]}, "Enabled": True,
              "TrafficConfig": {"Type": "SingleHeader", "SingleHeaderConfig": {"Header": header, "Value": value}}}
    try:
        made = aws_call("cloudfront.CreateContinuousDeploymentPolicy", cf.create_continuous_deployment_policy,
                        ContinuousDeploymentPolicyConfig=config)
    except ProvisioningError as err:
        if err.code in QUOTA_CODES:
            raise StagingUnavailable(f"No continuous deployment policy: {err}") from err
        raise
    return str(made["ContinuousDeploymentPolicy"]["Id"])


def _attach(cf: Any, primary_id: str, etag: str, policy_id: str, log: Log) -> None:
    config, now = _read(cf, primary_id)
    if now != etag:
        raise FixRefused(f"Distribution {primary_id} changed while its staging copy was made (ETag {etag} -> {now}). "
                         "Its configuration was not changed; the staging copy was removed. Plan again.")
    try:
        _update(cf, primary_id, now, {**config, "ContinuousDeploymentPolicyId": policy_id}, log,
                f"attach continuous deployment policy {policy_id}")
    except ProvisioningError as err:
        if err.code == "PreconditionFailed":
            raise FixRefused(f"UpdateDistribution {primary_id}: PreconditionFailed while attaching the policy. "
                             "Its configuration was not changed; plan again.") from err
        raise


def _clean_up(target: Target, primary_id: str, staging_id: str, policy_id: str, log: Log, progress: bool) -> None:
    """Detach and delete the policy, then disable and delete the staging copy (each step only if needed)."""
    cf = target.client("cloudfront")
    if policy_id:
        config, etag = _read(cf, primary_id)
        if config.get("ContinuousDeploymentPolicyId"):
            _update(cf, primary_id, etag, {**config, "ContinuousDeploymentPolicyId": ""}, log, "detach policy")
            wait_deployed(target, primary_id, progress=progress)
        answer = aws_call("cloudfront.GetContinuousDeploymentPolicy", cf.get_continuous_deployment_policy,
                          Id=policy_id)
        aws_call("cloudfront.DeleteContinuousDeploymentPolicy", cf.delete_continuous_deployment_policy,
                 Id=policy_id, IfMatch=answer["ETag"])
        log(f"deleted continuous deployment policy {policy_id}")
    if staging_id:
        config, etag = _read(cf, staging_id)
        if config.get("Enabled"):
            etag = _update(cf, staging_id, etag, {**config, "Enabled": False}, log, "disable staging copy")
            wait_deployed(target, staging_id, progress=progress)
        aws_call(f"cloudfront.DeleteDistribution {staging_id}", cf.delete_distribution, Id=staging_id, IfMatch=etag)
        log(f"deleted staging distribution {staging_id}")


def _stage(target: Target, staging_id: str, changes: dict[str, Any], marker: tuple[str, str] | None, log: Log,
           progress: bool) -> str:
    """Put ``changes`` (and the marker, or no marker) onto the staging copy; wait; return its ETag."""
    cf = target.client("cloudfront")
    config, etag = _read(cf, staging_id)
    etag = _update(cf, staging_id, etag, _mark({**config, **changes}, marker), log,
                   "fix with marker" if marker else "fix without marker")
    wait_deployed(target, staging_id, progress=progress)
    return etag


def promote_with_staging(target: Target, primary_id: str, primary_etag: str, original: dict[str, Any],
                         fixed: dict[str, Any], check: Check, log: Log, *, name: str = "runbook",
                         progress: bool = True) -> Staged:
    """Steps 1-6 of the module docstring. Raises :class:`FixRefused` (nothing changed) or
    :class:`StagingUnavailable` (use UpdateDistribution instead); both leave nothing behind."""
    reason = not_allowed(original)
    if reason:
        raise StagingUnavailable(reason)
    cf = target.client("cloudfront")
    changes = {k: v for k, v in fixed.items() if original.get(k) != v and k not in ("Aliases", "Staging")}
    header, value = f"{HEADER_PREFIX}{name}"[:256], secrets.token_hex(8)
    marker = (MARKER_HEADER, secrets.token_hex(12))
    staging_id, _ = _copy(cf, primary_id, primary_etag)
    log(f"CopyDistribution {primary_id} -> staging {staging_id}")
    policy_id = ""
    try:
        _stage(target, staging_id, changes, marker, log, progress)
        domain = str(cf.get_distribution(Id=staging_id)["Distribution"]["DomainName"])
        policy_id = _policy(cf, domain, header, value)
        log(f"continuous deployment policy {policy_id}: header {header} -> {domain}")
        _attach(cf, primary_id, primary_etag, policy_id, log)
        wait_deployed(target, primary_id, progress=progress)
        primary_domain = str(cf.get_distribution(Id=primary_id)["Distribution"]["DomainName"])
        problems = check(primary_domain, {header: value}, marker)
        if problems:
            log("staging probes found problems; the primary was not changed: " + "; ".join(problems))
            _clean_up(target, primary_id, staging_id, policy_id, log, progress)
            return Staged(False, staging_id, policy_id, header, problems)
        staging_etag = _stage(target, staging_id, changes, None, log, progress)
        primary_etag_now = _read(cf, primary_id)[1]
        aws_call(f"cloudfront.UpdateDistributionWithStagingConfig {primary_id}",
                 cf.update_distribution_with_staging_config, Id=primary_id, StagingDistributionId=staging_id,
                 IfMatch=f"{primary_etag_now}, {staging_etag}")
        log(f"promoted staging {staging_id} onto {primary_id}")
        wait_deployed(target, primary_id, progress=progress)
    except BaseException:
        log("staging failed; removing the policy and the staging copy")
        _clean_up(target, primary_id, staging_id, policy_id, log, progress)
        raise
    _clean_up(target, primary_id, staging_id, policy_id, log, progress)
    return Staged(True, staging_id, policy_id, header, [])
