"""The API Gateway path model: one table per rule, each citing the AWS page it encodes."""

from __future__ import annotations

from typing import Any

import pytest

import runbook_lib
from runbook_lib.apigateway import ApiMapping, CustomDomain, HttpApi, RestApi, RoutingRule, api_route
from runbook_lib.apigateway.routing import DOCS
from runbook_lib.errors import ConfigError

REST = RestApi(
    id="abc123",
    resources={
        "/": ["GET"],
        "/items": ["GET", "POST"],
        "/items/{id}": ["GET", "DELETE"],
        "/items/special": ["GET"],
        "/api/{proxy+}": ["ANY"],
    },
    stages=["prod", "dev"],
)
HTTP = HttpApi(
    id="h77",
    routes=["GET /items", "GET /items/{id}", "ANY /items/{proxy+}", "POST /orders", "ANY /orders"],
    stages=["$default", "beta"],
)
HTTP_DEFAULT_ROUTE = HttpApi(id="h88", routes=["GET /items", "$default"], stages=["$default"])


def _pick(result: dict[str, Any]) -> tuple[Any, Any, Any]:
    return result["status"], result["route"], result["stage"]


# https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html: the stage is the
# first path segment; an unknown stage answers 403 Forbidden.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html:
# {param}, {proxy+} (one or more child segments), ANY.
# https://repost.aws/knowledge-center/api-gateway-authentication-token-errors: no resource or method → 403.
REST_CASES = [
    ("GET", "/prod/items", (200, "GET /items", "prod"), {}),
    ("POST", "/dev/items", (200, "POST /items", "dev"), {}),
    ("GET", "/prod/items/42", (200, "GET /items/{id}", "prod"), {"id": "42"}),
    ("GET", "/prod/items/special", (200, "GET /items/special", "prod"), {}),  # literal beats {id}
    ("PUT", "/prod/items/42", (403, None, "prod"), {}),  # resource found, method not: Missing Auth Token
    ("GET", "/prod/api/items/7", (200, "ANY /api/{proxy+}", "prod"), {"proxy": "items/7"}),
    ("PATCH", "/prod/api/x", (200, "ANY /api/{proxy+}", "prod"), {"proxy": "x"}),
    ("GET", "/prod/api", (403, None, "prod"), {}),  # {proxy+} needs at least one child segment
    ("GET", "/prod/Items", (403, None, "prod"), {}),  # paths are case-sensitive
    ("GET", "/prod", (200, "GET /", "prod"), {}),
    ("GET", "/prod/prod/items", (403, None, "prod"), {}),  # OriginPath /prod + /prod/...: doubled stage
    ("GET", "/staging/items", (403, None, None), {}),
    ("GET", "/", (403, None, None), {}),
]


@pytest.mark.parametrize(("method", "path", "expected", "params"), REST_CASES)
def test_rest_api_on_its_default_endpoint(method: str, path: str, expected: tuple[Any, ...],
                                          params: dict[str, str]) -> None:
    result = api_route(REST, method, path)
    assert _pick(result) == expected
    assert result["path_params"] == params
    if expected[0] == 403 and expected[2] is not None:
        assert "Missing Authentication Token" in result["message"]
    elif expected[0] == 403:
        assert '"Forbidden"' in result["message"] and DOCS["rest-invoke"] in result["message"]


# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html: a stage that
# matches the first segment, else $default; routes: full match, then greedy, then $default; 404 Not Found.
HTTP_CASES = [
    (HTTP, "GET", "/items", (200, "GET /items", "$default")),
    (HTTP, "GET", "/beta/items", (200, "GET /items", "beta")),  # named stage in the path
    (HTTP, "GET", "/items/5", (200, "GET /items/{id}", "$default")),  # full match beats greedy
    (HTTP, "GET", "/items/5/parts", (200, "ANY /items/{proxy+}", "$default")),
    (HTTP, "DELETE", "/items/5", (200, "ANY /items/{proxy+}", "$default")),  # no DELETE /items/{id}
    (HTTP, "POST", "/orders", (200, "POST /orders", "$default")),  # own method beats ANY
    (HTTP, "PUT", "/orders", (200, "ANY /orders", "$default")),
    (HTTP, "GET", "/api/items", (404, None, "$default")),
    (HTTP_DEFAULT_ROUTE, "GET", "/api/items", (200, "$default", "$default")),
    (HttpApi(id="h9", routes=["GET /items"], stages=["v1"]), "GET", "/items", (404, None, None)),
    (HttpApi(id="h9", routes=["GET /items"], stages=["v1"]), "GET", "/v1/items", (200, "GET /items", "v1")),
]


@pytest.mark.parametrize(("api", "method", "path", "expected"), HTTP_CASES)
def test_http_api_stages_and_routes(api: HttpApi, method: str, path: str, expected: tuple[Any, ...]) -> None:
    result = api_route(api, method, path)
    assert _pick(result) == expected
    if expected[0] == 404:
        assert '{"message":"Not Found"}' in result["message"]


