"""Values AWS restricts: enums (from botocore's service model, via ``cloudfront/enums.py``), the method
sets, the origin custom header names CloudFront refuses, and DefaultRootObject.

The error codes are the ones botocore's model lists for CreateDistribution/UpdateDistribution; where AWS
does not document which code a bad value gets, the rule uses InvalidArgument (the API's generic 400).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.docs import cloudfront_api, cloudfront_guide
from runbook_lib.cloudfront.enums import allowed
from runbook_lib.cloudfront.fixes import Fix
from runbook_lib.cloudfront.policies import is_managed, resolve_cache_policy, resolve_origin_request_policy
from runbook_lib.cloudfront.rules.base import ConfigIssue, ConfigRule, Site, issue

__all__ = [
    "ALLOWED_METHOD_SETS",
    "CACHED_METHOD_SETS",
    "FORBIDDEN_CUSTOM_HEADERS",
    "FORBIDDEN_CUSTOM_HEADER_PREFIXES",
    "VALUE_RULES",
    "distribution_value_issues",
]

#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesAllowedHTTPMethods
#: "GET, HEAD", "GET, HEAD, OPTIONS" or all seven; nothing else.
ALLOWED_METHOD_SETS = (
    frozenset({"GET", "HEAD"}),
    frozenset({"GET", "HEAD", "OPTIONS"}),
    frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}),
)
#: Same page, "Cached HTTP methods": GET and HEAD are always cached, OPTIONS optionally.
CACHED_METHOD_SETS = (frozenset({"GET", "HEAD"}), frozenset({"GET", "HEAD", "OPTIONS"}))

_METHODS_PAGE = cloudfront_guide("DownloadDistValuesCacheBehavior.html#DownloadDistValuesAllowedHTTPMethods")
_BEHAVIOR_API = cloudfront_api("API_CacheBehavior.html")
_HEADERS_PAGE = cloudfront_guide("add-origin-custom-headers.html#add-origin-custom-headers-denylist")
_ROOT_PAGE = cloudfront_api("API_DistributionConfig.html")

#: add-origin-custom-headers.html, "Custom headers that CloudFront can't add to origin requests".
FORBIDDEN_CUSTOM_HEADERS = frozenset(
    {
        "cache-control",
        "connection",
        "content-length",
        "cookie",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "max-forwards",
        "pragma",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "range",
        "request-range",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-real-ip",
    }
)
#: Same list: "Headers that begin with X-Amz-" and "Headers that begin with X-Edge-".
FORBIDDEN_CUSTOM_HEADER_PREFIXES = ("x-amz-", "x-edge-")


def _not_in(value: Any, shape: str, where: str) -> str | None:
    choices = allowed(shape)
    if value in choices:
        return None
    return f"{where} is {value!r}; AWS accepts {', '.join(choices)}."


# --- distribution-wide --------------------------------------------------------------------------------


def _default_root_object(config: dict[str, Any]) -> Iterator[ConfigIssue]:
    # API_DistributionConfig.html, DefaultRootObject: "can't begin with a forward slash".
    root = config.get("DefaultRootObject")
    if isinstance(root, str) and root.startswith("/"):
        fixed = root.lstrip("/")
        yield issue(
            "InvalidDefaultRootObject",
            f"DefaultRootObject {root!r} begins with '/'; AWS rejects that. Use {fixed!r}.",
            _ROOT_PAGE,
            "/DefaultRootObject",
            "default-root-object",
            fix=Fix(
                f"Set DefaultRootObject to {fixed!r}.",
                [{"op": "replace", "path": "/DefaultRootObject", "value": fixed}],
            ),
        )


def _forbidden_header(name: str) -> bool:
    lname = name.lower()
    return lname in FORBIDDEN_CUSTOM_HEADERS or lname.startswith(FORBIDDEN_CUSTOM_HEADER_PREFIXES)


def _custom_headers(origin: dict[str, Any], pointer: str) -> Iterator[ConfigIssue]:
    headers = [h for h in items(origin.get("CustomHeaders")) if isinstance(h, dict)]
    bad = [str(h.get("HeaderName", "")) for h in headers if _forbidden_header(str(h.get("HeaderName", "")))]
    if not bad:
        return
    kept = [h for h in headers if not _forbidden_header(str(h.get("HeaderName", "")))]
    yield issue(
        "InvalidArgument",
        f"Origin {origin.get('Id')!r}: CloudFront can't add the custom header(s) {', '.join(bad)} to origin "
        "requests. Remove them (a CloudFront Function or Lambda@Edge can set such headers).",
        _HEADERS_PAGE,
        pointer + "/CustomHeaders",
        "forbidden-custom-header",
        fix=Fix(
            f"Remove {', '.join(bad)} from the origin's custom headers.",
            [{"op": "replace", "path": pointer + "/CustomHeaders", "value": {"Quantity": len(kept), "Items": kept}}],
        ),
    )


def _origin_protocol(origin: dict[str, Any], pointer: str) -> Iterator[ConfigIssue]:
    custom = origin.get("CustomOriginConfig")
    if not isinstance(custom, dict) or "OriginProtocolPolicy" not in custom:
        return
    problem = _not_in(custom["OriginProtocolPolicy"], "OriginProtocolPolicy", "OriginProtocolPolicy")
    if problem:
        yield issue(
            "InvalidArgument",
            f"Origin {origin.get('Id')!r}: {problem}",
            cloudfront_api("API_CustomOriginConfig.html"),
            pointer + "/CustomOriginConfig/OriginProtocolPolicy",
            "bad-enum",
        )


def distribution_value_issues(config: dict[str, Any]) -> Iterator[ConfigIssue]:
    """DefaultRootObject, then each origin's protocol policy and custom header names."""
    yield from _default_root_object(config)
    for i, origin in enumerate(items(config.get("Origins"))):
        if isinstance(origin, dict):
            yield from _origin_protocol(origin, f"/Origins/Items/{i}")
            yield from _custom_headers(origin, f"/Origins/Items/{i}")


