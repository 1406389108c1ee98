"""Fixes for a DistributionConfig: the ``Fix`` a finding carries (RFC 6902 JSON patch), applying it,
the small op builders fixes are made of, and the migration of legacy cache settings (ForwardedValues
and the TTL fields) to cache and origin request policies.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior, items
from runbook_lib.cloudfront.policies import CACHING_DISABLED, PolicyKind, managed_policies, policy_name

__all__ = ["Fix", "apply_patch", "drop_legacy", "migration_fix", "set_op", "use_policies"]

_LEGACY_FIELDS = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL")


@dataclass(slots=True)
class Fix:
    """The minimal change: ``patch`` is a list of RFC 6902 JSON-patch operations on the
    DistributionConfig; ``policies`` holds custom policies to create first (placeholder ID ->
    boto3 ``*PolicyConfig`` body), referenced by the patch. An empty patch means the change is
    outside this config (API routes, a CloudFront Function)."""

    description: str
    patch: list[dict[str, Any]]
    policies: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "patch": copy.deepcopy(self.patch),
            "policies": copy.deepcopy(self.policies),
        }


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _walk(doc: Any, tokens: list[str]) -> Any:
    for t in tokens:
        doc = doc[int(t)] if isinstance(doc, list) else doc[t]
    return doc


def apply_patch(config: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    """A deep copy of ``config`` with the JSON-patch ``add``/``replace``/``remove``/``move`` ops applied."""
    doc = copy.deepcopy(config)
    for op in patch:
        tokens = _tokens(op["path"])
        parent, last = _walk(doc, tokens[:-1]), tokens[-1]
        kind = op["op"]
        if kind == "move":
            src = _tokens(op["from"])
            src_parent = _walk(doc, src[:-1])
            value = src_parent.pop(int(src[-1])) if isinstance(src_parent, list) else src_parent.pop(src[-1])
            parent = _walk(doc, tokens[:-1])
            kind, op = "add", {**op, "value": value}
        if kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
        elif kind == "add" and isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op["value"]))
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                parent[int(last)] = copy.deepcopy(op["value"])
            else:
                parent[last] = copy.deepcopy(op["value"])
        else:
            raise ValueError(f"Unsupported JSON-patch op {kind!r}; use add, replace, remove or move.")
    return doc


def set_op(pointer: str, raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """The op that sets ``key`` of the object at ``pointer`` (``raw``): ``replace`` if present, else ``add``."""
    return {"op": "replace" if key in raw else "add", "path": f"{pointer}/{key}", "value": value}


def drop_legacy(pointer: str, raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Ops removing the legacy ForwardedValues and TTL fields that ``raw`` (at ``pointer``) has."""
    return [{"op": "remove", "path": f"{pointer}/{k}"} for k in _LEGACY_FIELDS if k in raw]


def use_policies(pointer: str, raw: dict[str, Any], cp: str | None, orp: str | None) -> list[dict[str, Any]]:
    """Ops pointing the behavior at ``pointer`` (``raw``) at cache policy ``cp`` (dropping the legacy
    fields) and/or origin request policy ``orp``; ``None`` leaves that policy as it is."""
    ops = drop_legacy(pointer, raw) if cp else []
    if cp:
        ops.append(set_op(pointer, raw, "CachePolicyId", cp))
    if orp:
        ops.append(set_op(pointer, raw, "OriginRequestPolicyId", orp))
    return ops


# --- migration of legacy settings ------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class _Legacy:
    """The legacy settings of one behavior, read once."""

    headers: list[str]
    ttls: dict[str, Any]
    qs_on: bool
    qs_keys: list[str]
    cookies: str  # the policy CookieBehavior: "none", "all" or "whitelist"
    cookie_names: list[str]
    gzip: bool


def _read_legacy(raw: dict[str, Any]) -> _Legacy:
    fv = raw.get("ForwardedValues") or {}
    ck = fv.get("Cookies") or {}
    return _Legacy(
        headers=[str(h) for h in items(fv.get("Headers"))],
        ttls={
            "MinTTL": raw.get("MinTTL", 0),
            "DefaultTTL": raw.get("DefaultTTL", 86400),
            "MaxTTL": raw.get("MaxTTL", 31536000),
        },
        qs_on=bool(fv.get("QueryString")),
        qs_keys=[str(k) for k in items(fv.get("QueryStringCacheKeys"))],
        cookies={"all": "all", "whitelist": "whitelist"}.get(str(ck.get("Forward", "none")), "none"),
        cookie_names=[str(n) for n in items(ck.get("WhitelistedNames"))],
        gzip=bool(raw.get("Compress")),
    )


