"""CloudFront in front of API Gateway: build the /api/* path, predict it, probe it, report it."""

from __future__ import annotations

from .errors import ConfigError, LocalStackError, ParameterError, ProvisioningError, RunbookError
from .model import SimulationResult, simulate

__all__ = [
    "ConfigError",
    "LocalStackError",
    "ParameterError",
    "ProvisioningError",
    "RunbookError",
    "SimulationResult",
    "simulate",
]
