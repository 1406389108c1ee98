"""Named settings for the ``/api/*`` behavior: the right one, and the ones people ship by mistake.

Each preset is what a person would select in the console; the forwarding each one produces is
AWS's documented behaviour (docs/aws-behaviour.md and the model in ``runbook_lib.cloudfront.model``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.policies import (
    ALL_VIEWER,
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    policy_name,
)
from runbook_lib.errors import ParameterError

__all__ = ["CUSTOM_CACHE_POLICY_SUFFIX", "PRESETS", "Preset", "get", "table"]

#: Name suffix of the custom cache policy a preset may create (prefixed with the stack name).
CUSTOM_CACHE_POLICY_SUFFIX = "api-auth-and-query"


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    cache_policy_id: str | None = None
    origin_request_policy_id: str | None = None
    #: Legacy settings (ForwardedValues); a behavior has these *or* a cache policy.
    forwarded_values: dict[str, Any] | None = None
    #: True when the behavior uses the custom cache policy the runbook creates.
    custom_cache_policy: bool = False
    recommended: bool = False
    notes: tuple[str, ...] = field(default=())

    def behavior_fields(self, custom_cache_policy_id: str | None = None) -> dict[str, Any]:
        """The CacheBehavior fields this preset sets (policies, or legacy ForwardedValues + TTLs)."""
        if self.forwarded_values is not None:
            return {"ForwardedValues": self.forwarded_values, "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0}
        policy_id = custom_cache_policy_id if self.custom_cache_policy else self.cache_policy_id
        if not policy_id:
            raise ParameterError(f"Preset {self.name!r} needs its custom cache policy created first.")
        fields: dict[str, Any] = {"CachePolicyId": policy_id}
        if self.origin_request_policy_id:
            fields["OriginRequestPolicyId"] = self.origin_request_policy_id
        return fields


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "recommended",
            "CachingDisabled + AllViewerExceptHostHeader: every query string, header and cookie reaches "
            "the API, and CloudFront sets Host to the API's own domain.",
            cache_policy_id=CACHING_DISABLED,
            origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
            recommended=True,
        ),
        Preset(
            "legacy-no-query",
            "Legacy cache settings with query string forwarding off (QueryString=false): "
            "?since=2020-01-01 never reaches the API.",
            forwarded_values={
                "QueryString": False,
                "Cookies": {"Forward": "none"},
                "Headers": {"Quantity": 0},
                "QueryStringCacheKeys": {"Quantity": 0},
            },
        ),
        Preset(
            "caching-optimized",
            "CachingOptimized alone (the console default): no query strings, no Authorization, "
            "no custom headers or cookies reach the API, and responses are cached.",
            cache_policy_id=CACHING_OPTIMIZED,
        ),
        Preset(
            "allviewer",
            "CachingDisabled + AllViewer: the viewer's Host header is forwarded too, and API Gateway "
            "answers 403 to a Host that is not its own.",
            cache_policy_id=CACHING_DISABLED,
            origin_request_policy_id=ALL_VIEWER,
        ),
        Preset(
            "custom-auth-in-key",
            "A custom cache policy with Authorization and all query strings in the cache key "
            "(MaxTTL 1, as in the well-known CDK snippet); nothing else is forwarded.",
            custom_cache_policy=True,
        ),
    )
}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ParameterError(
            f"preset={name!r} is not known. Valid choices: {', '.join(PRESETS)} "
            "('recommended' is the right one for an API Gateway origin)."
        ) from None


def table() -> list[dict[str, str]]:
    """The presets as rows (name, settings, what happens), for notebooks and the README."""
    rows = []
    for p in PRESETS.values():
        if p.forwarded_values is not None:
            settings = "legacy ForwardedValues"
        elif p.custom_cache_policy:
            settings = f"custom cache policy ({CUSTOM_CACHE_POLICY_SUFFIX})"
        else:
            settings = " + ".join(policy_name(i) for i in (p.cache_policy_id, p.origin_request_policy_id) if i)
        rows.append({"preset": p.name + (" (default)" if p.recommended else ""), "settings": settings,
                     "what happens": p.summary})
    return rows
