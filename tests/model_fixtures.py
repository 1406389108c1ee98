"""Builders for DistributionConfigs used by the model, diagnosis and CLI tests."""

from __future__ import annotations

import copy
from typing import Any

from runbook_lib.cloudfront import policies
from runbook_lib.cloudfront.docs import CLOUDFRONT_GUIDE

DOC = CLOUDFRONT_GUIDE

# The managed policy IDs, from the one place they are written (short names for the tables).
CACHING_OPTIMIZED = policies.CACHING_OPTIMIZED
CACHING_DISABLED = policies.CACHING_DISABLED
USE_ORIGIN_CC = policies.USE_ORIGIN_CACHE_CONTROL_HEADERS
ALL_VIEWER = policies.ALL_VIEWER
ALL_VIEWER_EXCEPT_HOST = policies.ALL_VIEWER_EXCEPT_HOST_HEADER
CORS_CUSTOM = policies.CORS_CUSTOM_ORIGIN


API_DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"
S3_DOMAIN = "site-bucket.s3.us-east-1.amazonaws.com"
APP_DOMAIN = "app.example.com"
VIEWER_HOST = "d111111abcdef8.cloudfront.net"

ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


def qi(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": list(values)}


def origins() -> dict[str, Any]:
    return qi(
        [
            {
                "Id": "api",
                "DomainName": API_DOMAIN,
                "OriginPath": "/prod",
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                },
            },
            {
                "Id": "s3",
                "DomainName": S3_DOMAIN,
                "OriginPath": "",
                "S3OriginConfig": {"OriginAccessIdentity": ""},
            },
            {
                "Id": "app",
                "DomainName": APP_DOMAIN,
                "OriginPath": "",
                "CustomHeaders": qi([{"HeaderName": "X-Origin-Secret", "HeaderValue": "s3cr3t"}]),
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                },
            },
        ]
    )


def behavior(
    pattern: str | None = None,
    origin: str = "api",
    *,
    methods: list[str] | None = None,
    cached: list[str] | None = None,
    protocol: str = "allow-all",
    cache: str | None = CACHING_DISABLED,
    orp: str | None = None,
    legacy: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    b: dict[str, Any] = {"TargetOriginId": origin, "ViewerProtocolPolicy": protocol}
    if pattern is not None:
        b = {"PathPattern": pattern, **b}
    m = ALL_METHODS if methods is None else methods
    c = cached or ["GET", "HEAD"]
    b["AllowedMethods"] = {**qi(m), "CachedMethods": qi(c)}
    if legacy is not None:
        b["ForwardedValues"] = legacy
        b.update({"MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000})
    elif cache is not None:
        b["CachePolicyId"] = cache
    if orp is not None:
        b["OriginRequestPolicyId"] = orp
    b.update(extra)
    return b


def legacy_fv(
    query: bool = False,
    keys: list[str] | None = None,
    cookies: str = "none",
    cookie_names: list[str] | None = None,
    headers: list[str] | None = None,
) -> dict[str, Any]:
    fv: dict[str, Any] = {"QueryString": query, "Cookies": {"Forward": cookies}}
    if keys is not None:
        fv["QueryStringCacheKeys"] = qi(keys)
    if cookie_names is not None:
        fv["Cookies"]["WhitelistedNames"] = qi(cookie_names)
    fv["Headers"] = qi(headers or [])
    return fv


def dist(*behaviors: dict[str, Any], default: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "CallerReference": "test",
        "Comment": "",
        "Enabled": True,
        "Origins": origins(),
        "DefaultCacheBehavior": default or behavior(None, "s3", methods=["GET", "HEAD"], cache=CACHING_OPTIMIZED),
        "CacheBehaviors": qi(list(behaviors)),
    }
    cfg.update(extra)
    return copy.deepcopy(cfg)


def req(
    method: str = "GET",
    path: str = "/api/data",
    query: str = "",
    headers: dict[str, str] | None = None,
    scheme: str = "https",
    **extra: Any,
) -> dict[str, Any]:
    h = {"Host": VIEWER_HOST}
    h.update(headers or {})
    return {"method": method, "scheme": scheme, "path": path, "query": query, "headers": h, **extra}


def dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if data is None:
            return None
        data = data.get(part) if isinstance(data, dict) else data[int(part)]
    return data
