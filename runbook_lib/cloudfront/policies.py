"""CloudFront cache and origin request policies: the AWS managed ones, custom ones, names <-> IDs.

The managed policies ship in ``data/managed_policies.json`` in boto3 shape
(``{"CachePolicyConfig": {...}}`` / ``{"OriginRequestPolicyConfig": {...}}``), keyed by ID.
Sources: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
and https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from runbook_lib.errors import ConfigError

__all__ = [
    "ALL_VIEWER",
    "ALL_VIEWER_AND_CLOUDFRONT_HEADERS",
    "ALL_VIEWER_EXCEPT_HOST_HEADER",
    "CACHING_DISABLED",
    "CACHING_OPTIMIZED",
    "CORS_CUSTOM_ORIGIN",
    "CORS_S3_ORIGIN",
    "ELEMENTAL_MEDIATAILOR",
    "USER_AGENT_REFERER_HEADERS",
    "USE_ORIGIN_CACHE_CONTROL_HEADERS",
    "PolicyKind",
    "fetch_custom_policies",
    "is_managed",
    "managed_policies",
    "policy_name",
    "read_json",
    "resolve_cache_policy",
    "resolve_origin_request_policy",
]

PolicyKind = Literal["cache", "origin_request"]

# The managed policy IDs the code names (the only place they are written; data/ holds them all).
# Cache policies:
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
USE_ORIGIN_CACHE_CONTROL_HEADERS = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
# Origin request policies:
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_AND_CLOUDFRONT_HEADERS = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CORS_CUSTOM_ORIGIN = "59781a5b-3903-41f3-afcb-af62929ccde1"
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
ELEMENTAL_MEDIATAILOR = "775133bc-15f2-49f9-abea-afb2e0bf67d2"
USER_AGENT_REFERER_HEADERS = "acba4595-bd28-49b8-b9fe-13317c0390fa"

_KEYS: dict[PolicyKind, tuple[str, str]] = {
    "cache": ("cache_policies", "CachePolicyConfig"),
    "origin_request": ("origin_request_policies", "OriginRequestPolicyConfig"),
}


def read_json(name: str) -> dict[str, Any]:
    """A JSON file shipped in ``runbook_lib/cloudfront/data/``; a broken install raises ConfigError."""
    try:
        data: dict[str, Any] = json.loads(resources.files(__package__).joinpath("data", name).read_text("utf-8"))
    except (OSError, ValueError) as err:  # pragma: no cover - a broken install
        raise ConfigError(f"Cannot read runbook_lib/cloudfront/data/{name} ({err}). Reinstall the package.") from err
    return data


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    return read_json("managed_policies.json")


def managed_policies(kind: PolicyKind) -> dict[str, dict[str, Any]]:
    """The managed policies of one kind, ``{id: config}`` (the inner ``*PolicyConfig`` dict).

    The returned dict is shared: treat it as read-only.
    """
    section, inner = _KEYS[kind]
    return {pid: body[inner] for pid, body in _load()[section].items()}


def is_managed(policy_id: str) -> bool:
    """Whether ``policy_id`` is one of the AWS managed cache or origin request policies."""
    data = _load()
    return policy_id in data["cache_policies"] or policy_id in data["origin_request_policies"]


def _bare_name(name: str) -> str:
    # AWS shows managed names with a "Managed-" prefix in the API but without it on the doc pages.
    return name[len("Managed-") :] if name.startswith("Managed-") else name


def policy_name(policy_id: str, policies: dict[str, Any] | None = None) -> str:
    """A display name for a policy ID: the managed name without prefix, the custom Name, or the ID."""
    kinds: tuple[PolicyKind, ...] = ("cache", "origin_request")
    for kind in kinds:
        cfg = managed_policies(kind).get(policy_id)
        if cfg is not None:
            return _bare_name(str(cfg["Name"]))
    if policies and policy_id in policies:
        body = policies[policy_id]
        if isinstance(body, dict):
            for inner in ("CachePolicyConfig", "OriginRequestPolicyConfig"):
                if isinstance(body.get(inner), dict) and body[inner].get("Name"):
                    return str(body[inner]["Name"])
    return policy_id


def _resolve(kind: PolicyKind, policy_id: str, policies: dict[str, Any] | None) -> dict[str, Any] | None:
    _, inner = _KEYS[kind]
    if policies and policy_id in policies:
        body = policies[policy_id]
        # Accept the boto3 shapes {"CachePolicyConfig": ...}, a whole get_cache_policy answer
        # ({"CachePolicy": {"Id", "CachePolicyConfig"}}), or the bare inner config.
        if isinstance(body, dict):
            for wrapper in ("CachePolicy", "OriginRequestPolicy"):
                if isinstance(body.get(wrapper), dict):
                    body = body[wrapper]
            if isinstance(body.get(inner), dict):
                return dict(body[inner])
            other = "OriginRequestPolicyConfig" if inner == "CachePolicyConfig" else "CachePolicyConfig"
            if other in body:
                raise ConfigError(
                    f"Policy {policy_id} is a {other[:-6]} but the behavior uses it as a {inner[:-6]}. "
                    f"Reference it from the {'CachePolicyId' if kind == 'cache' else 'OriginRequestPolicyId'}"
                    " field that matches its kind."
                )
            if "Name" in body or "HeadersConfig" in body or "ParametersInCacheKeyAndForwardedToOrigin" in body:
                return dict(body)
        raise ConfigError(
            f"Custom policy {policy_id} is not in boto3 shape: expected {{{inner!r}: {{...}}}}, "
            f"found keys {sorted(body) if isinstance(body, dict) else type(body).__name__}. "
            "Pass the get_cache_policy / get_origin_request_policy answer or its *PolicyConfig."
        )
    managed = managed_policies(kind).get(policy_id)
    return dict(managed) if managed is not None else None


def resolve_cache_policy(policy_id: str, policies: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The ``CachePolicyConfig`` for ``policy_id`` (custom ``policies`` first, then managed), or None."""
    return _resolve("cache", policy_id, policies)


def resolve_origin_request_policy(policy_id: str, policies: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The ``OriginRequestPolicyConfig`` for ``policy_id`` (custom first, then managed), or None."""
    return _resolve("origin_request", policy_id, policies)


def fetch_custom_policies(cloudfront: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The custom (not managed) policies ``config`` references, fetched with a boto3 CloudFront client,
    in the ``policies`` shape that :func:`runbook_lib.simulate` takes."""
    behaviors = [config.get("DefaultCacheBehavior") or {}, *((config.get("CacheBehaviors") or {}).get("Items") or [])]
    found: dict[str, Any] = {}
    for b in behaviors:
        for key, call, answer in (
            ("CachePolicyId", cloudfront.get_cache_policy, "CachePolicy"),
            ("OriginRequestPolicyId", cloudfront.get_origin_request_policy, "OriginRequestPolicy"),
        ):
            pid = b.get(key)
            if pid and not is_managed(pid) and pid not in found:
                inner = f"{answer}Config"
                found[pid] = {inner: call(Id=pid)[answer][inner]}
    return found