def _uncached_orp(leg: _Legacy) -> dict[str, Any]:
    # Nothing is cached (header-caching.html: "*" disables caching), so CachingDisabled plus an
    # origin request policy carrying what the legacy settings forwarded.
    headers = (
        {"HeaderBehavior": "allViewer"}
        if "*" in leg.headers
        else _selector_cfg("HeaderBehavior", "Headers", "whitelist" if leg.headers else "none", leg.headers)
    )
    return {
        "HeadersConfig": headers,
        "CookiesConfig": _selector_cfg("CookieBehavior", "Cookies", leg.cookies, leg.cookie_names),
        "QueryStringsConfig": {"QueryStringBehavior": "all" if leg.qs_on else "none"},
    }


def _cache_policy_cfg(leg: _Legacy) -> dict[str, Any]:
    qs_kind = ("whitelist" if leg.qs_keys else "all") if leg.qs_on else "none"
    headers_kind = "whitelist" if leg.headers else "none"
    return {
        **leg.ttls,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": leg.gzip,
            "EnableAcceptEncodingBrotli": False,
            "HeadersConfig": _selector_cfg("HeaderBehavior", "Headers", headers_kind, leg.headers),
            "CookiesConfig": _selector_cfg("CookieBehavior", "Cookies", leg.cookies, leg.cookie_names),
            "QueryStringsConfig": _selector_cfg("QueryStringBehavior", "QueryStrings", qs_kind, leg.qs_keys),
        },
    }


def _forwards_nothing(orp_cfg: dict[str, Any]) -> bool:
    return all(
        orp_cfg[section][key] == "none"
        for section, key in (
            ("HeadersConfig", "HeaderBehavior"),
            ("CookiesConfig", "CookieBehavior"),
            ("QueryStringsConfig", "QueryStringBehavior"),
        )
    )


def _managed_or_new(
    kind: PolicyKind, cfg: dict[str, Any], keys: tuple[str, ...], slug: str, new: dict[str, Any]
) -> str:
    """The ID of a managed policy equal to ``cfg`` on ``keys``, else a placeholder ID for a new custom
    policy (added to ``new`` in boto3 shape)."""
    managed = [pid for pid, m in managed_policies(kind).items() if _same(m, cfg, keys)]
    if managed:
        return managed[0]
    label, inner = (
        ("cache-policy", "CachePolicyConfig")
        if kind == "cache"
        else ("origin-request-policy", "OriginRequestPolicyConfig")
    )
    pid = f"<new-{label}-{slug}>"
    new[pid] = {inner: {"Name": f"migrated-{slug}", "Comment": "", **cfg}}
    return pid


def migration_fix(b: Behavior) -> Fix:
    """The policies that reproduce ``b``'s legacy settings: managed ones where one matches, else new
    custom ones (placeholder IDs in ``Fix.policies``), plus the patch that attaches them."""
    leg = _read_legacy(b.raw)
    notes = [
        "Legacy POST/PUT/PATCH/DELETE kept Authorization; under policies it is forwarded only when a "
        "policy names it or an all-viewer origin request policy is used."
    ]
    if any(c in n for n in leg.cookie_names for c in "*?"):
        notes.append("Policies match cookie names exactly: the wildcard names must be listed one by one.")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", b.label).strip("-") or "default"
    new: dict[str, Any] = {}
    orp_cfg: dict[str, Any] | None = None
    if "*" in leg.headers or all(v in (0, None) for v in leg.ttls.values()):
        cp_id: str = CACHING_DISABLED
        orp_cfg = _uncached_orp(leg)
    else:
        cp_keys = ("MinTTL", "DefaultTTL", "MaxTTL", "ParametersInCacheKeyAndForwardedToOrigin")
        cp_id = _managed_or_new("cache", _cache_policy_cfg(leg), cp_keys, slug, new)
        if leg.qs_on and leg.qs_keys:  # "forward all, cache based on whitelist"
            orp_cfg = {
                "HeadersConfig": {"HeaderBehavior": "none"},
                "CookiesConfig": {"CookieBehavior": "none"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
            }
    orp_id: str | None = None
    if orp_cfg is not None and not _forwards_nothing(orp_cfg):
        orp_keys = ("HeadersConfig", "CookiesConfig", "QueryStringsConfig")
        orp_id = _managed_or_new("origin_request", orp_cfg, orp_keys, slug, new)
    names = policy_name(cp_id, new) + (f" + {policy_name(orp_id, new)}" if orp_id else "")
    return Fix(
        f"Replace ForwardedValues and the TTL fields with {names}. " + " ".join(notes),
        use_policies(b.pointer, b.raw, cp_id, orp_id),
        new,
    )
