"""What API Gateway does with the path CloudFront sends: which stage, which route, or which error.

``api_route(api, method, path, host=None, headers=None)`` →
``{"status", "route", "stage", "path_params", "message"}``. ``status`` is 200 when the request reaches a
route's integration (what the integration answers is its own business), API Gateway's own error status
otherwise, and None when the source does not say enough (an API it does not describe). Pure: no AWS calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runbook_lib.apigateway.model import Api, ApiMapping, CustomDomain, HttpApi, RestApi, RoutingRule
from runbook_lib.cloudfront.docs import API_GATEWAY_GUIDE
from runbook_lib.errors import ConfigError

__all__ = ["api_route", "DOCS"]

#: The AWS page behind each rule below.
DOCS = {
    # The first path segment of the default endpoint is the stage.
    "rest-invoke": API_GATEWAY_GUIDE + "how-to-call-api.html",
    # {proxy+} is a greedy path variable for all child resources; ANY catches every method.
    "rest-proxy": API_GATEWAY_GUIDE + "api-gateway-set-up-simple-proxy.html",
    # No resource/method → 403 "Missing Authentication Token".
    "rest-missing": "https://repost.aws/knowledge-center/api-gateway-authentication-token-errors",
    # Unknown stage, foreign Host, no mapping: 403 "Forbidden".
    "forbidden": "https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden",
    # HTTP APIs: stage selection ($default at the root), route priority, 404 "Not Found".
    "http-routes": API_GATEWAY_GUIDE + "http-api-develop-routes.html",
    "http-stages": API_GATEWAY_GUIDE + "http-api-stages.html",
    # Custom domains: the base path is stripped; the longest matching mapping wins; (none) catches the rest.
    "rest-mappings": API_GATEWAY_GUIDE + "rest-api-mappings.html",
    "http-mappings": API_GATEWAY_GUIDE + "http-api-mappings.html",
    # Routing rules: priority order, AND of conditions, header globs, StripBasePath, routing mode.
    "routing-rules": API_GATEWAY_GUIDE + "rest-api-routing-rules.html",
}

_EXECUTE_API_HOST = re.compile(r"^(?P<id>[^.]+)\.execute-api\.[^.]+\.amazonaws\.com(\.cn)?$")


@dataclass
class _Target:
    api: Api | None
    api_id: str
    stage: str
    path: str


def _answer(status: int | None, message: str, route: str | None = None, stage: str | None = None,
            params: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": status, "route": route, "stage": stage, "path_params": dict(params or {}), "message": message}


def _segments(path: str) -> list[str]:
    return [s for s in path.split("?", 1)[0].split("/") if s]


def _match_template(template: str, segments: list[str]) -> tuple[int, ...] | None:
    """Per-segment specificity (2 literal, 1 ``{param}``, 0 greedy) when ``template`` matches, else None.

    A greedy ``{name+}`` must be last and takes one or more segments (DOCS["rest-proxy"], DOCS["http-routes"]).
    """
    parts = _segments(template)
    score: list[int] = []
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            return tuple(score + [0]) if len(segments) > i and i == len(parts) - 1 else None
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            score.append(1)
        elif part == segments[i]:  # literal segments are case-sensitive
            score.append(2)
        else:
            return None
    return tuple(score) if len(parts) == len(segments) else None


def _params(template: str, segments: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, part in enumerate(_segments(template)):
        if part.endswith("+}"):
            out[part[1:-2]] = "/".join(segments[i:])
        elif part.startswith("{"):
            out[part[1:-1]] = segments[i]
    return out


def _best(templates: list[str], segments: list[str]) -> tuple[str, tuple[int, ...]] | None:
    scored = [(t, s) for t in templates if (s := _match_template(t, segments)) is not None]
    if not scored:
        return None
    # A full match beats a greedy one; then literal over {param}, segment by segment from the left.
    return max(scored, key=lambda ts: (0 not in ts[1][-1:], ts[1]))


def _rest(api: RestApi, method: str, stage: str, path: str) -> dict[str, Any]:
    segments = _segments(path)
    found = _best(list(api.resources), segments)
    if found is not None:
        resource = found[0]
        methods = {m.upper() for m in api.resources[resource]}
        chosen = method if method in methods else "ANY" if "ANY" in methods else None
        if chosen is not None:
            return _answer(200, f"reaches {chosen} {resource} of stage {stage} ({DOCS['rest-proxy']})",
                           f"{chosen} {resource}", stage, _params(resource, segments))
    return _answer(403, f'{{"message":"Missing Authentication Token"}}: REST API {api.id} has no {method} '
                   f"method on a resource matching /{'/'.join(segments)} in stage {stage} ({DOCS['rest-missing']})",
                   None, stage)


def _http(api: HttpApi, method: str, stage: str, path: str) -> dict[str, Any]:
    segments = _segments(path)
    exact: list[tuple[str, str]] = []
    for key in api.routes:
        verb, _, template = key.partition(" ")
        if key != "$default" and verb.upper() in (method, "ANY"):
            exact.append((verb.upper(), template))
    # Priority (DOCS["http-routes"]): a full match, then a greedy match, then $default; a route for the
    # request's own method beats ANY on the same path.
    candidates = [t for _, t in exact]
    found = _best(candidates, segments)
    if found is not None:
        template = found[0]
        verbs = {v for v, t in exact if t == template}
        verb = method if method in verbs else "ANY"
        return _answer(200, f"reaches route {verb} {template} of stage {stage} ({DOCS['http-routes']})",
                       f"{verb} {template}", stage, _params(template, segments))
    if "$default" in api.routes:
        return _answer(200, f"reaches the $default route of stage {stage} ({DOCS['http-routes']})",
                       "$default", stage)
    return _answer(404, f'{{"message":"Not Found"}}: HTTP API {api.id} has no route for {method} '
                   f"/{'/'.join(segments)} in stage {stage} and no $default route ({DOCS['http-routes']})", None, stage)


def _on_api(api: Api, method: str, path: str) -> dict[str, Any]:
    """The default execute-api endpoint: the stage comes from the path."""
    segments = _segments(path)
    if isinstance(api, HttpApi):
        named = [s for s in api.stages if s != "$default"]
        if segments and segments[0] in named:
            return _http(api, method, segments[0], "/" + "/".join(segments[1:]))
        if "$default" in api.stages:
            return _http(api, method, "$default", path)
        return _answer(404, f'{{"message":"Not Found"}}: no stage of HTTP API {api.id} matches '
                       f"/{'/'.join(segments)} and it has no $default stage ({DOCS['http-stages']})")
    if not segments or segments[0] not in api.stages:
        first = segments[0] if segments else "(none)"
        return _answer(403, f'{{"message":"Forbidden"}}: the first path segment {first!r} is not a stage of '
                       f"REST API {api.id} (stages: {', '.join(api.stages) or 'none'}) ({DOCS['rest-invoke']})")
    return _rest(api, method, segments[0], "/" + "/".join(segments[1:]))


def _prefix(base: str, segments: list[str]) -> bool:
    parts = _segments(base)
    return segments[: len(parts)] == parts


def _strip(base: str, segments: list[str]) -> str:
    return "/" + "/".join(segments[len(_segments(base)):])


def _glob(pattern: str, value: str) -> bool:
    # Header value globs: exact, prefix*, *suffix or *contains*, case-sensitive (DOCS["routing-rules"]).
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
        return pattern[1:-1] in value
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def _rule_matches(rule: RoutingRule, segments: list[str], headers: dict[str, str]) -> str | None:
    """The base path the rule matched ("" when it has no path condition), or None."""
    for name, pattern in rule.headers:  # names case-insensitive, values case-sensitive
        if name.lower() not in headers or not _glob(pattern, headers[name.lower()]):
            return None
    if not rule.base_paths:
        return ""
    return next((b for b in rule.base_paths if _prefix(b, segments)), None)


def _by_rules(domain: CustomDomain, segments: list[str], headers: dict[str, str]) -> _Target | None:
    for rule in sorted(domain.rules, key=lambda r: r.priority):  # lowest priority value first
        base = _rule_matches(rule, segments, headers)
        if base is not None:
            path = _strip(base, segments) if rule.strip_base_path and base else "/" + "/".join(segments)
            return _Target(domain.apis.get(rule.api_id), rule.api_id, rule.stage, path)
    return None


def _by_mappings(domain: CustomDomain, segments: list[str]) -> _Target | None:
    matching: list[ApiMapping] = [m for m in domain.mappings if _prefix(m.base_path, segments)]
    if not matching:
        return None
    best = max(matching, key=lambda m: len(_segments(m.base_path)))  # longest prefix; (none) last
    return _Target(domain.apis.get(best.api_id), best.api_id, best.stage, _strip(best.base_path, segments))


def _on_domain(domain: CustomDomain, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    segments = _segments(path)
    mode = domain.routing_mode
    target = _by_rules(domain, segments, headers) if mode != "API_MAPPING_ONLY" else None
    if target is None and mode != "ROUTING_RULE_ONLY":
        target = _by_mappings(domain, segments)
    if target is None:
        doc = DOCS["routing-rules"] if mode != "API_MAPPING_ONLY" else DOCS["rest-mappings"]
        return _answer(403, f'{{"message":"Forbidden"}}: no mapping or routing rule of {domain.name} matches '
                       f"/{'/'.join(segments)} ({doc})")
    if target.api is None:
        return _answer(None, f"custom domain {domain.name} sends /{'/'.join(segments)} to stage {target.stage} "
                       f"of API {target.api_id} as {target.path}, which the source does not describe",
                       None, target.stage)
    if isinstance(target.api, HttpApi):
        return _http(target.api, method, target.stage, target.path)
    return _rest(target.api, method, target.stage, target.path)


def api_route(api: Api | CustomDomain, method: str, path: str, host: str | None = None,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
    """What API Gateway does with ``method path`` sent to ``api`` (REST, HTTP, or a custom domain).

    ``path`` is what reaches API Gateway (after CloudFront's OriginPath). ``host``: the Host header it
    gets; a Host that is neither the API's execute-api name nor the custom domain answers 403.
    ``headers``: request headers, for routing rules' header conditions.
    """
    if not isinstance(api, (RestApi, HttpApi, CustomDomain)):
        raise ConfigError(f"api_route needs a RestApi, HttpApi or CustomDomain, found {type(api).__name__}.")
    method = method.upper()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if isinstance(api, CustomDomain):
        if host is not None and host.lower() != api.name.lower():
            return _answer(403, f'{{"message":"Forbidden"}}: Host {host} is not the custom domain {api.name} '
                           f"({DOCS['forbidden']})")
        return _on_domain(api, method, path, lowered)
    if host is not None:
        own = _EXECUTE_API_HOST.match(host.lower())
        if own is None or own.group("id") != api.id.lower():
            return _answer(403, f'{{"message":"Forbidden"}}: Host {host} is not the execute-api name of API '
                           f"{api.id} ({DOCS['forbidden']})")
    return _on_api(api, method, path)
