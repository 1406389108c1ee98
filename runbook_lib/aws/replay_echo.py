"""Which echo API stands in for each API origin of a replay: its kind, routes and stages. Pure: no AWS calls.

- The source describes a REST API: the echo has the same resources (methods as listed, ANY when so) and stages,
  so a path with no route answers 403 "Missing Authentication Token" as API Gateway does
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html).
- An HTTP API: the same route keys and stages (``$default`` at the root), so a missing route answers 404.
- A Lambda function URL: every path reaches the function, so an HTTP API with the ``$default`` route on the
  ``$default`` stage (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html).
- Anything else (not described, ``--api-origin``, a custom domain): a catch-all REST echo (``/`` and
  ``/{proxy+}``, ANY) on the stages the paths name: what ``path-reaches-route`` needs is then unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.apigateway.model import CustomDomain, HttpApi, RestApi

# The module, not its names: aws.replay imports this module while it loads (the labels are read at call time).
from runbook_lib.aws import replay
from runbook_lib.aws.replay_config import PLACEHOLDER
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.sources.origins import ApiOrigin

__all__ = ["CATCH_ALL_ROUTES", "DEFAULT_STAGE", "EchoPlan", "plan_echo"]

#: The catch-all echo's REST resources.
CATCH_ALL_ROUTES: dict[str, tuple[str, ...]] = {"/": ("ANY",), "/{proxy+}": ("ANY",)}
#: An HTTP API's stage served at the root (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
DEFAULT_STAGE = "$default"
#: REST stage names: letters, digits, '-' and '_' (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html).
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
#: The echo's stage where the source names it only by a template placeholder.
_STAND_IN = "stage"


@dataclass
class EchoPlan:
    """The echo API for one API origin."""

    origin_id: str
    #: "REST" or "HTTP".
    protocol: str
    #: ROUTES_SOURCE, ROUTES_CATCH_ALL or ROUTES_LAMBDA_URL.
    routes_kind: str
    stages: tuple[str, ...]
    #: REST: resource path → methods.
    resources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: HTTP: route keys.
    route_keys: tuple[str, ...] = ()
    #: Goes before the user's OriginPath at the echo (a custom domain's stage, which its path does not name).
    path_prefix: str = ""
    #: The user's OriginPath as the echo gets it (a template placeholder for the stage resolved to the echo's).
    origin_path: str = ""
    notes: list[str] = field(default_factory=list)


def _patterns(config: Mapping[str, Any], origin_id: str) -> list[str]:
    behaviors = [config.get("DefaultCacheBehavior") or {}, *items(config.get("CacheBehaviors"))]
    return [str(b.get("PathPattern") or "*") for b in behaviors if b.get("TargetOriginId") == origin_id]


def _path_stages(origin: ApiOrigin, patterns: list[str]) -> tuple[str, ...]:
    """The stages requests through ``origin`` name: OriginPath's first segment, else the first literal segment of
    each path pattern (CloudFront prefixes OriginPath to the whole viewer path, and API Gateway takes the first
    segment as the stage: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html)."""
    first = [s for s in origin.origin_path.split("/") if s]
    if first:
        return (first[0],) if _STAGE.match(first[0]) else (_STAND_IN,) if PLACEHOLDER.fullmatch(first[0]) else ()
    found = []
    for pattern in patterns:
        segment = pattern.lstrip("/").split("/", 1)[0]
        if segment and "/" in pattern.lstrip("/") and _STAGE.match(segment):
            found.append(segment)
    return tuple(dict.fromkeys(found))


def _stages(listed: list[str], derived: tuple[str, ...], origin_id: str, notes: list[str]) -> tuple[str, ...]:
    usable = tuple(s for s in listed if _STAGE.match(s) or s == DEFAULT_STAGE)
    if usable:
        return usable
    if listed:
        notes.append(f"Origin {origin_id}: the API's stage names are not resolved ({', '.join(listed)}); "
                     f"the echo has {', '.join(derived) or 'no stage'}, as the paths name it.")
    return derived


def _rest(origin: ApiOrigin, api: RestApi, derived: tuple[str, ...]) -> EchoPlan:
    notes: list[str] = []
    resources = {path: tuple(m.upper() for m in methods) or ("ANY",) for path, methods in api.resources.items()}
    stages = _stages(api.stages, derived, origin.origin_id, notes)
    if not resources:
        notes.append(f"Origin {origin.origin_id}: the source describes REST API {api.name or api.id} with no resources "
                     "(one defined by an OpenAPI file elsewhere shows none), so every path answers 403 'Missing "
                     "Authentication Token', as the path model predicts.")
    return EchoPlan(origin.origin_id, "REST", replay.ROUTES_SOURCE, stages, resources=resources, notes=notes)


def _http(origin: ApiOrigin, api: HttpApi) -> EchoPlan:
    notes: list[str] = []
    stages = _stages(api.stages, (DEFAULT_STAGE,), origin.origin_id, notes)
    return EchoPlan(origin.origin_id, "HTTP", replay.ROUTES_SOURCE, stages, route_keys=tuple(api.routes), notes=notes)


def _catch_all(origin: ApiOrigin, derived: tuple[str, ...], why: str) -> EchoPlan:
    notes = [f"Origin {origin.origin_id}: {why}, so the echo answers every path and whether /api/<x> reaches a "
             "route stays unknown."]
    if not derived:
        notes.append(f"Origin {origin.origin_id}: no stage can be told from OriginPath or the path patterns; every "
                     "request will name a stage the echo does not have.")
    return EchoPlan(origin.origin_id, "REST", replay.ROUTES_CATCH_ALL, derived, resources=dict(CATCH_ALL_ROUTES),
                    notes=notes)


def _mapped_resources(domain: CustomDomain) -> dict[str, tuple[str, ...]] | None:
    """The REST resources of every API mapped on ``domain``, each under its base path (``api`` + ``/items`` →
    ``/api/items``), or None when a mapped API is not a REST API the source describes."""
    resources: dict[str, tuple[str, ...]] = {}
    for mapping in domain.mappings:
        api = domain.apis.get(mapping.api_id)
        if not isinstance(api, RestApi):
            return None
        base = "/" + mapping.base_path.strip("/") if mapping.base_path.strip("/") else ""
        for path, methods in api.resources.items():
            full = (base + (path if path != "/" else "")) or "/"
            resources[full] = tuple(dict.fromkeys([*resources.get(full, ()), *(m.upper() for m in methods)]))
    return resources or None


def _custom_domain(origin: ApiOrigin, domain: CustomDomain) -> EchoPlan:
    """A custom domain's path names no stage (its mappings choose one), and the local AWS cannot be dialed by the
    domain's name: one echo on one stage stands in for it. With base path mappings to REST APIs the source
    describes, the echo has each API's resources under its base path, so a path no mapping routes still misses;
    otherwise it is a catch-all (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html)."""
    stages = [m.stage for m in domain.mappings if _STAGE.match(m.stage)] + [r.stage for r in domain.rules
                                                                          if _STAGE.match(r.stage)]
    stage = stages[0] if stages else "custom"
    resources = None if domain.rules else _mapped_resources(domain)
    if resources is None:
        plan = _catch_all(origin, (stage,), f"custom domain {domain.name} is replayed by a catch-all echo (its "
                                            "APIs or routing rules are not all described REST mappings)")
    else:
        plan = EchoPlan(origin.origin_id, "REST", replay.ROUTES_SOURCE, (stage,), resources=resources, notes=[
            f"Origin {origin.origin_id}: custom domain {domain.name} is replayed by one echo with each mapped API's "
            "resources under its base path: the echo sees the path before API Gateway would strip the base path, "
            f"on stage {stage}, and a path no mapping takes answers 'Missing Authentication Token', not 'Forbidden'."])
    plan.path_prefix = f"/{stage}"
    return plan


def _origin_path(origin: ApiOrigin, plan: EchoPlan) -> str:
    """``origin``'s OriginPath with a template placeholder for its first segment (the stage: ``/<Stage>``) given the
    echo's stage, one note; a placeholder anywhere else is left for the config check to refuse."""
    parts = origin.origin_path.split("/")
    first = next((i for i, part in enumerate(parts) if part), None)
    if first is None or not PLACEHOLDER.fullmatch(parts[first]) or not plan.stages:
        return origin.origin_path
    plan.notes.append(f"Origin {origin.origin_id}: OriginPath {origin.origin_path} names its stage by a template "
                      f"placeholder; the echo's stage {plan.stages[0]} stands in for it.")
    parts[first] = plan.stages[0]
    return "/".join(parts)


def plan_echo(origin: ApiOrigin, config: Mapping[str, Any]) -> EchoPlan:
    """The echo API for ``origin`` of distribution ``config`` (see the module's docstring)."""
    plan = _plan(origin, config)
    plan.origin_path = _origin_path(origin, plan)
    return plan


def _plan(origin: ApiOrigin, config: Mapping[str, Any]) -> EchoPlan:
    derived = _path_stages(origin, _patterns(config, origin.origin_id))
    if origin.kind == "lambda-url":
        return EchoPlan(origin.origin_id, "HTTP", replay.ROUTES_LAMBDA_URL, (DEFAULT_STAGE,),
                        route_keys=("$default",))
    if isinstance(origin.api, RestApi):
        return _rest(origin, origin.api, derived)
    if isinstance(origin.api, HttpApi):
        return _http(origin, origin.api)
    if isinstance(origin.api, CustomDomain):
        return _custom_domain(origin, origin.api)
    return _catch_all(origin, derived, "the source does not describe this API")
