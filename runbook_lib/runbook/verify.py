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
from runbook_lib.errors import ProvisioningError
from runbook_lib.runbook import probes, results


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

    @property
    def summary(self) -> dict[str, int]:
        return results.summary(self.table)

    @property
    def ok(self) -> bool:
        return self.summary["failed"] == 0

    @property
    def verdict(self) -> str:
        return results.verdict_line(self.table, self.stack.preset or "custom")


def load(target: Target, stack_name: str) -> tuple[provision.Stack, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The stack, its distribution config, that config's AWS form, and its custom policies."""
    stack = provision.find(target, stack_name)
    if stack is None or not stack.distribution_id or not stack.api_id:
        raise ProvisioningError(
            f"No runbook stack named {stack_name!r} on target {target.name!r}. Run the build notebook "
            "(01_build_origin) first with the same stack_name, or pass the stack_name you built."
        )
    config = target.client("cloudfront").get_distribution_config(Id=stack.distribution_id)["DistributionConfig"]
    aws_config = target.as_on_aws(config, "api", stack.api_id, stack.stage)
    return stack, config, aws_config, fetch_custom_policies(target.client("cloudfront"), config)


def findings(target: Target, stack_name: str) -> list[dict[str, Any]]:
    """What ``diagnose`` finds in the stack's distribution (its AWS form), one row per finding."""
    _, _, aws_config, policies = load(target, stack_name)
    keep = ("severity", "code", "behavior", "effect", "doc_url")
    return [{k: f.to_dict()[k] for k in keep} for f in diagnose(aws_config, policies)]


def verify(target: Target, stack_name: str, matrix: list[probes.Probe] | None = None,
           progress: bool = True) -> Verification:
    stack, config, aws_config, policies = load(target, stack_name)
    assert stack.domain_name
    observations = probes.run(target, stack.domain_name, matrix or probes.default_matrix(), progress)
    expectations = results.predict(observations, aws_config, host=stack.domain_name, stage=stack.stage,
                                   policies=policies)
    table = results.compare(observations, expectations, aws_config, preset=stack.preset or "custom",
                            local=target.is_local)
    cautions = {c: None for e in expectations for c in e.cautions}  # in order, once each
    return Verification(stack, config, aws_config, policies, observations, table, list(cautions))


def save(v: Verification, folder: str | Path) -> list[Path]:
    """``probes.csv`` (the table, credentials masked) and ``verify.json`` (the summary) in ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    csv, meta = out / "probes.csv", out / "verify.json"
    v.table.to_csv(csv, index=False)
    meta.write_text(json.dumps({"stack": v.stack.to_dict(), "summary": v.summary, "verdict": v.verdict}, indent=2))
    return [csv, meta]
