"""Read a CloudFormation template (JSON or YAML, also ``cdk synth`` output): one source per distribution.

AWS::CloudFront::Distribution, CachePolicy, OriginRequestPolicy and Function, plus the API Gateway
resources (``cfn_apis``). Intrinsics are resolved by :class:`~runbook_lib.sources.intrinsics.Resolver`.
"""

from __future__ import annotations

from typing import Any

import yaml

from runbook_lib.sources.cfn_apis import template_apis
from runbook_lib.sources.cfn_shape import distribution_config, policy_config
from runbook_lib.sources.intrinsics import Resolver, placeholder
from runbook_lib.sources.result import DistributionSource

__all__ = ["is_template", "load_yaml", "read_template"]

_TYPES = ("AWS::CloudFront::Distribution",)


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML with CloudFormation's short forms (``!Ref X``, ``!GetAtt A.B``, ``!Sub ...``)."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)
# Keep dates (AWSTemplateFormatVersion: 2010-09-09) as text, like CloudFormation does.
_CfnLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML, CloudFormation short forms included. Raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def is_template(data: Any) -> bool:
    """A dict with a ``Resources`` section whose entries have a ``Type``."""
    resources = data.get("Resources") if isinstance(data, dict) else None
    return isinstance(resources, dict) and any(isinstance(r, dict) and "Type" in r for r in resources.values())


def _policies(r: Resolver) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for logical, res in r.resources.items():
        kind = res.get("Type") if isinstance(res, dict) else None
        inner = {"AWS::CloudFront::CachePolicy": "CachePolicyConfig",
                 "AWS::CloudFront::OriginRequestPolicy": "OriginRequestPolicyConfig"}.get(str(kind))
        if inner:
            props = r.value(res.get("Properties") or {})
            # Ref on a policy returns its ID, which only the stack knows.
            out[placeholder(logical)] = {inner: policy_config(props.get(inner) or {})}
    return out


def _functions(r: Resolver) -> dict[str, str]:
    out: dict[str, str] = {}
    for logical, res in r.resources.items():
        if isinstance(res, dict) and res.get("Type") == "AWS::CloudFront::Function":
            code = str(r.value((res.get("Properties") or {}).get("FunctionCode") or ""))
            out[placeholder(logical)] = code  # Ref returns the ARN
            out[placeholder(f"{logical}.FunctionARN")] = code
    return out


def read_template(data: dict[str, Any], location: str) -> list[DistributionSource]:
    """One :class:`DistributionSource` per AWS::CloudFront::Distribution of the template."""
    r = Resolver(data)
    policies, functions = _policies(r), _functions(r)
    apis, domains = template_apis(r)
    out: list[DistributionSource] = []
    for logical, res in r.resources.items():
        if not isinstance(res, dict) or res.get("Type") not in _TYPES:
            continue
        raw = r.value((res.get("Properties") or {}).get("DistributionConfig") or {})
        notes = []
        if "CustomOrigin" in raw or "S3Origin" in raw:
            notes.append("The legacy CustomOrigin/S3Origin properties are not read; use Origins.")
        config = distribution_config(
            {k: v for k, v in raw.items() if k not in ("CustomOrigin", "S3Origin")}, caller_reference=logical)
        used = _used_ids(config)
        out.append(DistributionSource(
            name=logical, kind="cloudformation", location=location, config=config,
            policies={k: v for k, v in policies.items() if k in used},
            functions={k: v for k, v in functions.items() if k in used},
            apis=apis, domains=domains, notes=notes))
    return out


def _used_ids(config: dict[str, Any]) -> set[str]:
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]["Items"]]
    used: set[str] = set()
    for b in behaviors:
        used.update(str(b[k]) for k in ("CachePolicyId", "OriginRequestPolicyId") if b.get(k))
        used.update(str(f.get("FunctionARN")) for f in (b.get("FunctionAssociations") or {}).get("Items") or [])
    return used
