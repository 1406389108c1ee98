"""JSON-patch fixes for a DistributionConfig: the ``Fix`` a finding carries, applying its patch, and
the small op builders the fixes are made of.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior

__all__ = ["Fix", "apply_patch", "drop_legacy", "set_op", "use_policies"]

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


def use_policies(b: Behavior, cp: str | None, orp: str | None) -> list[dict[str, Any]]:
    """Ops pointing behavior ``b`` at cache policy ``cp`` (dropping the legacy fields) and/or origin
    request policy ``orp``; ``None`` leaves that policy as it is."""
    ops = drop_legacy(b.pointer, b.raw) if cp else []
    if cp:
        ops.append(set_op(b.pointer, b.raw, "CachePolicyId", cp))
    if orp:
        ops.append(set_op(b.pointer, b.raw, "OriginRequestPolicyId", orp))
    return ops
