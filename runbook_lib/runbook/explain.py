"""The explainer: follow one viewer request through CloudFront's model, with no AWS at all.

Everything here is computed by :func:`runbook_lib.simulate` on a small example distribution (S3 by
default, ``/api/*`` to an API Gateway stage), so the tables in ``notebooks/00_explainer.ipynb`` are
the model's answers, never typed-in text. Credentials are shown masked (:func:`redact.mask`): two
equal values keep the same mask, so a reader still sees that Authorization arrived unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from runbook_lib.apigateway.model import ApiMapping, CustomDomain, RestApi
from runbook_lib.apigateway.routing import api_route
from runbook_lib.aws import presets
from runbook_lib.aws.target import aws_api_origin
from runbook_lib.cloudfront.behaviors import Selector
from runbook_lib.cloudfront.configs import (
    ALL_METHODS,
    API_AUTH_AND_QUERY,
    api_behavior,
    site_and_api_config,
    to_cache_policy_config,
)
from runbook_lib.cloudfront.model import SimulationResult, compiled_behaviors, simulate
from runbook_lib.cloudfront.policies import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CORS_CUSTOM_ORIGIN,
    CORS_S3_ORIGIN,
    policy_name,
)
from runbook_lib.runbook import request_line
from runbook_lib.runbook.redact import is_sensitive, mask

__all__ = [
    "NOT_FORWARDED",
    "EXAMPLE_HEADERS",
    "EXAMPLE_REQUESTS",
    "auth_in_orp_example",
    "compare_presets",
    "cors_preflight_table",
    "example_config",
    "example_policies",
    "follow",
    "match_table",
    "path_fix_table",
    "policy_table",
    "show",
]

#: Shown where the model predicts that something does not reach the origin at all. (Not the probes'
#: ``probes.ABSENT``, which is what an observer records for a value that did not arrive.)
NOT_FORWARDED = "— (not forwarded)"

#: The example API (the example distribution's own address is request_line.EXAMPLE_DISTRIBUTION_DOMAIN).
API_ID = "a1b2c3d4e5"
REGION = "eu-west-1"
STAGE = "prod"
#: Placeholder ID of the custom cache policy behind the ``custom-auth-in-key`` preset.
CUSTOM_POLICY_ID = "example-api-auth-and-query"
#: The header a client of our API sends (a custom X- header: forwarded only if a policy says so).
CUSTOM_HEADER = "X-Client-Version"

#: What a typical API client sends (besides Host, which :func:`request_line.parse` adds).
EXAMPLE_HEADERS: dict[str, str] = {
    "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.example-token",
    CUSTOM_HEADER: "1.4.2",
    "Cookie": "session=abc123; theme=dark",
    "User-Agent": "curl/8.5.0",
}

#: The requests the comparison follows: a read with a query, a write, and the bare ``/api``.
EXAMPLE_REQUESTS: tuple[str, ...] = (
    "GET /api/data?since=2020-01-01",
    "POST /api/items",
    "GET /api",
)



# --- the example distribution --------------------------------------------------------------------


def example_config(preset: str = "recommended", *, api_id: str = API_ID, stage: str = STAGE,
                   region: str = REGION) -> dict[str, Any]:
    """A two-origin DistributionConfig: default → S3, ``/api/*`` → stage ``stage`` of REST API ``api_id``.

    The ``/api/*`` behavior is :func:`configs.api_behavior` with ``preset``'s policies and the API origin is
    :func:`target.aws_api_origin` (OriginPath ``/<stage>``): the same pieces the build notebook deploys.
    Raises :class:`ParameterError` listing the presets when ``preset`` is unknown.
    """
    chosen = presets.get(preset)
    return site_and_api_config(
        bucket_domain=f"example-site.s3.{region}.amazonaws.com", api_origin=aws_api_origin(api_id, stage, region),
        api_behavior=api_behavior(chosen.behavior_fields(CUSTOM_POLICY_ID)),
        caller_reference="explainer", comment=f"explainer: /api/* uses preset {preset}",
    )


def example_policies(preset: str = "recommended") -> dict[str, Any] | None:
    """The custom policies ``example_config(preset)`` references, in the shape ``simulate`` takes."""
    if not presets.get(preset).custom_cache_policy:
        return None
    return {CUSTOM_POLICY_ID: {"CachePolicyConfig": to_cache_policy_config(API_AUTH_AND_QUERY)}}


# --- one request ---------------------------------------------------------------------------------


def _shown(name: str, value: Any) -> Any:
    return mask(value) if is_sensitive(name) else value


def follow(config: dict[str, Any], line: str, headers: Mapping[str, str] | None = None,
           policies: dict[str, Any] | None = None) -> dict[str, Any]:
    """Follow one request through ``config``: the behavior it matched, who answered, what the origin got.

    Keys: ``request``, ``behavior``, ``origin_id``, ``edge_status`` (CloudFront answered itself:
    redirect, 403 invalid method...), ``origin_status`` (the origin refuses, e.g. API Gateway's 403 to
    a foreign Host), ``method``/``path``/``query`` at the origin (``query`` None when no query string
    is forwarded), ``headers`` at the origin (lower-case names, credentials masked) and ``cautions``
    (AWS doc conflicts that touch this request).
    """
    result: SimulationResult = simulate(config, request_line.parse(line, headers), policies)
    sent = result.origin_request or {}
    return {
        "request": line,
        "behavior": result.behavior,
        "origin_id": result.origin_id,
        "edge_status": result.edge_status,
        "origin_status": result.origin_status,
        "method": sent.get("method"),
        "path": sent.get("path"),
        "query": sent.get("query"),
        "headers": {k: _shown(k, v) for k, v in (sent.get("headers") or {}).items()},
        "forwarded": result.origin_request is not None,
        "cautions": list(result.cautions),
    }


def _verdict(f: Mapping[str, Any]) -> str:
    if f["edge_status"] is not None:
        return f"CloudFront answers {f['edge_status']} itself; nothing reaches the origin"
    if f["origin_status"] is not None:
        return f"forwarded to origin {f['origin_id']}, which answers {f['origin_status']}"
    return f"forwarded to origin {f['origin_id']}"


def show(config: dict[str, Any], line: str, headers: Mapping[str, str] | None = None,
         policies: dict[str, Any] | None = None) -> pd.DataFrame:
    """:func:`follow` as a readable two-column table (step, value), one origin header per row."""
    f = follow(config, line, headers, policies)
    rows: list[tuple[str, Any]] = [
        ("viewer request", line),
        ("behavior matched", f["behavior"]),
        ("outcome", _verdict(f)),
    ]
    if f["forwarded"]:
        rows += [
            ("origin: method", f["method"]),
            ("origin: path", f["path"]),
            ("origin: query", NOT_FORWARDED if f["query"] is None else (f["query"] or "(empty)")),
        ]
        rows += [(f"origin header: {name}", value) for name, value in f["headers"].items()]
    rows += [(f"caution {i}", text) for i, text in enumerate(f["cautions"], 1)]
    return pd.DataFrame(rows, columns=["step", "value"]).set_index("step")


# --- many requests, every preset -----------------------------------------------------------------


def _header_cell(f: Mapping[str, Any], name: str) -> Any:
    if not f["forwarded"]:
        return "—"
    return f["headers"].get(name.lower(), NOT_FORWARDED)


def compare_presets(requests: Iterable[str] = EXAMPLE_REQUESTS, headers: Mapping[str, str] | None = None,
                    preset_names: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per request × preset: which behavior, who answers, and what reaches the origin.

    Every request carries ``headers`` (default :data:`EXAMPLE_HEADERS`). Authorization and Cookie are
    masked; a masked value in the table means the header arrived, :data:`NOT_FORWARDED` means it did not.
    """
    sent = dict(EXAMPLE_HEADERS if headers is None else headers)
    rows = []
    for line in requests:
        for name in preset_names if preset_names is not None else presets.PRESETS:
            f = follow(example_config(name), line, sent, example_policies(name))
            query = f["query"]
            rows.append({
                "request": line,
                "preset": name,
                "behavior": f["behavior"],
                "answered by": ("CloudFront" if f["edge_status"] is not None else f["origin_id"]),
                "status": f["edge_status"] or f["origin_status"] or "—",
                "origin path": f["path"] if f["forwarded"] else "—",
                "query": "—" if not f["forwarded"] else (NOT_FORWARDED if query is None else query or "(empty)"),
                "Authorization": _header_cell(f, "authorization"),
                CUSTOM_HEADER: _header_cell(f, CUSTOM_HEADER),
                "Cookie": _header_cell(f, "cookie"),
                "Host": _header_cell(f, "host"),
                "User-Agent": _header_cell(f, "user-agent"),
            })
    return pd.DataFrame(rows)


def match_table(config: dict[str, Any], paths: Iterable[str]) -> pd.DataFrame:
    """Which behavior each viewer path (query ignored) falls under, and the origin it goes to."""
    rows = []
    for path in paths:
        result = simulate(config, request_line.parse(f"GET {path}"))
        rows.append({"viewer path": path, "behavior": result.behavior, "origin": result.origin_id})
    return pd.DataFrame(rows)


def _describe(sel: Selector) -> str:
    names = ", ".join(sorted(sel.names))
    if sel.regex is not None:
        names = ", ".join(filter(None, [names, f"pattern {sel.regex.pattern}"]))
    if sel.kind == "none" or (sel.kind == "only" and not names):
        return "none"
    if sel.kind == "all" or not names:
        return "all"
    return f"only {names}" if sel.kind == "only" else f"all except {names}"


def policy_table(preset_names: Iterable[str] | None = None) -> pd.DataFrame:
    """Per preset: what the ``/api/*`` behavior puts in the cache key, and what it forwards in total.

    The forwarded sets are the model's merge of cache policy + origin request policy (or the legacy
    ForwardedValues), read from the resolved behavior.
    """
    rows = []
    for name in preset_names if preset_names is not None else presets.PRESETS:
        config = example_config(name)
        api = next(b for b in compiled_behaviors(config, example_policies(name)) if b.label == "/api/*")
        rows.append({
            "preset": name,
            "settings": "legacy ForwardedValues" if api.legacy else " + ".join(
                filter(None, [_policy_label(api.cache_policy_id), _policy_label(api.origin_request_policy_id)])),
            "cache key: query": _describe(api.cache_query),
            "cache key: headers": _describe(api.cache_headers),
            "forwarded: query": _describe(api.query),
            "forwarded: headers": _describe(api.headers),
            "forwarded: cookies": _describe(api.cookies),
            "responses cached": api.caching,
        })
    return pd.DataFrame(rows)


def _policy_label(policy_id: str | None) -> str:
    if policy_id is None:
        return ""
    if policy_id == CUSTOM_POLICY_ID:
        return f"custom {API_AUTH_AND_QUERY.name}"
    return policy_name(policy_id)


# --- /api/* onto API Gateway's stages and routes -------------------------------------------------


def _api_answer(route: dict[str, Any]) -> str:
    """A cell for what API Gateway answers, from :func:`runbook_lib.apigateway.routing.api_route`."""
    if route["status"] == 200:
        return f"200 (reaches {route['route']}; the Lambda answers)"
    body = str(route["message"]).split(": ", 1)[0]  # api_route's message starts with API Gateway's own body
    return f"{route['status']} {body}"


def path_fix_table(viewer_path: str = "/api/items") -> pd.DataFrame:
    """``viewer_path`` under ``/api/*``: the broken mapping and the four fixes, computed.

    The path CloudFront sends comes from :func:`simulate` on a variant of :func:`example_config`;
    the CloudFront Function row rewrites the URI after the behavior matched (viewer-request
    functions run after behavior selection and change only the URI the origin gets). What API Gateway does
    with it comes from the API Gateway model (:func:`runbook_lib.apigateway.routing.api_route`).
    """
    api_domain = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
    custom_domain = "api.example.com"
    items_only = {"/items": ["ANY"], "/items/{id}": ["ANY"]}
    cases: list[dict[str, Any]] = [
        {"setup": "broken: OriginPath /prod, API routes /items only", "origin_path": "/prod",
         "domain": api_domain, "stages": ("prod",), "resources": items_only},
        {"setup": "fix 1: add an /api resource (/api/{proxy+}) to the API", "origin_path": "/prod",
         "domain": api_domain, "stages": ("prod",), "resources": {**items_only, "/api/{proxy+}": ["ANY"]}},
        {"setup": "fix 2: a stage named api, OriginPath empty", "origin_path": "",
         "domain": api_domain, "stages": ("api",), "resources": items_only},
        {"setup": "fix 3: custom domain, base path mapping api → prod, OriginPath empty", "origin_path": "",
         "domain": custom_domain, "stages": ("prod",), "resources": items_only, "base_paths": {"api": "prod"}},
        {"setup": "fix 4: CloudFront Function strips /api, OriginPath /prod", "origin_path": "/prod",
         "domain": api_domain, "stages": ("prod",), "resources": items_only, "strip": "/api"},
    ]
    rows = []
    for case in cases:
        config = example_config("recommended")
        origin = config["Origins"]["Items"][1]
        origin["DomainName"], origin["OriginPath"] = case["domain"], case["origin_path"]
        f = follow(config, f"GET {viewer_path}")
        sent = str(f["path"])
        if case.get("strip") and viewer_path.startswith(case["strip"] + "/"):
            sent = case["origin_path"] + viewer_path[len(case["strip"]):]
        api = RestApi(API_ID, resources=case["resources"], stages=list(case["stages"]))
        mappings = [ApiMapping(b, API_ID, stage) for b, stage in (case.get("base_paths") or {}).items()]
        reached: RestApi | CustomDomain = (CustomDomain(case["domain"], mappings, apis={API_ID: api}) if mappings
                                           else api)
        route = api_route(reached, "GET", sent, host=case["domain"])
        rows.append({"setup": case["setup"], "behavior": f["behavior"], "origin": case["domain"],
                     "OriginPath": case["origin_path"] or "(empty)", "CloudFront sends": sent,
                     "stage": route["stage"] or "—", "route": route["route"] or "—",
                     "API Gateway answers": _api_answer(route)})
    return pd.DataFrame(rows)


def auth_in_orp_example() -> tuple[dict[str, Any], dict[str, Any]]:
    """``/api/*`` with CachingDisabled + a custom origin request policy naming Authorization only.

    The contested setup (docs/aws-behaviour.md, doubtful point 1): the newest AWS text allows it, older
    AWS text says CloudFront rejects it with 400. Returns ``(config, policies)`` for :func:`show`.
    """
    config = example_config("recommended")
    config["CacheBehaviors"]["Items"][0]["OriginRequestPolicyId"] = "example-auth-orp"
    policies = {"example-auth-orp": {"OriginRequestPolicyConfig": {
        "Name": "example-auth-orp",
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Authorization"]}},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "all"},
    }}}
    return config, policies


# --- CORS preflights (issue 14) -------------------------------------------------------------------------

#: The /api/* setups the CORS table compares: (label, origin request policy, allowed methods).
_CORS_SETUPS: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("CachingDisabled alone", None, ALL_METHODS),
    ("CachingDisabled + CORS-CustomOrigin", CORS_CUSTOM_ORIGIN, ALL_METHODS),
    ("CachingDisabled + CORS-S3Origin", CORS_S3_ORIGIN, ALL_METHODS),
    ("CachingDisabled + AllViewerExceptHostHeader", ALL_VIEWER_EXCEPT_HOST_HEADER, ALL_METHODS),
    ("AllViewerExceptHostHeader, methods GET/HEAD only", ALL_VIEWER_EXCEPT_HOST_HEADER, ("GET", "HEAD")),
)
_PREFLIGHT = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "authorization, content-type"}


def cors_preflight_table(line: str = "OPTIONS /api/items") -> pd.DataFrame:
    """What a browser's CORS preflight brings to the API under each setup, computed with ``simulate``.

    Origin and the Access-Control-Request-* headers reach the API only when a policy names them (the managed
    CORS policies) or an all-viewer policy includes them, and OPTIONS must be an allowed method
    (controlling-origin-requests.html; using-managed-origin-request-policies.html).
    """
    rows = []
    for label, orp, methods in _CORS_SETUPS:
        config = example_config("recommended")
        b = config["CacheBehaviors"]["Items"][0]
        b.pop("OriginRequestPolicyId", None)
        if orp:
            b["OriginRequestPolicyId"] = orp
        b["AllowedMethods"] = {"Quantity": len(methods), "Items": list(methods),
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}
        result = simulate(config, request_line.parse(line, _PREFLIGHT))
        sent = (result.origin_request or {}).get("headers", {})
        answer = f"{result.edge_status} at the edge" if result.edge_status else "forwarded to the API"
        rows.append({"setup": label, "preflight": answer,
                     **{name: sent.get(name.lower(), NOT_FORWARDED) for name in _PREFLIGHT}})
    return pd.DataFrame(rows)
