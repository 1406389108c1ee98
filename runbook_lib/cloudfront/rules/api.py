"""What breaks an API behind a distribution AWS accepts: the rules behind ``diagnose``'s findings.

Each rule has its code, severity, AWS page and a check that returns a :class:`Hit` (the effect, why,
and the smallest fix) or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior, items
from runbook_lib.cloudfront.cautions import CAUTION_AUTH_IN_ORP
from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.fixes import Fix, migration_fix, set_op, use_policies
from runbook_lib.cloudfront.patterns import pattern_covers
from runbook_lib.cloudfront.policies import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED, policy_name

__all__ = ["BEHAVIOR_RULES", "NOTE_RULES", "SHADOWED", "ApiRule", "Hit", "shadowed"]

_LAMBDA_URL = re.compile(r"\.lambda-url\.[a-z0-9-]+\.on\.aws$")
_HOST_403 = "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found on one behavior; ``severity`` overrides the rule's own when set."""

    effect: str
    why: str
    fix: Fix | None
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class ApiRule:
    code: str
    severity: str  # "error" | "warning" | "info"
    doc_url: str
    check: Callable[[Behavior], Hit | None]


def _is_api(b: Behavior) -> bool:
    o = b.origin
    if o is None or not o.is_custom:
        return False
    return (
        o.is_execute_api or _LAMBDA_URL.search(o.domain) is not None or "POST" in b.allowed or "api" in b.label.lower()
    )


def _example_path(label: str) -> str:
    body = "/" + (label if label != "default" else "*").lstrip("/")
    return body.replace("*", "example").replace("?", "x")


def _legacy(b: Behavior) -> bool:
    # A behavior with neither ForwardedValues nor a cache policy (a config error of its own) is
    # fixed the policy way, with CachingDisabled added.
    return b.legacy and isinstance(b.raw.get("ForwardedValues"), dict)


def _base_cache_policy(b: Behavior) -> str | None:
    return CACHING_DISABLED if b.cache_policy_id is None and not _legacy(b) else None


def _legacy_header_names(b: Behavior) -> list[str]:
    return [str(h) for h in items((b.raw.get("ForwardedValues") or {}).get("Headers"))]


def _set_legacy_headers(b: Behavior, names: list[str]) -> dict[str, Any]:
    op = "replace" if "Headers" in (b.raw.get("ForwardedValues") or {}) else "add"
    return {"op": op, "path": f"{b.pointer}/ForwardedValues/Headers", "value": {"Quantity": len(names), "Items": names}}


def _query_strings_dropped(b: Behavior) -> Hit | None:
    o = b.origin
    if o is None or not _is_api(b) or b.query.kind != "none":
        return None
    if _legacy(b):
        fv = b.raw.get("ForwardedValues") or {}
        fix = Fix(
            "Forward query strings (ForwardedValues.QueryString = true).",
            [
                {
                    "op": "replace" if "QueryString" in fv else "add",
                    "path": f"{b.pointer}/ForwardedValues/QueryString",
                    "value": True,
                }
            ],
        )
    else:
        fix = Fix(
            "Attach the AllViewerExceptHostHeader origin request policy (all query strings, "
            "cookies and headers except Host).",
            use_policies(b.pointer, b.raw, _base_cache_policy(b), ALL_VIEWER_EXCEPT_HOST_HEADER),
        )
    example = _example_path(b.label)
    return Hit(
        f"GET {example}?since=2020-01-01 reaches the origin as {o.path}{example} with no query string.",
        "This behavior forwards no query strings: neither its cache policy nor an origin request policy "
        "(or ForwardedValues.QueryString) includes them, and CloudFront sends only what is configured.",
        fix,
        "error" if o.is_execute_api else "warning",
    )


