"""path_fixes (catalogue and probes) and aws/path_stack (provisioning): the /api/* path pitfall and its four fixes.

Locally everything runs against the real MiniStack (viewer requests through its CloudFront data plane);
on target="aws" every request each fix sends is checked against botocore's service model (Stubber,
tests/stubbing.py), since only AWS can answer them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from runbook_lib.aws import names, path_stack, presets, provision, teardown
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import Target, connect
from runbook_lib.errors import ParameterError, ProvisioningError
from runbook_lib.runbook import path_fixes

try:
    from tests import stubbing as aws_stubs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]

LOCAL_STACK = "rb-pathfix-test"
OTHER_STACK = "rb-pathfix-other"  # stands in for the main runbook's stack


# --- local: the real MiniStack ------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(local_aws: LocalAWS) -> Iterator[Target]:
    target = connect("local", endpoint_url=local_aws.endpoint_url)
    path_stack.build_broken(target, LOCAL_STACK, progress=False)
    yield target
    path_stack.teardown(target, LOCAL_STACK, progress=False)


def test_symptom_is_403_missing_authentication_token_through_cloudfront(built: Target) -> None:
    # Re-running build_broken puts the pitfall back whatever fix a previous test left applied.
    path_stack.build_broken(built, LOCAL_STACK, progress=False)
    seen = path_fixes.show_symptom(built, LOCAL_STACK)
    assert seen.probe.what == "cloudfront"
    assert (seen.status, seen.served_by) == (403, "api-gateway")
    assert '{"message":"Missing Authentication Token"}' in seen.get("response.body")


@pytest.mark.parametrize("fix_id, path, resource, stage", [
    ("path-fix-api-resource", "/api/items", "/api/{proxy+}", "prod"),
    ("path-fix-origin-path", "/items", "/items", "api"),
    ("path-fix-cloudfront-function", "/items", "/items", "prod"),
])
def test_fix_through_cloudfront(built: Target, fix_id: str, path: str, resource: str, stage: str) -> None:
    path_stack.apply_fix(built, LOCAL_STACK, fix_id)
    outcome = path_fixes.probe_fix(built, LOCAL_STACK, fix_id)
    [seen] = outcome.observed
    assert (seen.probe.what, seen.status, seen.served_by) == ("cloudfront", 200, "api")
    assert (seen.get("api.path"), seen.get("api.resource"), seen.get("api.stage")) == (path, resource, stage)
    assert outcome.verified and outcome.shown_locally and outcome.deviation is None


def test_base_path_mapping_shown_on_the_api_gateway_side(built: Target) -> None:
    path_stack.apply_fix(built, LOCAL_STACK, "path-fix-base-path-mapping")
    outcome = path_fixes.probe_fix(built, LOCAL_STACK, "path-fix-base-path-mapping")
    by_host, multi_level, via_cf = outcome.observed
    domain = path_stack.custom_domain(LOCAL_STACK)
    for seen in (by_host, multi_level):
        assert seen.probe.what == f"api-gateway (Host: {domain})"
        assert (seen.status, seen.served_by) == (200, "api")
        assert (seen.get("api.path"), seen.get("api.stage")) == ("/items", "prod")
    assert "/api/v1/items" in multi_level.probe.path
    # The CloudFront hop cannot be made locally: said so, never counted as shown.
    assert via_cf.probe.what == "cloudfront" and via_cf.status == 502 and via_cf.served_by == "cloudfront"
    assert outcome.verified and not outcome.shown_locally
    assert outcome.deviation == "custom-domain-origin-unreachable" and outcome.deviation in outcome.note
    config = built.client("cloudfront").get_distribution_config(
        Id=provision.find(built, LOCAL_STACK).distribution_id)["DistributionConfig"]  # type: ignore[union-attr]
    api_origin = next(o for o in config["Origins"]["Items"] if o["Id"] == "api")
    assert (api_origin["DomainName"], api_origin["OriginPath"]) == (domain, "")


def test_apply_fix_undoes_the_previous_one(built: Target) -> None:
    path_stack.apply_fix(built, LOCAL_STACK, "path-fix-cloudfront-function")
    path_stack.apply_fix(built, LOCAL_STACK, "path-fix-api-resource")
    seen = path_fixes.probe_fix(built, LOCAL_STACK, "path-fix-api-resource").observed[0]
    # The function is off again (else the API would see /items), and nothing else lingers.
    assert (seen.status, seen.get("api.path")) == (200, "/api/items")
    config = built.client("cloudfront").get_distribution_config(
        Id=provision.find(built, LOCAL_STACK).distribution_id)["DistributionConfig"]  # type: ignore[union-attr]
    behavior = next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")
    assert behavior["FunctionAssociations"]["Quantity"] == 0
    apig = built.client("apigateway")
    assert apig.get_domain_names().get("items", []) == []


def test_run_all_and_the_table(built: Target) -> None:
    outcomes = path_fixes.run_all(built, LOCAL_STACK, progress=False)
    assert [o.id for o in outcomes] == list(path_fixes.FIX_IDS)
    table = path_fixes.comparison_table(outcomes)
    assert list(table["fix"]) == list(path_fixes.FIX_IDS)
    assert table["verified"].all()
    assert list(table["shown locally"]) == [True, True, False, True]
    assert {"what changes", "cost", "caveats", "note"} <= set(table.columns)
    assert table["cost"].str.len().min() > 10


def test_unknown_fix_is_refused(built: Target) -> None:
    with pytest.raises(ParameterError, match=r"fix_id='nope' is not known\. Valid choices: path-fix-api"):
        path_stack.apply_fix(built, LOCAL_STACK, "nope")


def test_teardown_removes_everything_and_leaves_other_stacks(local_aws: LocalAWS) -> None:
    target = connect("local", endpoint_url=local_aws.endpoint_url)
    stack = "rb-pathfix-gone"
    other = provision.build(target, OTHER_STACK, "recommended", progress=False)
    try:
        path_stack.build_broken(target, stack, progress=False)
        path_stack.apply_fix(target, stack, "path-fix-base-path-mapping")
        path_stack.apply_fix(target, stack, "path-fix-cloudfront-function")  # the domain goes; function stays
        # Both exist now; the domain is one teardown is not told about (as on AWS with a domain_name of yours).
        path_stack.apply_fix(target, stack, "path-fix-base-path-mapping", domain_name="api.mine.example.com")
        removed = path_stack.teardown(target, stack, progress=False)
        assert "custom domain api.mine.example.com" in removed
        assert any(r.startswith("CloudFront function") for r in removed)
        assert provision.find(target, stack) is None
        cf, apig = target.client("cloudfront"), target.client("apigateway")
        names = [f["Name"] for f in cf.list_functions()["FunctionList"].get("Items", []) or []]
        assert not [n for n in names if n.startswith(stack)]
        assert not [d for d in apig.get_domain_names().get("items", []) if stack in d["domainName"]]
        lam_names = [f["FunctionName"] for f in target.client("lambda").list_functions()["Functions"]]
        assert not [n for n in lam_names if n.startswith(stack)]
        assert path_stack.teardown(target, stack, progress=False) == []
        # The other stack is untouched.
        still = provision.find(target, OTHER_STACK)
        assert still is not None and (still.api_id, still.distribution_id) == (other.api_id, other.distribution_id)
    finally:
        teardown.remove(target, OTHER_STACK, progress=False)


# --- aws: every request validated against the service model -----------------------------------------

REGION = "eu-west-1"
STACK = "rb-pathfix"
ACCOUNT = aws_stubs.ACCOUNT
TAG = {"Key": "runbook:stack", "Value": STACK}
API_ID = "a1b2c3d4e5"
DIST_ID = "E1ABCDEF2GHIJK"
DIST_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DIST_ID}"
DOMAIN = "api.example.org"
CERT = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
CF_FUNCTION = "rb-pathfix-strip-api"
CF_FUNCTION_ARN = f"arn:aws:cloudfront::{ACCOUNT}:function/{CF_FUNCTION}"
FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rb-pathfix-echo"


class Where:
    """Equal to a request parameter for which ``check`` is true (the Stubber compares with ==)."""

    def __init__(self, check: Callable[[Any], bool], what: str) -> None:
        self.check, self.what = check, what

    def __eq__(self, other: object) -> bool:
        return bool(self.check(other))

    def __hash__(self) -> int:  # pragma: no cover - never hashed
        return id(self)

    def __repr__(self) -> str:
        return f"<{self.what}>"


@pytest.fixture
def aws() -> Iterator[aws_stubs.StubbedAws]:
    with aws_stubs.stubbed_aws(REGION) as stubbed:
        # stubbing.SERVICES has no apigatewayv2 (only this module needs it): stub it the same way.
        v2 = Stubber(stubbed.target.client("apigatewayv2"))
        v2.activate()
        stubbed.stubbers["apigatewayv2"] = v2
        try:
            yield stubbed
        finally:
            v2.deactivate()


def broken_config(target: Target) -> dict[str, Any]:
    """The distribution build_broken made, as GetDistributionConfig returns it."""
    stack = provision.Stack(name=STACK, target="aws", region=REGION, api_id=API_ID,
                            bucket=f"{STACK}-site-{ACCOUNT}-{REGION}", oac_id="E3OACEXAMPLE01")
    config = provision.distribution_config(target, stack, presets.get("recommended"), "rb-pathfix-1",
                                           f"runbook:stack={STACK}")
    return aws_stubs.as_returned(config)


def api_origin_of(config: dict[str, Any]) -> dict[str, Any]:
    return dict(next(o for o in config["Origins"]["Items"] if o["Id"] == "api"))


def api_behavior_of(config: dict[str, Any]) -> dict[str, Any]:
    return dict(next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*"))


def queue_locate(aws: aws_stubs.StubbedAws, config: dict[str, Any]) -> None:
    aws.ok("apigateway", "GetRestApis", {"items": [aws_stubs.rest_api(API_ID, f"{STACK}-echo-api",
                                                                      {"runbook:stack": STACK})]}, {})
    aws.ok("cloudfront", "ListDistributions",
           aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, config)), {})
    aws.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG]}}, {"Resource": DIST_ARN})


def queue_reset(aws: aws_stubs.StubbedAws, keep: str, api_resource_applied: bool = False) -> None:
    """By default a clean broken stack: nothing of the other fixes is found, so nothing is undone."""
    if keep != "path-fix-api-resource":
        items = [{"id": "root00", "path": "/"}, {"id": "res010", "path": "/items"}]
        if api_resource_applied:
            items += [{"id": "res001", "path": "/api"}, {"id": "res002", "path": "/api/{proxy+}"}]
        aws.ok("apigateway", "GetResources", {"items": items}, {"restApiId": API_ID, "limit": 500})
        if api_resource_applied:
            for rid in ("res002", "res001"):  # the child first
                aws.ok("apigateway", "DeleteResource", {}, {"restApiId": API_ID, "resourceId": rid})
            aws.ok("apigateway", "CreateDeployment", {"id": "dep009"},
                   {"restApiId": API_ID, "stageName": "prod", "description": ANY})
    if keep != "path-fix-origin-path":
        aws.ok("apigateway", "GetStages", {"item": [{"stageName": "prod", "deploymentId": "dep001"}]},
               {"restApiId": API_ID})
    if keep != "path-fix-base-path-mapping":
        aws.error("apigateway", "GetDomainName", "NotFoundException", "Invalid domain name identifier specified",
                  404, {"domainName": DOMAIN})


def queue_distribution_update(aws: aws_stubs.StubbedAws, config: dict[str, Any],
                              check: Callable[[dict[str, Any]], bool], what: str) -> None:
    aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "ETAG1"}, {"Id": DIST_ID})
    aws.ok("cloudfront", "UpdateDistribution", {"Distribution": aws_stubs.distribution(DIST_ID, config, "InProgress"),
                                                 "ETag": "ETAG2"},
           {"Id": DIST_ID, "IfMatch": "ETAG1", "DistributionConfig": Where(check, what)})
    aws.ok("cloudfront", "GetDistribution", {"Distribution": aws_stubs.distribution(DIST_ID, config), "ETag": "ETAG2"},
           {"Id": DIST_ID})


def function_summary(stage: str = "DEVELOPMENT") -> dict[str, Any]:
    return {"Name": CF_FUNCTION, "Status": "UNPUBLISHED" if stage == "DEVELOPMENT" else "DEPLOYED",
            "FunctionConfig": {"Comment": "", "Runtime": "cloudfront-js-2.0"},
            "FunctionMetadata": {"FunctionARN": CF_FUNCTION_ARN, "Stage": stage, "CreatedTime": aws_stubs.WHEN,
                                 "LastModifiedTime": aws_stubs.WHEN}}


def test_aws_api_resource(aws: aws_stubs.StubbedAws) -> None:
    config = broken_config(aws.target)
    queue_locate(aws, config)
    queue_reset(aws, "path-fix-api-resource")
    aws.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    aws.ok("lambda", "GetFunction", aws_stubs.function("rb-pathfix-echo", REGION, "arn:aws:iam::1:role/r"),
           {"FunctionName": "rb-pathfix-echo"})
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FN_ARN}/invocations"
    aws.ok("apigateway", "GetRestApis", {"items": [aws_stubs.rest_api(API_ID, "x", {"runbook:stack": STACK})]}, {})
    aws.ok("apigateway", "GetResources", {"items": [{"id": "root00", "path": "/"}, {"id": "res010", "path": "/items"}]},
           {"restApiId": API_ID, "limit": 500})
    for parent, part, rid, path in (("root00", "api", "res001", "/api"),
                                    ("res001", "{proxy+}", "res002", "/api/{proxy+}")):
        aws.ok("apigateway", "CreateResource", {"id": rid, "parentId": parent, "pathPart": part, "path": path},
               {"restApiId": API_ID, "parentId": parent, "pathPart": part})
        aws.ok("apigateway", "PutMethod", {"httpMethod": "ANY", "authorizationType": "NONE"},
               {"restApiId": API_ID, "resourceId": rid, "httpMethod": "ANY", "authorizationType": "NONE"})
        aws.ok("apigateway", "PutIntegration", {"type": "AWS_PROXY", "uri": uri},
               {"restApiId": API_ID, "resourceId": rid, "httpMethod": "ANY", "type": "AWS_PROXY",
                "integrationHttpMethod": "POST", "uri": uri})
    aws.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]}, {"restApiId": API_ID})
    aws.ok("apigateway", "CreateDeployment", {"id": "dep002"}, {"restApiId": API_ID, "stageName": "prod"})
    aws.error("lambda", "AddPermission", "ResourceConflictException", "The statement id already exists", 409)
    # CloudFront stays as it is (OriginPath /prod, no function): read, not updated.
    aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "ETAG1"}, {"Id": DIST_ID})
    path_stack.apply_fix(aws.target, STACK, "path-fix-api-resource", domain_name=DOMAIN)
    aws.assert_done()


@pytest.mark.parametrize("after_api_resource", [False, True])
def test_aws_origin_path(aws: aws_stubs.StubbedAws, after_api_resource: bool) -> None:
    config = broken_config(aws.target)
    queue_locate(aws, config)
    # After path-fix-api-resource, its /api resources are removed (deepest first) and prod redeployed.
    queue_reset(aws, "path-fix-origin-path", api_resource_applied=after_api_resource)
    aws.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]}, {"restApiId": API_ID})
    aws.ok("apigateway", "CreateDeployment", {"id": "dep003"},
           {"restApiId": API_ID, "stageName": "api", "description": ANY})
    want = {"DomainName": f"{API_ID}.execute-api.{REGION}.amazonaws.com", "OriginPath": ""}
    queue_distribution_update(
        aws, config, lambda c: {k: api_origin_of(c)[k] for k in want} == want
        and api_origin_of(c)["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only",
        "api origin: execute-api host, empty OriginPath")
    path_stack.apply_fix(aws.target, STACK, "path-fix-origin-path", domain_name=DOMAIN)
    aws.assert_done()


def test_aws_base_path_mapping(aws: aws_stubs.StubbedAws) -> None:
    config = broken_config(aws.target)
    queue_locate(aws, config)
    queue_reset(aws, "path-fix-base-path-mapping")
    aws.error("apigateway", "GetDomainName", "NotFoundException", "Invalid domain name identifier specified", 404,
              {"domainName": DOMAIN})
    aws.ok("apigateway", "CreateDomainName",
           {"domainName": DOMAIN, "regionalDomainName": f"d-abc123.execute-api.{REGION}.amazonaws.com",
            "regionalHostedZoneId": "ZLY8HYME6SFDD", "regionalCertificateArn": CERT,
            "endpointConfiguration": {"types": ["REGIONAL"]}, "domainNameStatus": "AVAILABLE",
            "securityPolicy": "TLS_1_2", "tags": {"runbook:stack": STACK}},
           {"domainName": DOMAIN, "regionalCertificateArn": CERT, "endpointConfiguration": {"types": ["REGIONAL"]},
            "securityPolicy": "TLS_1_2", "tags": {"runbook:stack": STACK}})
    aws.ok("apigateway", "GetBasePathMappings", {"items": []}, {"domainName": DOMAIN})
    aws.ok("apigateway", "CreateBasePathMapping", {"basePath": "api", "restApiId": API_ID, "stage": "prod"},
           {"domainName": DOMAIN, "basePath": "api", "restApiId": API_ID, "stage": "prod"})
    aws.ok("apigatewayv2", "GetApiMappings", {"Items": []}, {"DomainName": DOMAIN})
    aws.ok("apigatewayv2", "CreateApiMapping",
           {"ApiId": API_ID, "ApiMappingId": "m1n2o3", "ApiMappingKey": "api/v1", "Stage": "prod"},
           {"DomainName": DOMAIN, "ApiId": API_ID, "Stage": "prod", "ApiMappingKey": "api/v1"})
    queue_distribution_update(
        aws, config, lambda c: api_origin_of(c)["DomainName"] == DOMAIN and api_origin_of(c)["OriginPath"] == ""
        and api_origin_of(c)["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only",
        f"api origin: {DOMAIN}, HTTPS, empty OriginPath")
    path_stack.apply_fix(aws.target, STACK, "path-fix-base-path-mapping", domain_name=DOMAIN, certificate_arn=CERT)
    aws.assert_done()


def test_aws_base_path_mapping_needs_a_domain_and_certificate(aws: aws_stubs.StubbedAws) -> None:
    with pytest.raises(ParameterError, match=r"needs domain_name=.*certificate_arn=.*aws acm request-certificate"):
        path_stack.apply_fix(aws.target, STACK, "path-fix-base-path-mapping")
    aws.assert_done()  # nothing was sent


def test_aws_certificate_refused_says_what_to_do(aws: aws_stubs.StubbedAws) -> None:
    config = broken_config(aws.target)
    queue_locate(aws, config)
    queue_reset(aws, "path-fix-base-path-mapping")
    aws.error("apigateway", "GetDomainName", "NotFoundException", "Invalid domain name identifier specified", 404)
    aws.error("apigateway", "CreateDomainName", "BadRequestException", "Invalid certificate ARN", 400)
    with pytest.raises(ProvisioningError, match=r"BadRequestException: Invalid certificate ARN.*issued ACM") as err:
        path_stack.apply_fix(aws.target, STACK, "path-fix-base-path-mapping", domain_name=DOMAIN,
                             certificate_arn=CERT)
    assert err.value.code == "BadRequestException"
    aws.assert_done()


def test_aws_cloudfront_function(aws: aws_stubs.StubbedAws) -> None:
    config = broken_config(aws.target)
    queue_locate(aws, config)
    queue_reset(aws, "path-fix-cloudfront-function")
    aws.error("cloudfront", "DescribeFunction", "NoSuchFunctionExists", "The function does not exist.", 404,
              {"Name": CF_FUNCTION, "Stage": "DEVELOPMENT"})
    aws.ok("cloudfront", "CreateFunction", {"FunctionSummary": function_summary(), "ETag": "FETAG1",
                                            "Location": f"https://cloudfront.amazonaws.com/function/{CF_FUNCTION}"},
           {"Name": CF_FUNCTION, "FunctionConfig": {"Comment": ANY, "Runtime": "cloudfront-js-2.0"},
            "FunctionCode": path_stack.function_code().encode()})
    aws.ok("cloudfront", "DescribeFunction", {"FunctionSummary": function_summary(), "ETag": "FETAG1"},
           {"Name": CF_FUNCTION, "Stage": "DEVELOPMENT"})
    aws.ok("cloudfront", "PublishFunction", {"FunctionSummary": function_summary("LIVE")},
           {"Name": CF_FUNCTION, "IfMatch": "FETAG1"})
    want_origin = {"DomainName": f"{API_ID}.execute-api.{REGION}.amazonaws.com", "OriginPath": "/prod"}
    queue_distribution_update(
        aws, config, lambda c: api_behavior_of(c)["FunctionAssociations"] == {
            "Quantity": 1, "Items": [{"FunctionARN": CF_FUNCTION_ARN, "EventType": "viewer-request"}]}
        and {k: api_origin_of(c)[k] for k in want_origin} == want_origin,
        "viewer-request function on /api/*, origin unchanged")
    path_stack.apply_fix(aws.target, STACK, "path-fix-cloudfront-function", domain_name=DOMAIN)
    aws.assert_done()


def test_function_code_strips_only_the_prefix() -> None:
    code = path_stack.function_code()
    assert "request.uri.substring(4) || '/'" in code and "startsWith('/api/')" in code
    assert "cloudfront-js-2.0" in path_fixes.FIXES["path-fix-cloudfront-function"].what_changes


def test_on_aws_without_a_domain_the_base_path_fix_is_reported_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # The other three still run; the base path mapping one needs a domain and certificate only a user has.
    probed: list[str] = []
    monkeypatch.setattr(path_stack, "deploy", lambda *a, **k: {"api-prefix-missing-route": "E1"})
    monkeypatch.setattr(path_fixes, "wait_all_deployed", lambda *a, **k: None)
    monkeypatch.setattr(path_stack, "add_api_resource", lambda *a, **k: None)
    monkeypatch.setattr(path_fixes, "probe_fix", lambda t, s, fix_id, **k: probed.append(fix_id)
                        or path_fixes.FixOutcome(fix_id, "", "", "", "", "aws", shown_locally=False, verified=True))
    aws = Target("aws", "eu-west-1", None)
    outcomes = path_fixes.run_all(aws, "rb-paths", progress=False)
    assert probed == [f for f in path_fixes.FIX_IDS if f != "path-fix-base-path-mapping"]
    skipped = next(o for o in outcomes if o.id == "path-fix-base-path-mapping")
    assert skipped.verified is False and skipped.note.startswith("not run: pass domain_name and certificate_arn")


def test_catalogue_covers_every_fix_the_stack_applies() -> None:
    assert tuple(path_fixes.FIXES) == path_stack.FIX_IDS == path_fixes.FIX_IDS
    assert all(fix.id == fix_id for fix_id, fix in path_fixes.FIXES.items())


def test_path_stack_is_the_labs_child_of_the_default_stack_and_never_the_main_one() -> None:
    assert path_stack.DEFAULT_STACK == names.paths_stack(names.DEFAULT_STACK)
    with pytest.raises(ParameterError, match=r"main runbook's stack"):
        path_stack.teardown(Target("aws", "eu-west-1", None), names.DEFAULT_STACK, progress=False)
