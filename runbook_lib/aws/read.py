"""Read one distribution and what it depends on from a target, read-only: ``distribution:<ID>``.

GetDistributionConfig, the custom cache and origin request policies it uses, its CloudFront Functions'
code (LIVE stage), and, for API origins in the target's account and region, the APIs' resources or
routes and stages, and custom domains' API mappings and routing rules. Nothing is created or changed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from runbook_lib.apigateway.model import Api, ApiMapping, CustomDomain, HttpApi, RestApi, RoutingRule
from runbook_lib.aws.calls import aws_call, aws_errors, get_or_none
from runbook_lib.aws.target import Target, origins_as_on_aws
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.policies import fetch_custom_policies
from runbook_lib.sources.result import DistributionSource

__all__ = ["ReadCache", "distribution_ids", "read_distribution"]

T = TypeVar("T")


class ReadCache:
    """What was read from one account, by key (``api:<id>``, ``cache-policy:<id>``, ...), shared by the reads of
    its distributions (``check --all``): an API or a custom policy behind many of them is read once, also when
    parallel reads reach it together."""

    def __init__(self) -> None:
        self._found: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[], T]) -> T:
        """The value of ``key``, from ``read()`` the first time (a read that raises is not kept)."""
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._found:
                self._found[key] = read()
            return cast(T, self._found[key])


_EXECUTE_API = re.compile(r"^(?P<id>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class _CachedPolicies:
    """The two reads ``fetch_custom_policies`` makes with a CloudFront client, answered through a ReadCache."""

    def __init__(self, cloudfront: Any, cache: ReadCache) -> None:
        self._cloudfront, self._cache = cloudfront, cache

    def get_cache_policy(self, Id: str) -> Any:  # noqa: N803 - boto3's parameter name
        return self._cache.get(f"cache-policy:{Id}", lambda: self._cloudfront.get_cache_policy(Id=Id))

    def get_origin_request_policy(self, Id: str) -> Any:  # noqa: N803 - boto3's parameter name
        return self._cache.get(f"origin-request-policy:{Id}",
                               lambda: self._cloudfront.get_origin_request_policy(Id=Id))


def _behaviors(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [config.get("DefaultCacheBehavior") or {}, *items(config.get("CacheBehaviors"))]


def _functions(cloudfront: Any, config: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for behavior in _behaviors(config):
        for assoc in items(behavior.get("FunctionAssociations")):
            arn = str(assoc.get("FunctionARN"))
            if arn in out:
                continue
            name = arn.rsplit("/", 1)[-1]
            answer = aws_call(f"GetFunction {name}", cloudfront.get_function, Name=name, Stage="LIVE")
            code = answer["FunctionCode"]
            out[arn] = (code.read() if hasattr(code, "read") else code).decode("utf-8")
    return out


def _rest_api(apigw: Any, api_id: str) -> RestApi:
    api = RestApi(id=api_id)
    for page in apigw.get_paginator("get_resources").paginate(restApiId=api_id, embed=["methods"]):
        for res in page.get("items") or []:
            api.resources[str(res["path"])] = sorted((res.get("resourceMethods") or {}).keys())
    api.stages = [str(s["stageName"]) for s in apigw.get_stages(restApiId=api_id).get("item") or []]
    return api


def _http_api(v2: Any, api_id: str) -> HttpApi:
    api = HttpApi(id=api_id)
    for page in v2.get_paginator("get_routes").paginate(ApiId=api_id):
        api.routes.extend(str(r["RouteKey"]) for r in page.get("Items") or [])
    api.stages = [str(s["StageName"]) for s in v2.get_stages(ApiId=api_id).get("Items") or []]
    return api


def _read_api(target: Target, api_id: str) -> Api | None:
    """API ``api_id`` (REST first, then HTTP), or None when it is neither."""
    if get_or_none(f"apigateway.GetRestApi {api_id}", target.client("apigateway").get_rest_api,
                   restApiId=api_id) is not None:
        return _rest_api(target.client("apigateway"), api_id)
    api = get_or_none(f"apigatewayv2.GetApi {api_id}", target.client("apigatewayv2").get_api, ApiId=api_id)
    if api is not None and str(api.get("ProtocolType", "HTTP")) == "HTTP":
        return _http_api(target.client("apigatewayv2"), api_id)
    return None


def _api(target: Target, api_id: str, apis: dict[str, Api], cache: ReadCache) -> None:
    """Read API ``api_id`` into ``apis`` (an API that is neither REST nor HTTP is left out); ``cache`` keeps what
    was read for the next distribution of the same account (``check --all``)."""
    if api_id in apis:
        return
    found = cache.get(f"api:{api_id}", lambda: _read_api(target, api_id))
    if found is not None:
        apis[api_id] = found


def _rules(v2: Any, name: str) -> list[RoutingRule]:
    rules = []
    for page in v2.get_paginator("list_routing_rules").paginate(DomainName=name):
        for rule in page.get("RoutingRules") or []:
            conditions = rule.get("Conditions") or []
            paths = [str(p) for c in conditions for p in (c.get("MatchBasePaths") or {}).get("AnyOf") or []]
            headers = [(str(h["Header"]), str(h["ValueGlob"])) for c in conditions
                       for h in (c.get("MatchHeaders") or {}).get("AnyOf") or []]
            for action in rule.get("Actions") or []:
                invoke = action.get("InvokeApi") or {}
                rules.append(RoutingRule(int(rule.get("Priority", 0)), str(invoke.get("ApiId")),
                                         str(invoke.get("Stage")), paths, headers,
                                         bool(invoke.get("StripBasePath", False))))
    return rules


def _domain(target: Target, name: str, apis: dict[str, Api], cache: ReadCache) -> CustomDomain | None:
    v2 = target.client("apigatewayv2")
    found = get_or_none(f"apigatewayv2.GetDomainName {name}", v2.get_domain_name, DomainName=name)
    if found is None:
        return None  # not an API Gateway custom domain of this account and region
    domain = CustomDomain(name=name, routing_mode=str(found.get("RoutingMode") or "API_MAPPING_ONLY"), apis=apis)
    for m in v2.get_api_mappings(DomainName=name).get("Items") or []:
        domain.mappings.append(ApiMapping(str(m.get("ApiMappingKey") or ""), str(m["ApiId"]), str(m["Stage"])))
    if domain.routing_mode != "API_MAPPING_ONLY":
        domain.rules = _rules(v2, name)
    for api_id in {m.api_id for m in domain.mappings} | {r.api_id for r in domain.rules}:
        _api(target, api_id, apis, cache)
    return domain


def _origins(target: Target, config: dict[str, Any], notes: list[str],
             cache: ReadCache) -> tuple[dict[str, Api], dict[str, CustomDomain]]:
    apis: dict[str, Api] = {}
    domains: dict[str, CustomDomain] = {}
    for origin in items(config.get("Origins")):
        domain_name = str(origin.get("DomainName") or "").lower()
        if "S3OriginConfig" in origin or ".s3." in domain_name:
            continue
        m = _EXECUTE_API.match(domain_name)
        if m and m.group("region") != target.region:
            notes.append(f"Origin {origin.get('Id')}: API {m.group('id')} is in {m.group('region')}, not "
                         f"{target.region}; its routes were not read (run with --region {m.group('region')}).")
        elif m:
            _api(target, m.group("id"), apis, cache)
        else:
            found = _domain(target, domain_name, apis, cache)
            if found is not None:
                domains[domain_name] = found
    return apis, domains


def _as_on_aws(target: Target, config: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Locally, API origins sit at MiniStack's path-style address (the execute-api name cannot be an origin
    there: docs/deviations.md, ``local-origin-address``); the source is the distribution they stand for on AWS,
    so its APIs are read and the models decide as they would on AWS."""
    aws, changed = origins_as_on_aws(config, target.region)
    before = {str(o.get("Id")): o for o in items(config.get("Origins"))}
    for origin in items(aws.get("Origins")):
        oid = str(origin.get("Id"))
        if oid in changed:
            local = before[oid]
            notes.append(f"Origin {oid}: the local address {local.get('DomainName')}{local.get('OriginPath')} "
                         f"was read as its AWS form {origin['DomainName']}{origin['OriginPath']}.")
    return aws