def _host_fix(b: Behavior) -> Fix:
    if _legacy(b):
        fv_headers = _legacy_header_names(b)
        if "*" in fv_headers:
            return Fix(
                "Move to CachingDisabled + AllViewerExceptHostHeader (everything but Host).",
                use_policies(b.pointer, b.raw, CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER),
            )
        kept = [h for h in fv_headers if h.lower() != "host"]
        return Fix("Remove Host from ForwardedValues.Headers.", [_set_legacy_headers(b, kept)])
    # An origin request policy always stays with the fix (AllViewerExceptHostHeader forwards
    # everything but Host); the cache policy changes only if it keys on Host itself.
    cp = CACHING_DISABLED if b.cache_headers.includes("host") else None
    return Fix(
        "Stop forwarding the viewer's Host: use AllViewerExceptHostHeader"
        + (" and CachingDisabled (the cache policy puts Host in the key)" if cp else "")
        + ".",
        use_policies(b.pointer, b.raw, cp, ALL_VIEWER_EXCEPT_HOST_HEADER),
    )


def _viewer_host_to_execute_api(b: Behavior) -> Hit | None:
    if b.origin is None or not b.origin.is_execute_api or not b.headers.includes("host"):
        return None
    return Hit(
        f"Requests to {_example_path(b.label)} reach API Gateway with Host: <your CloudFront domain>; "
        "API Gateway answers 403 Forbidden.",
        "An execute-api endpoint only answers to its own Host name; forwarding the viewer's Host "
        "(AllViewer, a Host whitelist, or a cache policy keyed on Host) breaks it. "
        "AllViewerExceptHostHeader exists for API Gateway origins.",
        _host_fix(b),
    )


def _authorization_not_forwarded(b: Behavior) -> Hit | None:
    if b.origin is None or not _is_api(b) or b.headers.includes("authorization"):
        return None
    if _legacy(b):
        fix = Fix(
            "Add Authorization to ForwardedValues.Headers (it then also keys the cache).",
            [_set_legacy_headers(b, [*_legacy_header_names(b), "Authorization"])],
        )
        what = "GET and HEAD requests"
    else:
        cp = CACHING_DISABLED if b.caching else _base_cache_policy(b)
        fix = Fix(
            "Use CachingDisabled + AllViewerExceptHostHeader: Authorization reaches the API and "
            "no response is shared between users.",
            use_policies(b.pointer, b.raw, cp, ALL_VIEWER_EXCEPT_HOST_HEADER),
        )
        what = "requests"
    return Hit(
        f"{what.capitalize()} to {_example_path(b.label)} reach the origin without their Authorization "
        "header; an API with an IAM, Cognito or Lambda authorizer answers 401/403.",
        "CloudFront removes Authorization unless the cache key or an all-viewer origin request policy "
        "includes it (legacy settings keep it only on DELETE/PATCH/POST/PUT and uncached OPTIONS). "
        "Ignore this if the API does not authenticate callers.",
        fix,
    )


def _authorization_not_in_cache_key(b: Behavior) -> Hit | None:
    if b.legacy or not b.caching or not b.headers.includes("authorization"):
        return None
    if b.cache_headers.includes("authorization"):
        return None
    return Hit(
        f"GET {_example_path(b.label)} with user A's token is cached and served to user B without reaching the origin.",
        f"Cache policy {policy_name(b.cache_policy_id or '')} caches responses but its key does not "
        "include Authorization, while the origin request policy forwards it. (AWS's Knowledge Center "
        "says all-viewer policies forward Authorization only with caching off; "
        "http-401-unauthorized.html does not: the model assumes it is forwarded.)",
        Fix(
            "Use the CachingDisabled cache policy (or put Authorization in the cache key).",
            [set_op(b.pointer, b.raw, "CachePolicyId", CACHING_DISABLED)],
        ),
    )


def _api_prefix_vs_stage(b: Behavior) -> Hit | None:
    o = b.origin
    if o is None or not o.is_execute_api or b.label == "default":
        return None
    first = b.label.lstrip("/").split("/", 1)
    # With no OriginPath the first path segment is the stage itself; with a one-segment OriginPath
    # (the stage) the whole viewer path must be an API route.
    stage_like = len([s for s in o.path.split("/") if s]) == 1
    if len(first) != 2 or not first[0] or any(c in first[0] for c in "*?") or not stage_like:
        return None
    example, prefix = _example_path(b.label), first[0]
    return Hit(
        f"{example} arrives at API Gateway as {o.path}{example}: the API needs a /{prefix} resource, "
        'or it answers 403 {"message":"Missing Authentication Token"}.',
        "CloudFront forwards the whole viewer path after OriginPath; it never strips the part the path "
        "pattern matched. This model cannot see the API's routes, so check them.",
        Fix(
            f"Either add a /{prefix} resource (or proxy) to the API, strip /{prefix} with a CloudFront "
            "Function on viewer-request, or use a custom domain with a base path mapping.",
            [],
        ),
    )


