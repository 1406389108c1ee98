"""A fix plan: what ``diagnose`` would change in a distribution, written down before anything changes.

:func:`make_plan` repeats diagnose → apply the first fixable finding's JSON patch → diagnose again, until no
error or warning with a patch is left, so the combined patch is a valid RFC 6902 sequence (each op applies to
the result of the ones before it). The plan keeps the original and the fixed DistributionConfig, the new
policies the fix creates (placeholder IDs, ``runbook_lib.cloudfront.fixes.Fix.policies``), a readable diff,
the requirement verdicts the model predicts before and after, and, for ``distribution:<ID>``, the ETag read
at planning time: ``fix --apply`` refuses when the distribution has changed since
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html, IfMatch).

Pure apart from :func:`plan_source`, which reads a source (and the ETag) from a target.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.cloudfront.diagnosis import Finding, diagnose
from runbook_lib.cloudfront.fixes import apply_patch
from runbook_lib.errors import ConfigError
from runbook_lib.runbook import requirements

__all__ = ["PLAN_VERSION", "Plan", "aws_view", "diff", "load_plan", "make_plan", "plan_source", "save_plan",
           "stack_source"]

PLAN_VERSION = 1
_FIXABLE = ("error", "warning")
_MAX_ROUNDS = 12


@dataclass
class Plan:
    """Everything ``fix --apply`` needs, and everything a person reviews before it runs."""

    source: str
    name: str
    config: dict[str, Any]
    fixed_config: dict[str, Any]
    patch: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    policies: dict[str, Any] = field(default_factory=dict)
    predicted_before: list[dict[str, Any]] = field(default_factory=list)
    predicted_after: list[dict[str, Any]] = field(default_factory=list)
    remaining: list[dict[str, Any]] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    path: str = "/api/data"
    distribution_id: str | None = None
    etag: str | None = None
    target: str | None = None
    #: The source's kind (``runbook_lib.sources.KINDS``): saved, cloudformation, terraform or distribution.
    kind: str = "saved"

    @property
    def diff(self) -> str:
        return diff(self.config, self.fixed_config)

    @property
    def changes(self) -> bool:
        return bool(self.patch)

    def expected_met(self) -> list[str]:
        """The requirements the plan predicts met after the fix: what apply verifies, and rolls back on."""
        return [v["id"] for v in self.predicted_after if v.get("met") is True]

    def verdict_rows(self) -> list[dict[str, Any]]:
        """One row per requirement: the model's verdict now and after the fix, for a notebook table."""
        word = {True: "met", False: "unmet", None: "unknown"}
        now = {v["id"]: v for v in self.predicted_before}
        return [{"requirement": v["id"], "now": word[now[v["id"]]["met"]] if v["id"] in now else "",
                 "after the fix": word[v["met"]], "why (after)": v["evidence"], "still to do": v["fix"]}
                for v in self.predicted_after]

    def to_dict(self) -> dict[str, Any]:
        return {"version": PLAN_VERSION, "source": self.source, "name": self.name, "target": self.target,
                "distribution_id": self.distribution_id, "etag": self.etag, "path": self.path,
                "requirements": self.requirements, "findings": self.findings, "patch": self.patch,
                "policies": self.policies, "diff": self.diff, "predicted_before": self.predicted_before,
                "predicted_after": self.predicted_after, "remaining": self.remaining, "config": self.config,
                "fixed_config": self.fixed_config, "kind": self.kind}


def diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A unified diff of two DistributionConfigs as indented, key-sorted JSON."""
    a = json.dumps(before, indent=2, sort_keys=True, default=str).splitlines()
    b = json.dumps(after, indent=2, sort_keys=True, default=str).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "current", "fixed", lineterm="", n=3))


def aws_view(config: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """``config`` as the model reads it: template placeholders in origin names made concrete
    (``runbook.check.model_config``), MiniStack's path-style API origins given their execute-api form.

    Origins are only renamed in this view; behaviors keep their places, so a patch made on the view applies to
    ``config`` itself (no fix touches ``/Origins``).
    """
    from runbook_lib.aws.target import origins_as_on_aws  # the one place for the local address and the AWS form
    from runbook_lib.runbook.check import model_config  # template placeholders made concrete

    return origins_as_on_aws(model_config(config), region)[0]


def _next_fix(findings: list[Finding], done: set[tuple[str, str]]) -> Finding | None:
    for f in findings:
        key = (f.code, f.behavior)
        if f.severity in _FIXABLE and f.fix is not None and f.fix.patch and key not in done:
            return f
    return None


def _summary(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "severity": f.severity, "behavior": f.behavior, "effect": f.effect,
            "doc_url": f.doc_url, "fix": f.fix.description if f.fix else ""}


def _fix_rounds(view: dict[str, Any], policies: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Finding],
                                                                         dict[str, Any]]:
    """The combined patch, the findings it addresses, and the new policies (diagnose, fix, repeat)."""
    patch: list[dict[str, Any]] = []
    addressed: list[Finding] = []
    new: dict[str, Any] = {}
    done: set[tuple[str, str]] = set()
    current = view
    for _ in range(_MAX_ROUNDS):
        found = _next_fix(diagnose(current, {**policies, **new}), done)
        if found is None or found.fix is None:
            break
        done.add((found.code, found.behavior))
        addressed.append(found)
        patch += found.fix.patch
        new.update(found.fix.policies)
        current = apply_patch(current, found.fix.patch)
    return patch, addressed, new


def make_plan(config: dict[str, Any], policies: dict[str, Any] | None = None, *, source: str = "config",
              name: str = "distribution", requirement_ids: Any = None, path: str = "/api/data",
              region: str = "us-east-1") -> Plan:
    """The plan for ``config`` (pure): the model runs on :func:`aws_view`, the patch applies to ``config``."""
    known = dict(policies or {})
    ids = requirements.parse(requirement_ids)
    view = aws_view(config, region)
    patch, addressed, new = _fix_rounds(view, known)
    fixed_view = apply_patch(view, patch)
    after_policies = {**known, **new}
    before = [v.to_dict() for v in requirements.predict(ids, view, known, path=path)]
    after = [v.to_dict() for v in requirements.predict(ids, fixed_view, after_policies, path=path)]
    left = [_summary(f) for f in diagnose(fixed_view, after_policies) if f.severity in _FIXABLE]
    return Plan(source=source, name=name, config=config, fixed_config=apply_patch(config, patch), patch=patch,
                findings=[_summary(f) for f in addressed], policies=new, predicted_before=before,
                predicted_after=after, remaining=left, requirements=ids, path=path)


def plan_source(spec: str, target: Any = None, *, requirement_ids: Any = None,
                path: str = "/api/data") -> list[Plan]:
    """One plan per distribution in ``spec`` (any source ``check`` accepts). For ``distribution:<ID>`` the
    config and its ETag are read again: the plan is made from the live config (on the local target the source
    is its AWS form, ``aws.read``, and the fix must apply to what is there), which must be the one read first."""
    from runbook_lib.sources import load_source

    plans = []
    region = target.region if target is not None else "us-east-1"
    for src in load_source(spec, target):
        config, etag = src.config, None
        if src.kind == "distribution" and target is not None:
            answer = target.client("cloudfront").get_distribution_config(Id=src.name)
            config, etag = answer["DistributionConfig"], str(answer["ETag"])
            if aws_view(config, region) != aws_view(src.config, region):
                raise ConfigError(f"Distribution {src.name} changed while it was being planned (its config differs "
                                  "between two reads). Run fix --plan again.")
        plan = make_plan(config, src.policies, source=src.location, name=src.name,
                         requirement_ids=requirement_ids, path=path, region=region)
        plan.kind = src.kind
        if etag is not None:
            plan.distribution_id, plan.etag, plan.target = src.name, etag, target.name
        plans.append(plan)
    return plans


def stack_source(target: Any, stack_name: str) -> str:
    """``distribution:<ID>`` of the runbook stack ``stack_name`` on ``target`` (what notebook 05 fixes by default)."""
    from runbook_lib.aws import provision
    from runbook_lib.errors import ProvisioningError

    stack = provision.find(target, stack_name)
    if stack is None or not stack.distribution_id:
        raise ProvisioningError(f"No distribution of stack {stack_name!r} on target {target.name!r}. Build it "
                                "with notebook 01_build_origin (e.g. preset='allviewer'), or pass "
                                "source='distribution:<ID>'.")
    return f"distribution:{stack.distribution_id}"


def save_plan(plan: Plan, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(plan.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
    return out


def load_plan(path: str | Path) -> Plan:
    """A plan written by :func:`save_plan`; a ConfigError says what is wrong with any other file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"Cannot read plan {str(path)!r} ({err}). Write one with `fix SOURCE --plan FILE`.") from err
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION or "fixed_config" not in data:
        raise ConfigError(f"{str(path)!r} is not a fix plan (version {PLAN_VERSION}, with fixed_config). "
                          "Write one with `fix SOURCE --plan FILE`.")
    keep = {k: v for k, v in data.items() if k not in ("version", "diff")}
    return Plan(**keep)
