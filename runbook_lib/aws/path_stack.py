"""The path-fix stack: an API whose routes sit at the root behind ``/api/*``, and the four fixes applied with boto3.

CloudFront forwards the full viewer path and prefixes OriginPath to it
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath),
so with OriginPath ``/prod`` the viewer's ``/api/items`` reaches a REST API as ``/prod/api/items``.
:func:`build_broken` makes an API with root routes only (the pitfall); :func:`apply_fix` configures one fix of
:data:`FIX_IDS`, undoing the others; :func:`teardown` removes all of it. What each fix is, costs and proves lives
in ``runbook_lib.runbook.path_fixes`` (the catalogue and the probes).

Everything belongs to one stack (by default ``names.paths_stack(names.DEFAULT_STACK)``, never the main
runbook's): the echo function, API, bucket and distribution come from ``provision.build`` and carry the
``runbook:stack`` tag; the custom domain name is tagged too, and the CloudFront Function is named after the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runbook_lib.aws import names, presets, provision, variants
from runbook_lib.aws.calls import aws_call, aws_failure, get_or_none
from runbook_lib.aws.provision import TAG_KEY
from runbook_lib.aws.stack import mark
from runbook_lib.aws.target import Target
from runbook_lib.aws.teardown import remove_all
from runbook_lib.errors import ParameterError, ProvisioningError

__all__ = [
    "BASE_PATH", "DEFAULT_STACK", "FIX_IDS", "MULTI_LEVEL_KEY", "PITFALL", "PREFIX_STAGE", "ROOT_ROUTES", "STAGE",
    "VARIANT_FIXES", "Located", "add_api_resource", "apply_fix", "build_broken", "check_fix_id", "custom_domain",
    "custom_domain_origin", "deploy", "function_code", "function_name", "locate", "locate_fix", "teardown",
]

#: The four ways to map ``/api/*`` onto an API that this module can configure.
FIX_IDS = ("path-fix-api-resource", "path-fix-origin-path", "path-fix-base-path-mapping",
           "path-fix-cloudfront-function")
#: The stack's own distribution in :func:`deploy`'s answer: the pitfall (and, once the API has /api, that fix).
PITFALL = "api-prefix-missing-route"
#: The fixes that change CloudFront: :func:`deploy` gives each its own distribution.
VARIANT_FIXES = ("path-fix-origin-path", "path-fix-base-path-mapping", "path-fix-cloudfront-function")
#: The path-fix stack of the default runbook stack (a child of it, so the two never touch each other).
DEFAULT_STACK = names.paths_stack(names.DEFAULT_STACK)
STAGE = provision.STAGE  # "prod"
#: The broken API: its routes sit at the root (/items, /items/{proxy+}), none under /api. Not a root
#: greedy /{proxy+}: that one matches /api/items too (a greedy path variable matches any depth, on AWS
#: as in MiniStack), so it would hide the problem rather than show it.
ROOT_ROUTES: tuple[str, ...] = ("/items", "/items/{proxy+}")
#: The stage that carries the /api prefix in path-fix-origin-path.
PREFIX_STAGE = "api"
BASE_PATH = "api"
MULTI_LEVEL_KEY = "api/v1"
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


@dataclass
class Located:
    """Where the path-fix stack's API and distribution are."""

    api_id: str
    distribution_id: str
    domain: str


def locate(target: Target, stack_name: str) -> Located:
    """The stack's API and distribution; ProvisioningError naming the build call when either is missing."""
    api_id = provision.find_api(target, stack_name)
    dist = provision.find_distribution(target, stack_name)
    if api_id is None or dist is None:
        raise ProvisioningError(
            f"Stack {stack_name!r} is not built on target {target.name!r} (API: {api_id or 'none'}, "
            f"distribution: {dist['Id'] if dist else 'none'}). Run path_stack.build_broken(target, "
            f"{stack_name!r}) first."
        )
    return Located(api_id, str(dist["Id"]), str(dist["DomainName"]))


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


def check_fix_id(fix_id: str) -> str:
    """``fix_id`` if it is one of :data:`FIX_IDS`, else ParameterError listing them."""
    if fix_id not in FIX_IDS:
        raise ParameterError(f"fix_id={fix_id!r} is not known. Valid choices: {', '.join(FIX_IDS)}.")
    return fix_id


# --- build, apply, undo ------------------------------------------------------------------------------


