"""The API Gateway path model: which stage and route a request reaches, or API Gateway's own error.

Pure Python, no AWS SDK, no network; every rule cites its AWS page (``routing.DOCS``).
"""

from __future__ import annotations

from runbook_lib.apigateway.model import Api, ApiMapping, CustomDomain, HttpApi, RestApi, RoutingRule
from runbook_lib.apigateway.routing import api_route

__all__ = ["Api", "ApiMapping", "CustomDomain", "HttpApi", "RestApi", "RoutingRule", "api_route"]
