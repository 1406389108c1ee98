"""Verify a built stack: probe it live, predict each probe from the model, tabulate the verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from runbook_lib.aws import provision
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.diagnosis import diagnose
from runbook_lib.cloudfront.policies import fetch_custom_policies
from runbook_lib.errors import ProvisioningError, VerdictFailed
from runbook_lib.runbook import probes, requirement_checks, requirements, results
from runbook_lib.runbook.requirements import Verdict

__all__ = ["Verification", "check", "findings", "load", "probe_matrix", "save", "verify"]


@dataclass
class Verification:
    stack: provision.Stack
    #: The distribution as it is on the target, and the AWS form the model predicts for.
    config: dict[str, Any]
    aws_config: dict[str, Any]
    policies: dict[str, Any]
    observations: list[probes.Observation]
    table: pd.DataFrame
    #: Where AWS's own pages disagree on something these probes touch (the model follows the newest text).
    cautions: list[str]
    #: What the API needs, one verdict each, decided by the probes (with the model's prediction beside it).
    requirements: list[Verdict]

    @property
    def summary(self) -> dict[str, int]:
        return results.summary(self.table)

    @property
    def ok(self) -> bool:
        """PASS: every check held and every requirement is met (unknown is not met)."""
        return self.summary["failed"] == 0 and all(r.met is True for r in self.requirements)

    @property
    def verdict(self) -> str:
        return results.verdict_line(self.table, self.stack.preset or "custom",
                                    requirement_checks.unmet_phrases(self.requirements))


def load(target: Target, stack_name: str) -> tuple[provision.Stack, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The stack, its distribution config, that config's AWS form, and its custom policies."""
    stack = provision.find(target, stack_name)
    if stack is None or not stack.distribution_id or not stack.api_id:
        raise ProvisioningError(
            f"No runbook stack named {stack_name!r} on target {target.name!r}. Run the build notebook "
            "(01_build_origin) first with the same stack_name, or pass the stack_name you built."
        )
    config = target.client("cloudfront").get_distribution_config(Id=stack.distribution_id)["DistributionConfig"]
    aws_config = target.as_on_aws(config)
    return stack, config, aws_config, fetch_custom_policies(target.client("cloudfront"), config)


def findings(target: Target, stack_name: str) -> list[dict[str, Any]]:
    """What ``diagnose`` finds in the stack's distribution (its AWS form), one row per finding."""
    _, _, aws_config, policies = load(target, stack_name)
    keep = ("severity", "code", "behavior", "effect", "doc_url")
    return [{k: f.to_dict()[k] for k in keep} for f in diagnose(aws_config, policies)]


def probe_matrix(requirement_ids: list[str] | str | None = None) -> list[probes.Probe]:
    """The default probe matrix plus the probes the chosen requirements need."""
    return probes.default_matrix() + requirement_checks.probes_for(requirements.parse(requirement_ids))


def _api_host(config: dict[str, Any], path_pattern: str = "/api/*") -> str:
    """The host name of the API origin as configured on the target (what the API sees as its own)."""
    behaviors = (config.get("CacheBehaviors") or {}).get("Items") or []
    origin_id = next((b["TargetOriginId"] for b in behaviors if b.get("PathPattern") == path_pattern), None)
    origin: dict[str, Any] = next((o for o in config["Origins"]["Items"] if o["Id"] == origin_id), {})
    return str(origin.get("DomainName", ""))


def verify(target: Target, stack_name: str, matrix: list[probes.Probe] | None = None,
           progress: bool = True, requirement_ids: list[str] | str | None = None) -> Verification:
    """Probe the stack, compare each check with the model, and decide each requirement (default: the six)."""
    ids = requirements.parse(requirement_ids)
    stack, config, aws_config, policies = load(target, stack_name)
    assert stack.domain_name
    chosen = matrix if matrix is not None else probe_matrix(ids)
    observations = probes.run(target, stack.domain_name, chosen, progress)
    expectations = results.predict(observations, aws_config, host=stack.domain_name, stage=stack.stage,
                                   policies=policies)
    table = results.compare(observations, expectations, aws_config, preset=stack.preset or "custom",
                            local=target.is_local, policies=policies)
    cautions = {c: None for e in expectations for c in e.cautions}  # in order, once each
    predicted = requirements.predict(ids, aws_config, policies)
    verdicts = requirement_checks.evaluate(ids, observations, api_host=_api_host(config), table=table,
                                           predicted=predicted, local=target.is_local)
    return Verification(stack, config, aws_config, policies, observations, table, list(cautions), verdicts)


def check(v: Verification) -> None:
    """Raise :class:`VerdictFailed` naming what failed, when the verdict is FAIL (a notebook's last cell)."""
    if not v.ok:
        raise VerdictFailed(f"{v.verdict} (Details: this report's requirements and results tables.)")


def save(v: Verification, folder: str | Path) -> list[Path]:
    """``probes.csv`` (the table, credentials masked) and ``verify.json`` (the summary) in ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    csv, meta = out / "probes.csv", out / "verify.json"
    v.table.to_csv(csv, index=False)
    meta.write_text(json.dumps({"stack": v.stack.to_dict(), "summary": v.summary, "verdict": v.verdict, "ok": v.ok,
                                "requirements": [r.to_dict() for r in v.requirements]}, indent=2))
    return [csv, meta]