# --- per behavior -------------------------------------------------------------------------------------


def _viewer_protocol(s: Site) -> str | None:
    if "ViewerProtocolPolicy" not in s.raw:
        return None
    problem = _not_in(s.raw["ViewerProtocolPolicy"], "ViewerProtocolPolicy", "ViewerProtocolPolicy")
    return f"Behavior {s.label!r}: {problem}" if problem else None


def _method_names(container: Any) -> list[str]:
    return [str(m) for m in items(container)]


def _bad_methods(s: Site) -> str | None:
    cfg = s.raw.get("AllowedMethods")
    if not isinstance(cfg, dict):
        return None
    problems = []
    known = allowed("Method")
    allowed_m, cached_m = _method_names(cfg), _method_names(cfg.get("CachedMethods"))
    unknown = [m for m in allowed_m + cached_m if m not in known]
    if unknown:
        problems.append(f"{', '.join(unknown)} is not a method AWS knows ({', '.join(known)})")
    if frozenset(allowed_m) not in ALLOWED_METHOD_SETS:
        problems.append(
            f"AllowedMethods {', '.join(allowed_m) or '(none)'} is not one of the three sets AWS accepts: "
            "GET, HEAD; GET, HEAD, OPTIONS; or all seven"
        )
    if "CachedMethods" in cfg and frozenset(cached_m) not in CACHED_METHOD_SETS:
        problems.append(f"CachedMethods {', '.join(cached_m) or '(none)'} is not GET, HEAD or GET, HEAD, OPTIONS")
    return f"Behavior {s.label!r}: " + "; ".join(problems) + "." if problems else None


