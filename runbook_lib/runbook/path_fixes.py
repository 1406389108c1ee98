"""The ``/api/*`` → API Gateway path problem (pitfall ``api-prefix-missing-route``) and four ways to fix it.

CloudFront forwards the full viewer path and prefixes OriginPath to it
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath),
so with OriginPath ``/prod`` the viewer's ``/api/items`` reaches a REST API as ``/prod/api/items``. An API
whose routes sit at the root (``/items``, ``/items/{proxy+}``) has no ``/api/items`` route, and API Gateway answers
403 ``{"message":"Missing Authentication Token"}``. :func:`build_broken` makes exactly that; each fix in
:data:`FIX_IDS` is applied with :func:`apply_fix` (undoing the others) and probed with :func:`probe_fix`.

Everything here belongs to one stack (default :data:`STACK_NAME`, never the main runbook's): the echo
function, API, bucket and distribution come from ``provision.build`` and carry the ``runbook:stack`` tag;
the custom domain name is tagged too, and the CloudFront Function is named after the stack.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import requests
from botocore.exceptions import ClientError

from runbook_lib.aws import provision
from runbook_lib.aws import teardown as stack_teardown
from runbook_lib.aws.calls import aws_call, aws_code, aws_failure
from runbook_lib.aws.provision import TAG_KEY
from runbook_lib.aws.target import Target
from runbook_lib.errors import ParameterError, ProvisioningError
from runbook_lib.runbook.probes import classify
from runbook_lib.runbook.progress import bar

__all__ = [
    "FIX_IDS", "FIXES", "STACK_NAME", "Fix", "FixOutcome", "Observed", "apply_fix", "build_broken",
    "comparison_table", "custom_domain_origin", "function_code", "probe_fix", "run_all", "show_symptom",
    "teardown",
]

FIX_IDS = ("path-fix-api-resource", "path-fix-origin-path", "path-fix-base-path-mapping",
           "path-fix-cloudfront-function")
PITFALL_ID = "api-prefix-missing-route"
#: Distinct from the main runbook's ``cf-apigw-runbook`` so the two never touch each other.
STACK_NAME = "cf-apigw-pathfix"
STAGE = provision.STAGE  # "prod"
#: The broken API: its routes sit at the root (/items, /items/{proxy+}), none under /api. Not a root
#: greedy /{proxy+}: that one matches /api/items too (a greedy path variable matches any depth, on AWS
#: as in MiniStack), so it would hide the problem rather than show it.
ROOT_ROUTES: tuple[str, ...] = ("/items", "/items/{proxy+}")
#: The stage that carries the /api prefix in path-fix-origin-path.
PREFIX_STAGE = "api"
BASE_PATH = "api"
MULTI_LEVEL_KEY = "api/v1"
VIEWER_PATH = "/api/items"
#: The deviation that keeps the CloudFront → custom domain hop from being shown locally.
CUSTOM_DOMAIN_DEVIATION = "custom-domain-origin-unreachable"
#: Stands in for a certificate locally (MiniStack checks none); on AWS pass a real ACM certificate ARN.
_LOCAL_CERTIFICATE = "arn:aws:acm:us-east-1:000000000000:certificate/runbook-local-placeholder"

#: cloudfront-js-2.0, viewer request: /api/items → /items, /api → /. Everything else is left alone.
_FUNCTION_CODE = """\
function handler(event) {
  var request = event.request;
  if (request.uri === '/api' || request.uri.startsWith('/api/')) {
    request.uri = request.uri.substring(4) || '/';
  }
  return request;
}
"""


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    what_changes: str
    cost: str
    caveats: str
    #: What the echo function should report as ``path`` and ``resource`` for viewer GET /api/items.
    expected_path: str
    expected_resource: str


FIXES: dict[str, Fix] = {f.id: f for f in (
    Fix("path-fix-api-resource", "Give the API an /api resource",
        "API Gateway: add /api and /api/{proxy+} (ANY → the function) and redeploy stage prod. CloudFront "
        "unchanged (OriginPath /prod).",
        "Free: resources and deployments cost nothing; requests are billed as before.",
        "Route paths carry the CloudFront prefix, so the API is tied to the /api/* behavior; direct callers of "
        "the execute-api URL must use /prod/api/... too.",
        "/api/items", "/api/{proxy+}"),
    Fix("path-fix-origin-path", "Let the stage carry the prefix",
        f"API Gateway: deploy the root routes to a stage named '{PREFIX_STAGE}'. CloudFront: the API origin "
        "gets an empty OriginPath, so /api/items → stage api, path /items.",
        "Free: a stage costs nothing.",
        "The stage name is now part of the public path: renaming or adding stages (dev, v2) changes URLs; "
        "every /api/* request needs a stage called 'api', and a per-stage setup (throttling, logging, WAF) "
        "lives on that stage.",
        "/items", "/items"),
    Fix("path-fix-base-path-mapping", "Custom domain with a base path mapping",
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
    Fix("path-fix-cloudfront-function", "CloudFront Function strips /api",
        "CloudFront: a cloudfront-js-2.0 function on viewer-request of /api/* rewrites /api/items → /items. "
        "API and OriginPath unchanged.",
        "$0.10 per million invocations (every /api/* request, cache hit or not).",
        "Runs on every viewer request; the rewrite is invisible in the API's logs (it sees /prod/items); "
        "functions cannot be tested against the API before publishing, and a behavior holds one "
        "viewer-request function, shared with any other logic you need there.",
        "/items", "/items"),
)}


@dataclass
class Observed:
    """One probe's answer: who served it and, when the echo function did, what API Gateway handed it."""

    via: str  # "cloudfront" or "api-gateway (Host: <domain>)"
    request: str
    status: int | None
    served_by: str
    api_path: str | None = None
    api_resource: str | None = None
    api_stage: str | None = None
    stage_path: str | None = None
    body: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    #: The expected echo answer (status 200, expected path) was observed, via ``observed[0].via``.
    verified: bool
    observed: list[Observed] = field(default_factory=list)
    deviation: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- where things are -------------------------------------------------------------------------------


