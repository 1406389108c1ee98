"""Shape conversions for the fix exports: the CloudFront API's DistributionConfig and policies as CloudFormation
(and so CDK L1) properties, and as Terraform HCL blocks. ``runbook_lib.sources.cfn_shape`` reads the other way.

CloudFormation: plain lists for ``{"Quantity", "Items"}``, CachedMethods beside AllowedMethods, origin headers
named OriginCustomHeaders, SSL protocols OriginSSLProtocols, IPV6Enabled for IsIPV6Enabled
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-cloudfront-distribution-distributionconfig.html).
Terraform: snake_case names and blocks, lists of names in ``items``
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudfront_distribution,
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudfront_cache_policy).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["cfn_behavior", "cfn_shape", "cfn_template", "hcl_behavior", "hcl_policy", "lower_camel", "snake"]

_RENAMES = {"CustomHeaders": "OriginCustomHeaders", "OriginSslProtocols": "OriginSSLProtocols",
            "IsIPV6Enabled": "IPV6Enabled"}
_CERT_RENAMES = {"ACMCertificateArn": "AcmCertificateArn", "IAMCertificateId": "IamCertificateId",
                 "SSLSupportMethod": "SslSupportMethod", "MinimumProtocolVersion": "MinimumProtocolVersion"}
_DROP = {"CallerReference", "Certificate", "CertificateSource"}


def lower_camel(name: str) -> str:
    """``MinTTL`` → ``minTtl``, ``CachePolicyConfig`` → ``cachePolicyConfig`` (jsii's property names)."""
    name = re.sub(r"([A-Z])([A-Z]+)(?=[A-Z][a-z]|$)", lambda m: m.group(1) + m.group(2).lower(), name)
    return name[:1].lower() + name[1:]


def snake(name: str) -> str:
    """``MinTTL`` → ``min_ttl``, ``EnableAcceptEncodingGzip`` → ``enable_accept_encoding_gzip``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _is_list(node: Any) -> bool:
    return isinstance(node, dict) and "Quantity" in node


def cfn_shape(node: Any, key: str = "") -> Any:
    """``node`` (API shape) as CloudFormation properties: lists unwrapped, empty strings and lists left out."""
    if _is_list(node) and key != "OriginGroups":
        return [cfn_shape(i) for i in node.get("Items") or []]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        k = str(k)
        if k == "GeoRestriction":
            out[k] = {"RestrictionType": v["RestrictionType"], **({"Locations": v["Items"]} if v.get("Items") else {})}
            continue
        if k in _DROP or v == "" or (_is_list(v) and not v.get("Items")):
            continue
        if k == "ViewerCertificate":
            out[k] = ({"CloudFrontDefaultCertificate": True} if v.get("CloudFrontDefaultCertificate")
                      else {_CERT_RENAMES[c]: x for c, x in v.items() if c in _CERT_RENAMES and x != ""})
        elif k == "Logging" and not v.get("Enabled"):
            continue
        elif k == "Logging":
            out[k] = {x: y for x, y in v.items() if x != "Enabled" and y != ""}
        elif k == "Staging" and v is False:
            continue
        else:
            out[_RENAMES.get(str(k), str(k))] = cfn_shape(v, str(k))
    return out


def cfn_behavior(behavior: dict[str, Any]) -> dict[str, Any]:
    """One cache behavior as CloudFormation wants it (CachedMethods beside AllowedMethods)."""
    allowed = behavior.get("AllowedMethods") or {}
    out = cfn_shape({k: v for k, v in behavior.items() if k != "AllowedMethods"})
    if allowed:
        out["AllowedMethods"] = list(allowed.get("Items") or [])
        if allowed.get("CachedMethods"):
            out["CachedMethods"] = list(allowed["CachedMethods"].get("Items") or [])
    return dict(out)


def _refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _refs(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_refs(v, names) for v in node]
    return {"Ref": names[node]} if isinstance(node, str) and node in names else node


def cfn_template(config: dict[str, Any], policies: dict[str, Any], names: dict[str, str],
                 distribution: str) -> dict[str, Any]:
    """A whole template: the new policies and the distribution with the fixed config (policies by Ref)."""
    resources: dict[str, Any] = {}
    for pid, body in policies.items():
        kind = "CachePolicy" if "CachePolicyConfig" in body else "OriginRequestPolicy"
        resources[names[pid]] = {"Type": f"AWS::CloudFront::{kind}",
                                 "Properties": {f"{kind}Config": cfn_shape(body[f"{kind}Config"])}}
    dist = cfn_shape({k: v for k, v in config.items() if k not in ("DefaultCacheBehavior", "CacheBehaviors")})
    dist["DefaultCacheBehavior"] = cfn_behavior(config["DefaultCacheBehavior"])
    behaviors = (config.get("CacheBehaviors") or {}).get("Items") or []
    if behaviors:
        dist["CacheBehaviors"] = [cfn_behavior(b) for b in behaviors]
    logical = re.sub(r"[^A-Za-z0-9]", "", distribution) or "Distribution"
    resources[logical] = {"Type": "AWS::CloudFront::Distribution",
                          "Properties": {"DistributionConfig": _refs(dist, names)}}
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": "The fixed CloudFront distribution (generated by runbook_lib fix --export cloudformation)",
            "Resources": resources}


# --- Terraform ----------------------------------------------------------------------------------------------


def _hcl_value(value: Any, refs: dict[str, str] | None = None) -> str:
    if isinstance(value, str) and refs and value in refs:
        return refs[value]
    return json.dumps(value)  # HCL's strings, numbers, booleans and lists read like JSON's


def _hcl_block(name: str, node: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines = [f"{pad}{name} {{"]
    for k, v in node.items():
        if v == "" or (_is_list(v) and not v.get("Items")) or k in _DROP:
            continue
        if _is_list(v):
            lines += [f"{pad}  {snake(k)} {{", f"{pad}    items = {_hcl_value(v['Items'])}", f"{pad}  }}"]
        elif isinstance(v, dict):
            lines += _hcl_block(snake(k), v, indent + 2)
        else:
            lines.append(f"{pad}  {snake(k)} = {_hcl_value(v)}")
    return lines + [f"{pad}}}"]


def hcl_policy(name: str, body: dict[str, Any]) -> str:
    """A new cache or origin request policy as a Terraform resource."""
    kind, key = (("cache", "CachePolicyConfig") if "CachePolicyConfig" in body
                 else ("origin_request", "OriginRequestPolicyConfig"))
    block = _hcl_block(f'resource "aws_cloudfront_{kind}_policy" "{name}"', body[key], 0)
    return "\n".join(block) + "\n"


def _legacy(fv: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    cookies = fv.get("Cookies") or {}
    lines = [f"{pad}forwarded_values {{", f"{pad}  query_string = {_hcl_value(bool(fv.get('QueryString')))}"]
    for key, name in (("Headers", "headers"), ("QueryStringCacheKeys", "query_string_cache_keys")):
        if (fv.get(key) or {}).get("Items"):
            lines.append(f"{pad}  {name} = {_hcl_value(fv[key]['Items'])}")
    lines += [f"{pad}  cookies {{", f"{pad}    forward = {_hcl_value(cookies.get('Forward', 'none'))}"]
    if (cookies.get("WhitelistedNames") or {}).get("Items"):
        lines.append(f"{pad}    whitelisted_names = {_hcl_value(cookies['WhitelistedNames']['Items'])}")
    return lines + [f"{pad}  }}", f"{pad}}}"]


def hcl_behavior(behavior: dict[str, Any], default: bool, refs: dict[str, str]) -> str:
    """The fixed behavior as a ``default_cache_behavior`` / ``ordered_cache_behavior`` block."""
    allowed = behavior.get("AllowedMethods") or {}
    lines = ["default_cache_behavior {" if default else "ordered_cache_behavior {"]
    plain = ("PathPattern", "TargetOriginId", "ViewerProtocolPolicy", "Compress", "CachePolicyId",
             "OriginRequestPolicyId", "ResponseHeadersPolicyId", "RealtimeLogConfigArn", "FieldLevelEncryptionId",
             "SmoothStreaming", "MinTTL", "DefaultTTL", "MaxTTL")
    for key in plain:
        if behavior.get(key) not in (None, "") and not (default and key == "PathPattern"):
            lines.append(f"  {snake(key)} = {_hcl_value(behavior[key], refs)}")
    if allowed:
        lines.append(f"  allowed_methods = {_hcl_value(allowed.get('Items') or [])}")
        lines.append(f"  cached_methods = {_hcl_value((allowed.get('CachedMethods') or {}).get('Items') or [])}")
    for assoc in (behavior.get("FunctionAssociations") or {}).get("Items") or []:
        lines += ["  function_association {", f"    event_type = {_hcl_value(assoc['EventType'])}",
                  f"    function_arn = {_hcl_value(assoc['FunctionARN'])}", "  }"]
    if behavior.get("ForwardedValues"):
        lines += _legacy(behavior["ForwardedValues"], 2)
    return "\n".join(lines + ["}"]) + "\n"
