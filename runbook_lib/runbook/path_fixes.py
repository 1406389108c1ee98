"""The ``/api/*`` → API Gateway path problem (pitfall ``api-prefix-missing-route``): the four fixes and their proof.

CloudFront forwards the full viewer path and prefixes OriginPath to it
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath),
so with OriginPath ``/prod`` the viewer's ``/api/items`` reaches a REST API as ``/prod/api/items``. An API
whose routes sit at the root (``/items``, ``/items/{proxy+}``) has no ``/api/items`` route, and API Gateway answers
403 ``{"message":"Missing Authentication Token"}``.

This module is the catalogue (:data:`FIXES`: what each fix changes, costs and risks) and the proof: viewer
requests sent with :mod:`runbook_lib.runbook.probes` (:func:`show_symptom`, :func:`probe_fix`). Building the
stack and applying a fix is AWS work: :mod:`runbook_lib.aws.path_stack`.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from runbook_lib.aws import path_stack
from runbook_lib.aws.distribution import wait_all_deployed
from runbook_lib.aws.path_stack import BASE_PATH, FIX_IDS, MULTI_LEVEL_KEY, PREFIX_STAGE
from runbook_lib.aws.target import Target
from runbook_lib.runbook import probes
from runbook_lib.runbook.probes import Observation, Probe
from runbook_lib.runbook.progress import bar

__all__ = [
    "CUSTOM_DOMAIN_DEVIATION", "FIXES", "FIX_IDS", "VIEWER_PATH", "FixOutcome", "PathFix", "comparison_table",
    "evidence", "probe_all", "probe_fix", "run_all", "show_symptom",
]

VIEWER_PATH = "/api/items"
#: The deviation that keeps the CloudFront → custom domain hop from being shown locally.
CUSTOM_DOMAIN_DEVIATION = "custom-domain-origin-unreachable"
#: What a path-fix probe reads from the echo function's answer.
_CHECKS = ("status", "served_by", "api.path", "api.resource", "api.stage", "api.stage_path")
#: The ``what`` of a probe sent through CloudFront (the others name the Host they were sent with).
_VIA_CLOUDFRONT = "cloudfront"


@dataclass(frozen=True)
class PathFix:
    id: str
    title: str
    what_changes: str
    cost: str
    caveats: str
    #: What the echo function should report as ``path`` and ``resource`` for viewer GET /api/items.
    expected_path: str
    expected_resource: str


FIXES: dict[str, PathFix] = {f.id: f for f in (
    PathFix("path-fix-api-resource", "Give the API an /api resource",
        "API Gateway: add /api and /api/{proxy+} (ANY → the function) and redeploy stage prod. CloudFront "
        "unchanged (OriginPath /prod).",
        "Free: resources and deployments cost nothing; requests are billed as before.",
        "Route paths carry the CloudFront prefix, so the API is tied to the /api/* behavior; direct callers of "
        "the execute-api URL must use /prod/api/... too.",
        "/api/items", "/api/{proxy+}"),
    PathFix("path-fix-origin-path", "Let the stage carry the prefix",
        f"API Gateway: deploy the root routes to a stage named '{PREFIX_STAGE}'. CloudFront: the API origin "
        "gets an empty OriginPath, so /api/items → stage api, path /items.",
        "Free: a stage costs nothing.",
        "The stage name is now part of the public path: renaming or adding stages (dev, v2) changes URLs; "
        "every /api/* request needs a stage called 'api', and a per-stage setup (throttling, logging, WAF) "
        "lives on that stage.",
        "/items", "/items"),
    PathFix("path-fix-base-path-mapping", "Custom domain with a base path mapping",
        f"API Gateway: a REGIONAL custom domain name, base path mapping '{BASE_PATH}' → stage prod (and "
        f"'{MULTI_LEVEL_KEY}' through apigatewayv2 CreateApiMapping). CloudFront: the API origin is the custom "
        "domain, OriginPath empty.",
        "Free in API Gateway; needs an ACM certificate (free for public certs) and a DNS record "
        "(Route 53: $0.50 per hosted zone a month, alias queries free).",
        "Needs a domain you control, an ACM certificate in the API's region and a DNS record pointing at the "
        "domain's regionalDomainName before CloudFront can reach it; multi-level base paths (api/v1) only "
        "through apigatewayv2 on REGIONAL domains. Not reachable through MiniStack's CloudFront "
        f"({CUSTOM_DOMAIN_DEVIATION}).",
        "/items", "/items"),
    PathFix("path-fix-cloudfront-function", "CloudFront Function strips /api",
        "CloudFront: a cloudfront-js-2.0 function on viewer-request of /api/* rewrites /api/items → /items. "
        "API and OriginPath unchanged.",
        "$0.10 per million invocations (every /api/* request, cache hit or not).",
        "Runs on every viewer request; the rewrite is invisible in the API's logs (it sees /prod/items); "
        "functions cannot be tested against the API before publishing, and a behavior holds one "
        "viewer-request function, shared with any other logic you need there.",
        "/items", "/items"),
)}


@dataclass
class FixOutcome:
    id: str
    title: str
    what_changes: str
    cost: str
    caveats: str
    target: str
    #: The whole path viewer → CloudFront → API Gateway was observed on the local emulator.
    shown_locally: bool
    #: The expected echo answer (status 200, expected path) was observed, via ``observed[0]``.
    verified: bool
    observed: list[Observation] = field(default_factory=list)
    deviation: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _outcome(fix: PathFix, target: Target, **fields: Any) -> FixOutcome:
    return FixOutcome(fix.id, fix.title, fix.what_changes, fix.cost, fix.caveats, target.name, **fields)


# --- probes -----------------------------------------------------------------------------------------


def _via_cloudfront(target: Target, domain: str, path: str) -> Observation:
    return probes.send(target, domain, Probe(f"GET {path}", _VIA_CLOUDFRONT, "GET", path, checks=_CHECKS))


def _via_custom_domain_host(target: Target, domain: str, path: str) -> Observation:
    """Straight to the local API Gateway with ``Host: <custom domain>``: MiniStack resolves base path mappings
    by Host (the CloudFront hop it cannot make)."""
    assert target.endpoint_url
    probe = Probe(f"GET {path}", f"api-gateway (Host: {domain})", "GET", path, checks=_CHECKS)
    return probes.send_to(target.endpoint_url, {"Host": domain}, probe)


def evidence(label: str, obs: Observation) -> dict[str, Any]:
    """One path probe as a table row: who answered, what path and resource the API received."""
    echoed = obs.served_by == "api"
    return {"configuration": label, "request": f"{obs.probe.id} ({obs.probe.what})", "status": obs.status,
            "answered by": obs.served_by,
            "API received path": obs.get("api.path") if echoed else "",
            "API resource": obs.get("api.resource") if echoed else "",
            "body (not from the echo)": "" if echoed else obs.values.get("response.body", obs.error or "")}


def show_symptom(target: Target, stack_name: str = path_stack.DEFAULT_STACK) -> Observation:
    """Viewer GET /api/items through CloudFront: 403 Missing Authentication Token from API Gateway."""
    where = path_stack.locate(target, stack_name)
    return _via_cloudfront(target, where.domain, VIEWER_PATH)


def _matches(obs: Observation, fix: PathFix) -> bool:
    return (obs.status == 200 and obs.served_by == "api" and obs.get("api.path") == fix.expected_path
            and obs.get("api.resource") == fix.expected_resource)


def _probe_base_path_mapping(target: Target, outcome: FixOutcome, fix: PathFix, domain: str) -> FixOutcome:
    via_cf = outcome.observed[0]
    direct = [_via_custom_domain_host(target, domain, VIEWER_PATH),
              _via_custom_domain_host(target, domain, f"/{MULTI_LEVEL_KEY}/items")]
    outcome.observed = [*direct, via_cf]
    outcome.deviation = CUSTOM_DOMAIN_DEVIATION
    outcome.shown_locally = _matches(via_cf, fix)
    outcome.verified = all(_matches(o, fix) for o in direct)
    outcome.note = (
        f"{CUSTOM_DOMAIN_DEVIATION}: MiniStack's CloudFront cannot dial the custom domain origin "
        f"{domain} (no DNS for it; through CloudFront: {via_cf.status} from {via_cf.served_by}). "
        f"API Gateway side shown with Host: {domain}: /api/items → {direct[0].get('api.path')} "
        f"({direct[0].status}), /{MULTI_LEVEL_KEY}/items → {direct[1].get('api.path')} ({direct[1].status}). "
        "The AWS calls are checked against the service model only."
    )
    return outcome


def probe_fix(target: Target, stack_name: str, fix_id: str, *, domain_name: str = "") -> FixOutcome:
    """Viewer GET /api/items through CloudFront with ``fix_id`` applied; what the echo function received."""
    fix = FIXES[path_stack.check_fix_id(fix_id)]
    where = path_stack.locate_fix(target, stack_name, fix_id)
    via_cf = _via_cloudfront(target, where.domain, VIEWER_PATH)
    outcome = _outcome(fix, target, shown_locally=False, verified=False, observed=[via_cf])
    if fix_id == "path-fix-base-path-mapping" and target.is_local:
        return _probe_base_path_mapping(target, outcome, fix, domain_name or path_stack.custom_domain(stack_name))
    cf_ok = _matches(via_cf, fix)
    outcome.shown_locally = target.is_local and cf_ok
    outcome.verified = cf_ok
    if fix_id == "path-fix-cloudfront-function" and target.is_local and not cf_ok and not shutil.which("node"):
        outcome.note = ("NOT verified: the local AWS runs CloudFront Functions with Node.js, and there is no "
                        "`node` on PATH. Install Node.js (e.g. `apt-get install nodejs`) and run again.")
        return outcome
    outcome.note = (
        f"{'as expected' if cf_ok else 'NOT as expected'}: status {via_cf.status} from {via_cf.served_by}; "
        f"API path {via_cf.get('api.path')!r} (expected {fix.expected_path!r}), "
        f"resource {via_cf.get('api.resource')!r} (expected {fix.expected_resource!r}), "
        f"stage {via_cf.get('api.stage')!r}."
    )
    return outcome


def run_all(target: Target, stack_name: str = path_stack.DEFAULT_STACK, progress: bool = True, *,
            domain_name: str = "", certificate_arn: str = "", parent: str = "") -> list[FixOutcome]:
    """Deploy the pitfall and every fix side by side (``path_stack.deploy``), wait for them all at once (one
    deployment round), then prove each fix (:func:`probe_all`)."""
    ids = path_stack.deploy(target, stack_name, domain_name=domain_name, certificate_arn=certificate_arn,
                            parent=parent)
    wait_all_deployed(target, list(ids.values()), progress=progress)
    return probe_all(target, stack_name, progress, domain_name=domain_name, certificate_arn=certificate_arn)


def probe_all(target: Target, stack_name: str = path_stack.DEFAULT_STACK, progress: bool = True, *,
              domain_name: str = "", certificate_arn: str = "") -> list[FixOutcome]:
    """Prove each fix on the distributions ``path_stack.deploy`` made: the /api resource is added first (API
    Gateway only: nothing to propagate), then each fix is probed through its own distribution.

    On AWS the base-path-mapping fix needs a domain you control and its ACM certificate; without them it
    is reported as not run (not verified), and the others still run.
    """
    path_stack.add_api_resource(target, stack_name)
    outcomes = []
    for fix_id in bar(FIX_IDS, desc="path fixes", disable=not progress):
        if fix_id == "path-fix-base-path-mapping" and not target.is_local and not (domain_name and certificate_arn):
            outcomes.append(_outcome(
                FIXES[fix_id], target, shown_locally=False, verified=False,
                note="not run: pass domain_name and certificate_arn (a domain you control and "
                "an issued ACM certificate for it) to apply it on AWS"))
            continue
        outcomes.append(probe_fix(target, stack_name, fix_id, domain_name=domain_name))
    return outcomes


def comparison_table(outcomes: list[FixOutcome]) -> pd.DataFrame:
    """One row per fix: what changes, what it costs, caveats, what was observed, verified, note."""
    rows = []
    for o in outcomes:
        first = o.observed[0] if o.observed else None
        echoed = first is not None and first.served_by == "api"
        rows.append({
            "fix": o.id, "what changes": o.what_changes, "cost": o.cost, "caveats": o.caveats,
            "checked via": first.probe.what if first else "",
            "status": first.status if first else None,
            "API path": first.get("api.path") if first and echoed else None,
            "API resource": first.get("api.resource") if first and echoed else None,
            "shown locally": o.shown_locally, "verified": o.verified,
            "deviation": o.deviation or "", "note": o.note,
        })
    return pd.DataFrame(rows)
