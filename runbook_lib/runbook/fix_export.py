"""The fix of a plan as infrastructure code: boto3, CloudFormation, CDK (TypeScript, Python) and Terraform.

One definition, :class:`FixDefinition` (each changed behavior: the fields to set and to remove, in the API's
shape; the new policies), rendered for each tool, the way ``policy_code`` renders one cache policy: the five
renderings cannot drift apart. When the plan's source is a template or a Terraform plan, each rendering starts by
naming the resource and property to change in that source.

Shapes: CloudFormation writes the API's ``{"Quantity", "Items"}`` lists as plain lists and keeps CachedMethods
beside AllowedMethods
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-cloudfront-distribution-cachebehavior.html);
Terraform names the same fields in snake_case blocks
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudfront_distribution).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.policies import policy_name
from runbook_lib.errors import ConfigError
from runbook_lib.runbook.fix_iac import (
    cfn_behavior,
    cfn_shape,
    cfn_template,
    hcl_behavior,
    hcl_policy,
    lower_camel,
    snake,
)
from runbook_lib.runbook.fix_plan import Plan

__all__ = ["FORMATS", "BehaviorChange", "FixDefinition", "definition", "render"]

FORMATS = ("cloudformation", "cdk-ts", "cdk-python", "terraform", "boto3")


@dataclass
class BehaviorChange:
    """One behavior the fix changes: ``label`` is its PathPattern or ``default``; ``index`` its place in
    CacheBehaviors (None for the default behavior)."""

    label: str
    index: int | None
    set: dict[str, Any]
    remove: list[str]
    fixed: dict[str, Any]

    @property
    def cfn_path(self) -> str:
        where = "DefaultCacheBehavior" if self.index is None else f"CacheBehaviors.{self.index}"
        return f"DistributionConfig.{where}"


@dataclass
class FixDefinition:
    plan: Plan
    changes: list[BehaviorChange]
    #: New policies: placeholder ID -> boto3 body ({"CachePolicyConfig": ...} or {"OriginRequestPolicyConfig": ...}).
    policies: dict[str, Any] = field(default_factory=dict)
    #: Logical/resource names for the new policies, by placeholder.
    names: dict[str, str] = field(default_factory=dict)

    def where(self) -> list[str]:
        """Which resource and property to change in the plan's source, one line each."""
        p = self.plan
        what = {"cloudformation": f"resource {p.name} (AWS::CloudFront::Distribution) in {p.source}",
                "terraform": f"resource {p.name} in {p.source}",
                "distribution": f"distribution {p.distribution_id}"}.get(p.kind, f"the distribution in {p.source}")
        lines = [f"Fix for {what}:"]
        for c in self.changes:
            tf = "default_cache_behavior" if c.index is None else f"ordered_cache_behavior (path_pattern {c.label!r})"
            prop = c.cfn_path if p.kind != "terraform" else tf
            sets = ", ".join(f"{k}={self._show(v)}" for k, v in c.set.items())
            lines.append(f"  {prop}: set {sets}" + (f"; remove {', '.join(c.remove)}" if c.remove else ""))
        return lines

    def _show(self, value: Any) -> str:
        if isinstance(value, str):
            return self.names.get(value) or policy_name(value, self.policies)
        return json.dumps(value)


def _behaviors(config: dict[str, Any]) -> list[tuple[str, int | None, dict[str, Any]]]:
    out: list[tuple[str, int | None, dict[str, Any]]] = [("default", None, config.get("DefaultCacheBehavior") or {})]
    out += [(str(b.get("PathPattern")), i, b) for i, b in enumerate(items(config.get("CacheBehaviors")))]
    return out


def definition(plan: Plan) -> FixDefinition:
    """The one definition every rendering is made from."""
    before = {label: b for label, _, b in _behaviors(plan.config)}
    changes = []
    for label, index, fixed in _behaviors(plan.fixed_config):
        old = before.get(label, {})
        if old == fixed:
            continue
        changes.append(BehaviorChange(label, index, {k: v for k, v in fixed.items() if old.get(k) != v},
                                      [k for k in old if k not in fixed], fixed))
    names = {pid: re.sub(r"[^A-Za-z0-9]", "", "".join(w.title() for w in re.split(r"[^A-Za-z0-9]+", pid)))
             for pid in plan.policies}
    return FixDefinition(plan, changes, dict(plan.policies), names)


