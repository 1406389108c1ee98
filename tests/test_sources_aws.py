"""distribution:<ID>: the read-only boto3 reader, every request checked by botocore Stubber against AWS's model."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from runbook_lib import api_route
from runbook_lib.apigateway import CustomDomain, HttpApi, RestApi
from runbook_lib.aws.read import read_distribution
from runbook_lib.errors import ProvisioningError
from runbook_lib.sources import api_origins, load_source
from tests.stubbing import stubbed_aws

SAVED = Path(__file__).parent / "fixtures" / "sources" / "recommended_get_distribution.json"
REGION = "eu-west-1"
CUSTOM_CP = "11111111-2222-3333-4444-555555555555"
FN_ARN = "arn:aws:cloudfront::123456789012:function/strip-api"


def _config() -> dict[str, Any]:
    config: dict[str, Any] = copy.deepcopy(json.loads(SAVED.read_text())["Distribution"]["DistributionConfig"])
    api = config["CacheBehaviors"]["Items"][0]
    api["CachePolicyId"] = CUSTOM_CP
    api["FunctionAssociations"] = {"Quantity": 1, "Items": [{"FunctionARN": FN_ARN, "EventType": "viewer-request"}]}
    origins = config["Origins"]["Items"]
    origins.append({**origins[1], "Id": "v2", "DomainName": "h77.execute-api.eu-west-1.amazonaws.com",
                    "OriginPath": ""})
    origins.append({**origins[1], "Id": "domain", "DomainName": "api.example.com", "OriginPath": ""})
    origins.append({**origins[1], "Id": "far", "DomainName": "zz9.execute-api.us-east-1.amazonaws.com"})
    return config


CACHE_POLICY = {"CachePolicy": {"Id": CUSTOM_CP, "LastModifiedTime": "2026-11-01T00:00:00Z", "CachePolicyConfig": {
    "Name": "api-auth", "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 1,
    "ParametersInCacheKeyAndForwardedToOrigin": {
        "EnableAcceptEncodingGzip": False,
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Authorization"]}},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "all"}}}}}


def _queue_apis(stub: Any, v2: Stubber) -> None:
    # origin "api-origin": a REST API
    stub.ok("apigateway", "GetRestApi", {"id": "a1b2c3d4e5", "name": "shop"}, {"restApiId": "a1b2c3d4e5"})
    stub.ok("apigateway", "GetResources", {"items": [
        {"id": "r0", "path": "/"},
        {"id": "r1", "path": "/items", "resourceMethods": {"GET": {}, "POST": {}}},
        {"id": "r2", "path": "/items/{id}", "resourceMethods": {"ANY": {}}}]},
        {"restApiId": "a1b2c3d4e5", "embed": ["methods"]})
    stub.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a1b2c3d4e5"})
    # origin "v2": not a REST API, an HTTP API
    stub.error("apigateway", "GetRestApi", "NotFoundException", "Invalid API identifier", 404, {"restApiId": "h77"})
    v2.add_response("get_api", {"ApiId": "h77", "Name": "orders", "ProtocolType": "HTTP",
                                "RouteSelectionExpression": "${request.method} ${request.path}"}, {"ApiId": "h77"})
    v2.add_response("get_routes", {"Items": [{"RouteKey": "GET /orders/{id}", "RouteId": "x"},
                                             {"RouteKey": "$default", "RouteId": "y"}]}, {"ApiId": "h77"})
    v2.add_response("get_stages", {"Items": [{"StageName": "$default"}]}, {"ApiId": "h77"})
    # origin "domain": a custom domain with routing rules, pointing at the REST API already read
    v2.add_response("get_domain_name", {"DomainName": "api.example.com",
                                        "RoutingMode": "ROUTING_RULE_THEN_API_MAPPING"},
                    {"DomainName": "api.example.com"})
    v2.add_response("get_api_mappings", {"Items": [{"ApiId": "a1b2c3d4e5", "Stage": "prod", "ApiMappingKey": "api"}]},
                    {"DomainName": "api.example.com"})
    v2.add_response("list_routing_rules", {"RoutingRules": [{
        "Priority": 5, "Conditions": [{"MatchHeaders": {"AnyOf": [{"Header": "x-beta", "ValueGlob": "1"}]}}],
        "Actions": [{"InvokeApi": {"ApiId": "h77", "Stage": "$default", "StripBasePath": True}}]}]},
        {"DomainName": "api.example.com"})


def test_reads_distribution_policies_functions_and_apis() -> None:
    with stubbed_aws(REGION) as stub:
        v2 = Stubber(stub.target.client("apigatewayv2"))
        v2.activate()
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": _config(), "ETag": "E1"}, {"Id": "E1X"})
        _queue_apis(stub, v2)
        stub.ok("cloudfront", "GetCachePolicy", CACHE_POLICY, {"Id": CUSTOM_CP})
        stub.ok("cloudfront", "GetFunction", {"FunctionCode": b"function handler(e) { return e.request; }",
                                              "ETag": "E2", "ContentType": "application/octet-stream"},
                {"Name": "strip-api", "Stage": "LIVE"})
        [source] = load_source("distribution:E1X", stub.target)
        stub.assert_done()
        v2.assert_no_pending_responses()
    assert source.kind == "distribution" and source.name == "E1X"
    assert source.policies[CUSTOM_CP]["CachePolicyConfig"]["Name"] == "api-auth"
    assert source.functions == {FN_ARN: "function handler(e) { return e.request; }"}
    rest, http = source.apis["a1b2c3d4e5"], source.apis["h77"]
    assert isinstance(rest, RestApi) and rest.resources["/items"] == ["GET", "POST"] and rest.stages == ["prod"]
    assert isinstance(http, HttpApi) and http.routes == ["GET /orders/{id}", "$default"]
    domain = source.domains["api.example.com"]
    assert isinstance(domain, CustomDomain) and domain.rules[0].api_id == "h77"
    assert api_route(domain, "GET", "/api/items")["route"] == "GET /items"
    assert api_route(domain, "GET", "/orders/3", headers={"X-Beta": "1"})["route"] == "GET /orders/{id}"
    assert any("zz9 is in us-east-1" in n for n in source.notes)
    kinds = {o.origin_id: o.kind for o in api_origins(source)}
    assert kinds == {"api-origin": "execute-api", "v2": "execute-api", "domain": "custom-domain", "far": "execute-api"}


def test_an_unknown_distribution_is_a_typed_error() -> None:
    with stubbed_aws(REGION) as stub:
        stub.error("cloudfront", "GetDistributionConfig", "NoSuchDistribution",
                   "The specified distribution does not exist.", 404, {"Id": "ENOPE"})
        with pytest.raises(ProvisioningError, match="GetDistributionConfig ENOPE failed: NoSuchDistribution") as info:
            read_distribution(stub.target, "ENOPE")
        assert info.value.code == "NoSuchDistribution"


def _summary(dist_id: str) -> dict[str, Any]:
    return {"Id": dist_id, "ARN": f"arn:aws:cloudfront::123456789012:distribution/{dist_id}", "Status": "Deployed",
            "LastModifiedTime": "2026-11-01T00:00:00Z", "DomainName": f"{dist_id.lower()}.cloudfront.net",
            "Aliases": {"Quantity": 0},
            "Origins": {"Quantity": 1, "Items": [{"Id": "x", "DomainName": "example.com",
                                                  "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                                         "OriginProtocolPolicy": "https-only"}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "x", "ViewerProtocolPolicy": "allow-all"},
            "CacheBehaviors": {"Quantity": 0}, "CustomErrorResponses": {"Quantity": 0}, "Comment": "",
            "PriceClass": "PriceClass_All", "Enabled": True,
            "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
            "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}}, "WebACLId": "",
            "HttpVersion": "http2", "IsIPV6Enabled": True, "Staging": False}


def test_check_all_lists_every_page_and_checks_each_distribution() -> None:
    from runbook_lib.runbook import fleet

    good = json.loads(SAVED.read_text())["Distribution"]["DistributionConfig"]
    good["Origins"]["Items"][1]["DomainName"] = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"  # other region
    legacy = json.loads((SAVED.parent / "legacy_get_distribution_config.json").read_text())["DistributionConfig"]
    legacy["Origins"]["Items"][1]["DomainName"] = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    with stubbed_aws(REGION) as stub:
        page = {"Marker": "", "MaxItems": 1, "IsTruncated": True, "Quantity": 1}
        stub.ok("cloudfront", "ListDistributions", {"DistributionList": {
            **page, "NextMarker": "m2", "Items": [_summary("EGOOD")]}}, {})
        stub.ok("cloudfront", "ListDistributions", {"DistributionList": {
            **page, "IsTruncated": False, "Quantity": 2, "Items": [_summary("ELEGACY"), _summary("EGONE")]}},
            {"Marker": "m2"})
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": good, "ETag": "1"}, {"Id": "EGOOD"})
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": legacy, "ETag": "2"}, {"Id": "ELEGACY"})
        stub.error("cloudfront", "GetDistributionConfig", "AccessDenied", "not allowed", 403, {"Id": "EGONE"})
        result = fleet.check_all([("", stub.target)], "query-strings,host-is-api", workers=1)
        stub.assert_done()
    names = [d.name for d in result.distributions]
    assert names == ["EGOOD", "ELEGACY", "EGONE"]
    good_check, legacy_check, gone = result.distributions
    assert good_check.ok and not legacy_check.ok and not result.ok
    assert gone.findings[0]["code"] == "unreadable" and "AccessDenied" in gone.findings[0]["effect"]
    assert fleet.counts(result) == {"distributions": 3, "ok": 1, "failed": 2, "no_api_behavior": 0}


# --- the local target: MiniStack's address of an API is read as its AWS form ---------------------------------
# AWS form: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html (the
# execute-api domain, the stage as OriginPath); the local address: docs/deviations.md, ``local-origin-address``.

@pytest.mark.parametrize(("domain", "path", "expected"), [
    ("localhost", "/restapis/abc123/prod/_user_request_", ("abc123", "prod")),
    ("127.0.0.1", "/restapis/abc123/dev/_user_request_", ("abc123", "dev")),
    ("localhost", "/_aws/execute-api/abc123", ("abc123", None)),
    ("localhost", "/_aws/execute-api/abc123/prod", ("abc123", "prod")),
    ("example.com", "/restapis/abc123/prod/_user_request_", None),  # only MiniStack's own host
    ("localhost", "/prod", None),
    ("localhost", "/restapis/abc123/prod", None),
    ("abc123.execute-api.us-east-1.amazonaws.com", "/prod", None),  # already the AWS form
])
def test_local_api_address_recognises_ministacks_path_style_origins(domain: str, path: str,
                                                                    expected: tuple[str, str | None] | None) -> None:
    from runbook_lib.aws.target import local_api_address

    assert local_api_address({"Id": "api", "DomainName": domain, "OriginPath": path}) == expected


def test_what_the_local_target_writes_is_read_back_and_given_its_aws_form() -> None:
    from runbook_lib.aws.target import (
        Target,
        aws_api_origin,
        aws_api_stage_origin,
        local_api_address,
        origins_as_on_aws,
    )

    local = Target("local", "us-east-1", "http://127.0.0.1:4566")
    staged, stageless = local.api_origin("abc123", "prod"), local.api_stage_origin("abc123")
    assert local_api_address(staged) == ("abc123", "prod") and local_api_address(stageless) == ("abc123", None)
    site = {"Id": "site", "DomainName": "b.s3.us-east-1.amazonaws.com", "S3OriginConfig": {}}
    config = {"Origins": {"Quantity": 3, "Items": [site, {"Id": "api", **staged}, {"Id": "v1", **stageless}]}}
    aws, changed = origins_as_on_aws(config, "eu-west-1")
    assert changed == ["api", "v1"]
    assert aws["Origins"]["Items"] == [site, {"Id": "api", **aws_api_origin("abc123", "prod", "eu-west-1")},
                                       {"Id": "v1", **aws_api_stage_origin("abc123", "eu-west-1")}]
    assert origins_as_on_aws(aws, "eu-west-1") == (aws, [])  # the AWS form is left as it is


def _local_api_config() -> dict[str, Any]:
    from runbook_lib.aws.target import Target

    config: dict[str, Any] = copy.deepcopy(json.loads(SAVED.read_text())["Distribution"]["DistributionConfig"])
    api = config["Origins"]["Items"][1]
    api.update(Target("local", "us-east-1", "http://127.0.0.1:4566").api_origin("a1b2c3d4e5", "prod"))
    return config


def test_a_local_distribution_is_read_in_its_aws_form_and_its_api_read_from_the_target() -> None:
    from runbook_lib.runbook.check import check_source

    with stubbed_aws("us-east-1") as stub:
        stub.target.name = "local"  # the same reader, as it runs against MiniStack
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": _local_api_config(), "ETag": "E1"},
                {"Id": "ELOCAL"})
        stub.ok("apigateway", "GetRestApi", {"id": "a1b2c3d4e5", "name": "echo"}, {"restApiId": "a1b2c3d4e5"})
        stub.ok("apigateway", "GetResources", {"items": [
            {"id": "r0", "path": "/"}, {"id": "r1", "path": "/api/{proxy+}", "resourceMethods": {"ANY": {}}}]},
            {"restApiId": "a1b2c3d4e5", "embed": ["methods"]})
        stub.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]}, {"restApiId": "a1b2c3d4e5"})
        [source] = load_source("distribution:ELOCAL", stub.target)
        stub.assert_done()
    api = source.config["Origins"]["Items"][1]
    assert (api["DomainName"], api["OriginPath"]) == ("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "/prod")
    assert source.notes == ["Origin api-origin: the local address localhost/restapis/a1b2c3d4e5/prod/_user_request_ "
                            "was read as its AWS form a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod."]
    assert isinstance(source.apis["a1b2c3d4e5"], RestApi)
    [behavior] = check_source(source, ["path-reaches-route"]).behaviors
    assert behavior.requirements[0]["met"] is True, behavior.requirements


def test_on_aws_a_localhost_origin_is_not_taken_for_the_local_api() -> None:
    with stubbed_aws("us-east-1") as stub:
        v2 = Stubber(stub.target.client("apigatewayv2"))
        v2.activate()
        stub.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": _local_api_config(), "ETag": "E1"},
                {"Id": "EAWS"})
        v2.add_client_error("get_domain_name", "NotFoundException", "no such domain", 404,
                            expected_params={"DomainName": "localhost"})
        [source] = load_source("distribution:EAWS", stub.target)
        stub.assert_done()
        v2.assert_no_pending_responses()
    assert source.config == _local_api_config() and source.notes == [] and source.apis == {}
