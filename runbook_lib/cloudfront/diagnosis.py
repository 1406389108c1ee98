"""Diagnose a DistributionConfig: what breaks an API behind CloudFront, why, and the smallest fix.

Every finding names the AWS page it rests on and carries a JSON-patch fix plus the fixed config,
so a notebook can show the diff and re-run the model on the result.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior, items
from runbook_lib.cloudfront.migration import migration_fix
from runbook_lib.cloudfront.model import CAUTION_AUTH_IN_ORP, compiled_behaviors, config_issues
from runbook_lib.cloudfront.patch import Fix, apply_patch, drop_legacy, set_op, use_policies
from runbook_lib.cloudfront.patterns import pattern_covers
from runbook_lib.cloudfront.policies import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED, policy_name
from runbook_lib.cloudfront.validation import ConfigIssue

__all__ = ["Finding", "Fix", "diagnose", "apply_patch"]

DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
_LAMBDA_URL = re.compile(r"\.lambda-url\.[a-z0-9-]+\.on\.aws$")


@dataclass(slots=True)
class Finding:
    code: str
    severity: str  # "error" | "warning" | "info"
    behavior: str  # PathPattern or "default" (distribution-wide issues are reported on "default")
    effect: str
    why: str
    doc_url: str
    fix: Fix | None
    fixed_config: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "behavior": self.behavior,
            "effect": self.effect,
            "why": self.why,
            "doc_url": self.doc_url,
            "fix": self.fix.to_dict() if self.fix else None,
            "fixed_config": copy.deepcopy(self.fixed_config),
        }


def _is_api(b: Behavior) -> bool:
    o = b.origin
    if o is None or not o.is_custom:
        return False
    return (
        o.is_execute_api
        or _LAMBDA_URL.search(o.domain) is not None
        or "POST" in b.allowed
        or "api" in b.label.lower()
    )


def _example_path(label: str) -> str:
    body = "/" + (label if label != "default" else "*").lstrip("/")
    return body.replace("*", "example").replace("?", "x")


def _finding(
    config: dict[str, Any],
    code: str,
    severity: str,
    b_label: str,
    effect: str,
    why: str,
    doc_url: str,
    fix: Fix | None,
) -> Finding:
    fixed = apply_patch(config, fix.patch) if fix and fix.patch else None
    return Finding(code, severity, b_label, effect, why, doc_url, fix, fixed)


# --- config errors --------------------------------------------------------------------------------


def _issue_fix(issue: ConfigIssue, config: dict[str, Any], by_pointer: dict[str, Behavior]) -> Fix | None:
    ptr = issue.pointer
    b = next((by_pointer[p] for p in by_pointer if ptr == p or ptr.startswith(p + "/")), None)
    if issue.kind == "quantity":
        return Fix(
            f"Set {ptr} to {issue.extra['value']}.",
            [{"op": "replace", "path": ptr, "value": issue.extra["value"]}],
        )
    if b is None:
        return None
    if issue.kind == "forwarded-values-with-policy":
        return Fix(
            "Remove the legacy ForwardedValues and TTL fields; the cache policy replaces them.",
            drop_legacy(b.pointer, b.raw),
        )
    if issue.kind in ("orp-without-cache-policy", "no-cache-settings"):
        return Fix(
            "Attach the CachingDisabled managed cache policy (no caching: right for an API).",
            use_policies(b, CACHING_DISABLED, None),
        )
    if issue.kind == "s3-host":
        names = [h for h in items(b.raw["ForwardedValues"].get("Headers")) if str(h).lower() != "host"]
        return Fix(
            "Remove Host from the forwarded headers.",
            [
                {
                    "op": "replace",
                    "path": f"{b.pointer}/ForwardedValues/Headers",
                    "value": {"Quantity": len(names), "Items": names},
                }
            ],
        )
    return None


# --- the rules --------------------------------------------------------------------------------------


def _behavior_findings(config: dict[str, Any], b: Behavior, out: list[Finding]) -> None:
    o = b.origin
    if o is None:
        return
    example = _example_path(b.label)
    api = _is_api(b)
    # A behavior with neither ForwardedValues nor a cache policy (a config error of its own) is
    # fixed the policy way, with CachingDisabled added.
    legacy = b.legacy and isinstance(b.raw.get("ForwardedValues"), dict)
    base_cp = CACHING_DISABLED if b.cache_policy_id is None and not legacy else None
    if api and b.query.kind == "none":
        if legacy:
            fix = Fix(
                "Forward query strings (ForwardedValues.QueryString = true).",
                [
                    {
                        "op": "replace" if "QueryString" in (b.raw.get("ForwardedValues") or {}) else "add",
                        "path": f"{b.pointer}/ForwardedValues/QueryString",
                        "value": True,
                    }
                ],
            )
        else:
            fix = Fix(
                "Attach the AllViewerExceptHostHeader origin request policy (all query strings, "
                "cookies and headers except Host).",
                use_policies(b, base_cp, ALL_VIEWER_EXCEPT_HOST_HEADER),
            )
        out.append(
            _finding(
                config,
                "query-strings-dropped",
                "error" if o.is_execute_api else "warning",
                b.label,
                f"GET {example}?since=2020-01-01 reaches the origin as {o.path}{example} with no query "
                "string.",
                "This behavior forwards no query strings: neither its cache policy nor an origin request "
                "policy "
                "(or ForwardedValues.QueryString) includes them, and CloudFront sends only what is "
                "configured.",
                DOC + "controlling-origin-requests.html",
                fix,
            )
        )
    if o.is_execute_api and b.headers.includes("host"):
        if legacy:
            fv_headers = [str(h) for h in items((b.raw.get("ForwardedValues") or {}).get("Headers"))]
            if "*" in fv_headers:
                fix = Fix(
                    "Move to CachingDisabled + AllViewerExceptHostHeader (everything but Host).",
                    use_policies(b, CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER),
                )
            else:
                kept = [h for h in fv_headers if h.lower() != "host"]
                fix = Fix(
                    "Remove Host from ForwardedValues.Headers.",
                    [
                        {
                            "op": "replace",
                            "path": f"{b.pointer}/ForwardedValues/Headers",
                            "value": {"Quantity": len(kept), "Items": kept},
                        }
                    ],
                )
        else:
            # An origin request policy always stays with the fix (AllViewerExceptHostHeader forwards
            # everything but Host); the cache policy changes only if it keys on Host itself.
            cp = CACHING_DISABLED if b.cache_headers.includes("host") else None
            ops = use_policies(b, cp, ALL_VIEWER_EXCEPT_HOST_HEADER)
            fix = Fix(
                "Stop forwarding the viewer's Host: use AllViewerExceptHostHeader"
                + (" and CachingDisabled (the cache policy puts Host in the key)" if cp else "")
                + ".",
                ops,
            )
        out.append(
            _finding(
                config,
                "viewer-host-to-execute-api",
                "error",
                b.label,
                f"Requests to {example} reach API Gateway with Host: <your CloudFront domain>; API Gateway "
                "answers 403 Forbidden.",
                "An execute-api endpoint only answers to its own Host name; forwarding the viewer's Host "
                "(AllViewer, a Host whitelist, or a cache policy keyed on Host) breaks it. "
                "AllViewerExceptHostHeader exists for API Gateway origins.",
                "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers",
                fix,
            )
        )
    if api and not b.headers.includes("authorization"):
        if legacy:
            fv_headers = [str(h) for h in items((b.raw.get("ForwardedValues") or {}).get("Headers"))]
            names = [*fv_headers, "Authorization"]
            fix = Fix(
                "Add Authorization to ForwardedValues.Headers (it then also keys the cache).",
                [
                    {
                        "op": "replace" if "Headers" in b.raw.get("ForwardedValues", {}) else "add",
                        "path": f"{b.pointer}/ForwardedValues/Headers",
                        "value": {"Quantity": len(names), "Items": names},
                    }
                ],
            )
            what = "GET and HEAD requests"
        else:
            fix = Fix(
                "Use CachingDisabled + AllViewerExceptHostHeader: Authorization reaches the API and "
                "no response is shared between users.",
                use_policies(
                    b, CACHING_DISABLED if b.caching else base_cp, ALL_VIEWER_EXCEPT_HOST_HEADER
                ),
            )
            what = "requests"
        out.append(
            _finding(
                config,
                "authorization-not-forwarded",
                "warning",
                b.label,
                f"{what.capitalize()} to {example} reach the origin without their Authorization header; an "
                "API "
                "with an IAM, Cognito or Lambda authorizer answers 401/403.",
                "CloudFront removes Authorization unless the cache key or an all-viewer origin request "
                "policy "
                "includes it (legacy settings keep it only on DELETE/PATCH/POST/PUT and uncached OPTIONS). "
                "Ignore this if the API does not authenticate callers.",
                DOC + "http-401-unauthorized.html",
                fix,
            )
        )
    if (
        not b.legacy
        and b.caching
        and b.headers.includes("authorization")
        and not b.cache_headers.includes("authorization")
    ):
        out.append(
            _finding(
                config,
                "authorization-not-in-cache-key",
                "error",
                b.label,
                f"GET {example} with user A's token is cached and served to user B without reaching the "
                "origin.",
                f"Cache policy {policy_name(b.cache_policy_id or '')} caches responses but its key does not "
                "include Authorization, while the origin request policy forwards it. (AWS's Knowledge Center "
                "says all-viewer policies forward Authorization only with caching off; "
                "http-401-unauthorized.html does not: the model assumes it is forwarded.)",
                DOC + "http-401-unauthorized.html",
                Fix(
                    "Use the CachingDisabled cache policy (or put Authorization in the cache key).",
                    [set_op(b.pointer, b.raw, "CachePolicyId", CACHING_DISABLED)],
                ),
            )
        )
    first = b.label.lstrip("/").split("/", 1)
    # With no OriginPath the first path segment is the stage itself; with a one-segment OriginPath
    # (the stage) the whole viewer path must be an API route.
    stage_like = len([s for s in o.path.split("/") if s]) == 1
    if (
        o.is_execute_api
        and b.label != "default"
        and len(first) == 2
        and first[0]
        and not any(c in first[0] for c in "*?")
        and stage_like
    ):
        out.append(
            _finding(
                config,
                "api-prefix-vs-stage",
                "warning",
                b.label,
                f"{example} arrives at API Gateway as {o.path}{example}: the API needs a /{first[0]} "
                "resource, "
                'or it answers 403 {"message":"Missing Authentication Token"}.',
                "CloudFront forwards the whole viewer path after OriginPath; it never strips the part the "
                "path "
                "pattern matched. This model cannot see the API's routes, so check them.",
                DOC + "DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath",
                Fix(
                    f"Either add a /{first[0]} resource (or proxy) to the API, strip /{first[0]} with a "
                    "CloudFront "
                    "Function on viewer-request, or use a custom domain with a base path mapping.",
                    [],
                ),
            )
        )
    if b.legacy and "ForwardedValues" in b.raw:
        out.append(
            _finding(
                config,
                "legacy-settings",
                "info",
                b.label,
                "Requests are handled by the legacy cache settings (ForwardedValues).",
                "AWS recommends cache and origin request policies; several forwarding rules (Authorization, "
                "Brotli) differ under legacy settings.",
                DOC + "controlling-the-cache-key.html",
                migration_fix(b),
            )
        )


def _shadowed(config: dict[str, Any], behaviors: list[Behavior], out: list[Finding]) -> None:
    named = [b for b in behaviors if b.label not in ("default", "")]
    for j, later in enumerate(named):
        for i in range(j):
            earlier = named[i]
            if not pattern_covers(earlier.label, later.label):
                continue
            same = pattern_covers(later.label, earlier.label)
            if same:
                n = len(items(config.get("CacheBehaviors")))
                fix = Fix(
                    f"Remove the duplicate behavior {later.label!r}.",
                    [
                        {"op": "remove", "path": later.pointer},
                        {"op": "replace", "path": "/CacheBehaviors/Quantity", "value": n - 1},
                    ],
                )
            else:
                fix = Fix(
                    f"Move {later.label!r} before {earlier.label!r}.",
                    [{"op": "move", "from": later.pointer, "path": earlier.pointer}],
                )
            out.append(
                _finding(
                    config,
                    "pattern-shadowed",
                    "warning",
                    later.label,
                    f"No request ever uses {later.label!r}: {earlier.label!r} comes first and matches every "
                    "path "
                    "it would.",
                    "Behaviors are evaluated in order and the first match wins.",
                    DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern",
                    fix,
                )
            )
            break


def diagnose(distribution_config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[Finding]:
    """Findings for ``distribution_config`` (config errors first, then per behavior, in order)."""
    behaviors = compiled_behaviors(distribution_config, policies)
    by_pointer = {b.pointer: b for b in behaviors}
    out: list[Finding] = []
    for issue in config_issues(distribution_config, policies):
        out.append(
            _finding(
                distribution_config,
                "config-error",
                "error",
                issue.behavior if issue.behavior is not None else "default",
                f"AWS rejects this configuration: {issue.status} {issue.code}.",
                issue.message,
                issue.doc_url,
                _issue_fix(issue, distribution_config, by_pointer),
            )
        )
    _shadowed(distribution_config, behaviors, out)
    for b in behaviors:
        _behavior_findings(distribution_config, b, out)
    for b in behaviors:
        if b.auth_in_orp_whitelist:
            # Doubtful point 1: a caution, not a config error (the newest AWS text allows it).
            out.append(
                _finding(
                    distribution_config,
                    "authorization-in-origin-request-policy",
                    "info",
                    b.label,
                    "The model assumes Authorization is forwarded to the origin.",
                    CAUTION_AUTH_IN_ORP,
                    DOC + "http-401-unauthorized.html",
                    None,
                )
            )
    return out
