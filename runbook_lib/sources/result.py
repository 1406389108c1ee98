"""What every source reader produces: one :class:`DistributionSource` per distribution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_lib.apigateway.model import Api, CustomDomain

__all__ = ["DistributionSource", "KINDS"]

#: The inputs a source can be, as named in messages.
KINDS = {
    "saved": "a saved `aws cloudfront get-distribution-config` or `get-distribution` output (JSON)",
    "cloudformation": "a CloudFormation template, JSON or YAML (also `cdk synth` output)",
    "terraform": "a Terraform plan or state as JSON (`terraform show -json`)",
    "distribution": "distribution:<ID>, read from the target",
}


@dataclass
class DistributionSource:
    """One distribution as a source describes it, in the shapes the models take.

    ``config`` is a DistributionConfig in API shape (what ``runbook_lib.simulate`` takes), ``policies``
    the custom cache/origin request policies it references by ID (boto3 shape), ``functions`` the code
    of its CloudFront Functions by ARN, ``apis`` the API Gateway APIs known from the source by ID, and
    ``domains`` their custom domains by name (and by any origin domain that stands for one).
    """

    name: str
    kind: str
    location: str
    config: dict[str, Any]
    policies: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    apis: dict[str, Api] = field(default_factory=dict)
    domains: dict[str, CustomDomain] = field(default_factory=dict)
    #: What the reader could not resolve or chose to ignore, one sentence each.
    notes: list[str] = field(default_factory=list)
