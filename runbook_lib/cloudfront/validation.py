"""What AWS would reject in a DistributionConfig (the model's ``config_errors``).

Each issue carries the HTTP status and error code the CloudFront API uses (from botocore's
service model: InconsistentQuantities 400, NoSuchOrigin 404, NoSuchCachePolicy 404, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.patterns import pattern_problem
from runbook_lib.cloudfront.policies import resolve_cache_policy, resolve_origin_request_policy

__all__ = ["ConfigIssue", "validate", "ttls_all_zero"]

DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    status: int
    code: str
    message: str
    behavior: str | None = None  # PathPattern or "default", when the issue belongs to a behavior
    pointer: str = ""  # JSON pointer of the offending value
    kind: str = ""  # stable internal name, used by diagnosis to build a fix
    extra: dict[str, Any] = field(default_factory=dict)
    doc_url: str = DOC + "distribution-web-values-specify.html"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message}


def ttls_all_zero(cache_policy: dict[str, Any]) -> bool:
    return all(cache_policy.get(k, 0) in (0, None) for k in ("MinTTL", "DefaultTTL", "MaxTTL"))


def _quantities(node: Any, pointer: str, out: list[ConfigIssue]) -> None:
    if isinstance(node, dict):
        if "Quantity" in node:
            found = node.get("Items") or []
            n = len(found) if isinstance(found, list) else -1
            if node["Quantity"] != n:
                out.append(
                    ConfigIssue(
                        400,
                        "InconsistentQuantities",
                        f"{pointer or '/'}: Quantity is {node['Quantity']!r} but Items has {max(n, 0)} "
                        f"entries. Set Quantity to {max(n, 0)}.",
                        pointer=pointer + "/Quantity",
                        kind="quantity",
                        extra={"value": max(n, 0)},
                    )
                )
        for key, value in node.items():
            _quantities(value, f"{pointer}/{key}", out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _quantities(value, f"{pointer}/{i}", out)


def _behavior_issues(
    raw: dict[str, Any],
    label: str,
    pointer: str,
    origin_ids: set[str],
    s3_ids: set[str],
    policies: dict[str, Any] | None,
    out: list[ConfigIssue],
) -> None:
    cp_id, orp_id, fv = raw.get("CachePolicyId"), raw.get("OriginRequestPolicyId"), raw.get("ForwardedValues")
    target = raw.get("TargetOriginId")
    if target not in origin_ids:
        out.append(
            ConfigIssue(
                404,
                "NoSuchOrigin",
                f"Behavior {label!r}: TargetOriginId {target!r} is not an origin of this distribution "
                f"(origins: {', '.join(sorted(origin_ids)) or 'none'}). Point it at one of them.",
                label,
                pointer + "/TargetOriginId",
                "no-origin",
            )
        )
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CacheBehavior.html
    if cp_id and fv is not None:
        out.append(
            ConfigIssue(
                400,
                "InvalidArgument",
                f"Behavior {label!r}: The parameter ForwardedValues cannot be used when a cache policy is "
                "associated. Remove ForwardedValues (and MinTTL/DefaultTTL/MaxTTL).",
                label,
                pointer + "/ForwardedValues",
                "forwarded-values-with-policy",
            )
        )
    if not cp_id and fv is None:
        out.append(
            ConfigIssue(
                400,
                "InvalidArgument",
                f"Behavior {label!r}: The parameter ForwardedValues is required when a cache policy is not "
                "associated. Set CachePolicyId (e.g. CachingDisabled) or ForwardedValues.",
                label,
                pointer,
                "no-cache-settings",
            )
        )
    # controlling-origin-requests.html: "you must attach a cache policy to the same cache behavior".
    if orp_id and not cp_id:
        out.append(
            ConfigIssue(
                400,
                "InvalidArgument",
                f"Behavior {label!r}: an origin request policy needs a cache policy on the same behavior. "
                "Set CachePolicyId (CachingDisabled 4135ea2d-6df8-44a3-9df3-4b5a84be39ad for an API).",
                label,
                pointer + "/OriginRequestPolicyId",
                "orp-without-cache-policy",
                doc_url=DOC + "controlling-origin-requests.html",
            )
        )
    if cp_id:
        cp = resolve_cache_policy(str(cp_id), policies)
        if cp is None:
            out.append(
                ConfigIssue(
                    404,
                    "NoSuchCachePolicy",
                    f"Behavior {label!r}: cache policy {cp_id} is neither an AWS managed policy nor in the "
                    "policies given. Pass it with --policies / policies=, or use a managed policy ID.",
                    label,
                    pointer + "/CachePolicyId",
                    "unknown-policy",
                    doc_url=DOC + "using-managed-cache-policies.html",
                )
            )
        elif ttls_all_zero(cp):
            params = cp.get("ParametersInCacheKeyAndForwardedToOrigin") or {}
            keyed = [
                kind
                for kind, cfg, field_ in (
                    ("headers", params.get("HeadersConfig"), "HeaderBehavior"),
                    ("cookies", params.get("CookiesConfig"), "CookieBehavior"),
                    ("query strings", params.get("QueryStringsConfig"), "QueryStringBehavior"),
                )
                if isinstance(cfg, dict) and cfg.get(field_, "none") != "none"
            ]
            if keyed:
                # Seen as "Invalid request" by CDK/CloudFormation users (aws-cdk issues 13441, 16977).
                out.append(
                    ConfigIssue(
                        400,
                        "InvalidArgument",
                        f"Behavior {label!r}: cache policy {cp_id} has MinTTL=DefaultTTL=MaxTTL=0 but puts "
                        f"{', '.join(keyed)} in the cache key; AWS rejects that. Set MaxTTL >= 1, or move "
                        "them to an origin request policy.",
                        label,
                        pointer + "/CachePolicyId",
                        "zero-ttl-keys",
                        doc_url=DOC + "controlling-the-cache-key.html",
                    )
                )
    if orp_id and resolve_origin_request_policy(str(orp_id), policies) is None:
        out.append(
            ConfigIssue(
                404,
                "NoSuchOriginRequestPolicy",
                f"Behavior {label!r}: origin request policy {orp_id} is neither an AWS managed policy nor in "
                "the policies given. Pass it with --policies / policies=, or use a managed policy ID.",
                label,
                pointer + "/OriginRequestPolicyId",
                "unknown-policy",
                doc_url=DOC + "using-managed-origin-request-policies.html",
            )
        )
    if isinstance(fv, dict) and target in s3_ids:
        names = [str(h).lower() for h in items(fv.get("Headers"))]
        if "host" in names:
            # RequestAndResponseBehaviorCustomOrigin.html / S3 origin page: caching on Host is not
            # possible for S3 origins.
            out.append(
                ConfigIssue(
                    400,
                    "InvalidHeadersForS3Origin",
                    f"Behavior {label!r}: an S3 origin cannot cache on the Host header. Remove Host from "
                    "ForwardedValues.Headers.",
                    label,
                    pointer + "/ForwardedValues/Headers",
                    "s3-host",
                    doc_url=DOC + "RequestAndResponseBehaviorS3Origin.html",
                )
            )


def validate(config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[ConfigIssue]:
    """Every problem AWS would reject in ``config``, in document order."""
    out: list[ConfigIssue] = []
    _quantities(config, "", out)
    origin_list = [o for o in items(config.get("Origins")) if isinstance(o, dict)]
    origin_ids = {str(o.get("Id")) for o in origin_list}
    s3_ids = {str(o.get("Id")) for o in origin_list if "S3OriginConfig" in o}
    for i, raw in enumerate(items(config.get("CacheBehaviors"))):
        if not isinstance(raw, dict):
            continue
        pointer = f"/CacheBehaviors/Items/{i}"
        pattern = raw.get("PathPattern")
        problem = pattern_problem(pattern)
        label = str(pattern) if isinstance(pattern, str) else ""
        if problem:
            out.append(
                ConfigIssue(
                    400,
                    "InvalidArgument",
                    f"Behavior {i}: {problem}",
                    label,
                    pointer + "/PathPattern",
                    "bad-pattern",
                    doc_url=DOC + "DownloadDistValuesCacheBehavior.html",
                )
            )
        _behavior_issues(raw, label, pointer, origin_ids, s3_ids, policies, out)
    default = config.get("DefaultCacheBehavior")
    if isinstance(default, dict):
        _behavior_issues(default, "default", "/DefaultCacheBehavior", origin_ids, s3_ids, policies, out)
    return out