def _comment(lines: list[str], prefix: str) -> str:
    return "\n".join(f"{prefix} {line}" for line in lines) + "\n"


# --- boto3 --------------------------------------------------------------------------------------------------


def _boto3(d: FixDefinition) -> str:
    from runbook_lib.runbook.policy_code import py_literal

    changes = {c.label: {"set": c.set, "remove": c.remove} for c in d.changes}
    lines = [
        f'"""Apply the fix planned for {d.plan.name} (generated by `python -m runbook_lib fix --export boto3`)."""',
        "", _comment(d.where(), "#").rstrip("\n"), "import boto3", "",
        f"DISTRIBUTION_ID = {json.dumps(d.plan.distribution_id or 'REPLACE-WITH-YOUR-DISTRIBUTION-ID')}",
        f"NEW_POLICIES = {py_literal(d.policies)}", f"CHANGES = {py_literal(changes)}", "",
        "# CloudFront is a global service; its API lives in us-east-1.",
        'cloudfront = boto3.client("cloudfront", region_name="us-east-1")',
        "ids = {}", "for placeholder, body in NEW_POLICIES.items():",
        '    if "CachePolicyConfig" in body:',
        '        ids[placeholder] = cloudfront.create_cache_policy(**body)["CachePolicy"]["Id"]',
        "    else:",
        '        ids[placeholder] = cloudfront.create_origin_request_policy(**body)["OriginRequestPolicy"]["Id"]',
        "answer = cloudfront.get_distribution_config(Id=DISTRIBUTION_ID)",
        'config = answer["DistributionConfig"]',
        'for behavior in [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", {}).get("Items", [])]:',
        '    change = CHANGES.get(behavior.get("PathPattern", "default"))',
        "    if change is None:", "        continue",
        '    for key in change["remove"]:', "        behavior.pop(key, None)",
        '    for key, value in change["set"].items():',
        "        behavior[key] = ids.get(value, value) if isinstance(value, str) else value",
        "# IfMatch: the ETag just read, so a concurrent change is refused (PreconditionFailed), never overwritten.",
        'cloudfront.update_distribution(Id=DISTRIBUTION_ID, IfMatch=answer["ETag"], DistributionConfig=config)',
    ]
    return "\n".join(lines) + "\n"


# --- CloudFormation and CDK ---------------------------------------------------------------------------------


def _cloudformation(d: FixDefinition) -> str:
    template = cfn_template(d.plan.fixed_config, d.policies, d.names, d.plan.name)
    body = str(yaml.safe_dump(template, sort_keys=False, default_flow_style=False, width=110))
    return _comment(d.where(), "#") + body


def _cdk_value(value: Any, d: FixDefinition, lang: str) -> str:
    if isinstance(value, str) and value in d.names:
        return f"{_var(d.names[value], lang)}.{'attrId' if lang == 'ts' else 'attr_id'}"
    text = json.dumps(value)
    return text.replace("true", "True").replace("false", "False") if lang == "py" else text


def _var(name: str, lang: str) -> str:
    return lower_camel(name) if lang == "ts" else snake(name)


def _ts_props(value: Any, indent: int = 2) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        inner = [f"{pad}  {lower_camel(k)}: {_ts_props(v, indent + 2)}," for k, v in value.items()]
        return "{\n" + "\n".join(inner) + f"\n{pad}}}"
    return json.dumps(value)


def _py_props(value: Any, cls: str, key: str, indent: int = 4) -> str:
    """jsii Python: each nested CloudFormation property type is a ``<Type>Property`` class of the L1 construct,
    named like its key (ParametersInCacheKeyAndForwardedToOrigin, HeadersConfig, ...)."""
    pad = " " * indent
    if isinstance(value, dict):
        inner = [f"{pad}    {snake(k)}={_py_props(v, cls, k, indent + 4)}," for k, v in value.items()]
        return f"cloudfront.{cls}.{key}Property(\n" + "\n".join(inner) + f"\n{pad})"
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value)


