"""Helpers shared by the readers that rebuild API Gateway APIs from separate resources."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_resources", "resource_paths"]


def resource_paths(parts: dict[str, tuple[str, str]], root_ids: set[str]) -> dict[str, str]:
    """Full paths of REST API resources from ``{resource_id: (parent_id, path_part)}``; roots are ``/``."""
    paths = {rid: "/" for rid in root_ids}

    def full(rid: str, seen: frozenset[str]) -> str:
        if rid in paths:
            return paths[rid]
        if rid not in parts or rid in seen:
            return f"/<{rid}>"
        parent, part = parts[rid]
        paths[rid] = full(parent, seen | {rid}).rstrip("/") + "/" + part
        return paths[rid]

    for rid in parts:
        full(rid, frozenset())
    return paths


def openapi_resources(body: Any) -> dict[str, list[str]]:
    """``{path: [METHOD, ...]}`` from an OpenAPI/Swagger body (``x-amazon-apigateway-any-method`` is ANY).

    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-any-method.html
    """
    out: dict[str, list[str]] = {}
    paths = body.get("paths") if isinstance(body, dict) else None
    for path, ops in (paths or {}).items():
        if not isinstance(ops, dict):
            continue
        methods = []
        for op in ops:
            if op == "x-amazon-apigateway-any-method":
                methods.append("ANY")
            elif op.lower() in ("get", "put", "post", "delete", "options", "head", "patch"):
                methods.append(op.upper())
        out[str(path)] = methods
    return out
