"""A cache behavior resolved once: its origin, methods, and what it forwards (query, cookies, headers).

Resolving is the slow part (policy lookups, pattern compilation), so the model does it once per
distribution and reuses the result for every simulated request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from runbook_lib.cloudfront.patterns import compile_pattern
from runbook_lib.cloudfront.policies import (
    ALL_VIEWER,
    ALL_VIEWER_AND_CLOUDFRONT_HEADERS,
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    ELEMENTAL_MEDIATAILOR,
    resolve_cache_policy,
    resolve_origin_request_policy,
)
from runbook_lib.errors import ConfigError

__all__ = ["EXECUTE_API", "Behavior", "Origin", "Selector", "compile_behaviors", "items", "query_key_matcher"]

#: An API Gateway default endpoint (no custom domain): https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html
EXECUTE_API = re.compile(r"^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_S3_DOMAIN = re.compile(r"\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")

#: Managed all-viewer ORPs whose S3 rule strips response-content-* query strings (current page
#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html;
#: "applies to managed policies only").
_S3_STRIP_POLICIES = frozenset(
    {ALL_VIEWER, ALL_VIEWER_AND_CLOUDFRONT_HEADERS, ALL_VIEWER_EXCEPT_HOST_HEADER, ELEMENTAL_MEDIATAILOR}
)
_S3_STRIPPED_QUERY = frozenset({"response-content-type", "response-content-disposition", "response-content-encoding"})
_DEFAULT_METHODS = frozenset({"GET", "HEAD"})  # AllowedMethods when omitted (API default)


def items(container: Any) -> list[Any]:
    """The ``Items`` list of a boto3 ``{Quantity, Items}`` container (``[]`` when absent)."""
    if not isinstance(container, dict):
        return []
    found = container.get("Items") or []
    if not isinstance(found, list):
        raise ConfigError(f"Expected a list under Items, found {type(found).__name__}. Use boto3 shape.")
    return found


@dataclass(frozen=True, slots=True)
class Selector:
    """Which names of one kind (query keys, cookies or headers) reach the origin.

    ``kind`` is "none", "all", "only" (names) or "except" (all but names). ``regex`` is set for
    legacy cookie whitelists, whose names may use ``*`` and ``?``.
    """

    kind: str = "none"
    names: frozenset[str] = frozenset()
    regex: re.Pattern[str] | None = None

    def includes(self, name: str) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "none":
            return False
        hit = name in self.names or (self.regex is not None and self.regex.fullmatch(name) is not None)
        return hit if self.kind == "only" else not hit

    def merge(self, other: Selector) -> Selector:
        """Cache policy ``self`` + origin request policy ``other``, per the table in
        https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-how-origin-request-policies-and-cache-policies-work-together.html
        : an allow list in either policy overrides a block list in the other; two block lists
        exclude the values named in either; "all" in either includes everything."""
        a, b = self, other
        if a.kind == "all" or b.kind == "all":
            return Selector("all")
        if a.kind == "none":
            return b
        if b.kind == "none":
            return a
        if a.kind == "only" and b.kind == "only":
            return Selector("only", a.names | b.names)
        if a.kind == "except" and b.kind == "except":
            return Selector("except", a.names | b.names)
        allow, block = (a, b) if a.kind == "only" else (b, a)
        return Selector("except", block.names - allow.names)


def query_key_matcher(sel: Selector) -> Callable[[str], bool]:
    """Match a raw query key against a policy's names.

    Decision (not documented by AWS): a key matches when its raw text *or* its percent-decoded
    text equals a configured name, case-sensitively (names are case-sensitive:
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/QueryStringParameters.html).
    ``+`` is left alone (it is only a space in form encoding). So ``since`` and ``%73ince`` both
    match a whitelist entry ``since``, and a configured name is never missed because a client
    encoded it differently.
    """
    includes = sel.includes
    if sel.kind in ("all", "none"):
        return lambda _key: includes("")

    def match(key: str) -> bool:
        if "%" in key:
            decoded = unquote(key)
            hit = key in sel.names or decoded in sel.names
            return hit if sel.kind == "only" else not hit
        return includes(key)

    return match


@dataclass(frozen=True, slots=True)
class Origin:
    id: str
    domain: str
    path: str
    custom_headers: tuple[tuple[str, str], ...]  # (lowercase name, value)
    is_s3: bool
    is_execute_api: bool
    is_custom: bool


@dataclass(slots=True)
class Behavior:
    label: str  # PathPattern, or "default"
    pointer: str  # JSON pointer of the behavior in the DistributionConfig
    matcher: Callable[[str], re.Match[str] | None]
    raw: dict[str, Any]
    origin: Origin | None
    allowed: frozenset[str]
    cached: frozenset[str]
    protocol: str
    legacy: bool
    query: Selector
    query_match: Callable[[str], bool]
    cache_query: Selector
    cookies: Selector
    headers: Selector  # lowercase names
    cache_headers: Selector  # lowercase names in the cache key
    gzip: bool
    brotli: bool
    caching: bool  # responses may be cached (some TTL > 0 and not legacy "all headers")
    s3_strip: frozenset[str]
    cf_headers: frozenset[str]  # CloudFront-* headers CloudFront generates for this behavior
    cache_policy_id: str | None
    origin_request_policy_id: str | None
    auth_in_orp_whitelist: bool
    all_viewer_orp: bool


def _names(config: Any, list_key: str, lower: bool = False) -> frozenset[str]:
    found = items((config or {}).get(list_key))
    return frozenset(str(n).lower() if lower else str(n) for n in found)


def _policy_selector(config: Any, behavior_key: str, list_key: str, lower: bool = False) -> Selector:
    if not isinstance(config, dict):
        return Selector("none")
    kind = config.get(behavior_key, "none")
    names = _names(config, list_key, lower)
    mapping = {
        "none": "none",
        "all": "all",
        "whitelist": "only",
        "allExcept": "except",
        "allViewer": "all",
        "allViewerAndWhitelistCloudFront": "all",
    }
    return Selector(mapping.get(str(kind), "none"), names)


def _glob_regex(names: list[str]) -> re.Pattern[str]:
    # Legacy cookie whitelists accept "*" (0+ chars) and "?" (one char); names are case-sensitive.
    parts = ["".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in n) for n in names]
    return re.compile("|".join(f"(?:{p})" for p in parts) or "(?!)", re.DOTALL)


def _origin(raw: dict[str, Any]) -> Origin:
    domain = str(raw.get("DomainName", ""))
    headers = tuple(
        (str(h.get("HeaderName", "")).lower(), str(h.get("HeaderValue", "")))
        for h in items(raw.get("CustomHeaders"))
        if isinstance(h, dict)
    )
    is_s3 = "S3OriginConfig" in raw or ("CustomOriginConfig" not in raw and _S3_DOMAIN.search(domain) is not None)
    return Origin(
        id=str(raw.get("Id", "")),
        domain=domain,
        path=str(raw.get("OriginPath") or ""),
        custom_headers=headers,
        is_s3=is_s3,
        is_execute_api=EXECUTE_API.match(domain.lower()) is not None,
        is_custom=not is_s3,
    )


@dataclass(slots=True)
class _Forwarding:
    """What one behavior forwards and keys on, before it becomes a :class:`Behavior`."""

    query: Selector
    cache_query: Selector
    cookies: Selector
    headers: Selector
    cache_headers: Selector
    gzip: bool
    brotli: bool
    caching: bool
    s3_strip: frozenset[str] = frozenset()
    cf_headers: frozenset[str] = frozenset()
    auth_in_orp: bool = False
    all_viewer_orp: bool = False


def _methods(raw: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    allowed_cfg = raw.get("AllowedMethods")
    allowed = frozenset(str(m).upper() for m in items(allowed_cfg)) or _DEFAULT_METHODS
    cached = frozenset(str(m).upper() for m in items((allowed_cfg or {}).get("CachedMethods")))
    return allowed, cached or _DEFAULT_METHODS


def _legacy_cookies(fv: dict[str, Any]) -> Selector:
    ck = fv.get("Cookies") or {}
    forward = str(ck.get("Forward", "none"))
    if forward == "all":
        return Selector("all")
    if forward == "whitelist":
        return Selector("only", frozenset(), _glob_regex([str(n) for n in items(ck.get("WhitelistedNames"))]))
    return Selector("none")


def _legacy_forwarding(raw: dict[str, Any]) -> _Forwarding:
    fv = raw.get("ForwardedValues")
    fv = fv if isinstance(fv, dict) else {}
    query = Selector("all") if fv.get("QueryString") else Selector("none")
    cache_query = (
        Selector("only", _names(fv, "QueryStringCacheKeys"))
        if fv.get("QueryString") and items(fv.get("QueryStringCacheKeys"))
        else query
    )
    hdr_names = [str(h).lower() for h in items(fv.get("Headers"))]
    headers = Selector("all") if "*" in hdr_names else Selector("only", frozenset(hdr_names))
    # header-caching.html: forwarding all headers ("*") means CloudFront caches nothing.
    ttls = [raw.get("MinTTL", 0), raw.get("DefaultTTL", 86400), raw.get("MaxTTL", 31536000)]
    return _Forwarding(
        query=query,
        cache_query=cache_query,
        cookies=_legacy_cookies(fv),
        headers=headers,
        cache_headers=headers,
        gzip=bool(raw.get("Compress")),
        brotli=False,
        caching=headers.kind != "all" and any(_num(t) > 0 for t in ttls),
    )


def _policy_forwarding(raw: dict[str, Any], origin: Origin | None, policies: dict[str, Any] | None) -> _Forwarding:
    cp = resolve_cache_policy(str(raw.get("CachePolicyId")), policies) or {}
    params = cp.get("ParametersInCacheKeyAndForwardedToOrigin") or {}
    cache_query = _policy_selector(params.get("QueryStringsConfig"), "QueryStringBehavior", "QueryStrings")
    cache_headers = _policy_selector(params.get("HeadersConfig"), "HeaderBehavior", "Headers", lower=True)
    out = _Forwarding(
        query=cache_query,
        cache_query=cache_query,
        cookies=_policy_selector(params.get("CookiesConfig"), "CookieBehavior", "Cookies"),
        headers=cache_headers,
        cache_headers=cache_headers,
        gzip=bool(params.get("EnableAcceptEncodingGzip")),
        brotli=bool(params.get("EnableAcceptEncodingBrotli")),
        caching=_num(cp.get("MaxTTL", 0)) > 0 if cp else False,
    )
    orp_id = raw.get("OriginRequestPolicyId") or None
    if orp_id:
        _add_origin_request_policy(out, str(orp_id), origin, policies)
    out.cf_headers |= frozenset(n for n in cache_headers.names if n.startswith("cloudfront-"))
    return out


def _add_origin_request_policy(
    out: _Forwarding, orp_id: str, origin: Origin | None, policies: dict[str, Any] | None
) -> None:
    orp = resolve_origin_request_policy(orp_id, policies) or {}
    hc = orp.get("HeadersConfig") or {}
    o_headers = _policy_selector(hc, "HeaderBehavior", "Headers", lower=True)
    hb = hc.get("HeaderBehavior")
    out.all_viewer_orp = hb in ("allViewer", "allViewerAndWhitelistCloudFront") or (
        hb == "allExcept" and "authorization" not in o_headers.names
    )
    if hb == "allViewerAndWhitelistCloudFront":
        out.cf_headers = o_headers.names
        o_headers = Selector("all")
    elif hb == "whitelist":
        out.cf_headers = frozenset(n for n in o_headers.names if n.startswith("cloudfront-"))
        out.auth_in_orp = "authorization" in o_headers.names
    out.query = out.query.merge(_policy_selector(orp.get("QueryStringsConfig"), "QueryStringBehavior", "QueryStrings"))
    out.cookies = out.cookies.merge(_policy_selector(orp.get("CookiesConfig"), "CookieBehavior", "Cookies"))
    out.headers = out.headers.merge(o_headers)
    if origin is not None and origin.is_s3 and orp_id in _S3_STRIP_POLICIES:
        out.s3_strip = _S3_STRIPPED_QUERY


def _compile_one(
    raw: dict[str, Any], label: str, pointer: str, origins: dict[str, Origin], policies: dict[str, Any] | None
) -> Behavior:
    allowed, cached = _methods(raw)
    origin = origins.get(str(raw.get("TargetOriginId", "")))
    cp_id = raw.get("CachePolicyId") or None
    orp_id = raw.get("OriginRequestPolicyId") or None
    legacy = cp_id is None
    fw = _legacy_forwarding(raw) if legacy else _policy_forwarding(raw, origin, policies)
    return Behavior(
        label=label,
        pointer=pointer,
        matcher=compile_pattern(label if label != "default" else "*"),
        raw=raw,
        origin=origin,
        allowed=allowed,
        cached=cached,
        protocol=str(raw.get("ViewerProtocolPolicy", "allow-all")),
        legacy=legacy,
        query=fw.query,
        query_match=query_key_matcher(fw.query),
        cache_query=fw.cache_query,
        cookies=fw.cookies,
        headers=fw.headers,
        cache_headers=fw.cache_headers,
        gzip=fw.gzip,
        brotli=fw.brotli,
        caching=fw.caching,
        s3_strip=fw.s3_strip,
        cf_headers=fw.cf_headers,
        cache_policy_id=str(cp_id) if cp_id else None,
        origin_request_policy_id=str(orp_id) if orp_id else None,
        auth_in_orp_whitelist=fw.auth_in_orp,
        all_viewer_orp=fw.all_viewer_orp,
    )


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def compile_behaviors(config: dict[str, Any], policies: dict[str, Any] | None) -> list[Behavior]:
    """Resolve every behavior of a DistributionConfig, in evaluation order (default last)."""
    if not isinstance(config, dict):
        raise ConfigError(
            f"Expected a DistributionConfig dict, found {type(config).__name__}. "
            "Pass get_distribution_config()['DistributionConfig']."
        )
    default = config.get("DefaultCacheBehavior")
    if not isinstance(default, dict):
        raise ConfigError(
            "The DistributionConfig has no DefaultCacheBehavior (keys found: "
            f"{', '.join(sorted(config)) or 'none'}). Pass get_distribution_config()['DistributionConfig']."
        )
    origins: dict[str, Origin] = {}
    for raw in items(config.get("Origins")):
        if isinstance(raw, dict):
            origin = _origin(raw)
            origins.setdefault(origin.id, origin)
    out: list[Behavior] = []
    for i, raw in enumerate(items(config.get("CacheBehaviors"))):
        if not isinstance(raw, dict):
            raise ConfigError(f"CacheBehaviors.Items[{i}] is a {type(raw).__name__}, expected a dict.")
        pattern = raw.get("PathPattern")
        label = str(pattern) if isinstance(pattern, str) else ""
        out.append(_compile_one(raw, label, f"/CacheBehaviors/Items/{i}", origins, policies))
    out.append(_compile_one(default, "default", "/DefaultCacheBehavior", origins, policies))
    return out