@aws_errors
def read_distribution(target: Target, distribution_id: str, cache: ReadCache | None = None) -> DistributionSource:
    """Distribution ``distribution_id`` of ``target`` as a :class:`DistributionSource` (read-only); on the local
    target in its AWS form (origins at MiniStack's address of an API become execute-api origins, with a note).

    ``cache`` is shared by the reads of one account's distributions, so an API or custom policy behind many is
    read once.
    """
    cloudfront = target.client("cloudfront")
    config: dict[str, Any] = aws_call(f"GetDistributionConfig {distribution_id}", cloudfront.get_distribution_config,
                                      Id=distribution_id)["DistributionConfig"]
    notes: list[str] = []
    if target.is_local:
        config = _as_on_aws(target, config, notes)
    cache = ReadCache() if cache is None else cache
    apis, domains = _origins(target, config, notes, cache)
    return DistributionSource(
        name=distribution_id, kind="distribution", location=f"distribution:{distribution_id}", config=config,
        policies=fetch_custom_policies(_CachedPolicies(cloudfront, cache), config),
        functions=_functions(cloudfront, config), apis=apis, domains=domains, notes=notes)


@aws_errors
def distribution_ids(target: Target) -> list[str]:
    """The IDs of every distribution of ``target``'s account (ListDistributions, every page)."""
    ids: list[str] = []
    for page in target.client("cloudfront").get_paginator("list_distributions").paginate():
        ids.extend(str(d["Id"]) for d in (page.get("DistributionList") or {}).get("Items") or [])
    return ids
