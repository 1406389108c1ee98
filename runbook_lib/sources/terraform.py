"""Read a Terraform plan or state (``terraform show -json``): one source per aws_cloudfront_distribution.

The AWS provider's attributes are mapped onto the CloudFront API shape (origin → Origins,
default_cache_behavior / ordered_cache_behavior → behaviors, forwarded_values → ForwardedValues).
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudfront_distribution
"""

from __future__ import annotations

from typing import Any

from runbook_lib.sources.cfn_shape import quantity_items as qi
from runbook_lib.sources.result import DistributionSource
from runbook_lib.sources.tf_apis import terraform_apis
from runbook_lib.sources.tf_plan import TfDocument, TfResource, is_terraform

__all__ = ["is_terraform", "read_terraform"]


def _block(doc: TfDocument, res: TfResource, *path: str | int) -> dict[str, Any]:
    found = doc.get(res, *path)
    return found if isinstance(found, dict) else {}


def _origin(doc: TfDocument, res: TfResource, i: int) -> dict[str, Any]:
    raw = _block(doc, res, "origin", i)
    out: dict[str, Any] = {"Id": doc.get(res, "origin", i, "origin_id"),
                           "DomainName": doc.get(res, "origin", i, "domain_name"),
                           "OriginPath": raw.get("origin_path") or ""}
    headers = [{"HeaderName": h.get("name"), "HeaderValue": h.get("value")} for h in raw.get("custom_header") or []]
    out["CustomHeaders"] = qi(headers)
    custom = (raw.get("custom_origin_config") or [None])[0]
    if isinstance(custom, dict):
        out["CustomOriginConfig"] = {
            "HTTPPort": custom.get("http_port", 80), "HTTPSPort": custom.get("https_port", 443),
            "OriginProtocolPolicy": custom.get("origin_protocol_policy", "https-only"),
            "OriginSslProtocols": qi(list(custom.get("origin_ssl_protocols") or ["TLSv1.2"]))}
    s3 = raw.get("s3_origin_config") or []
    if s3 or "CustomOriginConfig" not in out:  # the provider writes an empty list when the block is absent
        identity = s3[0].get("origin_access_identity", "") if s3 else ""
        out["S3OriginConfig"] = {"OriginAccessIdentity": identity}
    if raw.get("origin_access_control_id"):
        out["OriginAccessControlId"] = raw["origin_access_control_id"]
    return out


def _forwarded(fv: dict[str, Any]) -> dict[str, Any]:
    cookies = (fv.get("cookies") or [{}])[0]
    return {
        "QueryString": bool(fv.get("query_string")),
        "QueryStringCacheKeys": qi(list(fv.get("query_string_cache_keys") or [])),
        "Headers": qi(list(fv.get("headers") or [])),
        "Cookies": {"Forward": cookies.get("forward", "none"),
                    "WhitelistedNames": qi(list(cookies.get("whitelisted_names") or []))},
    }


def _behavior(doc: TfDocument, res: TfResource, key: str, i: int) -> dict[str, Any]:
    raw = _block(doc, res, key, i)
    out: dict[str, Any] = {
        "TargetOriginId": raw.get("target_origin_id"),
        "ViewerProtocolPolicy": raw.get("viewer_protocol_policy", "allow-all"),
        "AllowedMethods": {**qi(list(raw.get("allowed_methods") or ["GET", "HEAD"])),
                           "CachedMethods": qi(list(raw.get("cached_methods") or ["GET", "HEAD"]))},
        "Compress": bool(raw.get("compress", False)),
    }
    if raw.get("path_pattern"):
        out = {"PathPattern": raw["path_pattern"], **out}
    for attr, api_key in (("cache_policy_id", "CachePolicyId"), ("origin_request_policy_id", "OriginRequestPolicyId"),
                          ("response_headers_policy_id", "ResponseHeadersPolicyId")):
        value = doc.get(res, key, i, attr)
        if value:
            out[api_key] = value
    fv = (raw.get("forwarded_values") or [None])[0]
    if isinstance(fv, dict) and "CachePolicyId" not in out:
        out["ForwardedValues"] = _forwarded(fv)
        out.update({"MinTTL": raw.get("min_ttl", 0), "DefaultTTL": raw.get("default_ttl", 86400),
                    "MaxTTL": raw.get("max_ttl", 31536000)})
    functions = [{"EventType": f.get("event_type"), "FunctionARN": doc.get(res, key, i, "function_association", j,
                                                                           "function_arn")}
                 for j, f in enumerate(raw.get("function_association") or [])]
    out["FunctionAssociations"] = qi(functions)
    return out