def _cdk_policies(d: FixDefinition, ts: bool) -> list[str]:
    out = []
    for pid, body in d.policies.items():
        kind = "CachePolicy" if "CachePolicyConfig" in body else "OriginRequestPolicy"
        key, name = f"{kind}Config", d.names[pid]
        props = cfn_shape(body[key])
        if ts:
            out.append(f"const {_var(name, 'ts')} = new cloudfront.Cfn{kind}(this, '{name}', {{\n"
                       f"  {lower_camel(key)}: {_ts_props(props)},\n}});")
        else:
            out.append(f"{_var(name, 'py')} = cloudfront.Cfn{kind}(\n    self,\n    \"{name}\",\n"
                       f"    {snake(key)}={_py_props(props, 'Cfn' + kind, key)},\n)")
    return out


def _cdk_overrides(d: FixDefinition, ts: bool) -> list[str]:
    lang, end = ("ts", ";") if ts else ("py", "")
    method = "addPropertyOverride" if ts else "add_property_override"
    delete = "addPropertyDeletionOverride" if ts else "add_property_deletion_override"
    out = []
    for c in d.changes:
        shaped = cfn_behavior(c.fixed)  # CloudFormation names: AllowedMethods splits into two lists
        keys = [k for k in shaped if k in c.set or (k == "CachedMethods" and "AllowedMethods" in c.set)]
        for k in keys:
            value = c.set[k] if isinstance(c.set.get(k), str) else shaped[k]
            out.append(f"cfn.{method}(\"{c.cfn_path}.{k}\", {_cdk_value(value, d, lang)}){end}")
        out += [f"cfn.{delete}(\"{c.cfn_path}.{k}\"){end}" for k in c.remove]
    return out


def _cdk(d: FixDefinition, lang: str) -> str:
    """L1 policies and property overrides on the distribution's CfnDistribution: exact, whatever construct
    made the distribution (with the L2 ``addBehavior`` the same fields are ``cachePolicy`` and
    ``originRequestPolicy``)."""
    ts = lang == "ts"
    out = [_comment(d.where(), "//" if ts else "#").rstrip("\n")]
    if ts:
        out += ["import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';", "",
                "// Inside your stack, where `distribution` is your cloudfront.Distribution:",
                "const cfn = distribution.node.defaultChild as cloudfront.CfnDistribution;"]
    else:
        out += ["from aws_cdk import aws_cloudfront as cloudfront", "",
                "# Inside your stack, where `distribution` is your cloudfront.Distribution:",
                "cfn = distribution.node.default_child"]
    return "\n".join(out + _cdk_policies(d, ts) + _cdk_overrides(d, ts)) + "\n"


# --- Terraform ----------------------------------------------------------------------------------------------


def _terraform(d: FixDefinition) -> str:
    out = [_comment(d.where(), "#")]
    refs = {pid: (f"aws_cloudfront_{'cache' if 'CachePolicyConfig' in body else 'origin_request'}_policy."
                  f"{snake(d.names[pid])}.id") for pid, body in d.policies.items()}
    for pid, body in d.policies.items():
        out.append(hcl_policy(snake(d.names[pid]), body))
    for c in d.changes:
        out.append(f"# Replace this block in {d.plan.name}" + (" (remove forwarded_values and the ttl fields)"
                                                               if c.remove else "") + ":")
        out.append(hcl_behavior(c.fixed, c.index is None, refs))
    return "\n".join(out)


def render(plan: Plan, fmt: str) -> str:
    """The plan's fix in ``fmt`` (one of :data:`FORMATS`)."""
    d = definition(plan)
    if not d.changes:
        return _comment([f"{plan.name}: nothing to fix (diagnose finds no error or warning with a patch)."], "#")
    renderers: dict[str, Callable[[FixDefinition], str]] = {
        "boto3": _boto3, "cloudformation": _cloudformation, "terraform": _terraform,
        "cdk-ts": lambda x: _cdk(x, "ts"), "cdk-python": lambda x: _cdk(x, "py")}
    if fmt not in renderers:
        raise ConfigError(f"Unknown export format {fmt!r}. Valid: {', '.join(FORMATS)}.")
    return renderers[fmt](d)
