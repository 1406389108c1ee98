"""CloudFront in front of API Gateway: build the /api/* path, predict it, probe it, report it."""

from __future__ import annotations

from runbook_lib.apigateway.routing import api_route
from runbook_lib.cloudfront.diagnosis import Finding, diagnose
from runbook_lib.cloudfront.fixes import Fix
from runbook_lib.cloudfront.model import SimulationResult, simulate
from runbook_lib.errors import ConfigError, LocalStackError, ParameterError, ProvisioningError, RunbookError

__all__ = [
    "ConfigError",
    "Finding",
    "Fix",
    "LocalStackError",
    "ParameterError",
    "ProvisioningError",
    "RunbookError",
    "SimulationResult",
    "api_route",
    "diagnose",
    "simulate",
]
