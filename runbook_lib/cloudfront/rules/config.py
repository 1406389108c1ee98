"""What AWS would reject in a DistributionConfig: the model's ``config_errors``.

Each rule carries the HTTP status and error code the CloudFront API answers with (from botocore's
service model: InconsistentQuantities 400, NoSuchOrigin 404, NoSuchCachePolicy 404, ...), the AWS page
it rests on, its predicate, and the fix. ``config_issues`` runs them in document order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.docs import cloudfront_api, cloudfront_guide
from runbook_lib.cloudfront.fixes import Fix, drop_legacy, use_policies
from runbook_lib.cloudfront.patterns import pattern_problem
from runbook_lib.cloudfront.policies import CACHING_DISABLED, resolve_cache_policy, resolve_origin_request_policy
from runbook_lib.cloudfront.rules.base import ConfigIssue, ConfigRule, Site, issue
from runbook_lib.cloudfront.rules.values import VALUE_RULES, distribution_value_issues

__all__ = ["BEHAVIOR_RULES", "ConfigIssue", "config_issues", "ttls_all_zero"]


_DEFAULT_PAGE = cloudfront_guide("distribution-web-values-specify.html")


def ttls_all_zero(cache_policy: dict[str, Any]) -> bool:
    """Whether a cache policy caches nothing (MinTTL = DefaultTTL = MaxTTL = 0)."""
    return all(cache_policy.get(k, 0) in (0, None) for k in ("MinTTL", "DefaultTTL", "MaxTTL"))


# --- distribution-wide ------------------------------------------------------------------------------


def _quantities(node: Any, pointer: str) -> Iterator[ConfigIssue]:
    # Every {Quantity, Items} list must agree (botocore's model: InconsistentQuantities, 400).
    if isinstance(node, dict):
        if "Quantity" in node:
            found = node.get("Items") or []
            n = max(len(found) if isinstance(found, list) else -1, 0)
            if node["Quantity"] != n:
                yield issue(
                    "InconsistentQuantities",
                    f"{pointer or '/'}: Quantity is {node['Quantity']!r} but Items has {n} entries. "
                    f"Set Quantity to {n}.",
                    _DEFAULT_PAGE,
                    pointer + "/Quantity",
                    "quantity",
                    fix=Fix(
                        f"Set {pointer}/Quantity to {n}.",
                        [{"op": "replace", "path": pointer + "/Quantity", "value": n}],
                    ),
                )
        for key, value in node.items():
            yield from _quantities(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _quantities(value, f"{pointer}/{i}")


# --- per behavior -----------------------------------------------------------------------------------


def _no_origin(s: Site) -> str | None:
    target = s.raw.get("TargetOriginId")
    if target in s.origin_ids:
        return None
    return (
        f"Behavior {s.label!r}: TargetOriginId {target!r} is not an origin of this distribution "
        f"(origins: {', '.join(sorted(s.origin_ids)) or 'none'}). Point it at one of them."
    )


def _fv_with_policy(s: Site) -> str | None:
    if not (s.raw.get("CachePolicyId") and s.raw.get("ForwardedValues") is not None):
        return None
    return (
        f"Behavior {s.label!r}: The parameter ForwardedValues cannot be used when a cache policy is "
        "associated. Remove ForwardedValues (and MinTTL/DefaultTTL/MaxTTL)."
    )


def _drop_legacy_fix(s: Site) -> Fix:
    return Fix(
        "Remove the legacy ForwardedValues and TTL fields; the cache policy replaces them.",
        drop_legacy(s.pointer, s.raw),
    )


def _no_cache_settings(s: Site) -> str | None:
    if s.raw.get("CachePolicyId") or s.raw.get("ForwardedValues") is not None:
        return None
    return (
        f"Behavior {s.label!r}: The parameter ForwardedValues is required when a cache policy is not "
        "associated. Set CachePolicyId (e.g. CachingDisabled) or ForwardedValues."
    )


def _caching_disabled_fix(s: Site) -> Fix:
    return Fix(
        "Attach the CachingDisabled managed cache policy (no caching: right for an API).",
        use_policies(s.pointer, s.raw, CACHING_DISABLED, None),
    )


def _orp_without_cp(s: Site) -> str | None:
    if not s.raw.get("OriginRequestPolicyId") or s.raw.get("CachePolicyId"):
        return None
    return (
        f"Behavior {s.label!r}: an origin request policy needs a cache policy on the same behavior. "
        f"Set CachePolicyId (CachingDisabled {CACHING_DISABLED} for an API)."
    )


def _unknown(s: Site, field: str, what: str) -> str | None:
    policy_id = s.raw.get(field)
    resolve = resolve_cache_policy if field == "CachePolicyId" else resolve_origin_request_policy
    if not policy_id or resolve(str(policy_id), s.policies) is not None:
        return None
    return (
        f"Behavior {s.label!r}: {what} {policy_id} is neither an AWS managed policy nor in the "
        "policies given. Pass it with --policies / policies=, or use a managed policy ID."
    )


def _unknown_cache_policy(s: Site) -> str | None:
    return _unknown(s, "CachePolicyId", "cache policy")


def _unknown_orp(s: Site) -> str | None:
    return _unknown(s, "OriginRequestPolicyId", "origin request policy")


def _zero_ttl_keys(s: Site) -> str | None:
    cp_id = s.raw.get("CachePolicyId")
    cp = resolve_cache_policy(str(cp_id), s.policies) if cp_id else None
    if cp is None or not ttls_all_zero(cp):
        return None
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
    if not keyed:
        return None
    # Seen as "Invalid request" by CDK/CloudFormation users (aws-cdk issues 13441, 16977).
    return (
        f"Behavior {s.label!r}: cache policy {cp_id} has MinTTL=DefaultTTL=MaxTTL=0 but puts "
        f"{', '.join(keyed)} in the cache key; AWS rejects that. Set MaxTTL >= 1, or move "
        "them to an origin request policy."
    )


def _legacy_headers(s: Site) -> list[str]:
    fv = s.raw.get("ForwardedValues")
    return [str(h) for h in items(fv.get("Headers"))] if isinstance(fv, dict) else []


def _s3_host(s: Site) -> str | None:
    if s.raw.get("TargetOriginId") not in s.s3_ids:
        return None
    if "host" not in (h.lower() for h in _legacy_headers(s)):
        return None
    return (
        f"Behavior {s.label!r}: an S3 origin cannot cache on the Host header. Remove Host from ForwardedValues.Headers."
    )


def _s3_host_fix(s: Site) -> Fix:
    names = [h for h in _legacy_headers(s) if h.lower() != "host"]
    return Fix(
        "Remove Host from the forwarded headers.",
        [
            {
                "op": "replace",
                "path": f"{s.pointer}/ForwardedValues/Headers",
                "value": {"Quantity": len(names), "Items": names},
            }
        ],
    )


#: The behavior rules, in the order their issues are reported.
BEHAVIOR_RULES: tuple[ConfigRule, ...] = (
    ConfigRule("no-origin", "NoSuchOrigin", _DEFAULT_PAGE, "/TargetOriginId", _no_origin),
    ConfigRule(
        "forwarded-values-with-policy",
        "InvalidArgument",
        cloudfront_api("API_CacheBehavior.html"),
        "/ForwardedValues",
        _fv_with_policy,
        _drop_legacy_fix,
    ),
    ConfigRule("no-cache-settings", "InvalidArgument", _DEFAULT_PAGE, "", _no_cache_settings, _caching_disabled_fix),
    # controlling-origin-requests.html: "you must attach a cache policy to the same cache behavior".
    ConfigRule(
        "orp-without-cache-policy",
        "InvalidArgument",
        cloudfront_guide("controlling-origin-requests.html"),
        "/OriginRequestPolicyId",
        _orp_without_cp,
        _caching_disabled_fix,
    ),
    ConfigRule(
        "unknown-policy",
        "NoSuchCachePolicy",
        cloudfront_guide("using-managed-cache-policies.html"),
        "/CachePolicyId",
        _unknown_cache_policy,
    ),
    ConfigRule(
        "zero-ttl-keys",
        "InvalidArgument",
        cloudfront_guide("controlling-the-cache-key.html"),
        "/CachePolicyId",
        _zero_ttl_keys,
    ),
    ConfigRule(
        "unknown-policy",
        "NoSuchOriginRequestPolicy",
        cloudfront_guide("using-managed-origin-request-policies.html"),
        "/OriginRequestPolicyId",
        _unknown_orp,
    ),
    # RequestAndResponseBehaviorS3Origin.html: caching on Host is not possible for S3 origins.
    ConfigRule(
        "s3-host",
        "InvalidHeadersForS3Origin",
        cloudfront_guide("RequestAndResponseBehaviorS3Origin.html"),
        "/ForwardedValues/Headers",
        _s3_host,
        _s3_host_fix,
    ),
)


def _pattern_issue(raw: dict[str, Any], index: int, pointer: str) -> ConfigIssue | None:
    pattern = raw.get("PathPattern")
    problem = pattern_problem(pattern)
    if problem is None:
        return None
    return issue(
        "InvalidArgument",
        f"Behavior {index}: {problem}",
        cloudfront_guide("DownloadDistValuesCacheBehavior.html"),
        pointer + "/PathPattern",
        "bad-pattern",
        str(pattern) if isinstance(pattern, str) else "",
    )


def _sites(config: dict[str, Any], policies: dict[str, Any] | None) -> Iterator[tuple[int | None, Site]]:
    origin_list = [o for o in items(config.get("Origins")) if isinstance(o, dict)]
    origin_ids = frozenset(str(o.get("Id")) for o in origin_list)
    s3_ids = frozenset(str(o.get("Id")) for o in origin_list if "S3OriginConfig" in o)
    for i, raw in enumerate(items(config.get("CacheBehaviors"))):
        if isinstance(raw, dict):
            pattern = raw.get("PathPattern")
            label = str(pattern) if isinstance(pattern, str) else ""
            yield i, Site(raw, label, f"/CacheBehaviors/Items/{i}", origin_ids, s3_ids, policies)
    default = config.get("DefaultCacheBehavior")
    if isinstance(default, dict):
        yield None, Site(default, "default", "/DefaultCacheBehavior", origin_ids, s3_ids, policies)


def config_issues(config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[ConfigIssue]:
    """Every problem AWS would reject in ``config``, in document order."""
    out = list(_quantities(config, ""))
    out += distribution_value_issues(config)
    for index, site in _sites(config, policies):
        if index is not None:
            bad_pattern = _pattern_issue(site.raw, index, site.pointer)
            if bad_pattern is not None:
                out.append(bad_pattern)
        for rule in BEHAVIOR_RULES + VALUE_RULES:
            message = rule.check(site)
            if message is not None:
                out.append(rule.issue(site, message))
    return out
