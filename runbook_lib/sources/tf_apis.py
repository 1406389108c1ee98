"""The API Gateway APIs and custom domains of a Terraform plan or state (aws_api_gateway_*, aws_apigatewayv2_*).

https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/api_gateway_rest_api and the
pages of the other aws_api_gateway_* / aws_apigatewayv2_* resources.
"""

from __future__ import annotations

import json
from typing import Any

from runbook_lib.apigateway.model import Api, ApiMapping, CustomDomain, HttpApi, RestApi, RoutingRule
from runbook_lib.sources.api_build import openapi_resources, resource_paths
from runbook_lib.sources.tf_plan import TfDocument

__all__ = ["terraform_apis"]


def _body(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return None  # a YAML body: its routes stay unknown


def _rest(doc: TfDocument) -> dict[str, Api]:
    apis: dict[str, RestApi] = {}
    roots: set[str] = set()
    for res in doc.of_type("aws_api_gateway_rest_api"):
        api = RestApi(id=str(doc.get(res, "id")), name=str(res.values.get("name") or res.address),
                      resources=openapi_resources(_body(res.values.get("body"))))
        apis[api.id] = api
        roots.add(str(doc.get(res, "root_resource_id")))
    parts = {str(doc.get(r, "id")): (str(doc.get(r, "parent_id")), str(r.values.get("path_part")))
             for r in doc.of_type("aws_api_gateway_resource")}
    paths = resource_paths(parts, roots)
    for res in doc.of_type("aws_api_gateway_method"):
        found = apis.get(str(doc.get(res, "rest_api_id")))
        path = paths.get(str(doc.get(res, "resource_id")))
        if found is not None and path is not None:
            found.resources.setdefault(path, []).append(str(res.values.get("http_method", "ANY")).upper())
    for kind in ("aws_api_gateway_stage", "aws_api_gateway_deployment"):
        for res in doc.of_type(kind):
            found = apis.get(str(doc.get(res, "rest_api_id")))
            stage = doc.get(res, "stage_name")
            if found is not None and isinstance(stage, str) and stage and stage not in found.stages:
                found.stages.append(stage)
    return dict(apis)


def _http(doc: TfDocument) -> dict[str, Api]:
    apis: dict[str, HttpApi] = {}
    for res in doc.of_type("aws_apigatewayv2_api"):
        if str(res.values.get("protocol_type", "HTTP")).upper() != "HTTP":
            continue
        api = HttpApi(id=str(doc.get(res, "id")), name=str(res.values.get("name") or res.address))
        if res.values.get("target"):  # quick create: $default route and stage
            api.routes.append(str(res.values.get("route_key") or "$default"))
            api.stages.append("$default")
        apis[api.id] = api
    for res in doc.of_type("aws_apigatewayv2_route"):
        found = apis.get(str(doc.get(res, "api_id")))
        if found is not None:
            found.routes.append(str(res.values.get("route_key")))
    for res in doc.of_type("aws_apigatewayv2_stage"):
        found = apis.get(str(doc.get(res, "api_id")))
        if found is not None and str(res.values.get("name")) not in found.stages:
            found.stages.append(str(res.values.get("name")))
    return dict(apis)


def _domains(doc: TfDocument, apis: dict[str, Api]) -> dict[str, CustomDomain]:
    out: dict[str, CustomDomain] = {}
    for kind in ("aws_api_gateway_domain_name", "aws_apigatewayv2_domain_name"):
        for res in doc.of_type(kind):
            name = str(doc.get(res, "domain_name"))
            domain = CustomDomain(name=name, routing_mode=str(res.values.get("routing_mode") or "API_MAPPING_ONLY"),
                                  apis=apis)
            config = (res.values.get("domain_name_configuration") or [{}])[0]
            for key in (name, res.values.get("regional_domain_name"), res.values.get("cloudfront_domain_name"),
                        config.get("target_domain_name"), f"<{res.address}.domain_name>"):
                if key:
                    out[str(key)] = domain
    for res in doc.of_type("aws_api_gateway_base_path_mapping"):
        owner = out.get(str(doc.get(res, "domain_name")))
        if owner is not None:
            owner.mappings.append(ApiMapping(str(res.values.get("base_path") or ""), str(doc.get(res, "api_id")),
                                              str(doc.get(res, "stage_name") or "")))
    for res in doc.of_type("aws_apigatewayv2_api_mapping"):
        owner = out.get(str(doc.get(res, "domain_name")))
        if owner is not None:
            owner.mappings.append(ApiMapping(str(res.values.get("api_mapping_key") or ""),
                                              str(doc.get(res, "api_id")), str(doc.get(res, "stage") or "")))
    for res in doc.of_type("aws_apigatewayv2_routing_rule"):
        owner = out.get(str(doc.get(res, "domain_name")))
        if owner is not None:
            owner.rules.extend(_rules(res.values))
    return out


def _rules(v: dict[str, Any]) -> list[RoutingRule]:
    conditions = v.get("condition") or v.get("conditions") or []
    paths = [str(p) for c in conditions for m in c.get("match_base_paths") or [] for p in m.get("any_of") or []]
    headers = [(str(h.get("header")), str(h.get("value_glob"))) for c in conditions
               for m in c.get("match_headers") or [] for h in m.get("any_of") or []]
    rules = []
    for action in v.get("action") or v.get("actions") or []:
        for invoke in action.get("invoke_api") or []:
            rules.append(RoutingRule(int(v.get("priority") or 0), str(invoke.get("api_id")), str(invoke.get("stage")),
                                     paths, headers, bool(invoke.get("strip_base_path", False))))
    return rules


def terraform_apis(doc: TfDocument) -> tuple[dict[str, Api], dict[str, CustomDomain]]:
    """The document's APIs by ID and custom domains by name (and by their API Gateway target names)."""
    apis = {**_rest(doc), **_http(doc)}
    return apis, _domains(doc, apis)