@dataclass
class _Located:
    api_id: str
    distribution_id: str
    domain: str


def _locate(target: Target, stack_name: str) -> _Located:
    api_id = provision.find_api(target, stack_name)
    dist = provision.find_distribution(target, stack_name)
    if api_id is None or dist is None:
        raise ProvisioningError(
            f"Stack {stack_name!r} is not built on target {target.name!r} (API: {api_id or 'none'}, "
            f"distribution: {dist['Id'] if dist else 'none'}). Run path_fixes.build_broken(target, "
            f"{stack_name!r}) first."
        )
    return _Located(api_id, str(dist["Id"]), str(dist["DomainName"]))


def custom_domain(stack_name: str) -> str:
    """The custom domain name used locally (``.example.com`` is reserved, RFC 2606)."""
    return f"api.{stack_name}.example.com"


def function_name(stack_name: str) -> str:
    return f"{stack_name}-strip-api"


def function_code() -> str:
    return _FUNCTION_CODE


def custom_domain_origin(domain_name: str) -> dict[str, Any]:
    """The origin fields for an API Gateway custom domain: the same on both targets (HTTPS, empty OriginPath).

    Locally this origin is configured but cannot be dialed (``custom-domain-origin-unreachable``).
    """
    return {
        "DomainName": domain_name,
        "OriginPath": "",
        "CustomOriginConfig": {
            "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
        },
    }


def _check_fix(fix_id: str) -> Fix:
    if fix_id not in FIXES:
        raise ParameterError(f"fix_id={fix_id!r} is not known. Valid choices: {', '.join(FIX_IDS)}.")
    return FIXES[fix_id]


# --- build and symptom -------------------------------------------------------------------------------


def build_broken(target: Target, stack_name: str = STACK_NAME, progress: bool = True,
                 parent: str = "") -> provision.Stack:
    """The pitfall: an API with root routes only (``/items``, ``/items/{proxy+}``; stage prod) behind
    ``/api/*`` with OriginPath /prod.

    Re-running puts the stack back in this state, undoing whichever fix is applied.
    """
    stack = provision.build(target, stack_name, "recommended", progress=progress, api_routes=ROOT_ROUTES,
                            parent=parent)
    _reset(target, stack_name, _locate(target, stack_name), keep=None)
    return stack


def show_symptom(target: Target, stack_name: str = STACK_NAME) -> Observed:
    """Viewer GET /api/items through CloudFront: 403 Missing Authentication Token from API Gateway."""
    where = _locate(target, stack_name)
    return _via_cloudfront(target, where.domain, VIEWER_PATH)


# --- the fixes --------------------------------------------------------------------------------------