def build_broken(target: Target, stack_name: str = DEFAULT_STACK, progress: bool = True,
                 parent: str = "") -> provision.Stack:
    """The pitfall: an API with root routes only (``/items``, ``/items/{proxy+}``; stage prod) behind
    ``/api/*`` with OriginPath /prod.

    Re-running puts the stack back in this state, undoing whichever fix is applied. ``parent``: the main
    stack this one is a child of (tag ``runbook:parent``), so its teardown finds it.
    """
    stack = provision.build(target, stack_name, "recommended", progress=progress, api_routes=ROOT_ROUTES,
                            parent=parent)
    _reset(target, stack_name, locate(target, stack_name), keep=None)
    return stack


def apply_fix(target: Target, stack_name: str, fix_id: str, *, domain_name: str = "",
              certificate_arn: str = "") -> None:
    """Configure ``fix_id`` on the broken stack, undoing any other fix first.

    ``domain_name`` and ``certificate_arn`` are for ``path-fix-base-path-mapping`` on AWS: a domain you
    control and an ACM certificate for it in the API's region (locally both have stand-ins).
    """
    check_fix_id(fix_id)
    domain, cert = _domain_settings(target, stack_name, fix_id, domain_name, certificate_arn)
    where = locate(target, stack_name)
    _reset(target, stack_name, where, keep=fix_id, domain=domain)
    if fix_id == "path-fix-api-resource":
        _apply_api_resource(target, stack_name)
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


def deploy(target: Target, stack_name: str = DEFAULT_STACK, *, domain_name: str = "", certificate_arn: str = "",
           parent: str = "") -> dict[str, str]:
    """The pitfall and every fix that changes CloudFront, side by side, without waiting for CloudFront: returns the
    distributions to wait for (with others, in one deployment round: ``distribution.wait_all_deployed``), as
    :data:`PITFALL` or fix ID → distribution ID.

    - The stack's own distribution shows the pitfall: an API with root routes only (its /api resource removed,
      if an earlier run added it), OriginPath /prod, no function. ``path-fix-api-resource`` changes API Gateway
      only (:func:`add_api_resource`, no propagation wait), so it is proven on this same distribution afterwards.
    - Each fix of :data:`VARIANT_FIXES` gets its own distribution (a variant of the stack, :mod:`variants`), with
      the API Gateway side it needs: stage ``api``, the custom domain and its mappings, the published function.
      On AWS the base-path-mapping fix needs ``domain_name`` and ``certificate_arn``; without them it is left out.

    Unlike :func:`apply_fix` (one distribution, one fix at a time), no fix undoes another here.
    """
    stack = provision.build(target, stack_name, "recommended", progress=False, api_routes=ROOT_ROUTES,
                            parent=parent, wait=False)
    assert stack.api_id and stack.distribution_id
    where = locate(target, stack_name)
    _remove_api_resource(target, where.api_id)
    _configure_distribution(target, where, target.api_origin(where.api_id, STAGE), None, wait=False)
    base = provision.distribution_config(target, stack, presets.get("recommended"), "", "")
    wanted: dict[str, dict[str, Any]] = {}
    _ensure_stage(target, where.api_id, PREFIX_STAGE)
    wanted["path-fix-origin-path"] = _with_api(base, target.api_stage_origin(where.api_id), None)
    if target.is_local or (domain_name and certificate_arn):
        domain, cert = _domain_settings(target, stack_name, "path-fix-base-path-mapping", domain_name,
                                        certificate_arn)
        _apply_base_path_mapping(target, stack_name, where, domain, cert)
        wanted["path-fix-base-path-mapping"] = _with_api(base, custom_domain_origin(domain), None)
    arn = _publish_function(target, stack_name)
    wanted["path-fix-cloudfront-function"] = _with_api(base, target.api_origin(where.api_id, STAGE), arn)
    found = variants.find_all(target, stack_name)
    return {PITFALL: where.distribution_id} | {
        fix_id: str(variants.put(target, stack_name, fix_id, config, parent, found.get(fix_id))["Id"])
        for fix_id, config in wanted.items()}


def locate_fix(target: Target, stack_name: str, fix_id: str) -> Located:
    """Where ``fix_id`` can be probed: its own distribution when :func:`deploy` made one, else the stack's (the
    api-resource fix, and any fix :func:`apply_fix` configured there)."""
    where = locate(target, stack_name)
    found = variants.find_all(target, stack_name).get(check_fix_id(fix_id)) if fix_id in VARIANT_FIXES else None
    return Located(where.api_id, str(found["Id"]), str(found["DomainName"])) if found else where


def add_api_resource(target: Target, stack_name: str) -> None:
    """path-fix-api-resource: give the stack's API /api and /api/{proxy+} and redeploy stage prod (API Gateway
    only: nothing for CloudFront to propagate)."""
    _apply_api_resource(target, stack_name)


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