def _legacy_settings(b: Behavior) -> Hit | None:
    if b.origin is None or not b.legacy or "ForwardedValues" not in b.raw:
        return None
    return Hit(
        "Requests are handled by the legacy cache settings (ForwardedValues).",
        "AWS recommends cache and origin request policies; several forwarding rules (Authorization, "
        "Brotli) differ under legacy settings.",
        migration_fix(b),
    )


def _authorization_in_orp(b: Behavior) -> Hit | None:
    # A caution, not a config error: the newest AWS text allows it (docs/aws-behaviour.md).
    if not b.auth_in_orp_whitelist:
        return None
    return Hit("The model assumes Authorization is forwarded to the origin.", CAUTION_AUTH_IN_ORP, None)


#: Per-behavior rules, in the order their findings are reported for each behavior.
BEHAVIOR_RULES: tuple[ApiRule, ...] = (
    ApiRule(
        "query-strings-dropped", "warning", cloudfront_guide("controlling-origin-requests.html"), _query_strings_dropped
    ),
    ApiRule("viewer-host-to-execute-api", "error", _HOST_403, _viewer_host_to_execute_api),
    ApiRule(
        "authorization-not-forwarded",
        "warning",
        cloudfront_guide("http-401-unauthorized.html"),
        _authorization_not_forwarded,
    ),
    ApiRule(
        "authorization-not-in-cache-key",
        "error",
        cloudfront_guide("http-401-unauthorized.html"),
        _authorization_not_in_cache_key,
    ),
    ApiRule(
        "api-prefix-vs-stage",
        "warning",
        cloudfront_guide("DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath"),
        _api_prefix_vs_stage,
    ),
    ApiRule("legacy-settings", "info", cloudfront_guide("controlling-the-cache-key.html"), _legacy_settings),
)

#: Rules reported after every behavior's findings (notes about doubtful points).
NOTE_RULES: tuple[ApiRule, ...] = (
    ApiRule(
        "authorization-in-origin-request-policy",
        "info",
        cloudfront_guide("http-401-unauthorized.html"),
        _authorization_in_orp,
    ),
)

#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern
SHADOWED = ApiRule(
    "pattern-shadowed",
    "warning",
    cloudfront_guide("DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern"),
    lambda _b: None,  # needs every behavior at once: see shadowed()
)


def _shadow_fix(config: dict[str, Any], earlier: Behavior, later: Behavior) -> Fix:
    if pattern_covers(later.label, earlier.label):
        n = len(items(config.get("CacheBehaviors")))
        return Fix(
            f"Remove the duplicate behavior {later.label!r}.",
            [
                {"op": "remove", "path": later.pointer},
                {"op": "replace", "path": "/CacheBehaviors/Quantity", "value": n - 1},
            ],
        )
    return Fix(
        f"Move {later.label!r} before {earlier.label!r}.",
        [{"op": "move", "from": later.pointer, "path": earlier.pointer}],
    )


def shadowed(config: dict[str, Any], behaviors: list[Behavior]) -> Iterator[tuple[Behavior, Hit]]:
    """Behaviors no request can reach: an earlier pattern matches every path they would (rule ``SHADOWED``)."""
    named = [b for b in behaviors if b.label not in ("default", "")]
    for j, later in enumerate(named):
        earlier = next((named[i] for i in range(j) if pattern_covers(named[i].label, later.label)), None)
        if earlier is None:
            continue
        yield (
            later,
            Hit(
                f"No request ever uses {later.label!r}: {earlier.label!r} comes first and matches every path it would.",
                "Behaviors are evaluated in order and the first match wins.",
                _shadow_fix(config, earlier, later),
            ),
        )
