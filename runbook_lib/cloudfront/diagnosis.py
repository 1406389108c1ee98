"""Diagnose a DistributionConfig: what breaks an API behind CloudFront, why, and the smallest fix.

Every finding names the AWS page it rests on and carries a JSON-patch fix plus the fixed config,
so a notebook can show the diff and re-run the model on the result. The rules themselves live in
``cloudfront/rules/`` (``config`` for what AWS rejects, ``api`` for what breaks an API).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior
from runbook_lib.cloudfront.fixes import Fix, apply_patch
from runbook_lib.cloudfront.model import compiled_behaviors, compiled_issues
from runbook_lib.cloudfront.rules.api import BEHAVIOR_RULES, NOTE_RULES, SHADOWED, ApiRule, Hit, shadowed
from runbook_lib.cloudfront.rules.config import ConfigIssue

__all__ = ["Finding", "diagnose"]


@dataclass(slots=True)
class Finding:
    code: str
    severity: str  # "error" | "warning" | "info"
    behavior: str  # PathPattern or "default" (distribution-wide issues are reported on "default")
    effect: str
    why: str
    doc_url: str
    fix: Fix | None
    fixed_config: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "behavior": self.behavior,
            "effect": self.effect,
            "why": self.why,
            "doc_url": self.doc_url,
            "fix": self.fix.to_dict() if self.fix else None,
            "fixed_config": copy.deepcopy(self.fixed_config),
        }


def _fixed(config: dict[str, Any], fix: Fix | None) -> dict[str, Any] | None:
    return apply_patch(config, fix.patch) if fix and fix.patch else None


def _from_issue(config: dict[str, Any], issue: ConfigIssue) -> Finding:
    return Finding(
        "config-error",
        "error",
        issue.behavior if issue.behavior is not None else "default",
        f"AWS rejects this configuration: {issue.status} {issue.code}.",
        issue.message,
        issue.doc_url,
        issue.fix,
        _fixed(config, issue.fix),
    )


def _from_hit(config: dict[str, Any], rule: ApiRule, b: Behavior, hit: Hit) -> Finding:
    severity = hit.severity or rule.severity
    return Finding(rule.code, severity, b.label, hit.effect, hit.why, rule.doc_url, hit.fix, _fixed(config, hit.fix))


def diagnose(distribution_config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[Finding]:
    """Findings for ``distribution_config`` (config errors first, then per behavior, in order)."""
    config = distribution_config
    behaviors = compiled_behaviors(config, policies)
    out = [_from_issue(config, issue) for issue in compiled_issues(config, policies)]
    out += [_from_hit(config, SHADOWED, b, hit) for b, hit in shadowed(config, behaviors)]
    for b in behaviors:
        if b.origin is None:
            continue
        for rule in BEHAVIOR_RULES:
            hit = rule.check(b)
            if hit is not None:
                out.append(_from_hit(config, rule, b, hit))
    for rule in NOTE_RULES:
        for b in behaviors:
            hit = rule.check(b)
            if hit is not None:
                out.append(_from_hit(config, rule, b, hit))
    return out