def _distribution(doc: TfDocument, res: TfResource) -> dict[str, Any]:
    v = res.values
    return {
        "CallerReference": res.address,
        "Comment": v.get("comment") or "",
        "Enabled": bool(v.get("enabled", True)),
        "Aliases": qi(list(v.get("aliases") or [])),
        "DefaultRootObject": v.get("default_root_object") or "",
        "Origins": qi([_origin(doc, res, i) for i in range(len(v.get("origin") or []))]),
        "DefaultCacheBehavior": _behavior(doc, res, "default_cache_behavior", 0),
        "CacheBehaviors": qi([_behavior(doc, res, "ordered_cache_behavior", i)
                              for i in range(len(v.get("ordered_cache_behavior") or []))]),
    }


def _items(block: Any, name: str) -> dict[str, Any]:
    inner = (block or [{}])[0].get(name) if isinstance(block, list) and block else None
    return qi(list((inner or [{}])[0].get("items") or [])) if inner else qi([])


def _kind_config(raw: Any, kind: str, plural: str) -> dict[str, Any]:
    block = (raw or [{}])[0] if isinstance(raw, list) and raw else {}
    cap = {"header": "Header", "cookie": "Cookie", "query_string": "QueryString"}[kind]
    return {f"{cap}Behavior": block.get(f"{kind}_behavior", "none"), f"{cap}s": _items(raw, plural)}


def _policies(doc: TfDocument) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for res in doc.of_type("aws_cloudfront_cache_policy"):
        v = res.values
        params = (v.get("parameters_in_cache_key_and_forwarded_to_origin") or [{}])[0]
        out[str(doc.get(res, "id"))] = {"CachePolicyConfig": {
            "Name": v.get("name"), "Comment": v.get("comment") or "", "MinTTL": v.get("min_ttl", 0),
            "DefaultTTL": v.get("default_ttl", 86400), "MaxTTL": v.get("max_ttl", 31536000),
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": bool(params.get("enable_accept_encoding_gzip")),
                "EnableAcceptEncodingBrotli": bool(params.get("enable_accept_encoding_brotli")),
                "HeadersConfig": _kind_config(params.get("headers_config"), "header", "headers"),
                "CookiesConfig": _kind_config(params.get("cookies_config"), "cookie", "cookies"),
                "QueryStringsConfig": _kind_config(params.get("query_strings_config"), "query_string",
                                                   "query_strings")}}}
    for res in doc.of_type("aws_cloudfront_origin_request_policy"):
        v = res.values
        out[str(doc.get(res, "id"))] = {"OriginRequestPolicyConfig": {
            "Name": v.get("name"), "Comment": v.get("comment") or "",
            "HeadersConfig": _kind_config(v.get("headers_config"), "header", "headers"),
            "CookiesConfig": _kind_config(v.get("cookies_config"), "cookie", "cookies"),
            "QueryStringsConfig": _kind_config(v.get("query_strings_config"), "query_string", "query_strings")}}
    return out


def read_terraform(data: dict[str, Any], location: str) -> list[DistributionSource]:
    """One :class:`DistributionSource` per aws_cloudfront_distribution in the plan or state."""
    doc = TfDocument(data)
    policies = _policies(doc)
    functions = {str(doc.get(r, "arn")): str(r.values.get("code") or "")
                 for r in doc.of_type("aws_cloudfront_function")}
    apis, domains = terraform_apis(doc)
    out = []
    for res in doc.of_type("aws_cloudfront_distribution"):
        config = _distribution(doc, res)
        behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]["Items"]]
        used = {str(b.get(k)) for b in behaviors for k in ("CachePolicyId", "OriginRequestPolicyId")}
        arns = {str(f["FunctionARN"]) for b in behaviors for f in b["FunctionAssociations"]["Items"]}
        out.append(DistributionSource(
            name=res.address, kind="terraform", location=location, config=config,
            policies={k: v for k, v in policies.items() if k in used},
            functions={k: v for k, v in functions.items() if k in arns}, apis=apis, domains=domains))
    return out
