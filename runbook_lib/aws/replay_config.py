"""The replay's DistributionConfig: a user's distribution as CreateDistribution takes it, with each API origin at
its echo API and everything that cannot exist in the replay dropped, one note each. Pure: no AWS calls.

What decides forwarding is kept as it is: path patterns and their order, OriginPath (under the echo's address),
origin custom headers, allowed and cached methods, ViewerProtocolPolicy, legacy ForwardedValues, managed policies
by ID, custom policies and CloudFront Functions under the IDs and ARNs the replay gave their copies
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.policies import (
    CACHING_DISABLED,
    is_managed,
    resolve_cache_policy,
    resolve_origin_request_policy,
)
from runbook_lib.errors import ConfigError
from runbook_lib.sources.result import DistributionSource

__all__ = [
    "PLACEHOLDER", "Remap", "custom_policies", "fix_quantities", "prune_to_shape", "replay_config",
    "used_function_arns",
]

#: A value a template left unresolved (``<ApiF70053CD>``, ``<CachePolicy.Id>``): never sent to AWS.
PLACEHOLDER = re.compile(r"<[^<>]+>")
#: Top-level fields the replay keeps as the source has them (when present).
_KEEP = ("DefaultRootObject", "PriceClass", "HttpVersion", "IsIPV6Enabled")
#: CloudFormation's names for API fields that the source readers pass through.
_RENAMES = {"IPV6Enabled": "IsIPV6Enabled"}
#: Top-level fields dropped, with what dropping them means; a field whose value is one of the empties is quiet.
_DROPPED = {
    "Aliases": "Aliases (alternate domain names) dropped: the replay answers on its own dXXXX.cloudfront.net name.",
    "ViewerCertificate": "Viewer certificate (ACM/IAM) replaced by CloudFront's default certificate.",
    "WebACLId": "WebACLId dropped: no AWS WAF in the replay, so nothing it would block is blocked.",
    "Logging": "Standard logging dropped (it does not change what reaches the API).",
    "OriginGroups": "Origin groups replaced by their primary origin (failover is not replayed).",
    "CustomErrorResponses": ("Custom error responses dropped: the replay shows the API's own error answers, "
                             "which a viewer of the real distribution may not see."),
    "Restrictions": "Geographic restrictions dropped: probes come from loopback, with no country.",
    "ContinuousDeploymentPolicyId": "Continuous deployment policy dropped.",
    "Staging": "Staging flag dropped: the replay is a primary distribution.",
    "AnycastIpListId": "Anycast static IP list dropped.",
}
_QUIET: tuple[Any, ...] = (None, "", False, {}, [], {"Quantity": 0}, {"Enabled": False},
                           {"CloudFrontDefaultCertificate": True})


@dataclass
class Remap:
    """What the replay gave the source's resources: echo origins, recreated policies and functions."""

    #: Origin ID → the echo API's origin fields (DomainName, OriginPath, CustomOriginConfig).
    echo_origins: dict[str, dict[str, Any]]
    #: A harmless origin for the origins that are not APIs.
    placeholder_origin: dict[str, Any]
    #: Source policy ID → the replay's copy.
    policy_ids: dict[str, str] = field(default_factory=dict)
    #: Source function ARN → the replay's copy.
    function_arns: dict[str, str] = field(default_factory=dict)


def _behaviors(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    default = config.get("DefaultCacheBehavior")
    return [b for b in [default, *items(config.get("CacheBehaviors"))] if isinstance(b, dict)]


def custom_policies(source: DistributionSource) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, source ID, config) of each custom policy the behaviors use and the source describes; kind is
    ``cache`` or ``origin-request`` (as in :mod:`runbook_lib.aws.ownership`)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for behavior in _behaviors(source.config):
        for key, kind, resolve in (("CachePolicyId", "cache", resolve_cache_policy),
                                   ("OriginRequestPolicyId", "origin-request", resolve_origin_request_policy)):
            pid = behavior.get(key)
            if isinstance(pid, str) and pid and not is_managed(pid) and pid not in found:
                config = resolve(pid, source.policies) if pid in source.policies else None
                if config is not None:
                    found[pid] = (kind, pid, fix_quantities(copy.deepcopy(config)))
    return list(found.values())


def used_function_arns(source: DistributionSource) -> list[str]:
    """The CloudFront Function ARNs the behaviors associate whose code the source has, in first-use order."""
    arns: dict[str, None] = {}
    for behavior in _behaviors(source.config):
        for assoc in items(behavior.get("FunctionAssociations")):
            arn = assoc.get("FunctionARN") if isinstance(assoc, dict) else None
            if isinstance(arn, str) and arn in source.functions:
                arns[arn] = None
    return list(arns)


def fix_quantities(node: Any) -> Any:
    """Every ``{"Items": [...]}`` given its ``Quantity`` (templates and hand edits leave it out or wrong)."""
    if isinstance(node, dict):
        for value in node.values():
            fix_quantities(value)
        if isinstance(node.get("Items"), list):
            node["Quantity"] = len(node["Items"])
        elif "Quantity" in node and not node.get("Quantity"):
            node["Quantity"] = 0
    elif isinstance(node, list):
        for value in node:
            fix_quantities(value)
    return node


