"""Sources: saved CLI output, CloudFormation/CDK templates, Terraform JSON; one result per distribution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import api_route, simulate
from runbook_lib.apigateway import CustomDomain, HttpApi, RestApi
from runbook_lib.errors import SourceError
from runbook_lib.sources import accepted, api_origins, load_source, parse
from runbook_lib.sources.cfn_shape import distribution_config
from runbook_lib.sources.intrinsics import NO_VALUE, Resolver

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = FIXTURES / "sources"
CDK_TEMPLATE = FIXTURES / "cdk_app" / "template.json"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"


def _api_behavior(config: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"].lstrip("/") == "api/*")


def _get(config: dict[str, Any], path: str, query: str = "", headers: dict[str, str] | None = None,
         policies: dict[str, Any] | None = None) -> dict[str, Any]:
    request = {"method": "GET", "path": path, "query": query,
               "headers": {"Host": "d111111abcdef8.cloudfront.net", **(headers or {})}}
    return simulate(config, request, policies).to_dict()


# --- saved CLI output ---------------------------------------------------------------------------------


def test_saved_get_distribution_config_with_etag_wrapper() -> None:
    path = SOURCES / "legacy_get_distribution_config.json"
    [source] = load_source(str(path))
    assert source.kind == "saved" and source.name == "legacy_get_distribution_config"
    assert source.config == json.loads(path.read_text())["DistributionConfig"]
    # QueryString false on /api/*: the model sees the query string dropped.
    assert _get(source.config, "/api/items", "since=2020")["origin_request"]["query"] is None
    [origin] = api_origins(source)
    found = (origin.origin_id, origin.kind, origin.origin_path, origin.api)
    assert found == ("api-origin", "execute-api", "/prod", None)


def test_saved_get_distribution_output_and_bare_config() -> None:
    data = json.loads((SOURCES / "recommended_get_distribution.json").read_text())
    [source] = parse(data, "x.json", "x")
    assert source.name == "E1RECOMMENDED0"
    [bare] = parse(data["Distribution"]["DistributionConfig"], "bare.json", "bare")
    assert bare.name == "bare" and bare.config == source.config


# --- CloudFormation and cdk synth ---------------------------------------------------------------------


def test_cdk_synth_template_reads_as_the_distribution_cdk_deploys() -> None:
    [source] = load_source(str(CDK_TEMPLATE))
    assert source.kind == "cloudformation" and source.name.startswith("Cdn")
    api = _api_behavior(source.config)
    assert api["CachePolicyId"] == CACHING_OPTIMIZED
    assert api["AllowedMethods"]["Items"][:3] == ["GET", "HEAD", "OPTIONS"]
    assert api["AllowedMethods"]["CachedMethods"]["Items"] == ["GET", "HEAD"]  # CloudFormation's default
    [origin] = api_origins(source)
    # RestApiOrigin's Fn::Select/Fn::Split/Fn::Join expression, resolved with placeholders.
    assert origin.domain.endswith(".execute-api.<region>.amazonaws.com") and origin.domain.startswith("<Api")
    assert origin.origin_path == "/prod"
    assert isinstance(origin.api, RestApi) and origin.api.stages == ["prod"]
    assert origin.api.resources == {"/items": ["GET"], "/items/{id}": ["GET"]}
    [code] = source.functions.values()
    assert "index.html" in code
    # CachingOptimized: no query string reaches the API, and /api/items misses every route of stage prod.
    sent = _get(source.config, "/api/items", "since=2020")["origin_request"]
    assert sent["query"] is None and sent["path"] == "/prod/api/items"
    assert api_route(origin.api, "GET", sent["path"])["status"] == 403


def test_yaml_template_gives_one_source_per_distribution() -> None:
    sources = load_source(str(SOURCES / "two_distributions.yaml"))
    assert [s.name for s in sources] == ["Public", "Legacy"]
    public, legacy = sources
    assert set(public.policies) == {"<ApiCachePolicy>", "<ApiOriginRequestPolicy>"} and legacy.policies == {}
    cache = public.policies["<ApiCachePolicy>"]["CachePolicyConfig"]
    assert cache["Name"] == "<stack>-api"  # Fn::Sub with a pseudo parameter
    assert cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"] == {
        "Quantity": 1, "Items": ["Authorization"]}
    assert list(public.functions) == ["<StripApi.FunctionARN>"]
    origin = public.config["Origins"]["Items"][0]
    assert origin["DomainName"] == "api.example.com"  # a parameter's Default
    assert origin["CustomHeaders"]["Items"] == [{"HeaderName": "X-From-CloudFront", "HeaderValue": "1"}]
    sent = _get(public.config, "/api/orders/7", "a=1", {"Authorization": "Bearer t"}, public.policies)
    assert sent["origin_request"]["query"] == "a=1" and "authorization" in sent["origin_request"]["headers"]
    [api_origin] = api_origins(public)
    domain = api_origin.api
    assert api_origin.kind == "custom-domain" and isinstance(domain, CustomDomain)
    assert [(m.base_path, m.api_id, m.stage) for m in domain.mappings] == [("api", "<HttpApi>", "$default")]
    assert isinstance(domain.apis["<HttpApi>"], HttpApi)
    assert api_route(domain, "GET", "/api/orders/7")["route"] == "GET /orders/{id}"
    # The second distribution's origin is the domain's regional name: still that custom domain.
    [regional] = api_origins(legacy)
    assert regional.kind == "custom-domain" and regional.api is domain
    fv = legacy.config["DefaultCacheBehavior"]["ForwardedValues"]
    assert fv["Cookies"]["WhitelistedNames"] == {"Quantity": 1, "Items": ["session"]}


# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
INTRINSICS = [
    ({"Ref": "AWS::Region"}, "<region>"),
    ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
    ({"Ref": "Env"}, "prod"),  # parameter default
    ({"Ref": "NoDefault"}, "<NoDefault>"),
    ({"Ref": "Api"}, "<Api>"),
    ({"Ref": "Stage"}, "v1"),  # Ref of a stage is its StageName
    ({"Fn::GetAtt": "Api.RootResourceId"}, "<Api.RootResourceId>"),
    ({"Fn::GetAtt": ["Api", "RootResourceId"]}, "<Api.RootResourceId>"),
    ({"Fn::Sub": "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}, "<Api>.execute-api.<region>.amazonaws.com"),
    ({"Fn::Sub": ["/${S}/x", {"S": {"Ref": "Stage"}}]}, "/v1/x"),
    ({"Fn::Sub": "${!Literal}-${Api.Arn}"}, "${Literal}-<Api.Arn>"),
    ({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}, "a-prod"),
    ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
    ({"Fn::FindInMap": ["Regions", "eu", "domain"]}, "eu.example.com"),
    ({"Fn::ImportValue": "shared-api"}, "<import shared-api>"),
]
TEMPLATE = {
    "Parameters": {"Env": {"Type": "String", "Default": "prod"}, "NoDefault": {"Type": "String"}},
    "Mappings": {"Regions": {"eu": {"domain": "eu.example.com"}}},
    "Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
                  "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"StageName": "v1"}}},
}


@pytest.mark.parametrize(("node", "expected"), INTRINSICS)
def test_intrinsics(node: Any, expected: Any) -> None:
    assert Resolver(TEMPLATE).value(node) == expected


def test_no_value_removes_the_property() -> None:
    r = Resolver(TEMPLATE)
    assert r.value({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}
    assert r.value({"Ref": "AWS::NoValue"}) is NO_VALUE


# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html vs
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-cloudfront-distribution-distributionconfig.html
def test_cloudformation_shape_becomes_the_api_shape() -> None:
    config = distribution_config({
        "Origins": [{"Id": "o", "DomainName": "x.example.com",
                     "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}}],
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "TrustedSigners": ["self"]},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "whitelist", "Locations": ["DE", "FR"]}},
    }, caller_reference="r")
    assert config["Origins"]["Items"][0]["CustomOriginConfig"]["HTTPSPort"] == 443
    assert config["Origins"]["Items"][0]["OriginPath"] == ""
    assert config["DefaultCacheBehavior"]["TrustedSigners"] == {"Enabled": True, "Quantity": 1, "Items": ["self"]}
    assert config["Restrictions"]["GeoRestriction"] == {"RestrictionType": "whitelist", "Quantity": 2,
                                                        "Items": ["DE", "FR"]}
    assert config["CacheBehaviors"] == {"Quantity": 0, "Items": []}


# --- Terraform ----------------------------------------------------------------------------------------


def test_terraform_plan_with_all_viewer() -> None:
    [source] = load_source(str(SOURCES / "terraform_plan_allviewer.json"))
    assert source.kind == "terraform" and source.name == "aws_cloudfront_distribution.shop"
    api = _api_behavior(source.config)
    assert api["OriginRequestPolicyId"] == ALL_VIEWER
    # The viewer's Host reaches API Gateway, which refuses it.
    assert _get(source.config, "/api/items")["origin_status"] == 403
    # A policy created in the same plan: its unknown ID is one placeholder on both sides.
    search = next(b for b in source.config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/search/*")
    assert search["CachePolicyId"] == "<aws_cloudfront_cache_policy.search.id>"
    keys = source.policies[search["CachePolicyId"]]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert keys["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": {"Quantity": 1,
                                                                                               "Items": ["q"]}}
    assert _get(source.config, "/search/x", "q=1&p=2", policies=source.policies)["origin_request"]["query"] == "q=1"
    assert list(source.functions) == ["<aws_cloudfront_function.index.arn>"]
    [origin] = api_origins(source)
    api_origin = next(o for o in source.config["Origins"]["Items"] if o["Id"] == "api")
    assert "S3OriginConfig" not in api_origin
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert isinstance(origin.api, RestApi)
    assert origin.api.resources == {"/items": ["GET"], "/items/{id}": ["ANY"]} and origin.api.stages == ["prod"]


def test_terraform_state_reads_http_api_with_mapping() -> None:
    state = {"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {"resources": [
        {"address": "aws_apigatewayv2_api.h", "mode": "managed", "type": "aws_apigatewayv2_api", "name": "h",
         "values": {"id": "h1", "name": "h", "protocol_type": "HTTP"}},
        {"address": "aws_apigatewayv2_route.r", "mode": "managed", "type": "aws_apigatewayv2_route", "name": "r",
         "values": {"api_id": "h1", "route_key": "GET /items"}},
        {"address": "aws_apigatewayv2_stage.s", "mode": "managed", "type": "aws_apigatewayv2_stage", "name": "s",
         "values": {"api_id": "h1", "name": "$default"}},
        {"address": "aws_apigatewayv2_domain_name.d", "mode": "managed", "type": "aws_apigatewayv2_domain_name",
         "name": "d", "values": {"domain_name": "api.example.com", "domain_name_configuration": [
             {"target_domain_name": "d-abc.execute-api.eu-west-1.amazonaws.com"}]}},
        {"address": "aws_apigatewayv2_api_mapping.m", "mode": "managed", "type": "aws_apigatewayv2_api_mapping",
         "name": "m", "values": {"api_id": "h1", "domain_name": "api.example.com", "stage": "$default",
                                 "api_mapping_key": "api"}},
        {"address": "aws_cloudfront_distribution.d", "mode": "managed", "type": "aws_cloudfront_distribution",
         "name": "d", "values": {
             "enabled": True,
             "origin": [{"origin_id": "o", "domain_name": "api.example.com",
                         "custom_origin_config": [{"origin_protocol_policy": "https-only"}]}],
             "default_cache_behavior": [{"target_origin_id": "o", "viewer_protocol_policy": "https-only",
                                         "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}]}},
    ]}}}
    [source] = parse(state, "state.json")
    [origin] = api_origins(source)
    assert origin.kind == "custom-domain" and isinstance(origin.api, CustomDomain)
    assert api_route(origin.api, "GET", "/api/items")["route"] == "GET /items"


# --- what is not a source -----------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "says"), [
    ('{"hello": 1}', "not a recognised format"),
    ("- just\n- a list\n", "not a recognised format"),
    ('{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}', "no AWS::CloudFront::Distribution"),
    ('{"format_version": "1.0", "values": {"root_module": {}}}', "no aws_cloudfront_distribution"),
    ("{{{ not: [json", "neither JSON nor YAML"),
])
def test_anything_else_is_one_line_naming_the_accepted_formats(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "input.txt"
    path.write_text(content)
    with pytest.raises(SourceError) as info:
        load_source(str(path))
    message = str(info.value)
    assert says in message and accepted() in message and "\n" not in message


def test_missing_file_and_bare_distribution_prefix() -> None:
    with pytest.raises(SourceError, match="Cannot read source"):
        load_source("/nonexistent/dist.json")
    with pytest.raises(SourceError, match="needs a distribution ID and a target"):
        load_source("distribution:")


def test_api_origins_lambda_url_and_named() -> None:
    data = json.loads((SOURCES / "recommended_get_distribution.json").read_text())
    [source] = parse(data, "x.json")
    source.config["Origins"]["Items"][0]["DomainName"] = "abcdefg.lambda-url.eu-west-1.on.aws"
    found = [(o.origin_id, o.kind) for o in api_origins(source)]
    assert found == [("site", "lambda-url"), ("api-origin", "execute-api")]
    source.config["Origins"]["Items"][0]["DomainName"] = "backend.example.com"
    assert [o.kind for o in api_origins(source, ["site"])] == ["named", "execute-api"]
    with pytest.raises(SourceError, match="no such origin.*origins: site, api-origin"):
        api_origins(source, ["nope"])


@pytest.mark.opt_in
def test_the_cdk_fixture_is_what_its_app_synthesizes(tmp_path: Path) -> None:
    # The template is real `cdk synth` output: the app kept beside it, synthesized again with the aws-cdk-lib that
    # `make test` installs (RUNBOOK_CDK_PYTHON), gives the same template, resource for resource.
    import os
    import shutil
    import subprocess

    python = os.environ.get("RUNBOOK_CDK_PYTHON", "")
    if not python or not shutil.which("node"):
        pytest.skip("set RUNBOOK_CDK_PYTHON to a Python with aws-cdk-lib installed (make test does)")
    shutil.copy(CDK_TEMPLATE.parent / "app.py", tmp_path / "app.py")
    done = subprocess.run([python, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    synthesized = json.loads((tmp_path / "cdk.out" / "RunbookCheckCdk.template.json").read_text())
    assert synthesized == json.loads(CDK_TEMPLATE.read_text())
