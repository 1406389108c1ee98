"""The forwarding model, one table row per documented rule; every row cites its AWS page."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from runbook_lib import ConfigError
from runbook_lib.cloudfront.cautions import CAUTION_AUTH_ALL_VIEWER_CACHED, CAUTION_AUTH_IN_ORP
from runbook_lib.cloudfront.model import simulate

try:
    from tests.model_fixtures import (
        ALL_VIEWER,
        ALL_VIEWER_EXCEPT_HOST,
        API_DOMAIN,
        APP_DOMAIN,
        CACHING_DISABLED,
        CACHING_OPTIMIZED,
        CORS_CUSTOM,
        DOC,
        S3_DOMAIN,
        USE_ORIGIN_CC,
        VIEWER_HOST,
        behavior,
        dig,
        dist,
        legacy_fv,
        qi,
        req,
    )
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    from model_fixtures import (  # type: ignore[no-redef]
        ALL_VIEWER,
        ALL_VIEWER_EXCEPT_HOST,
        API_DOMAIN,
        APP_DOMAIN,
        CACHING_DISABLED,
        CACHING_OPTIMIZED,
        CORS_CUSTOM,
        DOC,
        S3_DOMAIN,
        USE_ORIGIN_CC,
        VIEWER_HOST,
        behavior,
        dig,
        dist,
        legacy_fv,
        qi,
        req,
    )

PATTERN = DOC + "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern"
HTTPS = DOC + "using-https-viewers-to-cloudfront.html"
METHOD = DOC + "http-403-invalid-method.html"
HEADERS = DOC + "RequestAndResponseBehaviorCustomOrigin.html#request-custom-headers-behavior"
ORIGIN_PATH = DOC + "DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath"
MERGE = DOC + "understanding-how-origin-request-policies-and-cache-policies-work-together.html"
LEGACY = DOC + "DownloadDistValuesCacheBehavior.html"
CONTROL = DOC + "controlling-origin-requests.html"
COOKIES = DOC + "Cookies.html"
QS = DOC + "QueryStringParameters.html"
CACHE_KEY = DOC + "cache-key-understand-cache-policy.html"
CUSTOM_HEADERS = DOC + "add-origin-custom-headers.html"
MANAGED_ORP = DOC + "using-managed-origin-request-policies.html"
ORP_PAGE = DOC + "origin-request-understand-origin-request-policy.html"
KC_HOST = "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers"
ROOT = DOC + "DefaultRootObject.html"
H401 = DOC + "http-401-unauthorized.html"


def cp(
    qs: tuple[str, list[str]] = ("none", []),
    ck: tuple[str, list[str]] = ("none", []),
    hd: tuple[str, list[str]] = ("none", []),
    ttl: int = 60,
    gzip: bool = False,
    br: bool = False,
) -> dict[str, Any]:
    def part(behavior_key: str, list_key: str, spec: tuple[str, list[str]]) -> dict[str, Any]:
        out: dict[str, Any] = {behavior_key: spec[0]}
        if spec[1]:
            out[list_key] = qi(spec[1])
        return out

    return {
        "CachePolicyConfig": {
            "Name": "custom-cp",
            "MinTTL": 0,
            "DefaultTTL": ttl,
            "MaxTTL": ttl,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": gzip,
                "EnableAcceptEncodingBrotli": br,
                "QueryStringsConfig": part("QueryStringBehavior", "QueryStrings", qs),
                "CookiesConfig": part("CookieBehavior", "Cookies", ck),
                "HeadersConfig": part("HeaderBehavior", "Headers", hd),
            },
        }
    }


def orp(
    qs: tuple[str, list[str]] = ("none", []),
    ck: tuple[str, list[str]] = ("none", []),
    hd: tuple[str, list[str]] = ("none", []),
) -> dict[str, Any]:
    inner = cp(qs, ck, hd)["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    return {
        "OriginRequestPolicyConfig": {
            "Name": "custom-orp",
            "QueryStringsConfig": inner["QueryStringsConfig"],
            "CookiesConfig": inner["CookiesConfig"],
            "HeadersConfig": inner["HeadersConfig"],
        }
    }


def with_policies(
    c: dict[str, Any] | None = None, o: dict[str, Any] | None = None, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    pols: dict[str, Any] = {}
    if c is not None:
        pols["cp-1"] = c
    if o is not None:
        pols["orp-1"] = o
    cfg = dist(
        behavior(
            "/api/*",
            "app",
            cache="cp-1" if c is not None else CACHING_DISABLED,
            orp="orp-1" if o is not None else None,
            **kw,
        )
    )
    return cfg, pols


class Row(NamedTuple):
    id: str
    source: str
    config: dict[str, Any]
    request: dict[str, Any]
    field: str
    expected: Any
    policies: dict[str, Any] | None = None


def prow(
    id: str, source: str, pols: tuple[Any, ...], request: dict[str, Any], field: str, expected: Any
) -> Row:
    cfg, policies = with_policies(*pols)
    return Row(id, source, cfg, request, field, expected, policies)


FIVE = dist(
    behavior("/api/v1/*"), behavior("/api/*", "app"), behavior("*.jpg", "s3"), behavior("/img/a?.png", "s3")
)

ROWS: list[Row] = [
    # --- path patterns ---
    Row("first-match-wins", PATTERN, FIVE, req(path="/api/v1/x"), "behavior", "/api/v1/*"),
    Row("second-pattern", PATTERN, FIVE, req(path="/api/v2/x"), "behavior", "/api/*"),
    Row("star-matches-slash", PATTERN, FIVE, req(path="/deep/dir/logo.jpg"), "behavior", "*.jpg"),
    Row("case-sensitive", PATTERN, FIVE, req(path="/LOGO.JPG"), "behavior", "default"),
    Row("question-one-char", PATTERN, FIVE, req(path="/img/ab.png"), "behavior", "/img/a?.png"),
    Row("question-not-two", PATTERN, FIVE, req(path="/img/abc.png"), "behavior", "default"),
    Row("leading-slash-optional", PATTERN, dist(behavior("api/*")), req(path="/api/x"), "behavior", "api/*"),
    Row("query-not-matched", PATTERN, FIVE, req(path="/x", query="f=a.jpg"), "behavior", "default"),
    Row("default-last", PATTERN, FIVE, req(path="/index.html"), "origin_id", "s3"),
    # --- edge answers ---
    Row(
        "method-not-allowed",
        METHOD,
        dist(behavior("/api/*", methods=["GET", "HEAD"])),
        req("POST"),
        "edge_status",
        403,
    ),
    Row("method-allowed", METHOD, dist(behavior("/api/*")), req("POST"), "edge_status", None),
    Row(
        "https-only-http",
        HTTPS,
        dist(behavior("/api/*", protocol="https-only")),
        req(scheme="http"),
        "edge_status",
        403,
    ),
    Row(
        "redirect-get-301",
        HTTPS,
        dist(behavior("/api/*", protocol="redirect-to-https")),
        req(scheme="http"),
        "edge_status",
        301,
    ),
    Row(
        "redirect-head-301",
        HTTPS,
        dist(behavior("/api/*", protocol="redirect-to-https")),
        req("HEAD", scheme="http"),
        "edge_status",
        301,
    ),
    Row(
        "redirect-post-307",
        HTTPS,
        dist(behavior("/api/*", protocol="redirect-to-https")),
        req("POST", scheme="http"),
        "edge_status",
        307,
    ),
    Row(
        "redirect-post-http10-403",
        HTTPS,
        dist(behavior("/api/*", protocol="redirect-to-https")),
        req("POST", scheme="http", http_version="1.0"),
        "edge_status",
        403,
    ),
    Row(
        "get-with-body-403",
        HEADERS.replace("#request-custom-headers-behavior", "#RequestCustom-get-body"),
        dist(behavior("/api/*")),
        req(body="x"),
        "edge_status",
        403,
    ),
    Row(
        "post-with-body-ok",
        HEADERS.replace("#request-custom-headers-behavior", "#RequestCustom-get-body"),
        dist(behavior("/api/*")),
        req("POST", body="x"),
        "origin_request.method",
        "POST",
    ),
    # --- path ---
    Row(
        "origin-path-prefixed",
        ORIGIN_PATH,
        dist(behavior("/api/*")),
        req(path="/api/items"),
        "origin_request.path",
        "/prod/api/items",
    ),
    Row(
        "default-root-object",
        ROOT,
        dist(DefaultRootObject="index.html"),
        req(path="/"),
        "origin_request.path",
        "/index.html",
    ),
    Row(
        "default-root-not-subdir",
        ROOT,
        dist(DefaultRootObject="index.html"),
        req(path="/docs/"),
        "origin_request.path",
        "/docs/",
    ),
    # --- legacy query strings ---
    Row(
        "legacy-qs-none",
        LEGACY,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req(query="a=1"),
        "origin_request.query",
        None,
    ),
    Row(
        "legacy-qs-all-keys-forwards-all",
        LEGACY,
        dist(behavior("/api/*", legacy=legacy_fv(query=True, keys=["a"]))),
        req(query="b=2&a=1"),
        "origin_request.query",
        "b=2&a=1",
    ),
    Row(
        "legacy-qs-raw-order-encoding",
        QS,
        dist(behavior("/api/*", legacy=legacy_fv(query=True))),
        req(query="z=%20&a=1&a=2"),
        "origin_request.query",
        "z=%20&a=1&a=2",
    ),
    # --- policy query strings (merge table) ---
    Row(
        "caching-disabled-drops-qs",
        CONTROL,
        dist(behavior("/api/*")),
        req(query="since=2020-01-01"),
        "origin_request.query",
        None,
    ),
    Row(
        "all-viewer-except-host-forwards-qs",
        MANAGED_ORP,
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        req(query="since=2020-01-01&x=1"),
        "origin_request.query",
        "since=2020-01-01&x=1",
    ),
    prow(
        "cp-allow+orp-allow-union",
        MERGE,
        (
            cp(qs=("whitelist", ["a"])),
            orp(qs=("whitelist", ["b"])),
        ),
        req(query="a=1&b=2&c=3"),
        "origin_request.query",
        "a=1&b=2",
    ),
    prow(
        "cp-allow-overrides-orp-block",
        MERGE,
        (
            cp(qs=("whitelist", ["a"])),
            orp(qs=("allExcept", ["a", "b"])),
        ),
        req(query="a=1&b=2&c=3"),
        "origin_request.query",
        "a=1&c=3",
    ),
    prow(
        "orp-allow-overrides-cp-block",
        MERGE,
        (
            cp(qs=("allExcept", ["a", "b"])),
            orp(qs=("whitelist", ["a"])),
        ),
        req(query="a=1&b=2&c=3"),
        "origin_request.query",
        "a=1&c=3",
    ),
    prow(
        "both-block-lists-exclude-either",
        MERGE,
        (
            cp(qs=("allExcept", ["a"])),
            orp(qs=("allExcept", ["b"])),
        ),
        req(query="a=1&b=2&c=3"),
        "origin_request.query",
        "c=3",
    ),
    prow(
        "cp-all-overrides-orp-block",
        MERGE,
        (
            cp(qs=("all", [])),
            orp(qs=("allExcept", ["a"])),
        ),
        req(query="a=1&b=2"),
        "origin_request.query",
        "a=1&b=2",
    ),
    prow(
        "whitelist-keeps-repeats",
        QS,
        (cp(qs=("whitelist", ["a"])),),
        req(query="a=1&b=2&a=3"),
        "origin_request.query",
        "a=1&a=3",
    ),
    prow(
        "whitelist-percent-encoded-key",
        QS,
        (cp(qs=("whitelist", ["since"])),),
        req(query="%73ince=1&other=2"),
        "origin_request.query",
        "%73ince=1",
    ),
    prow(
        "whitelist-case-sensitive",
        QS,
        (cp(qs=("whitelist", ["a"])),),
        req(query="A=1&a=2"),
        "origin_request.query",
        "a=2",
    ),
    Row(
        "s3-all-viewer-strips-response-content",
        MANAGED_ORP,
        dist(behavior("/files/*", "s3", cache=CACHING_OPTIMIZED, orp=ALL_VIEWER_EXCEPT_HOST)),
        req(path="/files/a.pdf", query="response-content-type=x&v=1&response-content-disposition=y"),
        "origin_request.query",
        "v=1",
    ),
    Row(
        "custom-orp-s3-keeps-response-content",
        MANAGED_ORP,
        dist(behavior("/files/*", "s3", cache=CACHING_OPTIMIZED, orp="orp-1")),
        req(path="/files/a.pdf", query="response-content-type=x"),
        "origin_request.query",
        "response-content-type=x",
        {"orp-1": orp(qs=("all", []))},
    ),
    Row(
        "s3-cache-key-keeps-response-content",
        MANAGED_ORP,
        dist(behavior("/files/*", "s3", cache="cp-1", orp=ALL_VIEWER)),
        req(path="/files/a.pdf", query="response-content-type=x&response-content-encoding=y"),
        "origin_request.query",
        "response-content-type=x",
        {"cp-1": cp(qs=("whitelist", ["response-content-type"]))},
    ),
    # --- cookies ---
    Row(
        "legacy-cookies-none",
        COOKIES,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req(headers={"Cookie": "a=1"}),
        "origin_request.headers.cookie",
        None,
    ),
    Row(
        "legacy-cookies-sorted",
        COOKIES,
        dist(behavior("/api/*", legacy=legacy_fv(cookies="all"))),
        req(headers={"Cookie": "z=1; a=2; m=3"}),
        "origin_request.headers.cookie",
        "a=2; m=3; z=1",
    ),
    Row(
        "legacy-cookie-whitelist-wildcards",
        LEGACY,
        dist(behavior("/api/*", legacy=legacy_fv(cookies="whitelist", cookie_names=["sess*", "u?"]))),
        req(headers={"Cookie": "uid=1; session=2; ux=3; other=4"}),
        "origin_request.headers.cookie",
        "session=2; ux=3",
    ),
    prow(
        "policy-cookies-union",
        MERGE,
        (
            cp(ck=("whitelist", ["a"])),
            orp(ck=("whitelist", ["b"])),
        ),
        req(headers={"Cookie": "c=3; b=2; a=1"}),
        "origin_request.headers.cookie",
        "a=1; b=2",
    ),
    # --- headers ---
    Row(
        "host-is-origin-domain",
        HEADERS,
        dist(behavior("/api/*")),
        req(),
        "origin_request.headers.host",
        API_DOMAIN,
    ),
    Row(
        "all-viewer-forwards-host",
        ORP_PAGE,
        dist(behavior("/api/*", orp=ALL_VIEWER)),
        req(),
        "origin_request.headers.host",
        VIEWER_HOST,
    ),
    Row(
        "except-host-adds-origin-host",
        ORP_PAGE,
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        req(),
        "origin_request.headers.host",
        API_DOMAIN,
    ),
    Row(
        "viewer-host-to-execute-api-403",
        KC_HOST,
        dist(behavior("/api/*", orp=ALL_VIEWER)),
        req(),
        "origin_status",
        403,
    ),
    Row(
        "use-origin-cc-host-in-key-403",
        DOC + "using-managed-cache-policies.html",
        dist(behavior("/api/*", cache=USE_ORIGIN_CC)),
        req(),
        "origin_status",
        403,
    ),
    Row(
        "user-agent-replaced",
        HEADERS.replace("#request-custom-headers-behavior", "#request-custom-user-agent-header"),
        dist(behavior("/api/*")),
        req(headers={"User-Agent": "curl/8"}),
        "origin_request.headers.user-agent",
        "Amazon CloudFront",
    ),
    Row(
        "user-agent-forwarded-all-viewer",
        HEADERS,
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        req(headers={"User-Agent": "curl/8"}),
        "origin_request.headers.user-agent",
        "curl/8",
    ),
    Row(
        "legacy-auth-get-removed",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req(headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        None,
    ),
    Row(
        "legacy-auth-head-removed",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req("HEAD", headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        None,
    ),
    Row(
        "legacy-auth-post-kept",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req("POST", headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    Row(
        "legacy-auth-delete-kept",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req("DELETE", headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    Row(
        "legacy-auth-options-cached-removed",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv(), cached=["GET", "HEAD", "OPTIONS"])),
        req("OPTIONS", headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        None,
    ),
    Row(
        "legacy-auth-options-uncached-kept",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv())),
        req("OPTIONS", headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    Row(
        "legacy-auth-whitelisted-get",
        HEADERS,
        dist(behavior("/api/*", legacy=legacy_fv(headers=["Authorization"]))),
        req(headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    Row(
        "policy-auth-post-removed",
        H401,
        dist(behavior("/api/*")),
        req("POST", headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        None,
    ),
    prow(
        "policy-auth-in-key",
        H401,
        (cp(hd=("whitelist", ["Authorization"])),),
        req(headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    Row(
        "policy-auth-all-viewer",
        H401,
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        req(headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    prow(
        "policy-auth-orp-whitelist-newest-text",
        H401,
        (
            None,
            orp(hd=("whitelist", ["Authorization"])),
        ),
        req(headers={"Authorization": "Bearer x"}),
        "origin_request.headers.authorization",
        "Bearer x",
    ),
    Row(
        "removed-accept-language",
        HEADERS,
        dist(behavior("/api/*", orp=CORS_CUSTOM)),
        req(headers={"Accept-Language": "fr", "Origin": "https://a.example"}),
        "origin_request.headers.accept-language",
        None,
    ),
    Row(
        "forwarded-content-type",
        HEADERS,
        dist(behavior("/api/*")),
        req("POST", headers={"Content-Type": "application/json"}),
        "origin_request.headers.content-type",
        "application/json",
    ),
    Row(
        "x-forwarded-proto-removed-all-viewer",
        HEADERS,
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        req(headers={"X-Forwarded-Proto": "http"}),
        "origin_request.headers.x-forwarded-proto",
        None,
    ),
    Row(
        "policy-custom-header-not-forwarded",
        CONTROL,
        dist(behavior("/api/*")),
        req(headers={"X-Api-Key": "k"}),
        "origin_request.headers.x-api-key",
        None,
    ),
    prow(
        "policy-whitelisted-header",
        CONTROL,
        (
            None,
            orp(hd=("whitelist", ["X-Api-Key"])),
        ),
        req(headers={"x-api-key": "k"}),
        "origin_request.headers.x-api-key",
        "k",
    ),
    Row(
        "xff-added",
        HEADERS.replace("#request-custom-headers-behavior", "#RequestCustomIPAddresses"),
        dist(behavior("/api/*")),
        req(client_ip="198.51.100.7"),
        "origin_request.headers.x-forwarded-for",
        "198.51.100.7",
    ),
    Row(
        "xff-appended",
        HEADERS.replace("#request-custom-headers-behavior", "#RequestCustomIPAddresses"),
        dist(behavior("/api/*")),
        req(headers={"X-Forwarded-For": "10.0.0.1"}),
        "origin_request.headers.x-forwarded-for",
        "10.0.0.1, 203.0.113.10",
    ),
    Row(
        "via-added",
        HEADERS,
        dist(behavior("/api/*")),
        req(http_version="2"),
        "origin_request.headers.via",
        "2.0 <edge-id>.cloudfront.net (CloudFront)",
    ),
    Row(
        "x-amz-cf-id-added",
        CONTROL,
        dist(behavior("/api/*")),
        req(),
        "origin_request.headers.x-amz-cf-id",
        "<x-amz-cf-id>",
    ),
    Row(
        "accept-encoding-br-gzip",
        CACHE_KEY,
        dist(behavior("/api/*", cache=CACHING_OPTIMIZED)),
        req(headers={"Accept-Encoding": "gzip, deflate, br"}),
        "origin_request.headers.accept-encoding",
        "br,gzip",
    ),
    Row(
        "accept-encoding-gzip-only",
        CACHE_KEY,
        dist(behavior("/api/*", cache=CACHING_OPTIMIZED)),
        req(headers={"Accept-Encoding": "gzip"}),
        "origin_request.headers.accept-encoding",
        "gzip",
    ),
    Row(
        "accept-encoding-identity",
        CACHE_KEY,
        dist(behavior("/api/*", cache=CACHING_OPTIMIZED)),
        req(headers={"Accept-Encoding": "deflate"}),
        "origin_request.headers.accept-encoding",
        "identity",
    ),
    Row(
        "accept-encoding-off-dropped",
        CACHE_KEY,
        dist(behavior("/api/*")),
        req(headers={"Accept-Encoding": "gzip"}),
        "origin_request.headers.accept-encoding",
        None,
    ),
    Row(
        "accept-encoding-off-all-viewer",
        CACHE_KEY,
        dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST)),
        req(headers={"Accept-Encoding": "gzip, br"}),
        "origin_request.headers.accept-encoding",
        "gzip, br",
    ),
    Row(
        "origin-custom-header-added",
        CUSTOM_HEADERS,
        dist(behavior("/api/*", "app")),
        req(),
        "origin_request.headers.x-origin-secret",
        "s3cr3t",
    ),
    Row(
        "origin-custom-header-overwrites",
        CUSTOM_HEADERS,
        dist(behavior("/api/*", "app", orp=ALL_VIEWER)),
        req(headers={"X-Origin-Secret": "forged"}),
        "origin_request.headers.x-origin-secret",
        "s3cr3t",
    ),
    Row(
        "legacy-header-star-forwards-host",
        DOC + "header-caching.html",
        dist(behavior("/app/*", "app", legacy=legacy_fv(headers=["*"]))),
        req(path="/app/x"),
        "origin_request.headers.host",
        VIEWER_HOST,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.id} [{r.source.rsplit('/', 1)[-1]}]" for r in ROWS])
def test_rule(row: Row) -> None:
    result = simulate(row.config, row.request, row.policies).to_dict()
    assert dig(result, row.field) == row.expected, row.source


def test_to_dict_shape_is_exact() -> None:
    result = simulate(FIVE, req(path="/api/v1/x")).to_dict()
    assert set(result) == {
        "behavior",
        "edge_status",
        "origin_id",
        "origin_request",
        "origin_status",
        "config_errors",
    }
    assert set(result["origin_request"]) == {"method", "path", "query", "headers"}
    assert all(name == name.lower() for name in result["origin_request"]["headers"])


def test_viewer_header_names_any_case() -> None:
    # RequestAndResponseBehaviorCustomOrigin.html: header names are case-insensitive (RFC 9110).
    cfg = dist(behavior("/app/*", "app", orp=ALL_VIEWER))
    out = simulate(cfg, req(path="/app/x", headers={"X-CUSTOM": "1", "content-TYPE": "a/b"})).to_dict()
    assert out["origin_request"]["headers"]["x-custom"] == "1"
    assert out["origin_request"]["headers"]["content-type"] == "a/b"


def test_caution_authorization_in_orp() -> None:
    # docs/aws-behaviour.md, doubtful point 1: newest http-401-unauthorized.html vs older Knowledge Center / CDK.
    cfg, pols = with_policies(None, orp(hd=("whitelist", ["Authorization"])))
    result = simulate(cfg, req(headers={"Authorization": "Bearer x"}), pols)
    assert CAUTION_AUTH_IN_ORP in result.cautions
    assert result.config_errors == []  # a caution, not an error (newest text)


def test_caution_all_viewer_with_caching() -> None:
    cfg = dist(behavior("/api/*", cache=CACHING_OPTIMIZED, orp=ALL_VIEWER_EXCEPT_HOST))
    result = simulate(cfg, req(headers={"Authorization": "Bearer x"}))
    assert CAUTION_AUTH_ALL_VIEWER_CACHED in result.cautions


def test_no_caution_for_plain_request() -> None:
    assert simulate(FIVE, req(path="/api/v1/x")).cautions == []


def test_redirect_location() -> None:
    # Location format assumed (docs/aws-behaviour.md, doubtful point 7): https + viewer Host + path + query.
    cfg = dist(behavior("/api/*", protocol="redirect-to-https"))
    result = simulate(cfg, req(path="/api/a", query="x=1", scheme="http"))
    assert result.redirect_location == f"https://{VIEWER_HOST}/api/a?x=1"


def test_edit_in_place_is_seen() -> None:
    cfg = dist(behavior("/api/*"))
    assert simulate(cfg, req(query="a=1")).to_dict()["origin_request"]["query"] is None
    cfg["CacheBehaviors"]["Items"][0]["OriginRequestPolicyId"] = ALL_VIEWER_EXCEPT_HOST
    assert simulate(cfg, req(query="a=1")).to_dict()["origin_request"]["query"] == "a=1"


def test_s3_origin_host() -> None:
    out = simulate(dist(), req(path="/index.html")).to_dict()
    assert out["origin_request"]["headers"]["host"] == S3_DOMAIN
    # CachingOptimized has gzip+br on: a viewer that sends no Accept-Encoding gets "identity".
    assert out["origin_request"]["headers"]["accept-encoding"] == "identity"


def test_app_origin_no_origin_status() -> None:
    out = simulate(dist(behavior("/app/*", "app", orp=ALL_VIEWER)), req(path="/app/x")).to_dict()
    assert out["origin_request"]["headers"]["host"] == VIEWER_HOST
    assert out["origin_status"] is None  # only execute-api origins refuse a foreign Host
    assert APP_DOMAIN != VIEWER_HOST


@pytest.mark.parametrize("bad", [None, [], {"Origins": {}}, {"DefaultCacheBehavior": "x"}])
def test_unreadable_config_raises(bad: Any) -> None:
    with pytest.raises(ConfigError, match="DistributionConfig"):
        simulate(bad, req())


@pytest.mark.parametrize("bad", [None, {"path": "/"}, {"method": "GET", "path": "/", "scheme": "ftp"}])
def test_unreadable_request_raises(bad: Any) -> None:
    with pytest.raises(ConfigError):
        simulate(dist(), bad)
