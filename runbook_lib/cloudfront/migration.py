"""Migration of legacy cache settings (ForwardedValues and the TTL fields) to cache and origin
request policies: the fix behind the ``legacy-settings`` finding.
"""

from __future__ import annotations

import re
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior, items
from runbook_lib.cloudfront.patch import Fix, use_policies
from runbook_lib.cloudfront.policies import CACHING_DISABLED, managed_policies, policy_name

__all__ = ["migration_fix"]


def _selector_cfg(key: str, list_key: str, kind: str, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {key: kind}
    if names:
        out[list_key] = {"Quantity": len(names), "Items": names}
    return out


def _same(a: dict[str, Any], b: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return all(_norm(a.get(k)) == _norm(b.get(k)) for k in keys)


def _norm(value: Any) -> Any:
    # Compare policy configs ignoring Name/Comment and an empty {"Quantity": 0} list.
    if isinstance(value, dict):
        return {
            k: _norm(v)
            for k, v in value.items()
            if k not in ("Name", "Comment") and v not in ({"Quantity": 0}, {"Quantity": 0, "Items": []})
        }
    return value


def migration_fix(b: Behavior) -> Fix:
    """The policies that reproduce ``b``'s legacy settings: managed ones where one matches, else new
    custom ones (placeholder IDs in ``Fix.policies``), plus the patch that attaches them."""
    fv = b.raw.get("ForwardedValues") or {}
    headers = [str(h) for h in items(fv.get("Headers"))]
    star = "*" in headers
    ttls = {
        "MinTTL": b.raw.get("MinTTL", 0),
        "DefaultTTL": b.raw.get("DefaultTTL", 86400),
        "MaxTTL": b.raw.get("MaxTTL", 31536000),
    }
    qs_on = bool(fv.get("QueryString"))
    qs_keys = [str(k) for k in items(fv.get("QueryStringCacheKeys"))]
    forward = str((fv.get("Cookies") or {}).get("Forward", "none"))
    cookie_names = [str(n) for n in items((fv.get("Cookies") or {}).get("WhitelistedNames"))]
    cookies = {"all": "all", "whitelist": "whitelist"}.get(forward, "none")
    notes = [
        "Legacy POST/PUT/PATCH/DELETE kept Authorization; under policies it is forwarded only when a "
        "policy names it or an all-viewer origin request policy is used."
    ]
    if any(c in n for n in cookie_names for c in "*?"):
        notes.append("Policies match cookie names exactly: the wildcard names must be listed one by one.")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", b.label).strip("-") or "default"
    new: dict[str, Any] = {}
    orp_cfg: dict[str, Any] | None = None
    if star or all(v in (0, None) for v in ttls.values()):
        # Nothing is cached (header-caching.html: "*" disables caching), so CachingDisabled plus an
        # origin request policy carrying what the legacy settings forwarded.
        cp_id: str = CACHING_DISABLED
        orp_cfg = {
            "HeadersConfig": {"HeaderBehavior": "allViewer"}
            if star
            else _selector_cfg("HeaderBehavior", "Headers", "whitelist" if headers else "none", headers),
            "CookiesConfig": _selector_cfg("CookieBehavior", "Cookies", cookies, cookie_names),
            "QueryStringsConfig": {"QueryStringBehavior": "all" if qs_on else "none"},
        }
    else:
        cp_cfg = {
            **ttls,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": bool(b.raw.get("Compress")),
                "EnableAcceptEncodingBrotli": False,
                "HeadersConfig": _selector_cfg(
                    "HeaderBehavior", "Headers", "whitelist" if headers else "none", headers
                ),
                "CookiesConfig": _selector_cfg("CookieBehavior", "Cookies", cookies, cookie_names),
                "QueryStringsConfig": _selector_cfg(
                    "QueryStringBehavior",
                    "QueryStrings",
                    ("whitelist" if qs_keys else "all") if qs_on else "none",
                    qs_keys,
                ),
            },
        }
        keys = ("MinTTL", "DefaultTTL", "MaxTTL", "ParametersInCacheKeyAndForwardedToOrigin")
        managed = [pid for pid, m in managed_policies("cache").items() if _same(m, cp_cfg, keys)]
        if managed:
            cp_id = managed[0]
        else:
            cp_id = f"<new-cache-policy-{slug}>"
            new[cp_id] = {"CachePolicyConfig": {"Name": f"migrated-{slug}", "Comment": "", **cp_cfg}}
        if qs_on and qs_keys:  # "forward all, cache based on whitelist"
            orp_cfg = {
                "HeadersConfig": {"HeaderBehavior": "none"},
                "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
            }
    orp_id: str | None = None
    if orp_cfg is not None and not all(
        v.get(k) == "none"
        for v, k in (
            (orp_cfg["HeadersConfig"], "HeaderBehavior"),
            (orp_cfg["CookiesConfig"], "CookieBehavior"),
            (orp_cfg["QueryStringsConfig"], "QueryStringBehavior"),
        )
    ):
        orp_keys = ("HeadersConfig", "CookiesConfig", "QueryStringsConfig")
        managed = [
            pid for pid, m in managed_policies("origin_request").items() if _same(m, orp_cfg, orp_keys)
        ]
        if managed:
            orp_id = managed[0]
        else:
            orp_id = f"<new-origin-request-policy-{slug}>"
            new[orp_id] = {
                "OriginRequestPolicyConfig": {"Name": f"migrated-{slug}", "Comment": "", **orp_cfg}
            }
    names = policy_name(cp_id, new) + (f" + {policy_name(orp_id, new)}" if orp_id else "")
    return Fix(
        f"Replace ForwardedValues and the TTL fields with {names}. " + " ".join(notes),
        use_policies(b, cp_id, orp_id),
        new,
    )