def apply_fix(target: Target, stack_name: str, fix_id: str, *, domain_name: str = "",
              certificate_arn: str = "") -> None:
    """Configure ``fix_id`` on the broken stack, undoing any other fix first.

    ``domain_name`` and ``certificate_arn`` are for ``path-fix-base-path-mapping`` on AWS: a domain you
    control and an ACM certificate for it in the API's region (locally both have stand-ins).
    """
    _check_fix(fix_id)
    domain, cert = _domain_settings(target, stack_name, fix_id, domain_name, certificate_arn)
    where = _locate(target, stack_name)
    _reset(target, stack_name, where, keep=fix_id, domain=domain)
    if fix_id == "path-fix-api-resource":
        _apply_api_resource(target, stack_name, where)
        _configure_distribution(target, where, target.api_origin(where.api_id, STAGE), None)
    elif fix_id == "path-fix-origin-path":
        _ensure_stage(target, where.api_id, PREFIX_STAGE)
        _configure_distribution(target, where, target.api_stage_origin(where.api_id), None)
    elif fix_id == "path-fix-base-path-mapping":
        _apply_base_path_mapping(target, stack_name, where, domain, cert)
        _configure_distribution(target, where, custom_domain_origin(domain), None)
    else:
        arn = _publish_function(target, stack_name)
        _configure_distribution(target, where, target.api_origin(where.api_id, STAGE), arn)


def _domain_settings(target: Target, stack_name: str, fix_id: str, domain_name: str,
                     certificate_arn: str) -> tuple[str, str]:
    if target.is_local:
        return domain_name or custom_domain(stack_name), certificate_arn or _LOCAL_CERTIFICATE
    if fix_id == "path-fix-base-path-mapping" and not (domain_name and certificate_arn):
        raise ParameterError(
            "path-fix-base-path-mapping on target='aws' needs domain_name= (a domain you control, e.g. "
            f"'api.example.org') and certificate_arn= (an issued ACM certificate for it in {target.region}). "
            "Request one with `aws acm request-certificate --domain-name <domain> --validation-method DNS "
            f"--region {target.region}`."
        )
    return domain_name or custom_domain(stack_name), certificate_arn


def _reset(target: Target, stack_name: str, where: _Located, keep: str | None, domain: str = "") -> None:
    """Undo every fix but ``keep``: /api resource, stage 'api', custom domain; the distribution is set by the caller
    (or here, when ``keep`` is None)."""
    apig = target.client("apigateway")
    if keep != "path-fix-api-resource":
        resources = aws_call("apigateway.GetResources", apig.get_resources, restApiId=where.api_id,
                          limit=500)["items"]
        # Deepest first: AWS deletes a resource's children with it, MiniStack keeps them as orphans
        # (deviation delete-resource-keeps-children); this order is right on both.
        doomed = sorted((r for r in resources if r["path"] == "/api" or r["path"].startswith("/api/")),
                        key=lambda r: -len(r["path"]))
        for res in doomed:
            aws_call("apigateway.DeleteResource", apig.delete_resource, restApiId=where.api_id,
                  resourceId=res["id"])
        if doomed:
            aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=where.api_id,
                  stageName=STAGE, description="path_fixes: /api resource removed")
    if keep != "path-fix-origin-path":
        stages = aws_call("apigateway.GetStages", apig.get_stages, restApiId=where.api_id)["item"]
        if any(s["stageName"] == PREFIX_STAGE for s in stages):
            aws_call("apigateway.DeleteStage", apig.delete_stage, restApiId=where.api_id, stageName=PREFIX_STAGE)
    if keep != "path-fix-base-path-mapping":
        _delete_domain(target, stack_name, domain or custom_domain(stack_name))
    if keep is None:
        _configure_distribution(target, where, target.api_origin(where.api_id, STAGE), None)


def _apply_api_resource(target: Target, stack_name: str, where: _Located) -> None:
    """What provision.build's echo API has: /api and /api/{proxy+}, ANY → the echo function."""
    account = provision.account_id(target)
    names = provision.resource_names(stack_name, account, target.region)
    fn = aws_call("lambda.GetFunction", target.client("lambda").get_function, FunctionName=names["function"])
    stack = provision.Stack(name=stack_name, target=target.name, region=target.region)
    provision.ensure_api(target, stack, names["api"], str(fn["Configuration"]["FunctionArn"]), account,
                          provision.API_ROUTES)


