"""CloudFormation's DistributionConfig and policy properties → the CloudFront API shape.

CloudFormation writes lists as plain lists where the API wraps them in ``{"Quantity", "Items"}``,
keeps CachedMethods beside AllowedMethods, names origin headers ``OriginCustomHeaders`` and SSL
protocols ``OriginSSLProtocols``, and leaves defaults out.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-cloudfront-distribution-distributionconfig.html
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html
"""

from __future__ import annotations

from typing import Any

__all__ = ["distribution_config", "policy_config", "quantity_items"]

_RENAMES = {"OriginCustomHeaders": "CustomHeaders", "OriginSSLProtocols": "OriginSslProtocols", "CNAMEs": "Aliases"}
#: CloudFormation's defaults for what a behavior may leave out (the CacheBehavior property page).
_DEFAULT_METHODS = ["GET", "HEAD"]


def quantity_items(values: list[Any]) -> dict[str, Any]:
    """``[a, b]`` → ``{"Quantity": 2, "Items": [a, b]}``."""
    return {"Quantity": len(values), "Items": list(values)}


def _convert(key: str, value: Any) -> Any:
    if isinstance(value, list):
        items = [_convert_dict(v) if isinstance(v, dict) else v for v in value]
        if key in ("TrustedSigners", "TrustedKeyGroups"):
            return {"Enabled": bool(items), **quantity_items(items)}
        return quantity_items(items)
    if isinstance(value, dict):
        if key == "GeoRestriction":  # the API puts the list beside RestrictionType
            locations = value.get("Locations") or []
            return {"RestrictionType": value.get("RestrictionType", "none"), **quantity_items(locations)}
        return _convert_dict(value)
    return value


def _convert_dict(node: dict[str, Any]) -> dict[str, Any]:
    if "Quantity" in node:  # already in API shape (OriginGroups, StatusCodes)
        return node
    return {_RENAMES.get(k, k): _convert(k, v) for k, v in node.items()}


def _behavior(raw: dict[str, Any]) -> dict[str, Any]:
    cached = raw.get("CachedMethods") or _DEFAULT_METHODS
    out = _convert_dict({k: v for k, v in raw.items() if k not in ("AllowedMethods", "CachedMethods")})
    out["AllowedMethods"] = {**quantity_items(raw.get("AllowedMethods") or _DEFAULT_METHODS),
                             "CachedMethods": quantity_items(cached)}
    out.setdefault("Compress", False)
    return out


def _origin(raw: dict[str, Any]) -> dict[str, Any]:
    out = _convert_dict(raw)
    out.setdefault("OriginPath", "")
    custom = out.get("CustomOriginConfig")
    if isinstance(custom, dict):
        custom.setdefault("HTTPPort", 80)
        custom.setdefault("HTTPSPort", 443)
    return out


def distribution_config(raw: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    """A resolved CloudFormation ``DistributionConfig`` in API shape."""
    rest = {k: v for k, v in raw.items() if k not in ("Origins", "DefaultCacheBehavior", "CacheBehaviors")}
    out: dict[str, Any] = {"CallerReference": caller_reference, "Comment": "", **_convert_dict(rest)}
    out["Origins"] = quantity_items([_origin(o) for o in raw.get("Origins") or []])
    out["DefaultCacheBehavior"] = _behavior(raw.get("DefaultCacheBehavior") or {})
    out["CacheBehaviors"] = quantity_items([_behavior(b) for b in raw.get("CacheBehaviors") or []])
    return out


def policy_config(raw: dict[str, Any]) -> dict[str, Any]:
    """A resolved ``CachePolicyConfig`` / ``OriginRequestPolicyConfig`` in API shape."""
    return _convert_dict(raw)
