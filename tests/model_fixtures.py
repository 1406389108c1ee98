"""Builders for DistributionConfigs used by the model, diagnosis and CLI tests."""

from __future__ import annotations

import copy
from typing import Any

DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
USE_ORIGIN_CC = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CORS_CUSTOM = "59781a5b-3903-41f3-afcb-af62929ccde1"

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
        "DefaultCacheBehavior": default
        or behavior(None, "s3", methods=["GET", "HEAD"], cache=CACHING_OPTIMIZED),
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