def _ensure_stage(target: Target, api_id: str, stage: str) -> None:
    apig = target.client("apigateway")
    stages = aws_call("apigateway.GetStages", apig.get_stages, restApiId=api_id)["item"]
    if not any(s["stageName"] == stage for s in stages):
        aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=api_id, stageName=stage,
              description="path_fixes: the stage carries the /api prefix")


def _apply_base_path_mapping(target: Target, stack_name: str, where: _Located, domain: str, cert: str) -> None:
    apig = target.client("apigateway")
    try:
        apig.get_domain_name(domainName=domain)
    except ClientError as err:
        if aws_code(err) != "NotFoundException":
            raise aws_failure(f"apigateway.GetDomainName {domain}", err) from err
        try:
            apig.create_domain_name(
                domainName=domain, regionalCertificateArn=cert, endpointConfiguration={"types": ["REGIONAL"]},
                securityPolicy="TLS_1_2", tags={TAG_KEY: stack_name})
        except ClientError as err2:
            raise aws_failure(f"apigateway.CreateDomainName {domain}", err2,
                        "The certificate must be an issued ACM certificate for this name in "
                        f"{target.region}, and the name must not be in use elsewhere.") from err2
    mappings = aws_call("apigateway.GetBasePathMappings", apig.get_base_path_mappings, domainName=domain).get(
        "items", [])
    if not any(m.get("basePath") == BASE_PATH for m in mappings):
        aws_call("apigateway.CreateBasePathMapping", apig.create_base_path_mapping, domainName=domain,
              basePath=BASE_PATH, restApiId=where.api_id, stage=STAGE)
    # Multi-level base paths exist only in the v2 API (on REGIONAL domains), for REST APIs too.
    v2 = target.client("apigatewayv2")
    existing = aws_call("apigatewayv2.GetApiMappings", v2.get_api_mappings, DomainName=domain).get("Items", [])
    if not any(m.get("ApiMappingKey") == MULTI_LEVEL_KEY for m in existing):
        aws_call("apigatewayv2.CreateApiMapping", v2.create_api_mapping, DomainName=domain, ApiId=where.api_id,
              Stage=STAGE, ApiMappingKey=MULTI_LEVEL_KEY)


def _delete_domain(target: Target, stack_name: str, domain: str) -> list[str]:
    """Delete the custom domain (its mappings go with it), only when it carries this stack's tag."""
    apig = target.client("apigateway")
    try:
        found = apig.get_domain_name(domainName=domain)
    except ClientError as err:
        if aws_code(err) == "NotFoundException":
            return []
        raise aws_failure(f"apigateway.GetDomainName {domain}", err) from err
    if (found.get("tags") or {}).get(TAG_KEY) != stack_name:
        return []  # same name, not ours: leave it
    aws_call("apigateway.DeleteDomainName", apig.delete_domain_name, domainName=domain)
    return [f"custom domain {domain}"]


