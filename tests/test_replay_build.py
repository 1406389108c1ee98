"""The replay's build and removal (issue 10, item 4): a user's distribution recreated with each API origin at an
echo API, valid for CreateDistribution, and removed to the last resource.

Pure tests check the translation against botocore's own service model; local tests build on MiniStack and send
viewer requests through the replay.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings

from runbook_lib.apigateway.model import ApiMapping, CustomDomain, HttpApi, RestApi
from runbook_lib.aws import deployments, echo_lambda, names, ownership, replay
from runbook_lib.aws.replay_config import Remap, custom_policies, prune_to_shape, replay_config, used_function_arns
from runbook_lib.aws.replay_echo import CATCH_ALL_ROUTES, plan_echo
from runbook_lib.aws.stack import account_id, resource_names
from runbook_lib.aws.target import Target, connect
from runbook_lib.cloudfront.policies import ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED
from runbook_lib.errors import ConfigError, SourceError
from runbook_lib.runbook import probes
from runbook_lib.sources import DistributionSource, api_origins, load_source

try:
    from tests import stubbing as aws_stubs
    from tests.test_cloudfront_rules import configs as rules_configs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]
    from test_cloudfront_rules import configs as rules_configs  # type: ignore[no-redef]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The four inputs of the issue's "Done when".
DONE_WHEN = {
    "legacy": FIXTURES / "sources" / "legacy_get_distribution_config.json",
    "cdk": FIXTURES / "cdk_app" / "template.json",
    "terraform": FIXTURES / "sources" / "terraform_plan_allviewer.json",
    "recommended": FIXTURES / "sources" / "recommended_get_distribution.json",
}
_MODEL = botocore.session.get_session().get_service_model("cloudfront")
_LOCAL = Target("local", "us-east-1", "http://127.0.0.1:4566")
_AWS = Target("aws", "eu-west-1")


def _source(name: str) -> DistributionSource:
    [source] = load_source(str(DONE_WHEN[name]))
    return source


def _remap(target: Target, source: DistributionSource) -> Remap:
    """What build gives the translation: echo origins at made-up API IDs, copies' IDs and ARNs."""
    echoes = {o.origin_id: target.echo_origin(f"echo{i}", o.origin_path)
              for i, o in enumerate(api_origins(source))}
    policies = {pid: f"copy-of-policy-{i}" for i, (_, pid, _) in enumerate(custom_policies(source))}
    functions = {arn: f"arn:aws:cloudfront::000000000000:function/copy-{i}"
                 for i, arn in enumerate(used_function_arns(source))}
    return Remap(echoes, target.placeholder_origin(), policies, functions)


def _valid(operation: str, params: dict[str, Any]) -> None:
    validate_parameters(params, _MODEL.operation_model(operation).input_shape)  # raises ParamValidationError