def _reset(target: Target, stack_name: str, where: Located, keep: str | None, domain: str = "") -> None:
    """Undo every fix but ``keep``: /api resource, stage 'api', custom domain; the distribution is set by the caller
    (or here, when ``keep`` is None)."""
    apig = target.client("apigateway")
    if keep != "path-fix-api-resource":
        _remove_api_resource(target, where.api_id)
    if keep != "path-fix-origin-path":
        stages = aws_call("apigateway.GetStages", apig.get_stages, restApiId=where.api_id)["item"]
        if any(s["stageName"] == PREFIX_STAGE for s in stages):
            aws_call("apigateway.DeleteStage", apig.delete_stage, restApiId=where.api_id, stageName=PREFIX_STAGE)
    if keep != "path-fix-base-path-mapping":
        _delete_domain(target, stack_name, domain or custom_domain(stack_name))
    if keep is None:
        _configure_distribution(target, where, target.api_origin(where.api_id, STAGE), None)


def _remove_api_resource(target: Target, api_id: str) -> None:
    apig = target.client("apigateway")
    resources = aws_call("apigateway.GetResources", apig.get_resources, restApiId=api_id, limit=500)["items"]
    # Deepest first: AWS deletes a resource's children with it, MiniStack keeps them as orphans
    # (deviation delete-resource-keeps-children); this order is right on both.
    doomed = sorted((r for r in resources if r["path"] == "/api" or r["path"].startswith("/api/")),
                    key=lambda r: -len(r["path"]))
    for res in doomed:
        aws_call("apigateway.DeleteResource", apig.delete_resource, restApiId=api_id, resourceId=res["id"])
    if doomed:
        aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=api_id,
                 stageName=STAGE, description="path_stack: /api resource removed")


def _apply_api_resource(target: Target, stack_name: str) -> None:
    """What provision.build's echo API has: /api and /api/{proxy+}, ANY → the echo function."""
    account = provision.account_id(target)
    resource_names = provision.resource_names(stack_name, account, target.region)
    fn = aws_call("lambda.GetFunction", target.client("lambda").get_function,
                  FunctionName=resource_names["function"])
    stack = provision.Stack(name=stack_name, target=target.name, region=target.region)
    provision.ensure_api(target, stack, resource_names["api"], str(fn["Configuration"]["FunctionArn"]), account,
                         provision.API_ROUTES)


def _ensure_stage(target: Target, api_id: str, stage: str) -> None:
    apig = target.client("apigateway")
    stages = aws_call("apigateway.GetStages", apig.get_stages, restApiId=api_id)["item"]
    if not any(s["stageName"] == stage for s in stages):
        aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=api_id, stageName=stage,
                 description="path_stack: the stage carries the /api prefix")


def _apply_base_path_mapping(target: Target, stack_name: str, where: Located, domain: str, cert: str) -> None:
    apig = target.client("apigateway")
    if get_or_none(f"apigateway.GetDomainName {domain}", apig.get_domain_name, domainName=domain) is None:
        fix = (f"The certificate must be an issued ACM certificate for this name in {target.region}, and the "
               "name must not be in use elsewhere.")
        try:
            apig.create_domain_name(
                domainName=domain, regionalCertificateArn=cert, endpointConfiguration={"types": ["REGIONAL"]},
                securityPolicy="TLS_1_2", tags={TAG_KEY: stack_name})
        except ClientError as err:
            raise aws_failure(f"apigateway.CreateDomainName {domain}", err, fix) from err
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
    found = get_or_none(f"apigateway.GetDomainName {domain}", apig.get_domain_name, domainName=domain)
    if found is None:
        return []
    if (found.get("tags") or {}).get(TAG_KEY) != stack_name:
        return []  # same name, not ours: leave it
    aws_call("apigateway.DeleteDomainName", apig.delete_domain_name, domainName=domain)
    return [f"custom domain {domain}"]


def _tagged_domains(target: Target, stack_name: str) -> list[str]:
    """Every custom domain name tagged for ``stack_name``: also one made for a ``domain_name`` that teardown was
    not told about (09_teardown has no such parameter)."""
    apig = target.client("apigateway")
    return [d["domainName"] for page in apig.get_paginator("get_domain_names").paginate()
            for d in page.get("items", []) if (d.get("tags") or {}).get(TAG_KEY) == stack_name]


