"""Is a DistributionConfig (and its custom policies) in boto3 shape? One error naming the path, or quota warnings.

The model reads the fields below with ``.get``; a value of the wrong type (``AllowedMethods: "GET"``,
``CacheBehaviors: "x"``) would otherwise end in a traceback deep in the model or, worse, be read as absent.
:func:`check_config` walks only these fields, so the first wrong one is named by its path in the document,
e.g. ``CacheBehaviors.Items[0].AllowedMethods: expected an object with Quantity and Items, got a string``.
The shapes are those of the CloudFront API reference:
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_lib.errors import ConfigError

__all__ = ["QUOTAS_URL", "check_config", "check_inputs", "check_policies", "quota_warnings"]

#: AWS's quotas page (behaviors per distribution, names per policy).
QUOTAS_URL = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
_HINT = "Use the DistributionConfig shape that `aws cloudfront get-distribution-config --id ID` prints."


@dataclass(frozen=True)
class _Scalar:
    types: tuple[type, ...]
    word: str


@dataclass(frozen=True)
class _Obj:
    fields: dict[str, Any]
    word: str = "an object"


@dataclass(frozen=True)
class _Items:
    """A boto3 list: ``{"Quantity": n, "Items": [...]}`` plus any ``extra`` fields."""

    item: Any
    extra: dict[str, Any] = field(default_factory=dict)


_STR = _Scalar((str,), "a string")
_BOOL = _Scalar((bool,), "true or false")
_NUM = _Scalar((int, float), "a number")
_STRS = _Items(_STR)

_BEHAVIOR = _Obj({
    "PathPattern": _STR, "TargetOriginId": _STR, "ViewerProtocolPolicy": _STR,
    "AllowedMethods": _Items(_STR, {"CachedMethods": _Items(_STR)}),
    "CachePolicyId": _STR, "OriginRequestPolicyId": _STR, "ResponseHeadersPolicyId": _STR,
    "Compress": _BOOL, "MinTTL": _NUM, "DefaultTTL": _NUM, "MaxTTL": _NUM,
    "ForwardedValues": _Obj({
        "QueryString": _BOOL, "Headers": _STRS, "QueryStringCacheKeys": _STRS,
        "Cookies": _Obj({"Forward": _STR, "WhitelistedNames": _STRS}),
    }),
    "FunctionAssociations": _Items(_Obj({"FunctionARN": _STR, "EventType": _STR})),
    "LambdaFunctionAssociations": _Items(_Obj({"LambdaFunctionARN": _STR, "EventType": _STR})),
})
_ORIGIN = _Obj({
    "Id": _STR, "DomainName": _STR, "OriginPath": _STR,
    "CustomHeaders": _Items(_Obj({"HeaderName": _STR, "HeaderValue": _STR})),
    "CustomOriginConfig": _Obj({"HTTPPort": _NUM, "HTTPSPort": _NUM, "OriginProtocolPolicy": _STR,
                                "OriginSslProtocols": _STRS}),
    "S3OriginConfig": _Obj({"OriginAccessIdentity": _STR}),
})
_DISTRIBUTION = _Obj({
    "DefaultCacheBehavior": _BEHAVIOR, "CacheBehaviors": _Items(_BEHAVIOR), "Origins": _Items(_ORIGIN),
    "Aliases": _STRS, "DefaultRootObject": _STR, "Enabled": _BOOL, "Comment": _STR,
}, "a DistributionConfig object")


def _names(key: str) -> _Obj:
    return _Obj({f"{key}Behavior": _STR, f"{key}s": _STRS})


_POLICY = _Obj({
    "Name": _STR, "MinTTL": _NUM, "DefaultTTL": _NUM, "MaxTTL": _NUM,
    "ParametersInCacheKeyAndForwardedToOrigin": _Obj({
        "EnableAcceptEncodingGzip": _BOOL, "EnableAcceptEncodingBrotli": _BOOL,
        "HeadersConfig": _names("Header"), "CookiesConfig": _names("Cookie"),
        "QueryStringsConfig": _names("QueryString"),
    }),
    "HeadersConfig": _names("Header"), "CookiesConfig": _names("Cookie"), "QueryStringsConfig": _names("QueryString"),
})


def _a(value: Any) -> str:
    """``a string ("GET")``, ``a list``, ``null``: what was found, briefly."""
    if value is None:
        return "null"
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value))
    if kind is None:
        kind = "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"
    shown = repr(value) if isinstance(value, str | int | float | bool) else ""
    return f"{kind} ({shown[:40]})" if shown else kind


def _fail(path: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{path or '(top level)'}: expected {expected}, got {_a(value)}. {_HINT}")


def _check(value: Any, spec: Any, path: str) -> None:
    if value is None:  # an absent or null field: the model uses AWS's default
        return
    if isinstance(spec, _Scalar):
        if not isinstance(value, spec.types) or (spec is _NUM and isinstance(value, bool)):
            raise _fail(path, spec.word, value)
    elif isinstance(spec, _Obj):
        if not isinstance(value, dict):
            raise _fail(path, spec.word, value)
        for key, sub in spec.fields.items():
            _check(value.get(key), sub, f"{path}.{key}" if path else key)
    else:
        _check_items(value, spec, path)


def _check_items(value: Any, spec: _Items, path: str) -> None:
    if not isinstance(value, dict):
        raise _fail(path, "an object with Quantity and Items", value)
    quantity, found = value.get("Quantity"), value.get("Items")
    if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool)):
        raise _fail(f"{path}.Quantity", "a whole number", quantity)
    if found is not None and not isinstance(found, list):
        raise _fail(f"{path}.Items", "a list", found)
    for i, item in enumerate(found or []):
        if item is None:
            raise _fail(f"{path}.Items[{i}]", "a value", item)
        _check(item, spec.item, f"{path}.Items[{i}]")
    for key, sub in spec.extra.items():
        _check(value.get(key), sub, f"{path}.{key}")


def check_config(config: Any, prefix: str = "") -> None:
    """Raise :class:`ConfigError` naming the first field of ``config`` whose type is wrong (``prefix``: where
    the DistributionConfig sits in the file, e.g. ``DistributionConfig``)."""
    if not isinstance(config, dict):
        raise _fail(prefix, "a DistributionConfig object", config)
    _check(config, _DISTRIBUTION, prefix)


def check_policies(policies: Any) -> None:
    """Raise :class:`ConfigError` naming the first wrong field of a ``{policy_id: body}`` mapping."""
    if policies is None:
        return
    if not isinstance(policies, dict):
        raise _fail("(policies)", "an object mapping policy IDs to policy bodies", policies)
    for pid, body in policies.items():
        if not isinstance(body, dict):
            raise _fail(str(pid), "a policy object", body)
        for wrapper in ("CachePolicy", "OriginRequestPolicy"):
            if isinstance(body.get(wrapper), dict):
                body, pid = body[wrapper], f"{pid}.{wrapper}"
        for inner in ("CachePolicyConfig", "OriginRequestPolicyConfig"):
            if inner in body:
                _check(body[inner], _POLICY, f"{pid}.{inner}")
                break
        else:
            _check(body, _POLICY, str(pid))


def check_inputs(config: Any, policies: Any) -> None:
    """:func:`check_config` then :func:`check_policies`."""
    check_config(config)
    check_policies(policies)


# Defaults of the quotas page (QUOTAS_URL); AWS can raise some on request. "Cache behaviors per distribution"
# reads 75 on the current page (older copies of the page said 25).
_BEHAVIORS_PER_DISTRIBUTION = 75
_NAMES_PER_POLICY = 10  # headers, cookies or query strings in one cache or origin request policy
_LEGACY_HEADERS = 10  # whitelisted headers per behavior under legacy settings


def quota_warnings(config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[str]:
    """Where ``config`` (already shape-checked) goes past AWS's default quotas; each names the page."""
    out: list[str] = []
    behaviors = (config.get("CacheBehaviors") or {}).get("Items") or []
    if len(behaviors) > _BEHAVIORS_PER_DISTRIBUTION:
        out.append(f"CacheBehaviors: {len(behaviors)} behaviors; AWS's default quota is "
                   f"{_BEHAVIORS_PER_DISTRIBUTION} per distribution ({QUOTAS_URL}). Merge path patterns "
                   "or ask AWS for a quota increase.")
    for i, b in enumerate([config.get("DefaultCacheBehavior") or {}, *behaviors]):
        where = "DefaultCacheBehavior" if i == 0 else f"CacheBehaviors.Items[{i - 1}]"
        headers = ((b.get("ForwardedValues") or {}).get("Headers") or {}).get("Items") or []
        if len(headers) > _LEGACY_HEADERS and "*" not in headers:
            out.append(f"{where}.ForwardedValues.Headers: {len(headers)} headers; AWS's quota is {_LEGACY_HEADERS} "
                       f"whitelisted headers per cache behavior ({QUOTAS_URL}).")
    for pid, body in (policies or {}).items():
        out += _policy_quota(str(pid), body)
    return out


def _policy_quota(pid: str, body: dict[str, Any]) -> list[str]:
    for wrapper in ("CachePolicy", "OriginRequestPolicy"):
        body = body.get(wrapper) or body
    inner = body.get("CachePolicyConfig") or body.get("OriginRequestPolicyConfig") or body
    params = inner.get("ParametersInCacheKeyAndForwardedToOrigin") or inner
    out = []
    for key, names in (("HeadersConfig", "Headers"), ("CookiesConfig", "Cookies"),
                       ("QueryStringsConfig", "QueryStrings")):
        found = ((params.get(key) or {}).get(names) or {}).get("Items") or []
        if len(found) > _NAMES_PER_POLICY:
            out.append(f"policy {pid}: {len(found)} {names[0].lower() + names[1:]} in {key}; AWS's default quota "
                       f"is {_NAMES_PER_POLICY} per policy ({QUOTAS_URL}).")
    return out