def _methods_fix(s: Site) -> Fix:
    cfg = s.raw["AllowedMethods"]
    wanted = frozenset(m.upper() for m in _method_names(cfg))
    chosen = next((m for m in ALLOWED_METHOD_SETS if wanted <= m), ALLOWED_METHOD_SETS[-1])
    ordered = [m for m in allowed("Method") if m in chosen]
    cached = [m for m in ("GET", "HEAD", "OPTIONS") if m in chosen and m in _method_names(cfg.get("CachedMethods"))]
    cached = cached if frozenset(cached) in CACHED_METHOD_SETS else ["GET", "HEAD"]
    value = {"Quantity": len(ordered), "Items": ordered, "CachedMethods": {"Quantity": len(cached), "Items": cached}}
    return Fix(
        f"Allow {', '.join(ordered)} (the smallest set AWS accepts that keeps these methods); cache "
        f"{', '.join(cached)}.",
        [{"op": "replace", "path": f"{s.pointer}/AllowedMethods", "value": value}],
    )


def _cookie_forward(s: Site) -> str | None:
    fv = s.raw.get("ForwardedValues")
    cookies = fv.get("Cookies") if isinstance(fv, dict) else None
    if not isinstance(cookies, dict) or "Forward" not in cookies:
        return None
    problem = _not_in(cookies["Forward"], "ItemSelection", "ForwardedValues.Cookies.Forward")
    return f"Behavior {s.label!r}: {problem}" if problem else None


_POLICY_FIELDS = (
    ("HeadersConfig", "HeaderBehavior"),
    ("CookiesConfig", "CookieBehavior"),
    ("QueryStringsConfig", "QueryStringBehavior"),
)


def _policy_enum_problems(kind: str, policy_id: str, cfg: dict[str, Any]) -> list[str]:
    prefix = "CachePolicy" if kind == "cache" else "OriginRequestPolicy"
    holder = (cfg.get("ParametersInCacheKeyAndForwardedToOrigin") or {}) if kind == "cache" else cfg
    out = []
    for section, key in _POLICY_FIELDS:
        node = holder.get(section)
        if isinstance(node, dict) and key in node:
            problem = _not_in(node[key], prefix + key, f"{section}.{key}")
            if problem:
                out.append(f"{'cache' if kind == 'cache' else 'origin request'} policy {policy_id}: {problem}")
    return out


def _custom_policy_enums(s: Site, kind: str) -> str | None:
    field = "CachePolicyId" if kind == "cache" else "OriginRequestPolicyId"
    policy_id = s.raw.get(field)
    if not policy_id or is_managed(str(policy_id)):
        return None
    resolve = resolve_cache_policy if kind == "cache" else resolve_origin_request_policy
    cfg = resolve(str(policy_id), s.policies)
    problems = _policy_enum_problems(kind, str(policy_id), cfg) if cfg else []
    return f"Behavior {s.label!r}: " + "; ".join(problems) + "." if problems else None


def _cache_policy_enums(s: Site) -> str | None:
    return _custom_policy_enums(s, "cache")


def _origin_request_policy_enums(s: Site) -> str | None:
    return _custom_policy_enums(s, "origin_request")


#: Per-behavior value rules, run after the structural ones in ``rules/config.py``.
VALUE_RULES: tuple[ConfigRule, ...] = (
    ConfigRule("bad-enum", "InvalidArgument", _BEHAVIOR_API, "/ViewerProtocolPolicy", _viewer_protocol),
    ConfigRule("bad-methods", "InvalidArgument", _METHODS_PAGE, "/AllowedMethods", _bad_methods, _methods_fix),
    ConfigRule(
        "bad-enum",
        "InvalidArgument",
        cloudfront_api("API_CookiePreference.html"),
        "/ForwardedValues/Cookies/Forward",
        _cookie_forward,
    ),
    # API_CachePolicyHeadersConfig.html, API_CachePolicyCookiesConfig.html, API_CachePolicyQueryStringsConfig.html
    ConfigRule(
        "bad-policy-enum",
        "InvalidArgument",
        cloudfront_api("API_CachePolicyHeadersConfig.html"),
        "/CachePolicyId",
        _cache_policy_enums,
    ),
    # API_OriginRequestPolicyHeadersConfig.html and its Cookies/QueryStrings siblings.
    ConfigRule(
        "bad-policy-enum",
        "InvalidArgument",
        cloudfront_api("API_OriginRequestPolicyHeadersConfig.html"),
        "/OriginRequestPolicyId",
        _origin_request_policy_enums,
    ),
)
