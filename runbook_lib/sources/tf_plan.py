"""The resources of a ``terraform show -json`` document (plan or state), with unknown values as placeholders.

A plan leaves out values known only after apply; its ``configuration`` section still says which
resource attribute they come from, so ``cache_policy_id = aws_cloudfront_cache_policy.api.id`` reads
``<aws_cloudfront_cache_policy.api.id>``, the same placeholder as that policy's own unknown ID.
https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TfResource", "TfDocument", "is_terraform"]


def is_terraform(data: Any) -> bool:
    """A ``terraform show -json`` output: ``format_version`` plus state ``values`` or plan ``planned_values``."""
    return isinstance(data, dict) and "format_version" in data and (
        "values" in data or "planned_values" in data or "prior_state" in data)


@dataclass
class TfResource:
    address: str
    type: str
    mode: str
    values: dict[str, Any]
    expressions: dict[str, Any] = field(default_factory=dict)


def _module_resources(module: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(module, dict):
        return
    yield from (r for r in module.get("resources") or [] if isinstance(r, dict))
    for child in module.get("child_modules") or []:
        yield from _module_resources(child)


class TfDocument:
    """Resources by address; ``get`` resolves a (possibly unknown) attribute to a value or a placeholder."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.resources: dict[str, TfResource] = {}
        for section in (data.get("prior_state") or {}).get("values"), data.get("values"), data.get("planned_values"):
            for raw in _module_resources((section or {}).get("root_module")):
                self.resources[str(raw.get("address"))] = TfResource(
                    str(raw.get("address")), str(raw.get("type")), str(raw.get("mode", "managed")),
                    dict(raw.get("values") or {}))
        config = ((data.get("configuration") or {}).get("root_module") or {}).get("resources") or []
        for raw in config:
            res = self.resources.get(str(raw.get("address")))
            if res is not None:
                res.expressions = dict(raw.get("expressions") or {})

    def of_type(self, kind: str, mode: str = "managed") -> list[TfResource]:
        return [r for r in self.resources.values() if r.type == kind and r.mode == mode]

    def get(self, res: TfResource, *path: str | int) -> Any:
        """The value at ``path`` in ``res`` (``"origin", 0, "domain_name"``), or a placeholder when unknown."""
        node: Any = res.values
        expr: Any = res.expressions
        for step in path:
            node = _step(node, step)
            expr = _step(expr, step)
        if node is not None:
            return node
        refs = expr.get("references") if isinstance(expr, dict) else None
        if refs:
            return self._reference(str(refs[0]))
        if path == ("id",) or (len(path) == 1 and res.mode == "managed" and path[0] in ("arn", "root_resource_id")):
            return f"<{res.address}.{path[0]}>"
        return None

    def _reference(self, ref: str) -> Any:
        address, _, attribute = ref.rpartition(".")
        target = self.resources.get(address)
        if target is not None and attribute and target.values.get(attribute) is not None:
            return target.values[attribute]
        return f"<{ref}>"


def _step(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and len(node) > step else None
    return node.get(step) if isinstance(node, dict) else None
