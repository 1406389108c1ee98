"""CloudFront in front of API Gateway: build the /api/* path, predict it, probe it, report it."""

from __future__ import annotations

from .diagnosis import Finding, Fix, diagnose
from .errors import ConfigError, LocalStackError, ParameterError, ProvisioningError, RunbookError
from .model import SimulationResult, simulate

__all__ = [
    "ConfigError",
    "Finding",
    "Fix",
    "LocalStackError",
    "ParameterError",
    "ProvisioningError",
    "RunbookError",
    "SimulationResult",
    "diagnose",
    "simulate",
]
