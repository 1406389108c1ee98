"""DistributionConfig and CachePolicyConfig builders: the shapes the runbook deploys, with no AWS call.

The AWS side (``runbook_lib.aws``) sends these; the explainer and the tests read them without an account.
Pure: imports no boto3, botocore, requests or pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from runbook_lib.cloudfront.policies import CACHING_OPTIMIZED
from runbook_lib.errors import ConfigError

__all__ = [
    "ALL_METHODS",
    "API_AUTH_AND_QUERY",
    "CachePolicySpec",
    "NameBehavior",
    "api_behavior",
    "behavior_parts",
    "header_parts",
    "site_and_api_config",
    "to_cache_policy_config",
]

#: The seven methods CloudFront can allow on a behavior (AllowedMethods), as the API wants them
#: (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_AllowedMethods.html).
ALL_METHODS: tuple[str, ...] = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")

#: Which cookies or query strings go in the cache key: ``"none"``, ``"all"``,
#: ``("whitelist", names)`` (only these) or ``("allExcept", names)`` (all but these).
#: The strings are CloudFront's own API values.
NameBehavior: TypeAlias = (
    Literal["none", "all"] | tuple[Literal["whitelist", "allExcept"], tuple[str, ...]]
)


@dataclass(frozen=True)
class CachePolicySpec:
    """A custom CloudFront cache policy, in one place.

    ``headers`` is the header allow-list (empty means ``HeaderBehavior: none``; cache policies have
    no "all headers" option). ``query_strings`` and ``cookies`` take a :data:`NameBehavior`.
    ``gzip`` / ``brotli`` are ``EnableAcceptEncodingGzip`` / ``EnableAcceptEncodingBrotli``.
    Construction checks the shape only; :func:`validate` checks CloudFront's rules.
    """

    name: str
    comment: str = ""
    min_ttl: int = 0
    default_ttl: int = 0
    max_ttl: int = 1
    headers: tuple[str, ...] = ()
    query_strings: NameBehavior = "none"
    cookies: NameBehavior = "none"
    gzip: bool = False
    brotli: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"CachePolicySpec name must be a non-empty string, got {self.name!r}.")
        if not isinstance(self.comment, str):
            raise ConfigError(f"CachePolicySpec comment must be a string, got {self.comment!r}.")
        for field in ("min_ttl", "default_ttl", "max_ttl"):
            value = getattr(self, field)
            # bool is an int subclass; True as a TTL is always a mistake.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(
                    f"CachePolicySpec {field} must be a whole number of seconds >= 0, got {value!r}."
                )
        for field in ("gzip", "brotli"):
            if not isinstance(getattr(self, field), bool):
                raise ConfigError(
                    f"CachePolicySpec {field} must be True or False, got {getattr(self, field)!r}."
                )
        if isinstance(self.headers, str):
            raise ConfigError(
                f"CachePolicySpec headers must be a tuple of header names, got the string {self.headers!r}; "
                f"write headers=({self.headers!r},)."
            )
        headers = tuple(self.headers)
        _check_names("headers", headers)
        object.__setattr__(self, "headers", headers)
        object.__setattr__(self, "query_strings", _normalise_behavior("query_strings", self.query_strings))
        object.__setattr__(self, "cookies", _normalise_behavior("cookies", self.cookies))


def _check_names(field: str, names: tuple[Any, ...]) -> None:
    for item in names:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"CachePolicySpec {field} must hold non-empty strings, got {item!r} in "
                f"{names!r}."
            )


def _normalise_behavior(field: str, value: Any) -> NameBehavior:
    if value in ("none", "all"):
        return value  # type: ignore[no-any-return]
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] in ("whitelist", "allExcept"):
        kind, names = value
        if isinstance(names, str):
            names = (names,)
        names = tuple(names)
        if not names:
            raise ConfigError(
                f"CachePolicySpec {field}=({kind!r}, ()) lists no names; CloudFront needs at least one. "
                f"Use {'none' if kind == 'whitelist' else 'all'!r} instead."
            )
        _check_names(field, names)
        return (kind, names)
    raise ConfigError(
        f"CachePolicySpec {field} must be 'none', 'all', ('whitelist', names) or ('allExcept', names); "
        f"got {value!r}."
    )


def behavior_parts(value: NameBehavior) -> tuple[str, tuple[str, ...]]:
    """(CloudFront behavior name, names) for a normalised NameBehavior."""
    if isinstance(value, tuple):
        return value[0], value[1]
    return value, ()


def header_parts(spec: CachePolicySpec) -> tuple[str, tuple[str, ...]]:
    return ("whitelist", spec.headers) if spec.headers else ("none", ())


def _quantity_items(names: tuple[str, ...]) -> dict[str, Any]:
    return {"Quantity": len(names), "Items": list(names)}


def to_cache_policy_config(spec: CachePolicySpec) -> dict[str, Any]:
    """The ``CachePolicyConfig`` for ``boto3.client("cloudfront").create_cache_policy``.

    Lists are ``{"Quantity": n, "Items": [...]}`` as the CloudFront API wants; a ``none``/``all``
    behaviour carries no list, as in AWS's own managed policies.
    """
    headers_kind, headers = header_parts(spec)
    headers_config: dict[str, Any] = {"HeaderBehavior": headers_kind}
    if headers:
        headers_config["Headers"] = _quantity_items(headers)
    cookies_kind, cookies = behavior_parts(spec.cookies)
    cookies_config: dict[str, Any] = {"CookieBehavior": cookies_kind}
    if cookies:
        cookies_config["Cookies"] = _quantity_items(cookies)
    query_kind, queries = behavior_parts(spec.query_strings)
    query_config: dict[str, Any] = {"QueryStringBehavior": query_kind}
    if queries:
        query_config["QueryStrings"] = _quantity_items(queries)
    return {
        "Name": spec.name,
        "Comment": spec.comment,
        "MinTTL": spec.min_ttl,
        "DefaultTTL": spec.default_ttl,
        "MaxTTL": spec.max_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": spec.gzip,
            "EnableAcceptEncodingBrotli": spec.brotli,
            "HeadersConfig": headers_config,
            "CookiesConfig": cookies_config,
            "QueryStringsConfig": query_config,
        },
    }


#: The custom cache policy of preset ``custom-auth-in-key`` (named ``<stack>-api-auth-and-query`` when built).
API_AUTH_AND_QUERY = CachePolicySpec(
    name="api-auth-and-query",
    comment="Forward Authorization and all query strings to the API; cache at most 1 s",
    min_ttl=0,
    default_ttl=0,
    max_ttl=1,
    headers=("Authorization",),
    query_strings="all",
    cookies="none",
    gzip=False,
    brotli=False,
)


# --- the runbook's distribution --------------------------------------------------------------------


def api_behavior(policy_fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/api/*`` cache behavior: all methods, HTTPS, and ``policy_fields`` (a preset's policies or
    legacy ForwardedValues)."""
    return {
        "PathPattern": "/api/*",
        "TargetOriginId": "api",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": len(ALL_METHODS), "Items": list(ALL_METHODS),
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": False,
        **policy_fields,
    }


def site_and_api_config(*, bucket_domain: str, api_origin: dict[str, Any], api_behavior: dict[str, Any],
                        caller_reference: str, comment: str, oac_id: str = "") -> dict[str, Any]:
    """The runbook's DistributionConfig shape: default behavior → S3, ``/api/*`` → the API origin."""
    site: dict[str, Any] = {"Id": "site", "DomainName": bucket_domain, "OriginPath": "",
                            "S3OriginConfig": {"OriginAccessIdentity": ""}}
    if oac_id:
        site["OriginAccessControlId"] = oac_id
    return {
        "CallerReference": caller_reference,
        "Comment": comment,
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "PriceClass": "PriceClass_100",
        "HttpVersion": "http2",
        "Origins": {"Quantity": 2, "Items": [site, {"Id": "api", **api_origin}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": True,
            "CachePolicyId": CACHING_OPTIMIZED,
        },
        "CacheBehaviors": {"Quantity": 1, "Items": [api_behavior]},
    }