def _top_level(config: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        key = _RENAMES.get(key, key)
        if key in _KEEP:
            out[key] = value
        elif key in _DROPPED:
            if value not in _QUIET and not (isinstance(value, dict) and _is_quiet(key, value)):
                notes.append(_DROPPED[key])
        elif key not in ("CallerReference", "Comment", "Enabled", "Origins", "DefaultCacheBehavior",
                         "CacheBehaviors"):
            notes.append(f"{key} dropped: not a field of CreateDistribution's DistributionConfig.")
    return out


def _is_quiet(key: str, value: dict[str, Any]) -> bool:
    if key == "ViewerCertificate":
        return bool(value.get("CloudFrontDefaultCertificate")) and not value.get("ACMCertificateArn") \
            and not value.get("IAMCertificateId")
    if key == "Logging":
        return not value.get("Enabled")
    if key == "Restrictions":
        return bool((value.get("GeoRestriction") or {}).get("RestrictionType", "none") == "none")
    return not items(value)


def _origin(origin: dict[str, Any], remap: Remap, notes: list[str], others: list[str]) -> dict[str, Any]:
    oid = str(origin.get("Id"))
    out: dict[str, Any] = {"Id": oid}
    for key in ("ConnectionAttempts", "ConnectionTimeout"):
        if key in origin:
            out[key] = origin[key]
    if origin.get("OriginAccessControlId") or (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity"):
        notes.append(f"Origin {oid}: origin access control / identity dropped (no such origin in the replay).")
    if oid not in remap.echo_origins:
        others.append(oid)
        return {**out, **copy.deepcopy(remap.placeholder_origin)}
    echo = copy.deepcopy(remap.echo_origins[oid])
    headers = origin.get("CustomHeaders")
    if items(headers):
        out["CustomHeaders"] = copy.deepcopy(headers)
    user = origin.get("CustomOriginConfig") or {}
    for key in ("OriginReadTimeout", "OriginKeepaliveTimeout"):
        if key in user:
            echo["CustomOriginConfig"][key] = user[key]
    policy = user.get("OriginProtocolPolicy", "https-only")
    if echo["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only":
        echo["CustomOriginConfig"]["OriginProtocolPolicy"] = policy  # an HTTPS echo, as the API: keep the user's
    elif policy != "https-only":
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html: HTTPS only.
        notes.append(f"Origin {oid}: OriginProtocolPolicy {policy!r} would send HTTP to an API that answers HTTPS "
                     "only; the local echo is reached over HTTP and does not show that failure.")
    return {**out, **echo}


def _label(behavior: Mapping[str, Any]) -> str:
    return str(behavior.get("PathPattern") or "default (*)")


def _policy(behavior: dict[str, Any], key: str, remap: Remap, notes: list[str]) -> None:
    pid = behavior.get(key)
    if not pid or not isinstance(pid, str) or is_managed(pid):
        return
    if pid in remap.policy_ids:
        behavior[key] = remap.policy_ids[pid]
        return
    del behavior[key]
    what = "cache policy" if key == "CachePolicyId" else "origin request policy"
    if key == "CachePolicyId" and "ForwardedValues" not in behavior:
        behavior[key] = CACHING_DISABLED
        notes.append(f"Behavior {_label(behavior)}: {what} {pid} is not described by the source, so the replay "
                     "uses CachingDisabled in its place: what it shows for this behavior is not your policy's.")
    else:
        notes.append(f"Behavior {_label(behavior)}: {what} {pid} is not described by the source and is left out: "
                     "what the replay shows for this behavior lacks what that policy forwards.")


def _functions(behavior: dict[str, Any], remap: Remap, notes: list[str]) -> None:
    kept = []
    for assoc in items(behavior.get("FunctionAssociations")):
        arn = assoc.get("FunctionARN")
        if arn in remap.function_arns:
            kept.append({**assoc, "FunctionARN": remap.function_arns[arn]})
        else:
            notes.append(f"Behavior {_label(behavior)}: CloudFront Function {arn} left out (its code is not in the "
                         "source; distribution:<ID> reads it): what it changes in the request is not replayed.")
    behavior["FunctionAssociations"] = {"Quantity": len(kept), "Items": kept}


def _drop_behavior_fields(behavior: dict[str, Any], notes: list[str]) -> None:
    label = _label(behavior)
    if items(behavior.get("LambdaFunctionAssociations")):
        notes.append(f"Behavior {label}: Lambda@Edge associations left out (the local AWS has no Lambda@Edge): "
                     "what they change in the request is not replayed.")
    behavior["LambdaFunctionAssociations"] = {"Quantity": 0}
    for key in ("TrustedSigners", "TrustedKeyGroups"):
        if (behavior.get(key) or {}).get("Enabled"):
            notes.append(f"Behavior {label}: {key} dropped: the replay serves unsigned requests.")
        behavior.pop(key, None)
    for key, why in (("ResponseHeadersPolicyId", "response headers policy"),
                     ("FieldLevelEncryptionId", "field-level encryption"),
                     ("RealtimeLogConfigArn", "real-time log configuration")):
        if behavior.pop(key, None):
            notes.append(f"Behavior {label}: {why} dropped (it does not change what reaches the API).")
    behavior.pop("GrpcConfig", None)


def _behavior(raw: dict[str, Any], primary: Mapping[str, str], remap: Remap, notes: list[str]) -> dict[str, Any]:
    behavior = copy.deepcopy(raw)
    target = str(behavior.get("TargetOriginId"))
    behavior["TargetOriginId"] = primary.get(target, target)
    behavior.setdefault("ViewerProtocolPolicy", "allow-all")
    _policy(behavior, "CachePolicyId", remap, notes)
    _policy(behavior, "OriginRequestPolicyId", remap, notes)
    _functions(behavior, remap, notes)
    _drop_behavior_fields(behavior, notes)
    if "ForwardedValues" in behavior:
        fv = behavior["ForwardedValues"]
        fv.setdefault("QueryString", False)
        fv.setdefault("Cookies", {"Forward": "none"})
        behavior.setdefault("MinTTL", 0)
    elif not behavior.get("CachePolicyId"):
        # The API needs one of the two; CloudFormation and Terraform refuse a behavior with neither.
        behavior["CachePolicyId"] = CACHING_DISABLED
        notes.append(f"Behavior {_label(behavior)}: neither a cache policy nor legacy settings: CachingDisabled.")
    return behavior


def _primaries(config: Mapping[str, Any]) -> dict[str, str]:
    """Origin group ID → its primary (first) member's origin ID."""
    out = {}
    for group in items(config.get("OriginGroups")):
        members = items((group or {}).get("Members"))
        if members:
            out[str(group.get("Id"))] = str(members[0].get("OriginId"))
    return out


def _unresolved(node: Any, path: str = "") -> list[str]:
    """Where a template placeholder is left in ``node`` (dotted paths)."""
    if isinstance(node, str):
        return [path] if PLACEHOLDER.search(node) else []
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _unresolved(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _unresolved(v, f"{path}[{i}]")]
    return []


def _drop_placeholder_headers(config: dict[str, Any], notes: list[str]) -> None:
    for origin in items(config.get("Origins")):
        headers = items(origin.get("CustomHeaders"))
        kept = [h for h in headers if not _unresolved(h)]
        if len(kept) != len(headers):
            names = ", ".join(str(h.get("HeaderName")) for h in headers if h not in kept)
            notes.append(f"Origin {origin['Id']}: custom header {names} left out: its value is a template "
                         "placeholder the source could not resolve.")
            origin["CustomHeaders"] = {"Quantity": len(kept), "Items": kept}


def replay_config(source: DistributionSource, remap: Remap, caller_reference: str,
                  comment: str) -> tuple[dict[str, Any], list[str]]:
    """The replay's DistributionConfig for ``source`` (CreateDistribution's shape) and what it left out."""
    notes: list[str] = []
    config = _top_level(source.config, notes)
    others: list[str] = []
    config["Origins"] = {"Items": [_origin(o, remap, notes, others) for o in items(source.config.get("Origins"))]}
    if others:
        notes.append(f"Origin{'s' if len(others) > 1 else ''} {', '.join(others)}: not an API, replaced by a "
                     "placeholder origin (the behaviors that use it are not probed).")
    primary = _primaries(source.config)
    config["DefaultCacheBehavior"] = _behavior(source.config.get("DefaultCacheBehavior") or {}, primary, remap,
                                               notes)
    config["CacheBehaviors"] = {"Items": [_behavior(b, primary, remap, notes)
                                          for b in items(source.config.get("CacheBehaviors"))]}
    config.update(CallerReference=caller_reference, Comment=comment, Enabled=True)
    _drop_placeholder_headers(config, notes)
    left = _unresolved(config)
    if left:
        raise ConfigError(f"The replay of {source.name} would send unresolved template placeholders at "
                          f"{', '.join(left)}. Resolve them in the source (or pass a deployed distribution).")
    return fix_quantities(config), list(dict.fromkeys(notes))


def prune_to_shape(node: Any, shape: Any, path: str = "DistributionConfig") -> list[str]:
    """Drop from ``node`` every field its botocore ``shape`` does not have (a reader passing through something a
    newer or older API names otherwise); one note per field dropped."""
    notes: list[str] = []
    if getattr(shape, "type_name", "") == "structure" and isinstance(node, dict):
        for key in list(node):
            if key not in shape.members:
                del node[key]
                notes.append(f"{path}.{key} dropped: not a field of CreateDistribution.")
            else:
                notes += prune_to_shape(node[key], shape.members[key], f"{path}.{key}")
    elif getattr(shape, "type_name", "") == "list" and isinstance(node, list):
        for i, item in enumerate(node):
            notes += prune_to_shape(item, shape.member, f"{path}[{i}]")
    return notes