def _function_etag(target: Target, name: str) -> str | None:
    """The DEVELOPMENT ETag of CloudFront Function ``name``, or None when there is no such function."""
    found = get_or_none(f"cloudfront.DescribeFunction {name}", target.client("cloudfront").describe_function,
                        Name=name, Stage="DEVELOPMENT")
    return None if found is None else str(found["ETag"])


def _publish_function(target: Target, stack_name: str) -> str:
    """Create (or update) and publish the strip-/api function; returns its ARN."""
    cf = target.client("cloudfront")
    name = function_name(stack_name)
    config = {"Comment": f"{mark(stack_name)}: strip /api before the API origin",
              "Runtime": "cloudfront-js-2.0"}
    code = _FUNCTION_CODE.encode()
    etag = _function_etag(target, name)
    if etag is None:
        aws_call("cloudfront.CreateFunction", cf.create_function, Name=name, FunctionConfig=config,
                 FunctionCode=code)
    else:
        aws_call("cloudfront.UpdateFunction", cf.update_function, Name=name, IfMatch=etag, FunctionConfig=config,
                 FunctionCode=code)
    etag = aws_call("cloudfront.DescribeFunction", cf.describe_function, Name=name, Stage="DEVELOPMENT")["ETag"]
    published = aws_call("cloudfront.PublishFunction", cf.publish_function, Name=name, IfMatch=etag)
    return str(published["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])


def _with_api(config: dict[str, Any], origin: dict[str, Any], function_arn: str | None) -> dict[str, Any]:
    """``config`` with the API origin's fields set to ``origin`` and the /api/* viewer-request function (or none)."""
    origins = [{**o, **origin} if o["Id"] == "api" else o for o in config["Origins"]["Items"]]
    associations: dict[str, Any] = {"Quantity": 0}
    if function_arn:
        associations = {"Quantity": 1, "Items": [{"FunctionARN": function_arn, "EventType": "viewer-request"}]}
    behaviors = [{**b, "FunctionAssociations": associations} if b["PathPattern"] == "/api/*" else b
                 for b in config["CacheBehaviors"]["Items"]]
    return {**config, "Origins": {**config["Origins"], "Items": origins},
            "CacheBehaviors": {**config["CacheBehaviors"], "Items": behaviors}}


def _configure_distribution(target: Target, where: Located, origin: dict[str, Any],
                            function_arn: str | None, wait: bool = True) -> None:
    """Set the API origin's address and the /api/* viewer-request function; update only on a change (IfMatch),
    then wait for it unless ``wait`` is False (the caller waits for it with others)."""
    cf = target.client("cloudfront")
    current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=where.distribution_id)
    old = current["DistributionConfig"]
    new = _with_api(old, origin, function_arn)
    if provision.differs(old, new) or _associations(old) != _associations(new):
        aws_call("cloudfront.UpdateDistribution", cf.update_distribution, Id=where.distribution_id,
                 IfMatch=current["ETag"], DistributionConfig=new)
        if wait:
            provision.wait_deployed(target, where.distribution_id, progress=False)


def _associations(config: dict[str, Any]) -> list[tuple[str, str]]:
    behavior = next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")
    items = (behavior.get("FunctionAssociations") or {}).get("Items") or []
    return sorted((str(i["EventType"]), str(i["FunctionARN"])) for i in items)


def teardown(target: Target, stack_name: str = DEFAULT_STACK, progress: bool = True,
             domain_name: str = "", others: Sequence[str] = ()) -> list[str]:
    """Remove what this module made for ``stack_name`` (and nothing else); returns what it removed.

    ``others``: more stacks to remove together with it (``teardown.remove_all``: every distribution of them all is
    disabled, then one wait, then deleted), e.g. the main stack and the lab's.
    """
    if stack_name == names.DEFAULT_STACK:
        raise ParameterError(f"stack_name={names.DEFAULT_STACK!r} is the main runbook's stack; path_stack never "
                             f"removes it. Pass the stack the path fixes were built in ({DEFAULT_STACK!r}).")
    removed: list[str] = []
    for domain in dict.fromkeys([domain_name or custom_domain(stack_name), *_tagged_domains(target, stack_name)]):
        removed += _delete_domain(target, stack_name, domain)
    removed += remove_all(target, [*others, stack_name], progress=progress)
    name = function_name(stack_name)
    etag = _function_etag(target, name)
    if etag is not None:  # after the distributions: a function in use cannot be deleted
        cf = target.client("cloudfront")
        aws_call("cloudfront.DeleteFunction", cf.delete_function, Name=name, IfMatch=etag)
        removed.append(f"CloudFront function {name}")
    return removed
