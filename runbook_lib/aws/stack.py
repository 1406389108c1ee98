"""The stack record: what one build made, under which names, and the tag that says it is ours."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runbook_lib.aws import presets
from runbook_lib.aws.calls import aws_call
from runbook_lib.aws.names import LIMITS, bucket_name, fit
from runbook_lib.aws.target import Target

__all__ = ["STAGE", "TAG_KEY", "Stack", "account_id", "mark", "resource_names", "save"]

TAG_KEY = "runbook:stack"
STAGE = "prod"


@dataclass
class Stack:
    """What :func:`runbook_lib.aws.provision.build` made (or found), by name and ID."""

    name: str
    target: str
    region: str
    preset: str | None = None
    role_arn: str | None = None
    function_name: str | None = None
    api_id: str | None = None
    stage: str = STAGE
    bucket: str | None = None
    oac_id: str | None = None
    cache_policy_id: str | None = None
    distribution_id: str | None = None
    domain_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[dict[str, Any]]:
        """One (field, value) row each, for a notebook table."""
        return [{"field": k, "value": v} for k, v in self.to_dict().items()]


def mark(stack_name: str) -> str:
    """The Comment that records ``stack_name`` as the owner: of its distribution (with the tag), and of what takes
    no tags (a replay's policies and CloudFront Functions), so a stack whose distribution was never created still
    finds them."""
    return f"{TAG_KEY}={stack_name}"


def resource_names(stack_name: str, account: str, region: str) -> dict[str, str]:
    """The name of each resource of ``stack_name``, each within AWS's limit for its kind (:mod:`names`)."""
    return {
        "role": fit(stack_name, "-echo-role", LIMITS["role"]),
        "function": fit(stack_name, "-echo", LIMITS["function"]),
        "api": fit(stack_name, "-echo-api", LIMITS["api"]),
        "bucket": bucket_name(stack_name, account, region),
        "oac": fit(stack_name, "-oac", LIMITS["oac"]),
        "cache_policy": fit(stack_name, f"-{presets.CUSTOM_CACHE_POLICY_SUFFIX}", LIMITS["policy"]),
        "comment": mark(stack_name),
    }


def account_id(target: Target) -> str:
    return str(aws_call("sts.GetCallerIdentity", target.client("sts").get_caller_identity)["Account"])


def save(stack: Stack, folder: str | Path) -> Path:
    path = Path(folder) / "stack.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stack.to_dict(), indent=2))
    return path