# https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html (and
# http-api-mappings.html): the base path is stripped, the longest matching mapping wins, (none) catches
# the rest; nothing matching answers 403 Forbidden.
DOMAIN = CustomDomain(
    name="api.example.com",
    mappings=[
        ApiMapping("", "abc123", "prod"),
        ApiMapping("api", "abc123", "dev"),
        ApiMapping("api/v1", "abc123", "prod"),
        ApiMapping("orders", "h77", "beta"),
        ApiMapping("ghost", "zzz", "prod"),
    ],
    apis={"abc123": REST, "h77": HTTP},
)
MAPPING_CASES = [
    ("/items", (200, "GET /items", "prod")),  # (none)
    ("/api/items", (200, "GET /items", "dev")),  # api stripped
    ("/api/v1/items/9", (200, "GET /items/{id}", "prod")),  # multi-level, longest prefix
    ("/api/v12/items", (403, None, "dev")),  # prefixes are whole segments: "api" matched, /v12/items missing
    ("/orders/orders", (200, "POST /orders", "beta")),  # an HTTP API behind the same domain, "orders" stripped
    ("/orders", (404, None, "beta")),  # stripped to /: the HTTP API has no route there
    ("/ghost/x", (None, None, "prod")),  # an API the source does not describe
]


@pytest.mark.parametrize(("path", "expected"), MAPPING_CASES)
def test_custom_domain_base_path_mappings(path: str, expected: tuple[Any, ...]) -> None:
    method = "POST" if path.startswith("/orders") else "GET"
    assert _pick(api_route(DOMAIN, method, path)) == expected


def test_custom_domain_without_a_none_mapping_answers_forbidden() -> None:
    domain = CustomDomain(name="d.example.com", mappings=[ApiMapping("api", "abc123", "prod")],
                          apis={"abc123": REST})
    result = api_route(domain, "GET", "/items")
    assert result["status"] == 403 and DOCS["rest-mappings"] in result["message"]


# https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-routing-rules.html: rules in
# priority order (lowest first), header (name case-insensitive, value glob case-sensitive) AND base path
# conditions, StripBasePath, and the routing modes.
RULES = [
    RoutingRule(10, "abc123", "dev", base_paths=["api"], headers=[("X-Version", "beta*")], strip_base_path=True),
    RoutingRule(20, "abc123", "prod", base_paths=["api"], strip_base_path=False),
    RoutingRule(30, "abc123", "prod", headers=[("x-tenant", "*corp")], strip_base_path=True),
]
RULE_CASES = [
    ("ROUTING_RULE_ONLY", "/api/items", {"x-version": "beta2"}, (200, "GET /items", "dev")),
    ("ROUTING_RULE_ONLY", "/api/items", {"X-Version": "Beta2"}, (200, "ANY /api/{proxy+}", "prod")),
    ("ROUTING_RULE_ONLY", "/api/items", {}, (200, "ANY /api/{proxy+}", "prod")),  # not stripped
    ("ROUTING_RULE_ONLY", "/items", {"x-tenant": "acme-corp"}, (200, "GET /items", "prod")),
    ("ROUTING_RULE_ONLY", "/items", {}, (403, None, None)),
    ("ROUTING_RULE_THEN_API_MAPPING", "/items", {}, (200, "GET /items", "prod")),  # falls to (none)
    ("API_MAPPING_ONLY", "/api/items", {"x-version": "beta"}, (200, "GET /items", "dev")),  # rules ignored
]


@pytest.mark.parametrize(("mode", "path", "headers", "expected"), RULE_CASES)
def test_custom_domain_routing_rules(mode: str, path: str, headers: dict[str, str],
                                     expected: tuple[Any, ...]) -> None:
    domain = CustomDomain(name="api.example.com", mappings=[ApiMapping("", "abc123", "prod"),
                                                            ApiMapping("api", "abc123", "dev")],
                          rules=list(reversed(RULES)), routing_mode=mode, apis={"abc123": REST})
    assert _pick(api_route(domain, "GET", path, headers=headers)) == expected


def test_a_rule_without_conditions_catches_everything() -> None:
    domain = CustomDomain(name="c.example.com", rules=[RoutingRule(1, "h77", "beta")],
                          routing_mode="ROUTING_RULE_ONLY", apis={"h77": HTTP})
    assert _pick(api_route(domain, "GET", "/items/3")) == (200, "GET /items/{id}", "beta")


# https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden: a Host that is not the
# API's own name (no custom domain for it) is refused before any route.
@pytest.mark.parametrize(("api", "host", "status"), [
    (REST, "abc123.execute-api.eu-west-1.amazonaws.com", 200),
    (REST, "ABC123.execute-api.eu-west-1.amazonaws.com", 200),
    (REST, "d111111abcdef8.cloudfront.net", 403),
    (REST, "other1.execute-api.eu-west-1.amazonaws.com", 403),
    (DOMAIN, "api.example.com", 200),
    (DOMAIN, "d111111abcdef8.cloudfront.net", 403),
])
def test_host_must_be_the_apis_own(api: Any, host: str, status: int) -> None:
    path = "/prod/items" if isinstance(api, RestApi) else "/items"
    assert api_route(api, "GET", path, host=host)["status"] == status


def test_result_shape_and_public_export() -> None:
    assert runbook_lib.api_route is api_route
    assert set(api_route(REST, "GET", "/prod/items")) == {"status", "route", "stage", "path_params", "message"}
    with pytest.raises(ConfigError, match="RestApi, HttpApi or CustomDomain"):
        api_route({"id": "x"}, "GET", "/")  # type: ignore[arg-type]