def _publish_function(target: Target, stack_name: str) -> str:
    """Create (or update) and publish the strip-/api function; returns its ARN."""
    cf = target.client("cloudfront")
    name = function_name(stack_name)
    config = {"Comment": f"{TAG_KEY}={stack_name}: strip /api before the API origin",
              "Runtime": "cloudfront-js-2.0"}
    code = _FUNCTION_CODE.encode()
    try:
        cf.describe_function(Name=name, Stage="DEVELOPMENT")
        exists = True
    except ClientError as err:
        if aws_code(err) != "NoSuchFunctionExists":
            raise aws_failure(f"cloudfront.DescribeFunction {name}", err) from err
        exists = False
    if not exists:
        aws_call("cloudfront.CreateFunction", cf.create_function, Name=name, FunctionConfig=config,
              FunctionCode=code)
    else:
        etag = cf.describe_function(Name=name, Stage="DEVELOPMENT")["ETag"]
        aws_call("cloudfront.UpdateFunction", cf.update_function, Name=name, IfMatch=etag, FunctionConfig=config,
              FunctionCode=code)
    etag = aws_call("cloudfront.DescribeFunction", cf.describe_function, Name=name, Stage="DEVELOPMENT")["ETag"]
    published = aws_call("cloudfront.PublishFunction", cf.publish_function, Name=name, IfMatch=etag)
    return str(published["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])


def _configure_distribution(target: Target, where: _Located, origin: dict[str, Any],
                            function_arn: str | None) -> None:
    """Set the API origin's address and the /api/* viewer-request function; update only on a change (IfMatch)."""
    cf = target.client("cloudfront")
    current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=where.distribution_id)
    old = current["DistributionConfig"]
    origins = [{**o, **origin} if o["Id"] == "api" else o for o in old["Origins"]["Items"]]
    associations: dict[str, Any] = {"Quantity": 0}
    if function_arn:
        associations = {"Quantity": 1, "Items": [{"FunctionARN": function_arn, "EventType": "viewer-request"}]}
    behaviors = [{**b, "FunctionAssociations": associations} if b["PathPattern"] == "/api/*" else b
                 for b in old["CacheBehaviors"]["Items"]]
    new = {**old, "Origins": {**old["Origins"], "Items": origins},
           "CacheBehaviors": {**old["CacheBehaviors"], "Items": behaviors}}
    if provision.differs(old, new) or _associations(old) != _associations(new):
        aws_call("cloudfront.UpdateDistribution", cf.update_distribution, Id=where.distribution_id,
              IfMatch=current["ETag"], DistributionConfig=new)
        provision.wait_deployed(target, where.distribution_id, progress=False)


def _associations(config: dict[str, Any]) -> list[tuple[str, str]]:
    behavior = next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")
    items = (behavior.get("FunctionAssociations") or {}).get("Items") or []
    return sorted((str(i["EventType"]), str(i["FunctionARN"])) for i in items)


# --- probes -----------------------------------------------------------------------------------------


def _observed(via: str, request: str, response: requests.Response) -> Observed:
    served_by, echo = classify(response.status_code, dict(response.headers), response.content)
    out = Observed(via, request, response.status_code, served_by, body=response.text[:300])
    if echo is not None:
        out.api_path, out.api_resource = echo.get("path"), echo.get("resource")
        out.api_stage, out.stage_path = echo.get("stage"), echo.get("stage_path")
    return out


def _get(via: str, url: str, headers: dict[str, str], request: str) -> Observed:
    try:
        response = requests.get(url, headers=headers, allow_redirects=False, timeout=30)
    except requests.RequestException as err:
        return Observed(via, request, None, "unreachable", error=f"{type(err).__name__}: {err}")
    return _observed(via, request, response)


def _via_cloudfront(target: Target, domain: str, path: str) -> Observed:
    base, extra = target.viewer_endpoint(domain, "https")
    return _get("cloudfront", base + path, extra, f"GET https://{domain}{path}")


def _via_custom_domain_host(target: Target, domain: str, path: str) -> Observed:
    """Straight to the local API Gateway with ``Host: <custom domain>``: MiniStack resolves base path mappings
    by Host (the CloudFront hop it cannot make)."""
    assert target.endpoint_url
    return _get(f"api-gateway (Host: {domain})", target.endpoint_url + path, {"Host": domain},
                f"GET https://{domain}{path} (sent to the local API Gateway)")


def _matches(obs: Observed, fix: Fix) -> bool:
    return (obs.status == 200 and obs.served_by == "api" and obs.api_path == fix.expected_path
            and obs.api_resource == fix.expected_resource)


def probe_fix(target: Target, stack_name: str, fix_id: str, *, domain_name: str = "") -> FixOutcome:
    """Viewer GET /api/items through CloudFront with ``fix_id`` applied; what the echo function received."""
    fix = _check_fix(fix_id)
    where = _locate(target, stack_name)
    via_cf = _via_cloudfront(target, where.domain, VIEWER_PATH)
    outcome = FixOutcome(fix.id, fix.title, fix.what_changes, fix.cost, fix.caveats, target.name,
                         shown_locally=False, verified=False, observed=[via_cf])
    cf_ok = _matches(via_cf, fix)
    if fix_id == "path-fix-base-path-mapping" and target.is_local:
        domain = domain_name or custom_domain(stack_name)
        direct = [_via_custom_domain_host(target, domain, VIEWER_PATH),
                  _via_custom_domain_host(target, domain, f"/{MULTI_LEVEL_KEY}/items")]
        outcome.observed = [*direct, via_cf]
        outcome.deviation = CUSTOM_DOMAIN_DEVIATION
        outcome.shown_locally = cf_ok
        outcome.verified = all(_matches(o, fix) for o in direct)
        outcome.note = (
            f"{CUSTOM_DOMAIN_DEVIATION}: MiniStack's CloudFront cannot dial the custom domain origin "
            f"{domain} (no DNS for it; through CloudFront: {via_cf.status} from {via_cf.served_by}). "
            f"API Gateway side shown with Host: {domain}: /api/items → {direct[0].api_path} "
            f"({direct[0].status}), /{MULTI_LEVEL_KEY}/items → {direct[1].api_path} ({direct[1].status}). "
            "The AWS calls are checked against the service model only."
        )
        return outcome
    outcome.shown_locally = target.is_local and cf_ok
    outcome.verified = cf_ok
    if fix_id == "path-fix-cloudfront-function" and target.is_local and not cf_ok and not shutil.which("node"):
        outcome.note = ("NOT verified: the local AWS runs CloudFront Functions with Node.js, and there is no "
                        "`node` on PATH. Install Node.js (e.g. `apt-get install nodejs`) and run again.")
        return outcome
    outcome.note = (
        f"{'as expected' if cf_ok else 'NOT as expected'}: status {via_cf.status} from {via_cf.served_by}; "
        f"API path {via_cf.api_path!r} (expected {fix.expected_path!r}), resource {via_cf.api_resource!r} "
        f"(expected {fix.expected_resource!r}), "
        f"stage {via_cf.api_stage!r}."
    )
    return outcome


def run_all(target: Target, stack_name: str = STACK_NAME, progress: bool = True, *, domain_name: str = "",
            certificate_arn: str = "", parent: str = "") -> list[FixOutcome]:
    """Build the pitfall, then apply and probe each fix in turn; the stack is left with the last fix.

    On AWS the base-path-mapping fix needs a domain you control and its ACM certificate; without them it
    is reported as not run (not verified), and the others still run.
    """
    build_broken(target, stack_name, progress=False, parent=parent)
    outcomes = []
    for fix_id in bar(FIX_IDS, desc="path fixes", disable=not progress):
        if fix_id == "path-fix-base-path-mapping" and not target.is_local and not (domain_name and certificate_arn):
            fix = FIXES[fix_id]
            outcomes.append(FixOutcome(
                fix.id, fix.title, fix.what_changes, fix.cost, fix.caveats, target.name, shown_locally=False,
                verified=False, note="not run: pass domain_name and certificate_arn (a domain you control and "
                "an issued ACM certificate for it) to apply it on AWS"))
            continue
        apply_fix(target, stack_name, fix_id, domain_name=domain_name, certificate_arn=certificate_arn)
        outcomes.append(probe_fix(target, stack_name, fix_id, domain_name=domain_name))
    return outcomes


def comparison_table(outcomes: list[FixOutcome]) -> pd.DataFrame:
    """One row per fix: what changes, what it costs, caveats, what was observed, verified, note."""
    rows = []
    for o in outcomes:
        first = o.observed[0] if o.observed else None
        rows.append({
            "fix": o.id, "what changes": o.what_changes, "cost": o.cost, "caveats": o.caveats,
            "checked via": first.via if first else "",
            "status": first.status if first else None,
            "API path": first.api_path if first else None,
            "API resource": first.api_resource if first else None,
            "shown locally": o.shown_locally, "verified": o.verified,
            "deviation": o.deviation or "", "note": o.note,
        })
    return pd.DataFrame(rows)


def teardown(target: Target, stack_name: str = STACK_NAME, progress: bool = True,
             domain_name: str = "") -> list[str]:
    """Remove what this module made for ``stack_name`` (and nothing else); returns what it removed."""
    if stack_name == "cf-apigw-runbook":
        raise ParameterError("stack_name='cf-apigw-runbook' is the main runbook's stack; path_fixes never "
                             f"removes it. Pass the stack the path fixes were built in ({STACK_NAME!r}).")
    removed = _delete_domain(target, stack_name, domain_name or custom_domain(stack_name))
    removed += stack_teardown.remove(target, stack_name, progress=progress)
    cf = target.client("cloudfront")
    name = function_name(stack_name)
    try:
        etag = cf.describe_function(Name=name, Stage="DEVELOPMENT")["ETag"]
    except ClientError as err:
        if aws_code(err) != "NoSuchFunctionExists":
            raise aws_failure(f"cloudfront.DescribeFunction {name}", err) from err
    else:
        aws_call("cloudfront.DeleteFunction", cf.delete_function, Name=name, IfMatch=etag)
        removed.append(f"CloudFront function {name}")
    return removed
