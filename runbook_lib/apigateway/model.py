"""What the runbook knows about an API Gateway API: its routes, its stages, and the custom domains in front of it.

Plain data, filled by ``runbook_lib.sources`` from a template, a Terraform plan or the account, and read
by :func:`runbook_lib.apigateway.routing.api_route`. Identifiers that a source could not resolve stay as
readable placeholders (``<RestApi.Id>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ApiMapping", "CustomDomain", "HttpApi", "RestApi", "RoutingRule", "Api", "ROUTING_MODES"]

#: https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-routing-rules.html
ROUTING_MODES = ("API_MAPPING_ONLY", "ROUTING_RULE_ONLY", "ROUTING_RULE_THEN_API_MAPPING")


@dataclass
class RestApi:
    """A REST API: resources by full path (``/api/{proxy+}``) with their methods (``ANY`` allowed)."""

    id: str
    resources: dict[str, list[str]] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def kind(self) -> str:
        return "REST"


@dataclass
class HttpApi:
    """An HTTP API: route keys (``GET /items``, ``ANY /api/{proxy+}``, ``$default``) and stages (``$default``)."""

    id: str
    routes: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def kind(self) -> str:
        return "HTTP"


Api = RestApi | HttpApi


@dataclass
class ApiMapping:
    """A base path mapping / API mapping of a custom domain: ``base_path`` "" is ``(none)``."""

    base_path: str
    api_id: str
    stage: str


@dataclass
class RoutingRule:
    """A routing rule of a custom domain (conditions are ANDed; an empty rule matches everything)."""

    priority: int
    api_id: str
    stage: str
    #: MatchBasePaths.AnyOf (case-sensitive).
    base_paths: list[str] = field(default_factory=list)
    #: MatchHeaders: (header name, value glob), every one must match.
    headers: list[tuple[str, str]] = field(default_factory=list)
    strip_base_path: bool = False


@dataclass
class CustomDomain:
    """An API Gateway custom domain name with its mappings, routing rules and the APIs they point at."""

    name: str
    mappings: list[ApiMapping] = field(default_factory=list)
    rules: list[RoutingRule] = field(default_factory=list)
    routing_mode: str = "API_MAPPING_ONLY"
    apis: dict[str, Api] = field(default_factory=dict)
