"""CloudFormation intrinsic functions, resolved where a template alone says the value.

What only a deployed stack knows stays as a readable placeholder: ``{"Ref": "ApiF70053CD"}`` reads
``<ApiF70053CD>``, ``AWS::Region`` reads ``<region>``, so CDK's ``RestApiOrigin`` expression reads
``<ApiF70053CD>.execute-api.<region>.amazonaws.com`` with OriginPath ``/prod``.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["NO_VALUE", "Resolver", "placeholder"]


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


#: ``{"Ref": "AWS::NoValue"}``: the property is removed.
NO_VALUE = _NoValue()

# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
_PSEUDO = {
    "AWS::Region": "<region>",
    "AWS::AccountId": "<account>",
    "AWS::StackName": "<stack>",
    "AWS::StackId": "<stack-id>",
    "AWS::Partition": "aws",
    # amazonaws.com everywhere but the China regions (amazonaws.com.cn).
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": "<notification-arns>",
}
# What Ref returns for the resource types whose Ref value the template itself states
# (each type's "Return values" section in the template reference).
_REF_PROPERTY = {
    "AWS::ApiGateway::Stage": "StageName",
    "AWS::ApiGatewayV2::Stage": "StageName",
    "AWS::ApiGateway::DomainName": "DomainName",
    "AWS::ApiGatewayV2::DomainName": "DomainName",
    "AWS::S3::Bucket": "BucketName",
}
_SUB = re.compile(r"\$\{(!?)([^}]+)\}")


def placeholder(name: str) -> str:
    """The readable stand-in for a value only the deployed stack knows."""
    return f"<{name}>"


class Resolver:
    """Resolves the intrinsic functions of one template."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.parameters: dict[str, Any] = template.get("Parameters") or {}
        self.mappings: dict[str, Any] = template.get("Mappings") or {}
        self.given = dict(parameters or {})

    def value(self, node: Any) -> Any:
        """``node`` with every intrinsic function resolved (or replaced by a placeholder)."""
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            handler = _HANDLERS.get(key)
            if handler is not None:
                return handler(self, arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name in self.given:
            return self.given[name]
        if name in self.parameters:
            default = (self.parameters[name] or {}).get("Default")
            return default if default is not None else placeholder(name)
        resource = self.resources.get(name) or {}
        prop = _REF_PROPERTY.get(str(resource.get("Type")))
        if prop:
            stated = self.value((resource.get("Properties") or {}).get(prop))
            if isinstance(stated, str):
                return stated
        return placeholder(name)

    def get_att(self, logical: str, attribute: str) -> Any:
        resource = self.resources.get(logical) or {}
        if resource.get("Type") == "AWS::S3::Bucket" and attribute == "RegionalDomainName":
            return f"{self.ref(logical)}.s3.<region>.amazonaws.com"
        return placeholder(f"{logical}.{attribute}")

    def sub(self, arg: Any) -> Any:
        text, names = (arg[0], self.value(arg[1]) if len(arg) > 1 else {}) if isinstance(arg, list) else (arg, {})

        def one(m: re.Match[str]) -> str:
            if m.group(1):  # ${!Literal}
                return "${" + m.group(2) + "}"
            name = m.group(2)
            if name in names:
                return str(names[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB.sub(one, str(text))


def _ref(r: Resolver, arg: Any) -> Any:
    return r.ref(str(arg))


def _get_att(r: Resolver, arg: Any) -> Any:
    parts = arg.split(".", 1) if isinstance(arg, str) else [r.value(a) for a in arg]
    return r.get_att(str(parts[0]), str(parts[1]) if len(parts) > 1 else "")


def _join(r: Resolver, arg: Any) -> Any:
    delimiter, items = r.value(arg[0]), r.value(arg[1])
    if not isinstance(items, list):
        return placeholder(f"join of {items}")
    return str(delimiter).join(str(x) for x in items)


def _select(r: Resolver, arg: Any) -> Any:
    index, items = r.value(arg[0]), r.value(arg[1])
    try:
        return items[int(index)]
    except (TypeError, ValueError, IndexError, KeyError):
        return placeholder(f"item {index} of {items}")


def _split(r: Resolver, arg: Any) -> Any:
    delimiter, text = r.value(arg[0]), r.value(arg[1])
    return str(text).split(str(delimiter))


def _find_in_map(r: Resolver, arg: Any) -> Any:
    name, top, second = (r.value(a) for a in arg[:3])
    try:
        return r.mappings[name][top][second]
    except (KeyError, TypeError):
        return placeholder(f"{name}.{top}.{second}")


def _if(r: Resolver, arg: Any) -> Any:
    # Conditions depend on parameters at deploy time: the "true" branch is what the template is about.
    return r.value(arg[1])


def _import(r: Resolver, arg: Any) -> Any:
    return placeholder(f"import {r.value(arg)}")


def _plain(r: Resolver, arg: Any) -> Any:
    return r.value(arg)


_HANDLERS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::ImportValue": _import,
    "Fn::Base64": _plain,
    "Fn::GetAZs": lambda r, a: [placeholder("az")],
}
