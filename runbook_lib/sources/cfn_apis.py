"""The API Gateway APIs and custom domains a CloudFormation template describes.

AWS::ApiGateway::RestApi/Resource/Method/Stage/Deployment/DomainName/BasePathMapping and
AWS::ApiGatewayV2::Api/Route/Stage/DomainName/ApiMapping/RoutingRule, resolved with the template's
:class:`~runbook_lib.sources.intrinsics.Resolver`. IDs only the stack knows are ``<LogicalId>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runbook_lib.apigateway.model import Api, ApiMapping, CustomDomain, HttpApi, RestApi, RoutingRule
from runbook_lib.sources.api_build import openapi_resources, resource_paths
from runbook_lib.sources.intrinsics import Resolver, placeholder

__all__ = ["template_apis"]


def _of_type(r: Resolver, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical, res in r.resources.items():
        if isinstance(res, dict) and res.get("Type") == kind:
            yield logical, r.value(res.get("Properties") or {})


def _rest_apis(r: Resolver) -> dict[str, Api]:
    apis: dict[str, RestApi] = {}
    roots: dict[str, str] = {}
    for logical, props in _of_type(r, "AWS::ApiGateway::RestApi"):
        api = RestApi(id=placeholder(logical), name=str(props.get("Name") or logical),
                      resources=openapi_resources(props.get("Body")))
        apis[api.id] = api
        roots[placeholder(f"{logical}.RootResourceId")] = api.id
    parts = {placeholder(lg): (str(p.get("ParentId")), str(p.get("PathPart")))
             for lg, p in _of_type(r, "AWS::ApiGateway::Resource")}
    paths = resource_paths(parts, set(roots))
    for _, props in _of_type(r, "AWS::ApiGateway::Method"):
        found = apis.get(str(props.get("RestApiId")))
        path = paths.get(str(props.get("ResourceId")))
        if found is not None and path is not None:
            found.resources.setdefault(path, []).append(str(props.get("HttpMethod", "ANY")).upper())
    for kind in ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"):
        for _, props in _of_type(r, kind):
            found = apis.get(str(props.get("RestApiId")))
            stage = props.get("StageName")
            if found is not None and isinstance(stage, str) and stage not in found.stages:
                found.stages.append(stage)
    return dict(apis)


def _http_apis(r: Resolver) -> dict[str, Api]:
    apis: dict[str, HttpApi] = {}
    for logical, props in _of_type(r, "AWS::ApiGatewayV2::Api"):
        if str(props.get("ProtocolType", "HTTP")).upper() != "HTTP":
            continue  # WebSocket APIs do not sit behind a CloudFront /api/* behavior
        api = HttpApi(id=placeholder(logical), name=str(props.get("Name") or logical))
        if props.get("Target"):  # quick create: a $default route and an auto-deployed $default stage
            api.routes.append(str(props.get("RouteKey") or "$default"))
            api.stages.append("$default")
        apis[api.id] = api
    for _, props in _of_type(r, "AWS::ApiGatewayV2::Route"):
        found = apis.get(str(props.get("ApiId")))
        if found is not None:
            found.routes.append(str(props.get("RouteKey")))
    for _, props in _of_type(r, "AWS::ApiGatewayV2::Stage"):
        found = apis.get(str(props.get("ApiId")))
        if found is not None and str(props.get("StageName")) not in found.stages:
            found.stages.append(str(props.get("StageName")))
    return dict(apis)


def _domains(r: Resolver, apis: dict[str, Api]) -> dict[str, CustomDomain]:
    out: dict[str, CustomDomain] = {}
    for kind in ("AWS::ApiGateway::DomainName", "AWS::ApiGatewayV2::DomainName", "AWS::ApiGateway::DomainNameV2"):
        for logical, props in _of_type(r, kind):
            name = str(props.get("DomainName") or placeholder(logical))
            domain = CustomDomain(name=name, routing_mode=str(props.get("RoutingMode") or "API_MAPPING_ONLY"),
                                  apis=apis)
            # An origin may name the domain itself or the API Gateway domain behind it.
            for key in (name, placeholder(logical), *(placeholder(f"{logical}.{a}") for a in (
                    "RegionalDomainName", "DistributionDomainName", "DomainNameArn"))):
                out[key] = domain
    for _, props in _of_type(r, "AWS::ApiGateway::BasePathMapping"):
        owner = out.get(str(props.get("DomainName")))
        if owner is not None:
            base = str(props.get("BasePath") or "")
            owner.mappings.append(ApiMapping("" if base == "(none)" else base, str(props.get("RestApiId")),
                                              str(props.get("Stage") or "")))
    for _, props in _of_type(r, "AWS::ApiGatewayV2::ApiMapping"):
        owner = out.get(str(props.get("DomainName")))
        if owner is not None:
            owner.mappings.append(ApiMapping(str(props.get("ApiMappingKey") or ""), str(props.get("ApiId")),
                                              str(props.get("Stage") or "")))
    for _, props in _of_type(r, "AWS::ApiGatewayV2::RoutingRule"):
        owner = out.get(str(props.get("DomainNameArn")))
        if owner is not None:
            owner.rules.extend(_rules(props))
    return out


def _rules(props: dict[str, Any]) -> list[RoutingRule]:
    conditions = props.get("Conditions") or []
    base_paths = [str(p) for c in conditions for p in ((c.get("MatchBasePaths") or {}).get("AnyOf") or [])]
    headers = [(str(h.get("Header")), str(h.get("ValueGlob"))) for c in conditions
               for h in ((c.get("MatchHeaders") or {}).get("AnyOf") or [])]
    rules = []
    for action in props.get("Actions") or []:
        invoke = action.get("InvokeApi") or {}
        rules.append(RoutingRule(int(props.get("Priority") or 0), str(invoke.get("ApiId")), str(invoke.get("Stage")),
                                 base_paths, headers, bool(invoke.get("StripBasePath", False))))
    return rules


def template_apis(r: Resolver) -> tuple[dict[str, Api], dict[str, CustomDomain]]:
    """The template's APIs by ID and its custom domains by name (and by the origin names that stand for them)."""
    apis = {**_rest_apis(r), **_http_apis(r)}
    return apis, _domains(r, apis)
