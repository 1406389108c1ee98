"""What the API read with a source says about a path: where CloudFront sends a behavior's sample path and which
route API Gateway gives it (``apigateway.api_route``), and ``diagnose``'s findings weighed against that.

``diagnose`` (cloudfront/) is pure and knows no API: its ``api-prefix-vs-stage`` warning says that ``/api/*``
behind an OriginPath stage reaches the API as ``/<stage>/api/...`` and that the API needs a ``/api`` resource,
since it cannot see the routes. ``check`` knows them when the source describes the API (a template with the
RestApi, ``distribution:<ID>`` read from the target): :func:`weigh` turns the warning into an info line where the
API has the route, and adds what the API Gateway model found where it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runbook_lib.apigateway.routing import DOCS as API_DOCS
from runbook_lib.apigateway.routing import api_route
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.model import simulate
from runbook_lib.runbook.requirements import VIEWER_HOST
from runbook_lib.sources import ApiOrigin

if TYPE_CHECKING:
    from runbook_lib.runbook.check import BehaviorCheck

__all__ = ["ROUTED_CODE", "Arrival", "arrival", "rewrites_path", "weigh"]

#: The ``diagnose`` finding the API's routes decide.
ROUTED_CODE = "api-prefix-vs-stage"


@dataclass
class Arrival:
    """GET of a viewer path, as it reaches an API origin."""

    #: The behavior that served the viewer path (its PathPattern, or ``default``).
    behavior: str
    #: The path CloudFront sends to the origin (OriginPath + viewer path).
    sent: str
    #: ``api_route``'s answer for ``sent``; None when the source does not describe the API.
    route: dict[str, Any] | None


def rewrites_path(raw: dict[str, Any]) -> bool:
    """Whether a function on behavior ``raw`` may rewrite the path (the static models do not run functions)."""
    return bool(items(raw.get("FunctionAssociations")) or items(raw.get("LambdaFunctionAssociations")))


def arrival(config: dict[str, Any], policies: dict[str, Any] | None, origin: ApiOrigin, path: str) -> Arrival | None:
    """Where ``GET path`` arrives at the API behind ``origin``, and the API Gateway model's answer; None when
    CloudFront answers the viewer itself or forwards nothing (the forwarding model already says why)."""
    request = {"method": "GET", "path": path, "headers": {"Host": VIEWER_HOST}}
    result = simulate(config, request, policies or None)
    sent = (result.origin_request or {}).get("path")
    if result.origin_status is not None or sent is None:
        return None
    route = api_route(origin.api, "GET", str(sent)) if origin.api is not None else None
    return Arrival(result.behavior, str(sent), route)


def _weighed(finding: dict[str, Any], config: dict[str, Any], policies: dict[str, Any] | None,
             origins: dict[str, ApiOrigin], samples: dict[str, str]) -> dict[str, Any]:
    pattern = finding["behavior"]
    raw = next((b for b in items(config.get("CacheBehaviors")) if b.get("PathPattern") == pattern), None)
    origin = origins.get(str((raw or {}).get("TargetOriginId")))
    if raw is None or origin is None or pattern not in samples or rewrites_path(raw):
        return finding
    path = samples[pattern]
    found = arrival(config, policies, origin, path)
    # The verdict must describe this behavior: an earlier, wider pattern serving the sample path decides nothing.
    if found is None or found.route is None or found.route["status"] is None or found.behavior != pattern:
        return finding
    said = f"{path} arrives at API Gateway as {found.sent}: {found.route['message']}"
    if found.route["status"] != 200:
        return {**finding, "effect": f"{finding['effect']} The API read with the source has no such route: {said}."}
    # How API Gateway reads the path (the first segment is the stage; the rest must match a resource or route):
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html
    return {**finding, "severity": "info", "fix": None, "doc_url": API_DOCS["rest-invoke"],
            "effect": f"The API read with the source has the route: {said}.",
            "why": "CloudFront forwards the whole viewer path after OriginPath, and the API's routes include the "
                   f"prefix of {pattern}, so nothing needs changing here."}


def weigh(findings: list[dict[str, Any]], behaviors: list[BehaviorCheck], config: dict[str, Any],
          policies: dict[str, Any] | None, origins: dict[str, ApiOrigin]) -> list[dict[str, Any]]:
    """``findings`` (``Finding.to_dict()`` rows) with each :data:`ROUTED_CODE` finding decided by the API's routes
    where the source describes the API: an info line when the behavior's sample path reaches a route, the warning
    with what the model found when it does not, and unchanged when the API or the path is not known."""
    samples = {b.path_pattern: b.sample_path for b in behaviors}
    return [_weighed(f, config, policies, origins, samples) if f.get("code") == ROUTED_CODE else f
            for f in findings]
