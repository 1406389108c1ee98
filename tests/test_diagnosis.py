"""diagnose(): each rule fires on a config that has the problem, cites its AWS page, and its fix works."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import pytest

from runbook_lib import diagnose, simulate
from runbook_lib.cloudfront.docs import cloudfront_api
from runbook_lib.cloudfront.fixes import apply_patch

try:
    from tests.model_fixtures import (
        ALL_VIEWER,
        ALL_VIEWER_EXCEPT_HOST,
        CACHING_DISABLED,
        CACHING_OPTIMIZED,
        DOC,
        USE_ORIGIN_CC,
        behavior,
        dist,
        legacy_fv,
        qi,
        req,
    )
except ImportError:  # pragma: no cover
    from model_fixtures import (  # type: ignore[no-redef]
        ALL_VIEWER,
        ALL_VIEWER_EXCEPT_HOST,
        CACHING_DISABLED,
        CACHING_OPTIMIZED,
        DOC,
        USE_ORIGIN_CC,
        behavior,
        dist,
        legacy_fv,
        qi,
        req,
    )

ZERO_TTL_KEYED = {
    "CachePolicyConfig": {
        "Name": "zero",
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False,
            "EnableAcceptEncodingBrotli": False,
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": qi(["Authorization"])},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }
}


def _bad_quantity() -> dict[str, Any]:
    cfg = dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST))
    cfg["CacheBehaviors"]["Quantity"] = 3
    return cfg


def _both() -> dict[str, Any]:
    b = behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)
    b["ForwardedValues"] = legacy_fv()
    return dist(b)


class Case(NamedTuple):
    id: str
    source: str
    config: dict[str, Any]
    code: str
    behavior: str
    severity: str
    policies: dict[str, Any] | None = None
    aws_code: str | None = None  # for config errors: the code in simulate().config_errors


CASES = [
    Case(
        "query-strings-dropped",
        DOC + "controlling-origin-requests.html",
        dist(behavior("/api/*")),
        "query-strings-dropped",
        "/api/*",
        "error",
    ),
    Case(
        "query-strings-dropped-legacy",
        DOC + "DownloadDistValuesCacheBehavior.html",
        dist(behavior("/api/*", legacy=legacy_fv())),
        "query-strings-dropped",
        "/api/*",
        "error",
    ),
    Case(
        "viewer-host-all-viewer",
        "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers",
        dist(behavior("/api/*", orp=ALL_VIEWER)),
        "viewer-host-to-execute-api",
        "/api/*",
        "error",
    ),
    Case(
        "viewer-host-cache-key",
        DOC + "using-managed-cache-policies.html",
        dist(behavior("/api/*", cache=USE_ORIGIN_CC)),
        "viewer-host-to-execute-api",
        "/api/*",
        "error",
    ),
    Case(
        "viewer-host-legacy-star",
        DOC + "header-caching.html",
        dist(behavior("/api/*", legacy=legacy_fv(query=True, headers=["*"]))),
        "viewer-host-to-execute-api",
        "/api/*",
        "error",
    ),
    Case(
        "authorization-not-forwarded",
        DOC + "http-401-unauthorized.html",
        dist(behavior("/api/*", orp=CACHING_DISABLED and None)),
        "authorization-not-forwarded",
        "/api/*",
        "warning",
    ),
    Case(
        "authorization-not-in-cache-key",
        DOC + "http-401-unauthorized.html",
        dist(behavior("/api/*", cache=CACHING_OPTIMIZED, orp=ALL_VIEWER_EXCEPT_HOST)),
        "authorization-not-in-cache-key",
        "/api/*",
        "error",
    ),
    Case(
        "api-prefix-vs-stage",
        DOC + "DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath",
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        "api-prefix-vs-stage",
        "/api/*",
        "warning",
    ),
    Case(
        "pattern-shadowed",
        DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern",
        dist(
            behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST), behavior("/api/v1/*", orp=ALL_VIEWER_EXCEPT_HOST)
        ),
        "pattern-shadowed",
        "/api/v1/*",
        "warning",
    ),
    Case(
        "pattern-duplicate",
        DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern",
        dist(behavior("/app/*", "app"), behavior("app/*", "app")),
        "pattern-shadowed",
        "app/*",
        "warning",
    ),
    Case(
        "legacy-settings",
        DOC + "controlling-the-cache-key.html",
        dist(behavior("/app/*", "app", legacy=legacy_fv(query=True, cookies="all"))),
        "legacy-settings",
        "/app/*",
        "info",
    ),
    Case(
        "config-quantity",
        cloudfront_api("API_CacheBehaviors.html"),
        _bad_quantity(),
        "config-error",
        "default",
        "error",
        aws_code="InconsistentQuantities",
    ),
    Case(
        "config-fv-with-policy",
        cloudfront_api("API_CacheBehavior.html"),
        _both(),
        "config-error",
        "/api/*",
        "error",
        aws_code="InvalidArgument",
    ),
    Case(
        "config-orp-without-cp",
        DOC + "controlling-origin-requests.html",
        dist(behavior("/api/*", cache=None, orp=ALL_VIEWER_EXCEPT_HOST)),
        "config-error",
        "/api/*",
        "error",
        aws_code="InvalidArgument",
    ),
    Case(
        "config-zero-ttl-keys",
        DOC + "controlling-the-cache-key.html",
        dist(behavior("/api/*", cache="zero")),
        "config-error",
        "/api/*",
        "error",
        {"zero": ZERO_TTL_KEYED},
        "InvalidArgument",
    ),
    Case(
        "config-unknown-cache-policy",
        DOC + "using-managed-cache-policies.html",
        dist(behavior("/api/*", cache="nope")),
        "config-error",
        "/api/*",
        "error",
        aws_code="NoSuchCachePolicy",
    ),
    Case(
        "config-unknown-orp",
        DOC + "using-managed-origin-request-policies.html",
        dist(behavior("/api/*", orp="nope")),
        "config-error",
        "/api/*",
        "error",
        aws_code="NoSuchOriginRequestPolicy",
    ),
    Case(
        "config-empty-pattern",
        DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern",
        dist(behavior("", "app")),
        "config-error",
        "",
        "error",
        aws_code="InvalidArgument",
    ),
    Case(
        "config-long-pattern",
        DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern",
        dist(behavior("/" + "a" * 255, "app")),
        "config-error",
        "/" + "a" * 255,
        "error",
        aws_code="InvalidArgument",
    ),
    Case(
        "config-bad-chars",
        DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern",
        dist(behavior("/a b/*", "app")),
        "config-error",
        "/a b/*",
        "error",
        aws_code="InvalidArgument",
    ),
    Case(
        "config-no-origin",
        cloudfront_api("API_CacheBehavior.html"),
        dist(behavior("/x/*", "missing")),
        "config-error",
        "/x/*",
        "error",
        aws_code="NoSuchOrigin",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.id} [{c.source.rsplit('/', 1)[-1]}]" for c in CASES])
def test_finding(case: Case) -> None:
    findings = diagnose(case.config, case.policies)
    hits = [f for f in findings if f.code == case.code and f.behavior == case.behavior]
    assert hits, [(f.code, f.behavior) for f in findings]
    f = hits[0]
    assert f.severity == case.severity
    assert f.doc_url.startswith("https://")
    d = f.to_dict()
    assert set(d) == {"code", "severity", "behavior", "effect", "why", "doc_url", "fix", "fixed_config"}
    if case.aws_code:
        errors = simulate(case.config, req(path="/zzz"), case.policies).config_errors
        assert case.aws_code in {e["code"] for e in errors}
        assert case.aws_code in f.effect


FIXABLE = [
    c
    for c in CASES
    if c.code not in ("api-prefix-vs-stage",)
    and c.id
    not in (
        "config-zero-ttl-keys",
        "config-unknown-cache-policy",
        "config-unknown-orp",
        "config-empty-pattern",
        "config-long-pattern",
        "config-bad-chars",
        "config-no-origin",
    )
]


@pytest.mark.parametrize("case", FIXABLE, ids=[c.id for c in FIXABLE])
def test_fix_removes_the_finding(case: Case) -> None:
    before = copy.deepcopy(case.config)
    f = next(
        f for f in diagnose(case.config, case.policies) if f.code == case.code and f.behavior == case.behavior
    )
    assert f.fix is not None and f.fix.patch and f.fixed_config is not None
    assert case.config == before  # the input is never modified
    assert f.fixed_config == apply_patch(case.config, f.fix.patch)
    policies = {**(case.policies or {}), **f.fix.policies}
    after = diagnose(f.fixed_config, policies)
    same = [g for g in after if g.code == case.code and g.behavior == f.behavior and g.effect == f.effect]
    assert not same, [g.why for g in same]


def test_legacy_migration_keeps_forwarding() -> None:
    # The migrated behavior forwards the same query string and cookies as the legacy one
    # (controlling-the-cache-key.html, controlling-origin-requests.html).
    legacy = dist(behavior("/app/*", "app", legacy=legacy_fv(query=True, keys=["a"], cookies="all")))
    f = next(f for f in diagnose(legacy) if f.code == "legacy-settings")
    assert f.fix is not None and f.fixed_config is not None
    r = req(path="/app/x", query="b=1&a=2", headers={"Cookie": "z=1; a=2"})
    old = simulate(legacy, r).to_dict()["origin_request"]
    new = simulate(f.fixed_config, r, f.fix.policies).to_dict()["origin_request"]
    assert new["query"] == old["query"] == "b=1&a=2"
    assert new["headers"]["cookie"] == old["headers"]["cookie"] == "a=2; z=1"
    assert simulate(f.fixed_config, r, f.fix.policies).config_errors == []


def test_legacy_all_headers_zero_ttl_maps_to_managed() -> None:
    b = behavior("/app/*", "app", legacy=legacy_fv(query=True, cookies="all", headers=["*"]))
    b.update({"MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0})
    f = next(f for f in diagnose(dist(b)) if f.code == "legacy-settings")
    assert f.fixed_config is not None and f.fix is not None
    fixed = f.fixed_config["CacheBehaviors"]["Items"][0]
    assert (fixed["CachePolicyId"], fixed["OriginRequestPolicyId"]) == (CACHING_DISABLED, ALL_VIEWER)
    assert "ForwardedValues" not in fixed and f.fix.policies == {}


def test_authorization_in_orp_is_info_not_error() -> None:
    pols = {
        "o": {
            "OriginRequestPolicyConfig": {
                "Name": "o",
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": qi(["Authorization"])},
                "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
            }
        }
    }
    findings = diagnose(dist(behavior("/app/*", "app", orp="o")), pols)
    codes = {(f.code, f.severity) for f in findings}
    assert ("authorization-in-origin-request-policy", "info") in codes
    assert not any(f.code == "config-error" for f in findings)


def test_good_api_config_is_clean_of_errors() -> None:
    cfg = dist(behavior("/prod/*", orp=ALL_VIEWER_EXCEPT_HOST))
    cfg["Origins"]["Items"][0]["OriginPath"] = ""
    assert [f.code for f in diagnose(cfg) if f.severity != "info"] == []