def _behaviors(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [config["DefaultCacheBehavior"], *config["CacheBehaviors"].get("Items", [])]


# --- pure: the translation ------------------------------------------------------------------------


@pytest.mark.parametrize("target", [_LOCAL, _AWS], ids=["local", "aws"])
@pytest.mark.parametrize("name", sorted(DONE_WHEN))
def test_each_done_when_input_gives_a_valid_create_distribution(name: str, target: Target) -> None:
    source = _source(name)
    config, notes = replay_config(source, _remap(target, source), "ref-1", ownership.mark("cf-apigw-replay-x"))
    _valid("CreateDistributionWithTags", {"DistributionConfigWithTags": {
        "DistributionConfig": config, "Tags": {"Items": ownership.tag_list("cf-apigw-replay-x")}}})
    assert "<" not in json.dumps(config)  # no template placeholder reaches the API call
    # Path patterns and their order are the source's.
    assert [b.get("PathPattern") for b in _behaviors(config)] == [b.get("PathPattern")
                                                                  for b in _behaviors(source.config)]
    assert notes, "the site origin at least is replaced, and says so"


@pytest.mark.parametrize("name", sorted(DONE_WHEN))
def test_api_origins_point_at_the_echo_with_the_users_origin_path(name: str) -> None:
    source = _source(name)
    for target, domain, prefix in ((_LOCAL, "localhost", "/_aws/execute-api/echo0"),
                                   (_AWS, "echo0.execute-api.eu-west-1.amazonaws.com", "")):
        config, _ = replay_config(source, _remap(target, source), "r", "c")
        [api] = api_origins(source)
        origin = next(o for o in config["Origins"]["Items"] if o["Id"] == api.origin_id)
        assert origin["DomainName"] == domain
        # CloudFront prefixes OriginPath to the viewer path; the stage is the first segment after it.
        assert origin["OriginPath"] == prefix + api.origin_path == prefix + "/prod"
        others = [o for o in config["Origins"]["Items"] if o["Id"] != api.origin_id]
        assert all(o["DomainName"] == target.placeholder_origin()["DomainName"] for o in others)
        assert all("OriginAccessControlId" not in o and "S3OriginConfig" not in o for o in others)


def test_policies_functions_and_managed_ids_are_remapped_or_kept() -> None:
    source = _source("terraform")
    config, _ = replay_config(source, _remap(_LOCAL, source), "r", "c")
    by_pattern = {b.get("PathPattern", "*"): b for b in _behaviors(config)}
    # Managed policies by ID (AllViewer on /api/*, CachingOptimized on the default).
    assert (by_pattern["/api/*"]["CachePolicyId"], by_pattern["/api/*"]["OriginRequestPolicyId"]) == (
        CACHING_DISABLED, ALL_VIEWER)
    assert by_pattern["*"]["CachePolicyId"] == CACHING_OPTIMIZED
    # The custom policy of /search/* and the function of the default behavior: their copies.
    assert by_pattern["/search/*"]["CachePolicyId"] == "copy-of-policy-0"
    assert by_pattern["*"]["FunctionAssociations"]["Items"][0]["FunctionARN"].endswith("function/copy-0")
    [(kind, source_id, policy)] = custom_policies(source)
    assert (kind, source_id) == ("cache", "<aws_cloudfront_cache_policy.search.id>")
    _valid("CreateCachePolicy", {"CachePolicyConfig": policy})


def test_legacy_forwarded_values_and_methods_are_kept() -> None:
    source = _source("legacy")
    config, notes = replay_config(source, _remap(_LOCAL, source), "r", "c")
    [api] = [b for b in _behaviors(config) if b.get("PathPattern") == "/api/*"]
    [original] = [b for b in _behaviors(source.config) if b.get("PathPattern") == "/api/*"]
    for key in ("ForwardedValues", "AllowedMethods", "ViewerProtocolPolicy", "MinTTL", "DefaultTTL", "MaxTTL"):
        assert api[key] == original[key]
    assert "CachePolicyId" not in api
    assert any(n.startswith("Aliases") for n in notes)


def _hostile() -> DistributionSource:
    """The CDK source with everything a replay cannot keep."""
    source = copy.deepcopy(_source("cdk"))
    cfg = source.config
    cfg.update(Aliases={"Quantity": 1, "Items": ["shop.example.com"]}, WebACLId="arn:aws:wafv2:::webacl/x",
               Logging={"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com", "Prefix": ""},
               ViewerCertificate={"ACMCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x",
                                  "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
               OriginGroups={"Quantity": 1, "Items": [{
                   "Id": "group", "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [500]}},
                   "Members": {"Quantity": 2, "Items": [{"OriginId": "RunbookCheckCdkCdnOrigin2A9001BE4"},
                                                        {"OriginId": "RunbookCheckCdkCdnOrigin15B4EF6AD"}]}}]})
    api = cfg["CacheBehaviors"]["Items"][0]
    api.update(TargetOriginId="group", OriginRequestPolicyId="<OriginRequestPolicy.Id>",
               LambdaFunctionAssociations={"Quantity": 1, "Items": [{
                   "LambdaFunctionARN": "arn:aws:lambda:us-east-1:1:function:edge:1", "EventType": "origin-request"}]},
               FunctionAssociations={"Quantity": 1, "Items": [{"EventType": "viewer-request",
                                                               "FunctionARN": "<Unknown.FunctionARN>"}]})
    cfg["Origins"]["Items"][1]["CustomHeaders"] = {"Quantity": 2, "Items": [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": "<Secret.SecretString>"},
        {"HeaderName": "X-Tenant", "HeaderValue": "acme"}]}
    return source


def test_what_cannot_be_replayed_is_dropped_with_one_note_each() -> None:
    source = _hostile()
    config, notes = replay_config(source, _remap(_LOCAL, source), "r", "c")
    _valid("CreateDistribution", {"DistributionConfig": config})
    text = "\n".join(notes)
    for expected in ("Aliases", "WebACLId", "Standard logging", "default certificate", "Origin groups",
                     "Lambda@Edge", "<OriginRequestPolicy.Id>", "<Unknown.FunctionARN>", "X-Origin-Verify"):
        assert expected in text
    [api] = [b for b in _behaviors(config) if b.get("PathPattern") == "/api/*"]
    assert api["TargetOriginId"] == "RunbookCheckCdkCdnOrigin2A9001BE4"  # the group's primary
    assert api["LambdaFunctionAssociations"] == {"Quantity": 0}
    assert api["FunctionAssociations"] == {"Quantity": 0, "Items": []} and "OriginRequestPolicyId" not in api
    origin = config["Origins"]["Items"][1]
    assert origin["CustomHeaders"] == {"Quantity": 1, "Items": [{"HeaderName": "X-Tenant", "HeaderValue": "acme"}]}
    for key in ("Aliases", "WebACLId", "Logging", "ViewerCertificate", "OriginGroups"):
        assert key not in config
    assert len(notes) == len(set(notes))


@pytest.mark.parametrize(("policy", "noted"), [("https-only", False), ("match-viewer", True), ("http-only", True)])
def test_an_origin_protocol_policy_the_local_echo_cannot_show_is_noted(policy: str, noted: bool) -> None:
    # API Gateway answers HTTPS only (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html);
    # the local echo is reached over HTTP, so a policy that would send HTTP cannot fail here as it would on AWS.
    source = copy.deepcopy(_source("cdk"))
    source.config["Origins"]["Items"][1]["CustomOriginConfig"]["OriginProtocolPolicy"] = policy
    config, notes = replay_config(source, _remap(_LOCAL, source), "r", "c")
    assert any(f"OriginProtocolPolicy {policy!r}" in n for n in notes) is noted
    assert config["Origins"]["Items"][1]["CustomOriginConfig"]["OriginProtocolPolicy"] == "http-only"
    # On AWS the echo speaks HTTPS as the API does: the user's policy is kept, failure included.
    on_aws, aws_notes = replay_config(source, _remap(_AWS, source), "r", "c")
    assert not any("OriginProtocolPolicy" in n for n in aws_notes)
    assert on_aws["Origins"]["Items"][1]["CustomOriginConfig"]["OriginProtocolPolicy"] == policy


def test_a_field_create_distribution_does_not_have_is_dropped_with_a_note() -> None:
    source = copy.deepcopy(_source("legacy"))
    source.config["CacheBehaviors"]["Items"][0]["GrpcSettings"] = {"Enabled": True}
    source.config["Origins"]["Items"][1]["CustomOriginConfig"]["IpAddressType"] = "dualstack"
    config, _ = replay_config(source, _remap(_AWS, source), "r", "c")
    config["Origins"]["Items"][1]["CustomOriginConfig"]["Colour"] = "blue"
    notes = prune_to_shape(config, _MODEL.shape_for("DistributionConfig"))
    assert notes == ["DistributionConfig.Origins.Items[1].CustomOriginConfig.Colour dropped: not a field of "
                     "CreateDistribution.", "DistributionConfig.CacheBehaviors.Items[0].GrpcSettings dropped: not "
                     "a field of CreateDistribution."]
    _valid("CreateDistribution", {"DistributionConfig": config})


def test_a_placeholder_left_where_nothing_can_drop_it_is_refused() -> None:
    source = copy.deepcopy(_source("cdk"))
    source.config["DefaultRootObject"] = "<Index.Key>"
    with pytest.raises(ConfigError, match=r"DefaultRootObject"):
        replay_config(source, _remap(_LOCAL, source), "r", "c")


def test_an_unknown_custom_cache_policy_becomes_caching_disabled_with_a_note() -> None:
    source = copy.deepcopy(_source("recommended"))
    source.config["CacheBehaviors"]["Items"][0]["CachePolicyId"] = "1a2b3c4d-not-described"
    config, notes = replay_config(source, _remap(_LOCAL, source), "r", "c")
    assert config["CacheBehaviors"]["Items"][0]["CachePolicyId"] == CACHING_DISABLED
    assert any("1a2b3c4d-not-described" in n and "CachingDisabled" in n for n in notes)


# --- pure: which echo -------------------------------------------------------------------------------


def test_echo_plans_follow_what_the_source_knows() -> None:
    cdk = _source("cdk")
    [origin] = api_origins(cdk)
    rest = plan_echo(origin, cdk.config)
    assert (rest.protocol, rest.routes_kind, rest.stages) == ("REST", replay.ROUTES_SOURCE, ("prod",))
    assert rest.resources == {"/items": ("GET",), "/items/{id}": ("GET",)}

    legacy = _source("legacy")
    [unknown] = api_origins(legacy)
    catch_all = plan_echo(unknown, legacy.config)
    assert (catch_all.routes_kind, catch_all.resources, catch_all.stages) == (
        replay.ROUTES_CATCH_ALL, CATCH_ALL_ROUTES, ("prod",))
    # No OriginPath: the viewer path's first segment is the stage (/api/items → stage api).
    no_path = plan_echo(dataclasses.replace(unknown, origin_path=""), legacy.config)
    assert no_path.stages == ("api",)

    http = plan_echo(dataclasses.replace(origin, api=HttpApi("h1", ["ANY /api/{proxy+}"], [])), cdk.config)
    assert (http.protocol, http.route_keys, http.stages) == ("HTTP", ("ANY /api/{proxy+}",), ("$default",))
    url = plan_echo(dataclasses.replace(origin, kind="lambda-url", api=None), cdk.config)
    assert (url.protocol, url.routes_kind, url.route_keys) == ("HTTP", replay.ROUTES_LAMBDA_URL, ("$default",))
    domain = plan_echo(dataclasses.replace(origin, kind="custom-domain", origin_path="", api=CustomDomain(
        "api.example.org", [ApiMapping("", "a1", "live")])), cdk.config)
    assert (domain.routes_kind, domain.stages, domain.path_prefix) == (replay.ROUTES_CATCH_ALL, ("live",), "/live")
    assert any("custom domain api.example.org" in n for n in domain.notes)
    # Base path mappings to described REST APIs: each API's resources under its base path
    # (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html).
    mapped = CustomDomain("api.example.org", [ApiMapping("api/v1", "a1", "live"), ApiMapping("", "a2", "prod")], apis={
        "a1": RestApi("a1", {"/": ["ANY"], "/items": ["GET"]}), "a2": RestApi("a2", {"/health": ["GET"]})})
    routed = plan_echo(dataclasses.replace(origin, kind="custom-domain", origin_path="", api=mapped), cdk.config)
    assert (routed.routes_kind, routed.stages, routed.path_prefix) == (replay.ROUTES_SOURCE, ("live",), "/live")
    assert routed.resources == {"/api/v1": ("ANY",), "/api/v1/items": ("GET",), "/health": ("GET",)}


def test_a_stage_named_by_a_template_placeholder_is_the_echos_stage() -> None:
    cdk = _source("cdk")
    [origin] = api_origins(cdk)
    plan = plan_echo(dataclasses.replace(origin, origin_path="/<ApiDeploymentStageprod>"), cdk.config)
    assert (plan.origin_path, plan.stages) == ("/prod", ("prod",))
    assert any("<ApiDeploymentStageprod>" in n for n in plan.notes)
    legacy = _source("legacy")
    [unknown] = api_origins(legacy)
    catch_all = plan_echo(dataclasses.replace(unknown, origin_path="/<Stage>/v1"), legacy.config)
    assert (catch_all.origin_path, catch_all.stages) == ("/stage/v1", ("stage",))
    assert plan_echo(unknown, legacy.config).origin_path == "/prod"  # nothing to resolve


def test_replay_stack_names_are_new_each_run_and_valid() -> None:
    made = {names.replay_stack() for _ in range(20)}
    assert len(made) == 20
    assert all(names.stack_name_problem(n) is None and n.startswith(names.REPLAY_PREFIX) for n in made)


def test_the_echo_understands_an_http_api_event() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    event = {"version": "2.0", "routeKey": "ANY /api/{proxy+}", "rawPath": "/prod/api/x",
             "rawQueryString": "tag=a&tag=b&flag=", "cookies": ["a=1", "b=2"],
             "headers": {"X-Test": "v"}, "requestContext": {"stage": "prod", "http": {"method": "PATCH"}},
             "body": "aGk=", "isBase64Encoded": True}
    body = json.loads(echo_lambda.handler(event, None)["body"])
    assert (body["method"], body["path"], body["stage_path"], body["stage"]) == (
        "PATCH", "/api/x", "/prod/api/x", "prod")
    assert body["query"] == {"tag": ["a", "b"], "flag": [""]}
    assert body["headers"] == {"x-test": ["v"], "cookie": ["a=1; b=2"]} and body["body"] == "hi"


# --- local: build, probe, remove --------------------------------------------------------------------

_GET = probes.Probe("p", "GET", "GET", "/api/data", "since=2020-01-01&tag=a&tag=b", checks=("status",))


def _inventory(target: Target) -> dict[str, set[str]]:
    cf, apig, v2 = target.client("cloudfront"), target.client("apigateway"), target.client("apigatewayv2")
    lam, iam = target.client("lambda"), target.client("iam")
    return {
        "distributions": {d["Id"] for d in cf.list_distributions()["DistributionList"].get("Items", []) or []},
        "cache": {p["CachePolicy"]["Id"] for p in
                  cf.list_cache_policies(Type="custom")["CachePolicyList"].get("Items", []) or []},
        "orp": {p["OriginRequestPolicy"]["Id"] for p in cf.list_origin_request_policies(
            Type="custom")["OriginRequestPolicyList"].get("Items", []) or []},
        "cf functions": {f["Name"] for f in cf.list_functions()["FunctionList"].get("Items", []) or []},
        "rest": {a["id"] for a in apig.get_rest_apis()["items"]},
        "http": {a["ApiId"] for a in v2.get_apis()["Items"]},
        "lambda": {f["FunctionName"] for f in lam.list_functions()["Functions"]},
        "roles": {r["RoleName"] for r in iam.list_roles()["Roles"]},
    }


def _with_routes(source: DistributionSource, api: RestApi | HttpApi) -> DistributionSource:
    changed = copy.deepcopy(source)
    [origin] = api_origins(changed)
    changed.apis = {origin.domain.split(".")[0]: api}
    return changed


@pytest.mark.integration
def test_cdk_template_without_an_api_route_answers_missing_authentication_token(local_target: Target) -> None:
    before = _inventory(local_target)
    start = time.perf_counter()
    made = replay.build(local_target, _source("cdk"), progress=False)
    built = time.perf_counter() - start
    try:
        assert [(b.path_pattern, b.routes) for b in made.behaviors] == [("/api/*", replay.ROUTES_SOURCE)]
        seen = probes.send(local_target, made.domain, _GET)
        assert (seen.status, seen.served_by) == (403, "api-gateway")
        assert "Missing Authentication Token" in seen.values["response.body"]
        # The CloudFront Function of the default behavior was recreated with its code.
        assert len(ownership.marked_functions(local_target, made.stack_name)) == 1
    finally:
        removed = replay.remove(local_target, made, progress=False)
    assert f"distribution {made.distribution_id}" in removed
    assert _inventory(local_target) == before
    assert built < 10, f"build took {built:.1f} s"


@pytest.mark.integration
def test_a_source_route_answers_with_what_the_api_received(local_target: Target) -> None:
    source = _with_routes(_source("cdk"), RestApi("<ApiF70053CD>", {"/api/{proxy+}": ["ANY"]}, ["prod"]))
    with replay.replayed(local_target, source, progress=False) as made:
        seen = probes.send(local_target, made.domain, _GET)
        # CachingOptimized forwards no query string; the path reaches the route under stage prod.
        assert (seen.status, seen.served_by) == (200, "api")
        assert (seen.values["api.path"], seen.values["api.stage"], seen.values["api.query"]) == (
            "/api/data", "prod", probes.NO_QUERY)
        assert seen.values["api.resource"] == "/api/{proxy+}"
        missing = probes.send(local_target, made.domain, dataclasses.replace(_GET, path="/api"))
        assert missing.served_by != "api"  # /api is not under /api/*: the site placeholder answers


@pytest.mark.integration
def test_legacy_config_replays_with_a_catch_all_echo_that_gets_no_query(local_target: Target) -> None:
    with replay.replayed(local_target, _source("legacy"), progress=False) as made:
        assert [(b.path_pattern, b.routes) for b in made.behaviors] == [("/api/*", replay.ROUTES_CATCH_ALL)]
        seen = probes.send(local_target, made.domain, _GET)
        assert (seen.status, seen.values["api.path"], seen.values["api.stage"]) == (200, "/api/data", "prod")
        assert seen.values["api.query"] == probes.NO_QUERY  # QueryString false
    recommended = copy.deepcopy(_source("recommended"))
    recommended.config["Origins"]["Items"][1]["CustomHeaders"] = {
        "Quantity": 1, "Items": [{"HeaderName": "X-Tenant", "HeaderValue": "acme"}]}
    with replay.replayed(local_target, recommended, progress=False) as made:
        seen = probes.send(local_target, made.domain, _GET)
        assert seen.values["api.query"] == "since=2020-01-01&tag=a&tag=b"  # AllViewerExceptHostHeader
        assert seen.values["api.header.x-tenant"] == "acme"  # the origin's custom header


@pytest.mark.integration
def test_an_unknown_stage_answers_403_as_api_gateway(local_target: Target) -> None:
    source = _with_routes(_source("cdk"), RestApi("<ApiF70053CD>", {"/api/{proxy+}": ["ANY"]}, ["live"]))
    with replay.replayed(local_target, source, progress=False) as made:
        seen = probes.send(local_target, made.domain, _GET)
        assert (seen.status, seen.served_by) == (403, "api-gateway")


@pytest.mark.integration
def test_a_method_the_resource_lacks_answers_403_as_api_gateway(local_target: Target) -> None:
    source = _with_routes(_source("cdk"), RestApi("<ApiF70053CD>", {"/api/data": ["GET"]}, ["prod"]))
    with replay.replayed(local_target, source, progress=False) as made:
        assert probes.send(local_target, made.domain, _GET).served_by == "api"
        post = probes.send(local_target, made.domain, dataclasses.replace(_GET, method="POST", body="{}"))
        assert (post.status, post.served_by) == (403, "api-gateway")
        assert "Missing Authentication Token" in post.values["response.body"]


@pytest.mark.integration
def test_an_http_api_echo_keeps_route_keys_and_the_default_stage(local_target: Target) -> None:
    source = _with_routes(_source("recommended"), HttpApi("a1b2c3d4e5", ["GET /api/items/{id}"], ["$default"]))
    [origin] = source.config["Origins"]["Items"][1:]
    origin["OriginPath"] = ""  # $default: no stage in the path
    with replay.replayed(local_target, source, progress=False) as made:
        assert [b.routes for b in made.behaviors] == [replay.ROUTES_SOURCE]
        seen = probes.send(local_target, made.domain, dataclasses.replace(_GET, path="/api/items/7"))
        assert (seen.status, seen.values["api.path"], seen.values["api.stage"]) == (200, "/api/items/7", "$default")
        assert seen.values["api.query"] == "since=2020-01-01&tag=a&tag=b"
        assert seen.values["api.resource"] == "GET /api/items/{id}"
        # No route for the method or the path: 404 "Not Found", as an HTTP API answers.
        for probe in (dataclasses.replace(_GET, path="/api/items/7", method="DELETE"), _GET):
            missing = probes.send(local_target, made.domain, probe)
            assert (missing.status, missing.served_by) == (404, "api-gateway")


@pytest.mark.integration
def test_a_lambda_url_origin_is_an_echo_that_answers_every_path(local_target: Target) -> None:
    source = copy.deepcopy(_source("recommended"))
    origin = source.config["Origins"]["Items"][1]
    origin.update(DomainName="abcdefghij.lambda-url.eu-west-1.on.aws", OriginPath="")
    with replay.replayed(local_target, source, progress=False) as made:
        assert [b.routes for b in made.behaviors] == [replay.ROUTES_LAMBDA_URL]
        seen = probes.send(local_target, made.domain, dataclasses.replace(_GET, path="/api/a/b"))
        assert (seen.status, seen.values["api.path"]) == (200, "/api/a/b")


@pytest.mark.integration
def test_replayed_removes_on_an_exception_and_remove_by_name_finds_a_leftover(local_target: Target) -> None:
    before = _inventory(local_target)
    with pytest.raises(RuntimeError, match="boom"), replay.replayed(local_target, _source("terraform"),
                                                                    progress=False) as made:
        assert ownership.marked_policies(local_target, made.stack_name)  # the /search/* policy's copy
        raise RuntimeError("boom")
    assert ownership.find_distribution(local_target, made.stack_name) is None
    assert _inventory(local_target) == before
    # A crash leaves a replay behind: remove finds it by its stack name.
    left = replay.build(local_target, _source("terraform"), progress=False)
    assert replay.remove(local_target, left.stack_name, progress=False)
    assert _inventory(local_target) == before


@pytest.mark.integration
def test_remove_leaves_same_named_resources_without_the_tag(local_target: Target) -> None:
    stack = names.replay_stack("0badc0de")
    rn = resource_names(stack, account_id(local_target), local_target.region)
    iam, apig, cf = local_target.client("iam"), local_target.client("apigateway"), local_target.client("cloudfront")
    role = iam.create_role(RoleName=rn["role"], AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    api = apig.create_rest_api(name=f"{rn['api']}-1", tags={"runbook:stack": "someone-else"})["id"]
    policy = cf.create_cache_policy(CachePolicyConfig={
        "Name": f"{stack}-policy-1", "Comment": f"{ownership.mark(stack)} (made by hand)", "MinTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}})
    try:
        assert replay.remove(local_target, stack, progress=False) == []
        assert rn["role"] in _inventory(local_target)["roles"] and api in _inventory(local_target)["rest"]
    finally:
        iam.delete_role(RoleName=rn["role"])
        apig.delete_rest_api(restApiId=api)
        pid = policy["CachePolicy"]["Id"]
        cf.delete_cache_policy(Id=pid, IfMatch=cf.get_cache_policy(Id=pid)["ETag"])
    assert role


@pytest.mark.integration
def test_the_replay_is_neither_simulated_nor_in_the_deployment_ledger(
        local_target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / deployments.LEDGER_FILE
    monkeypatch.setenv(deployments.SIMULATE_ENV, "600")  # a wait that honoured it would time the test out
    monkeypatch.setenv(deployments.LEDGER_ENV, str(ledger))
    target = connect("local", endpoint_url=local_target.endpoint_url)  # fresh clients see S
    cf = target.client("cloudfront")
    with replay.replayed(target, _source("recommended"), progress=False) as made:
        assert cf.get_distribution(Id=made.distribution_id)["Distribution"]["Status"] == "Deployed"
        assert deployments.take_changed(made.distribution_id) is False
    assert deployments.read_ledger(ledger) == []
    # The runbook's own distributions still are simulated and counted: the flag decides, not the target.
    config = json.loads((Path(__file__).resolve().parent.parent / "examples" / "dist.json").read_text())
    own = cf.create_distribution(DistributionConfig={**config, "CallerReference": f"ledger-{time.time_ns()}"})
    own_id = own["Distribution"]["Id"]
    assert cf.get_distribution(Id=own_id)["Distribution"]["Status"] == "InProgress"
    assert deployments.take_changed(own_id) is True


@pytest.mark.integration
def test_a_failed_build_removes_what_it_made(local_target: Target) -> None:
    before = _inventory(local_target)
    source = copy.deepcopy(_source("terraform"))
    source.config["DefaultRootObject"] = "<Index.Key>"  # refused after the echo, policy and function exist
    with pytest.raises(ConfigError, match="DefaultRootObject"):
        replay.build(local_target, source, progress=False)
    assert _inventory(local_target) == before


def test_a_distribution_without_an_api_origin_is_refused_with_the_fix() -> None:
    source = copy.deepcopy(_source("legacy"))
    source.config["Origins"]["Items"] = source.config["Origins"]["Items"][:1]
    with pytest.raises(SourceError, match="--api-origin"):
        replay.build(_LOCAL, source, progress=False)


@pytest.mark.integration
def test_a_custom_domain_echo_keeps_each_mapped_apis_routes_under_its_base_path(local_target: Target) -> None:
    source = copy.deepcopy(_source("recommended"))
    origin = source.config["Origins"]["Items"][1]
    origin.update(DomainName="api.example.org", OriginPath="")
    source.domains = {"api.example.org": CustomDomain("api.example.org", [ApiMapping("api", "a1", "live")], apis={
        "a1": RestApi("a1", {"/items": ["GET"], "/items/{id}": ["ANY"]}, ["live"])})}
    with replay.replayed(local_target, source, progress=False) as made:
        assert [b.routes for b in made.behaviors] == [replay.ROUTES_SOURCE]
        seen = probes.send(local_target, made.domain, dataclasses.replace(_GET, path="/api/items/4", method="PUT"))
        assert (seen.status, seen.values["api.resource"], seen.values["api.stage"]) == (200, "/api/items/{id}", "live")
        missing = probes.send(local_target, made.domain, dataclasses.replace(_GET, path="/api/other"))
        assert (missing.status, missing.served_by) == (403, "api-gateway")


# --- aws: the same build, answered by botocore Stubbers -------------------------------------------


def _example_config() -> dict[str, Any]:
    return dict(json.loads((FIXTURES.parent.parent / "examples" / "dist.json").read_text()))


def test_on_aws_the_echo_is_the_accounts_execute_api_with_the_users_origin_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stack = names.replay_stack("5a5a5a5a")
    monkeypatch.setattr(names, "replay_stack", lambda: stack)
    region = "eu-west-1"
    rn = resource_names(stack, aws_stubs.ACCOUNT, region)
    role_arn = f"arn:aws:iam::{aws_stubs.ACCOUNT}:role/{rn['role']}"
    fn_arn = f"arn:aws:lambda:{region}:{aws_stubs.ACCOUNT}:function:{rn['function']}"
    cf_fn = f"arn:aws:cloudfront::{aws_stubs.ACCOUNT}:function/{stack}-fn-1"
    with aws_stubs.stubbed_aws(region) as aws:
        aws.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
        aws.error("iam", "GetRole", "NoSuchEntity", "not found", 404)
        aws.ok("iam", "CreateRole", aws_stubs.role(rn["role"], ownership.tag_list(stack)))
        aws.ok("iam", "AttachRolePolicy", {})
        aws.error("lambda", "GetFunction", "ResourceNotFoundException", "not found", 404)
        aws.ok("lambda", "CreateFunction", aws_stubs.function_config(rn["function"], region, role_arn))
        aws.ok("apigateway", "CreateRestApi", aws_stubs.rest_api("echo12345a", f"{rn['api']}-1",
                                                                  ownership.tag_dict(stack)),
               {"name": f"{rn['api']}-1", "description": "Echo API behind CloudFront (runbook)",
                "endpointConfiguration": {"types": ["REGIONAL"]}, "tags": ownership.tag_dict(stack)})
        aws.ok("apigateway", "GetResources", {"items": [{"id": "root0", "path": "/"}]})
        for rid, parent, part in (("r1", "root0", "items"), ("r2", "r1", "{id}")):
            aws.ok("apigateway", "CreateResource", {"id": rid, "parentId": parent, "pathPart": part},
                   {"restApiId": "echo12345a", "parentId": parent, "pathPart": part})
            aws.ok("apigateway", "PutMethod", {"httpMethod": "GET"})
            aws.ok("apigateway", "PutIntegration", {"type": "AWS_PROXY"})
        aws.ok("apigateway", "CreateDeployment", {"id": "dep1"}, {"restApiId": "echo12345a", "stageName": "prod"})
        aws.ok("lambda", "AddPermission", {"Statement": "{}"}, {
            "FunctionName": fn_arn, "StatementId": f"{stack}-echo12345a-invoke", "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": f"arn:aws:execute-api:{region}:{aws_stubs.ACCOUNT}:echo12345a/*/*/*"})
        summary = {"Name": f"{stack}-fn-1", "Status": "UNPUBLISHED",
                   "FunctionConfig": {"Comment": ownership.mark(stack), "Runtime": "cloudfront-js-2.0"},
                   "FunctionMetadata": {"FunctionARN": cf_fn, "LastModifiedTime": aws_stubs.WHEN}}
        aws.ok("cloudfront", "CreateFunction", {"FunctionSummary": summary, "ETag": "EFN1"})
        aws.ok("cloudfront", "PublishFunction", {"FunctionSummary": summary}, {"Name": f"{stack}-fn-1",
                                                                                "IfMatch": "EFN1"})
        answer = aws_stubs.distribution("E2REPLAY", _example_config())
        aws.ok("cloudfront", "CreateDistributionWithTags", {"Distribution": answer, "ETag": "E1"})
        aws.ok("cloudfront", "GetDistribution", {"Distribution": answer, "ETag": "E1"}, {"Id": "E2REPLAY"})
        made = replay.build(aws.target, _source("cdk"), progress=False)
        aws.assert_done()
    [api] = [o for o in made.config["Origins"]["Items"] if o["Id"] == "RunbookCheckCdkCdnOrigin2A9001BE4"]
    assert (api["DomainName"], api["OriginPath"]) == ("echo12345a.execute-api.eu-west-1.amazonaws.com", "/prod")
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert [b.api_host for b in made.behaviors] == ["echo12345a.execute-api.eu-west-1.amazonaws.com"]
    site = next(o for o in made.config["Origins"]["Items"] if o["Id"] != api["Id"])
    assert site["DomainName"] == "example.com"  # harmless on AWS (RFC 2606), never the user's bucket
    assert made.config["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0]["FunctionARN"] == cf_fn


@pytest.mark.integration
def test_check_replay_json_prints_nothing_but_the_json(local_target: Target, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The replay's and the probes' bars go to stdout: with --json, where only the JSON may, they are off."""
    import io

    from runbook_lib.cli import main

    out = io.StringIO()
    code = main(["check", str(DONE_WHEN["cdk"]), "--replay", "local", "--endpoint-url",
                 str(local_target.endpoint_url), "--json", "--out", str(tmp_path)], out)
    assert code == 1 and json.loads(out.getvalue())["ok"] is False
    assert capsys.readouterr().out == ""


def _queue_replay_removal(aws: aws_stubs.StubbedAws, stack: str, config: dict[str, Any]) -> None:
    """Every call of removing replay ``stack`` on AWS: its distribution, marked policy and function, two REST APIs
    and an HTTP API, the echo function and role; a neighbour's look-alikes are listed and left."""
    region, dist_arn = "eu-west-1", f"arn:aws:cloudfront::{aws_stubs.ACCOUNT}:distribution/E2REPLAY"
    rn = resource_names(stack, aws_stubs.ACCOUNT, region)
    tag, mark = ownership.tag_list(stack), ownership.mark(stack)
    disabled = {**config, "Enabled": False}
    listed = aws_stubs.distribution_list(aws_stubs.distribution_summary("E2REPLAY", config))
    aws.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    aws.ok("cloudfront", "ListDistributions", listed, {})
    aws.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": tag}}, {"Resource": dist_arn})
    aws.ok("cloudfront", "ListDistributions", listed, {})  # variants: none
    aws.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": tag}}, {"Resource": dist_arn})
    aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "E1"}, {"Id": "E2REPLAY"})
    aws.ok("cloudfront", "UpdateDistribution", {"Distribution": aws_stubs.distribution(
        "E2REPLAY", disabled, "InProgress"), "ETag": "E2"}, {"Id": "E2REPLAY", "IfMatch": "E1",
                                                             "DistributionConfig": disabled})
    for status in ("InProgress", "Deployed", "Deployed"):  # minutes on AWS: disabled, deployed, then deleted
        aws.ok("cloudfront", "GetDistribution", {"Distribution": aws_stubs.distribution(
            "E2REPLAY", disabled, status), "ETag": "E3"}, {"Id": "E2REPLAY"})
    aws.ok("cloudfront", "DeleteDistribution", {}, {"Id": "E2REPLAY", "IfMatch": "E3"})
    ours = {**_NO_KEY_POLICY, "Name": f"{stack}-policy-1", "Comment": mark}
    theirs = {**_NO_KEY_POLICY, "Name": "theirs", "Comment": f"{mark} (made by hand)"}
    aws.ok("cloudfront", "ListCachePolicies", aws_stubs.cache_policy_list(
        aws_stubs.cache_policy("CP-OURS", ours), aws_stubs.cache_policy("CP-THEIRS", theirs)), {"Type": "custom"})
    aws.ok("cloudfront", "ListOriginRequestPolicies", {"OriginRequestPolicyList": {"MaxItems": 100, "Quantity": 0}},
           {"Type": "custom"})
    aws.ok("cloudfront", "GetCachePolicy", {"CachePolicy": aws_stubs.cache_policy("CP-OURS", ours), "ETag": "EC"},
           {"Id": "CP-OURS"})
    aws.ok("cloudfront", "DeleteCachePolicy", {}, {"Id": "CP-OURS", "IfMatch": "EC"})
    fn = f"{stack}-fn-1"
    aws.ok("cloudfront", "ListFunctions", {"FunctionList": {"MaxItems": 100, "Quantity": 3, "Items": [
        _function_summary(fn, mark, "DEVELOPMENT"), _function_summary(fn, mark, "LIVE"),
        _function_summary("theirs", "made by hand", "LIVE")]}}, {})
    aws.ok("cloudfront", "DescribeFunction", {"FunctionSummary": _function_summary(fn, mark, "DEVELOPMENT"),
                                              "ETag": "EF"}, {"Name": fn, "Stage": "DEVELOPMENT"})
    aws.ok("cloudfront", "DeleteFunction", {}, {"Name": fn, "IfMatch": "EF"})
    aws.ok("cloudfront", "ListOriginAccessControls", aws_stubs.oac_list(), {})
    aws.error("s3", "GetBucketTagging", "NoSuchBucket", "The specified bucket does not exist", 404)
    theirs_api = aws_stubs.rest_api("zzz999zzz9", f"{rn['api']}-1", {"runbook:stack": "another-stack"})
    for api_id in ("echo00001a", "echo00002b"):
        aws.ok("apigateway", "GetRestApis", {"items": [theirs_api, aws_stubs.rest_api(
            api_id, rn["api"], ownership.tag_dict(stack))]}, {})
        aws.ok("apigateway", "DeleteRestApi", {}, {"restApiId": api_id})
    aws.ok("apigateway", "GetRestApis", {"items": [theirs_api]}, {})
    aws.ok("apigatewayv2", "GetApis", {"Items": [
        {"ApiId": "http0001", "Name": rn["api"], "ProtocolType": "HTTP", "RouteSelectionExpression": "x",
         "Tags": ownership.tag_dict(stack)},
        {"ApiId": "http0002", "Name": rn["api"], "ProtocolType": "HTTP", "RouteSelectionExpression": "x",
         "Tags": {"runbook:stack": "another-stack"}}]}, {})
    aws.ok("apigatewayv2", "DeleteApi", {}, {"ApiId": "http0001"})
    role_arn = f"arn:aws:iam::{aws_stubs.ACCOUNT}:role/{rn['role']}"
    aws.ok("lambda", "GetFunction", aws_stubs.function(rn["function"], region, role_arn, ownership.tag_dict(stack)),
           {"FunctionName": rn["function"]})
    aws.ok("lambda", "DeleteFunction", {}, {"FunctionName": rn["function"]})
    aws.ok("iam", "GetRole", aws_stubs.role(rn["role"], tag), {"RoleName": rn["role"]})
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    aws.ok("iam", "ListAttachedRolePolicies", {"AttachedPolicies": [
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": basic}], "IsTruncated": False},
        {"RoleName": rn["role"]})
    aws.ok("iam", "DetachRolePolicy", {}, {"RoleName": rn["role"], "PolicyArn": basic})
    aws.ok("iam", "DeleteRole", {}, {"RoleName": rn["role"]})


_NO_KEY_POLICY: dict[str, Any] = {"MinTTL": 0, "ParametersInCacheKeyAndForwardedToOrigin": {
    "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
    "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}}


def _function_summary(name: str, comment: str, stage: str) -> dict[str, Any]:
    return {"Name": name, "FunctionConfig": {"Comment": comment, "Runtime": "cloudfront-js-2.0"},
            "FunctionMetadata": {"FunctionARN": f"arn:aws:cloudfront::{aws_stubs.ACCOUNT}:function/{name}",
                                 "Stage": stage, "LastModifiedTime": aws_stubs.WHEN}}


def test_on_aws_remove_disables_waits_and_deletes_exactly_the_replays_resources(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from botocore.stub import Stubber

    slept: list[float] = []
    monkeypatch.setattr("runbook_lib.aws.distribution.time.sleep", slept.append)
    ledger = tmp_path / deployments.LEDGER_FILE
    monkeypatch.setenv(deployments.LEDGER_ENV, str(ledger))
    stack = names.replay_stack("7e7e7e7e")
    config = {**_example_config(), "Comment": ownership.mark(stack)}
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        v2 = Stubber(aws.target.client("apigatewayv2"))  # HTTP APIs: not among stubbing.SERVICES
        aws.stubbers["apigatewayv2"] = v2
        v2.activate()
        _queue_replay_removal(aws, stack, config)
        removed = replay.remove(aws.target, stack, progress=False)
        aws.assert_done()
        v2.deactivate()
    rn = resource_names(stack, aws_stubs.ACCOUNT, "eu-west-1")
    assert removed == ["distribution E2REPLAY", f"cache policy {stack}-policy-1", f"CloudFront function {stack}-fn-1",
                       "REST API echo00001a", "REST API echo00002b", "HTTP API http0001", f"function {rn['function']}",
                       f"role {rn['role']}"]
    assert slept == [15]  # one poll: AWS's propagation is waited for
    assert [w.distributions for w in deployments.read_ledger(ledger)] == [("E2REPLAY",)]  # and counted, on AWS


# --- property: the replay forwards what the source forwards ---------------------------------------

_REQUESTS = (
    {"method": "GET", "path": "/api/data", "query": "since=2020-01-01&tag=a&tag=b",
     "headers": {"Authorization": "Bearer t", "X-Api-Key": "k", "Cookie": "a=1; b=2", "Accept-Language": "fr"}},
    {"method": "POST", "path": "/api/items", "query": "", "headers": {"Authorization": "Bearer t",
                                                                     "Content-Type": "application/json"}},
    {"method": "OPTIONS", "path": "/api/items/7", "query": "x=1", "headers": {"Origin": "https://app.example"}},
)


def _seen(config: dict[str, Any], policies: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    from runbook_lib import simulate

    got = simulate(config, {"scheme": "https", **request, "headers": {"Host": "d1.cloudfront.net",
                                                                        **request["headers"]}}, policies)
    sent = dict(got.origin_request or {})
    sent["headers"] = {k: v for k, v in (sent.get("headers") or {}).items() if k != "host"}  # the echo's own
    return {"status": got.edge_status, "origin": got.origin_id, "request": sent}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_configs())
def test_the_replay_forwards_to_its_echo_what_the_source_forwards_to_the_api(
        case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    from runbook_lib import simulate

    config, policies = case
    if simulate(config, {"method": "GET", "scheme": "https", "path": "/", "query": "", "headers": {}},
                policies).config_errors:
        return
    source = DistributionSource("generated", "saved", "-", config, {k: v for k, v in policies.items()
                                                                    if k in ("cp-1", "orp-1")})
    remap = _remap(_AWS, source)
    replayed_config, _ = replay_config(source, remap, "r", "c")
    _valid("CreateDistribution", {"DistributionConfig": replayed_config})
    copies = {remap.policy_ids[k]: v for k, v in source.policies.items() if k in remap.policy_ids}
    for request in _REQUESTS:
        expected = _seen(config, source.policies, request)
        assert expected["origin"] == "api"  # about the API behavior, not vacuous (most examples are accepted)
        assert _seen(replayed_config, copies, request) == expected
