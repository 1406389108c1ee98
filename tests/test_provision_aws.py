"""provision on target="aws": every request checked against botocore's own service model.

Real AWS cannot be reached from the tests, so each AWS call of build/teardown/find is answered by a
``botocore.stub.Stubber`` (tests/stubbing.py): the client validates the request against the service
model and serialises it, the Stubber checks the operation order and the parameters that matter, and
answers with a response that is itself validated against the operation's output shape. An operation
the test did not queue raises, so "no Delete call" is asserted by queueing none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import ANY, StubAssertionError

from runbook_lib.aws import distribution, provision, teardown
from runbook_lib.cloudfront.configs import API_AUTH_AND_QUERY, to_cache_policy_config
from runbook_lib.cloudfront.policies import ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED
from runbook_lib.cloudfront.policies import ALL_VIEWER_EXCEPT_HOST_HEADER as ALL_VIEWER_EXCEPT_HOST
from runbook_lib.errors import ProvisioningError

try:
    from tests import stubbing as aws_stubs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]

ACCOUNT = aws_stubs.ACCOUNT
STACK = "rb-test"
TAG = {"Key": "runbook:stack", "Value": STACK}
COMMENT = "runbook:stack=rb-test"
ROLE = "rb-test-echo-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
FUNCTION = "rb-test-echo"
API_NAME = "rb-test-echo-api"
API_ID = "a1b2c3d4e5"
OAC_NAME = "rb-test-oac"
OAC_ID = "E3OACEXAMPLE01"
POLICY_NAME = "rb-test-api-auth-and-query"
POLICY_ID = "4d1f5b7e-1111-4a2b-9c3d-0123456789ab"
POLICY_TAG = {"Key": f"runbook:policy:{POLICY_ID}", "Value": "cache"}
DIST_ID = "E1ABCDEF2GHIJK"
DIST_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DIST_ID}"
DOMAIN = "d111111abcdef8.cloudfront.net"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]

#: What the /api/* behavior must carry for each preset (presets.py; docs/aws-behaviour.md).
PRESET_FIELDS: dict[str, dict[str, Any]] = {
    "recommended": {"CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST},
    "allviewer": {"CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER},
    "caching-optimized": {"CachePolicyId": CACHING_OPTIMIZED},
    "custom-auth-in-key": {"CachePolicyId": POLICY_ID},
    "legacy-no-query": {
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}, "Headers": {"Quantity": 0},
                            "QueryStringCacheKeys": {"Quantity": 0}},
        "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0,
    },
}


def fn_arn(region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{FUNCTION}"


def bucket(region: str) -> str:
    return f"rb-test-site-{ACCOUNT}-{region}"


def expected_config(region: str, preset: str, caller_reference: Any = ANY,
                    comment: str = COMMENT) -> dict[str, Any]:
    """The DistributionConfig build must send, written out: S3 via OAC by default, /api/* → the API stage."""
    return {
        "CallerReference": caller_reference,
        "Comment": comment,
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "PriceClass": "PriceClass_100",
        "HttpVersion": "http2",
        "Origins": {"Quantity": 2, "Items": [
            {"Id": "site", "DomainName": f"{bucket(region)}.s3.{region}.amazonaws.com", "OriginPath": "",
             "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": OAC_ID},
            # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html
            {"Id": "api", "DomainName": f"{API_ID}.execute-api.{region}.amazonaws.com", "OriginPath": "/prod",
             "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}},
        ]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": True, "CachePolicyId": CACHING_OPTIMIZED,
        },
        "CacheBehaviors": {"Quantity": 1, "Items": [{
            "PathPattern": "/api/*", "TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 7, "Items": ALL_METHODS,
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": False,
            **PRESET_FIELDS[preset],
        }]},
    }


def deployed_config(region: str, preset: str, caller_reference: str = "rb-test-1764322200000000000",
                    enabled: bool = True) -> dict[str, Any]:
    """What GetDistributionConfig returns for a distribution an earlier build made with ``preset``."""
    config = aws_stubs.as_returned(expected_config(region, preset, caller_reference))
    config["Enabled"] = enabled
    return config


def bucket_policy_for(distribution_arn: str, bucket_name: str) -> aws_stubs.JsonDoc:
    def check(doc: Any) -> bool:
        [statement] = doc["Statement"]
        return bool(
            statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            and statement["Action"] == "s3:GetObject"
            and statement["Resource"] == f"arn:aws:s3:::{bucket_name}/*"
            and statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn}}
        )
    return aws_stubs.JsonDoc(check, f"read-only for {distribution_arn}")


LAMBDA_TRUST = aws_stubs.JsonDoc(
    lambda doc: doc["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}],
    "lambda.amazonaws.com may assume the role",
)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record time.sleep calls instead of waiting."""
    slept: list[float] = []
    monkeypatch.setattr("runbook_lib.aws.distribution.time.sleep", slept.append)
    return slept


@pytest.fixture
def eu() -> Iterator[aws_stubs.StubbedAws]:
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        yield aws


# --- the queued conversations ------------------------------------------------------------------


def queue_fresh_build(aws: aws_stubs.StubbedAws, region: str, preset: str, lambda_retries: int = 0,
                      pin_distribution: bool = True) -> None:
    """Every call of a first build, per service in the order build makes them.

    ``pin_distribution=False`` leaves CreateDistributionWithTags unpinned (the Stubber compares
    ``expected_params`` before the model validates the request).
    """
    b = bucket(region)
    aws.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})

    aws.error("iam", "GetRole", "NoSuchEntity", f"The role with name {ROLE} cannot be found.", 404,
              {"RoleName": ROLE})
    aws.ok("iam", "CreateRole", aws_stubs.role(ROLE, [TAG]),
           {"RoleName": ROLE, "AssumeRolePolicyDocument": LAMBDA_TRUST, "Description": ANY, "Tags": [TAG]})
    aws.ok("iam", "AttachRolePolicy", {}, {
        "RoleName": ROLE, "PolicyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"})

    aws.error("lambda", "GetFunction", "ResourceNotFoundException",
              f"Function not found: {fn_arn(region)}", 404, {"FunctionName": FUNCTION})
    create_function = {
        "FunctionName": FUNCTION, "Runtime": "python3.12", "Role": ROLE_ARN, "Handler": "echo_lambda.handler",
        "Code": {"ZipFile": ANY}, "Timeout": 10, "MemorySize": 128, "Description": ANY,
        "Tags": {"runbook:stack": STACK},
    }
    for _ in range(lambda_retries):
        # What Lambda answers while a new role has not propagated to it yet.
        aws.error("lambda", "CreateFunction", "InvalidParameterValueException",
                  "The role defined for the function cannot be assumed by Lambda.", 400, create_function)
    aws.ok("lambda", "CreateFunction", aws_stubs.function_config(FUNCTION, region, ROLE_ARN, "Pending"),
           create_function)
    # The function_active_v2 waiter polls GetFunction until Configuration.State is Active.
    aws.ok("lambda", "GetFunction", aws_stubs.function(FUNCTION, region, ROLE_ARN, {"runbook:stack": STACK}),
           {"FunctionName": FUNCTION})
    aws.ok("lambda", "AddPermission", {"Statement": "{}"}, {
        "FunctionName": fn_arn(region), "StatementId": "rb-test-apigateway-invoke",
        "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com",
        "SourceArn": f"arn:aws:execute-api:{region}:{ACCOUNT}:{API_ID}/*/*/*"})

    uri = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn(region)}/invocations"
    aws.ok("apigateway", "GetRestApis", {"items": []}, {})
    aws.ok("apigateway", "CreateRestApi", aws_stubs.rest_api(API_ID, API_NAME, {"runbook:stack": STACK}),
           {"name": API_NAME, "description": ANY, "endpointConfiguration": {"types": ["REGIONAL"]},
            "tags": {"runbook:stack": STACK}})
    aws.ok("apigateway", "GetResources", {"items": [{"id": "root00", "path": "/"}]},
           {"restApiId": API_ID, "limit": 500})
    for parent, part, rid, path in (("root00", "api", "res001", "/api"),
                                    ("res001", "{proxy+}", "res002", "/api/{proxy+}")):
        aws.ok("apigateway", "CreateResource", {"id": rid, "parentId": parent, "pathPart": part, "path": path},
               {"restApiId": API_ID, "parentId": parent, "pathPart": part})
        aws.ok("apigateway", "PutMethod", {"httpMethod": "ANY", "authorizationType": "NONE"},
               {"restApiId": API_ID, "resourceId": rid, "httpMethod": "ANY", "authorizationType": "NONE"})
        aws.ok("apigateway", "PutIntegration", {"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri},
               {"restApiId": API_ID, "resourceId": rid, "httpMethod": "ANY", "type": "AWS_PROXY",
                "integrationHttpMethod": "POST", "uri": uri})
    aws.ok("apigateway", "GetStages", {"item": []}, {"restApiId": API_ID})
    aws.ok("apigateway", "CreateDeployment", {"id": "dep001", "createdDate": aws_stubs.WHEN},
           {"restApiId": API_ID, "stageName": "prod"})

    aws.error("s3", "HeadBucket", "404", "Not Found", 404, {"Bucket": b})
    create_bucket: dict[str, Any] = {"Bucket": b}
    if region != "us-east-1":  # us-east-1 refuses a LocationConstraint naming itself
        create_bucket["CreateBucketConfiguration"] = {"LocationConstraint": region}
    aws.ok("s3", "CreateBucket", {"Location": f"http://{b}.s3.amazonaws.com/"}, create_bucket)
    aws.ok("s3", "PutBucketTagging", {}, {"Bucket": b, "Tagging": {"TagSet": [TAG]}})
    aws.ok("s3", "PutObject", {"ETag": '"0123456789abcdef0123456789abcdef"'},
           {"Bucket": b, "Key": "index.html", "Body": provision.INDEX_HTML,
            "ContentType": "text/html; charset=utf-8"})

    oac_config = {"Name": OAC_NAME, "Description": ANY, "SigningProtocol": "sigv4",
                  "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
    aws.ok("cloudfront", "ListOriginAccessControls", aws_stubs.oac_list(), {})
    aws.ok("cloudfront", "CreateOriginAccessControl",
           {"OriginAccessControl": {"Id": OAC_ID, "OriginAccessControlConfig": {
               **oac_config, "Description": "Site bucket"}}, "ETag": "EOAC1"},
           {"OriginAccessControlConfig": oac_config})
    if preset == "custom-auth-in-key":
        policy_config = {**to_cache_policy_config(API_AUTH_AND_QUERY), "Name": POLICY_NAME}
        aws.ok("cloudfront", "ListCachePolicies", aws_stubs.cache_policy_list(), {"Type": "custom"})
        aws.ok("cloudfront", "CreateCachePolicy",
               {"CachePolicy": aws_stubs.cache_policy(POLICY_ID, policy_config), "ETag": "ECP1"},
               {"CachePolicyConfig": policy_config})
    aws.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(), {})
    config = expected_config(region, preset)
    sent = {**config, "CallerReference": "rb-test-1"}
    aws.ok("cloudfront", "CreateDistributionWithTags",
           {"Distribution": aws_stubs.distribution(DIST_ID, sent, "InProgress"), "ETag": "E1"},
           {"DistributionConfigWithTags": {"DistributionConfig": config, "Tags": {"Items": [TAG] + (
               # The policy it created is recorded on the distribution (policies take no tags).
               [POLICY_TAG] if preset == "custom-auth-in-key" else [])}}}
           if pin_distribution else None)
    aws.ok("cloudfront", "GetDistribution",
           {"Distribution": aws_stubs.distribution(DIST_ID, sent, "Deployed"), "ETag": "E1"}, {"Id": DIST_ID})

    aws.ok("s3", "PutBucketPolicy", {}, {"Bucket": b, "Policy": bucket_policy_for(DIST_ARN, b)})


def queue_rerun(aws: aws_stubs.StubbedAws, region: str, deployed_preset: str, new_preset: str,
                policy_exists: bool = True) -> None:
    """A build where everything exists already, made earlier with ``deployed_preset`` (the custom cache
    policy too, unless ``policy_exists`` is false)."""
    b = bucket(region)
    aws.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    aws.ok("iam", "GetRole", aws_stubs.role(ROLE, [TAG]), {"RoleName": ROLE})
    aws.ok("lambda", "GetFunction", aws_stubs.function(FUNCTION, region, ROLE_ARN, {"runbook:stack": STACK}),
           {"FunctionName": FUNCTION})
    aws.error("lambda", "AddPermission", "ResourceConflictException",
              "The statement id (rb-test-apigateway-invoke) provided already exists.", 409,
              {"FunctionName": fn_arn(region), "StatementId": "rb-test-apigateway-invoke",
               "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com",
               "SourceArn": f"arn:aws:execute-api:{region}:{ACCOUNT}:{API_ID}/*/*/*"})

    aws.ok("apigateway", "GetRestApis", {"items": [
        aws_stubs.rest_api("zzz999zzz9", "someone-elses-api", {"team": "payments"}),
        aws_stubs.rest_api(API_ID, API_NAME, {"runbook:stack": STACK}),
    ]}, {})
    any_method = {"ANY": {"httpMethod": "ANY", "authorizationType": "NONE"}}
    aws.ok("apigateway", "GetResources", {"items": [
        {"id": "root00", "path": "/"},
        {"id": "res001", "parentId": "root00", "pathPart": "api", "path": "/api", "resourceMethods": any_method},
        {"id": "res002", "parentId": "res001", "pathPart": "{proxy+}", "path": "/api/{proxy+}",
         "resourceMethods": any_method},
    ]}, {"restApiId": API_ID, "limit": 500})
    aws.ok("apigateway", "GetStages", {"item": [{"stageName": "prod", "deploymentId": "dep001"}]},
           {"restApiId": API_ID})

    aws.ok("s3", "HeadBucket", {"BucketRegion": region}, {"Bucket": b})
    aws.ok("s3", "PutObject", {"ETag": '"0123456789abcdef0123456789abcdef"'},
           {"Bucket": b, "Key": "index.html", "Body": provision.INDEX_HTML,
            "ContentType": "text/html; charset=utf-8"})

    aws.ok("cloudfront", "ListOriginAccessControls", aws_stubs.oac_list(
        aws_stubs.oac("E9OTHER", "other-oac"), aws_stubs.oac(OAC_ID, OAC_NAME)), {})
    if new_preset == "custom-auth-in-key":
        policy_config = {**to_cache_policy_config(API_AUTH_AND_QUERY), "Name": POLICY_NAME}
        found = [aws_stubs.cache_policy(POLICY_ID, policy_config)] if policy_exists else []
        aws.ok("cloudfront", "ListCachePolicies", aws_stubs.cache_policy_list(*found), {"Type": "custom"})
        if not policy_exists:
            aws.ok("cloudfront", "CreateCachePolicy",
                   {"CachePolicy": aws_stubs.cache_policy(POLICY_ID, policy_config), "ETag": "ECP1"},
                   {"CachePolicyConfig": policy_config})
    old = deployed_config(region, deployed_preset)
    aws.ok("cloudfront", "ListDistributions",
           aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, old)), {})
    aws.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG]}}, {"Resource": DIST_ARN})
    if new_preset == "custom-auth-in-key" and not policy_exists:
        aws.ok("cloudfront", "TagResource", {}, {"Resource": DIST_ARN, "Tags": {"Items": [POLICY_TAG]}})
    aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": old, "ETag": "E2QWRUHEXAMPLE"},
           {"Id": DIST_ID})
    if deployed_preset != new_preset:
        # Only what build sets is replaced; what AWS filled in (Logging, Restrictions...) is sent back.
        new = {**old, **expected_config(region, new_preset, old["CallerReference"])}
        aws.ok("cloudfront", "UpdateDistribution",
               {"Distribution": aws_stubs.distribution(DIST_ID, new, "InProgress"), "ETag": "E3NEWETAG"},
               {"Id": DIST_ID, "IfMatch": "E2QWRUHEXAMPLE", "DistributionConfig": new})
    aws.ok("cloudfront", "GetDistribution",
           {"Distribution": aws_stubs.distribution(DIST_ID, old, "Deployed"), "ETag": "E3NEWETAG"},
           {"Id": DIST_ID})

    aws.ok("s3", "PutBucketPolicy", {}, {"Bucket": b, "Policy": bucket_policy_for(DIST_ARN, b)})


# --- build ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "preset"), [
    ("eu-west-1", "recommended"),
    ("us-east-1", "recommended"),
    ("eu-west-1", "custom-auth-in-key"),
    ("eu-west-1", "legacy-no-query"),
])
def test_fresh_build_sends_valid_requests(region: str, preset: str) -> None:
    with aws_stubs.stubbed_aws(region) as aws:
        queue_fresh_build(aws, region, preset)
        stack = provision.build(aws.target, STACK, preset, progress=False)
        aws.assert_done()
    assert stack.to_dict() == {
        "name": STACK, "target": "aws", "region": region, "preset": preset, "role_arn": ROLE_ARN,
        "function_name": FUNCTION, "api_id": API_ID, "stage": "prod", "bucket": bucket(region),
        "oac_id": OAC_ID, "cache_policy_id": POLICY_ID if preset == "custom-auth-in-key" else None,
        "distribution_id": DIST_ID, "domain_name": DOMAIN,
    }


def test_rerun_reuses_everything_and_leaves_an_unchanged_distribution_alone(eu: aws_stubs.StubbedAws) -> None:
    # No Create*/Put method/UpdateDistribution is queued: any such call fails the test. The config read
    # back has AWS's defaults filled in and the methods in CloudFront's order (tests/stubbing.py).
    queue_rerun(eu, "eu-west-1", "recommended", "recommended")
    stack = provision.build(eu.target, STACK, "recommended", progress=False)
    eu.assert_done()
    assert (stack.api_id, stack.oac_id, stack.distribution_id) == (API_ID, OAC_ID, DIST_ID)
    assert ("cloudfront", "UpdateDistribution") not in eu.calls


def test_rerun_reuses_an_existing_custom_cache_policy(eu: aws_stubs.StubbedAws) -> None:
    queue_rerun(eu, "eu-west-1", "custom-auth-in-key", "custom-auth-in-key")
    stack = provision.build(eu.target, STACK, "custom-auth-in-key", progress=False)
    eu.assert_done()
    assert stack.cache_policy_id == POLICY_ID
    assert ("cloudfront", "CreateCachePolicy") not in eu.calls


@pytest.mark.parametrize("new_preset", ["allviewer", "caching-optimized", "legacy-no-query", "custom-auth-in-key"])
def test_rerun_with_another_preset_updates_with_the_etag_read(eu: aws_stubs.StubbedAws, new_preset: str) -> None:
    queue_rerun(eu, "eu-west-1", "recommended", new_preset)
    stack = provision.build(eu.target, STACK, new_preset, progress=False)
    eu.assert_done()
    assert ("cloudfront", "UpdateDistribution") in eu.calls
    assert stack.preset == new_preset


def test_a_policy_created_on_a_rerun_is_recorded_on_the_existing_distribution(eu: aws_stubs.StubbedAws) -> None:
    # Policies take no tags: the distribution records the IDs its stack created (runbook_lib.aws.ownership).
    queue_rerun(eu, "eu-west-1", "recommended", "custom-auth-in-key", policy_exists=False)
    stack = provision.build(eu.target, STACK, "custom-auth-in-key", progress=False)
    eu.assert_done()
    assert stack.cache_policy_id == POLICY_ID
    assert ("cloudfront", "TagResource") in eu.calls


def test_create_function_retries_while_the_new_role_is_not_assumable(
        eu: aws_stubs.StubbedAws, no_sleep: list[float]) -> None:
    queue_fresh_build(eu, "eu-west-1", "recommended", lambda_retries=2)
    provision.build(eu.target, STACK, "recommended", progress=False)
    eu.assert_done()
    assert no_sleep == [5, 5]


def test_create_function_does_not_retry_other_invalid_parameters(
        eu: aws_stubs.StubbedAws, no_sleep: list[float]) -> None:
    eu.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    eu.ok("iam", "GetRole", aws_stubs.role(ROLE, [TAG]), {"RoleName": ROLE})
    eu.error("lambda", "GetFunction", "ResourceNotFoundException", "Function not found", 404)
    eu.error("lambda", "CreateFunction", "InvalidParameterValueException",
             "Unzipped size must be smaller than 262144000 bytes", 400)
    with pytest.raises(ProvisioningError, match="lambda.CreateFunction failed") as info:
        provision.build(eu.target, STACK, "recommended", progress=False)
    eu.assert_done()
    assert info.value.code == "InvalidParameterValueException"
    assert no_sleep == []


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["sts", "iam"])
def test_access_denied_becomes_provisioning_error_pointing_at_the_iam_policy(
        eu: aws_stubs.StubbedAws, failing: str) -> None:
    denied = "User: arn:aws:iam::123456789012:user/runbook is not authorized to perform this action"
    if failing == "sts":
        eu.error("sts", "GetCallerIdentity", "AccessDenied", denied, 403, {})
    else:
        eu.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
        eu.error("iam", "GetRole", "AccessDenied", denied, 403, {"RoleName": ROLE})
    with pytest.raises(ProvisioningError) as info:
        provision.build(eu.target, STACK, "recommended", progress=False)
    eu.assert_done()
    err = info.value
    assert err.code == "AccessDenied"
    assert "README.md lists the IAM policy" in str(err)
    assert "AccessDenied" in str(err) and denied in str(err)
    assert isinstance(err.__cause__, ClientError)
    assert err.__cause__.response["Error"]["Code"] == "AccessDenied"


def test_bucket_name_taken_by_another_account_says_so(eu: aws_stubs.StubbedAws) -> None:
    eu.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    eu.ok("iam", "GetRole", aws_stubs.role(ROLE, [TAG]), {"RoleName": ROLE})
    eu.ok("lambda", "GetFunction", aws_stubs.function(FUNCTION, "eu-west-1", ROLE_ARN), {"FunctionName": FUNCTION})
    eu.ok("lambda", "AddPermission", {"Statement": "{}"})
    eu.ok("apigateway", "GetRestApis", {"items": [aws_stubs.rest_api(API_ID, API_NAME, {"runbook:stack": STACK})]})
    eu.ok("apigateway", "GetResources", {"items": [
        {"id": "root00", "path": "/"},
        {"id": "res001", "path": "/api", "resourceMethods": {"ANY": {}}},
        {"id": "res002", "path": "/api/{proxy+}", "resourceMethods": {"ANY": {}}},
    ]})
    eu.ok("apigateway", "GetStages", {"item": [{"stageName": "prod"}]})
    eu.error("s3", "HeadBucket", "403", "Forbidden", 403, {"Bucket": bucket("eu-west-1")})
    with pytest.raises(ProvisioningError, match="another account; pass another stack_name") as info:
        provision.build(eu.target, STACK, "recommended", progress=False)
    eu.assert_done()
    assert info.value.code == "403"


# --- the mechanism bites ------------------------------------------------------------------------------


def test_an_invalid_request_shape_is_rejected_before_any_answer(
        eu: aws_stubs.StubbedAws, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution config with a wrong shape fails the build: the Stubber does not pretend."""
    real = distribution.distribution_config

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        config = real(*args, **kwargs)
        # Two classic mistakes: a port as a string, and a list without its Quantity.
        config["Origins"]["Items"][1]["CustomOriginConfig"]["HTTPSPort"] = "443"
        del config["CacheBehaviors"]["Quantity"]
        return config

    monkeypatch.setattr(distribution, "distribution_config", broken)
    queue_fresh_build(eu, "eu-west-1", "recommended", pin_distribution=False)
    with pytest.raises(ParamValidationError) as info:
        provision.build(eu.target, STACK, "recommended", progress=False)
    message = str(info.value)
    assert "HTTPSPort" in message and "CacheBehaviors" in message and "Quantity" in message
    # The rejected request consumed nothing: its answer is still queued.
    with pytest.raises(AssertionError):
        eu.stubbers["cloudfront"].assert_no_pending_responses()


def test_tags_as_a_plain_dict_are_rejected(eu: aws_stubs.StubbedAws) -> None:
    cf = eu.target.client("cloudfront")
    eu.ok("cloudfront", "TagResource", {})
    with pytest.raises(ParamValidationError, match="Tags"):
        cf.tag_resource(Resource=DIST_ARN, Tags={"runbook:stack": STACK})


def test_a_response_that_aws_could_not_send_is_rejected(eu: aws_stubs.StubbedAws) -> None:
    with pytest.raises(ParamValidationError, match="InProgressInvalidationBatches"):
        eu.ok("cloudfront", "GetDistribution", {"Distribution": {"Id": DIST_ID, "Status": "Deployed"}})


def test_an_unexpected_parameter_value_fails(eu: aws_stubs.StubbedAws) -> None:
    eu.ok("cloudfront", "GetDistribution", {}, {"Id": "EOTHER"})
    with pytest.raises(StubAssertionError):
        eu.target.client("cloudfront").get_distribution(Id=DIST_ID)


# --- waiting ----------------------------------------------------------------------------------------


def test_wait_deployed_polls_until_deployed(eu: aws_stubs.StubbedAws, no_sleep: list[float]) -> None:
    config = expected_config("eu-west-1", "recommended", "ref")
    for status in ("InProgress", "InProgress", "Deployed"):
        eu.ok("cloudfront", "GetDistribution",
              {"Distribution": aws_stubs.distribution(DIST_ID, config, status), "ETag": "E1"}, {"Id": DIST_ID})
    provision.wait_deployed(eu.target, DIST_ID, progress=False)
    eu.assert_done()
    assert no_sleep == [15, 15]


def test_wait_deployed_gives_up_after_the_timeout(eu: aws_stubs.StubbedAws, no_sleep: list[float]) -> None:
    config = expected_config("eu-west-1", "recommended", "ref")
    eu.ok("cloudfront", "GetDistribution",
          {"Distribution": aws_stubs.distribution(DIST_ID, config, "InProgress"), "ETag": "E1"}, {"Id": DIST_ID})
    with pytest.raises(ProvisioningError, match="still InProgress.*Re-run the notebook later"):
        provision.wait_deployed(eu.target, DIST_ID, timeout=-1, progress=False)
    eu.assert_done()
    assert no_sleep == []


# --- find, describe ---------------------------------------------------------------------


def test_find_pages_through_distributions_and_reads_the_preset(eu: aws_stubs.StubbedAws) -> None:
    config = deployed_config("eu-west-1", "allviewer")
    others = {**config, "Comment": "someone else's"}
    eu.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(
        aws_stubs.distribution_summary("E0OTHER", others), next_marker="E0OTHER"), {})
    eu.ok("cloudfront", "ListDistributions",
          aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, config)), {"Marker": "E0OTHER"})
    eu.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG]}}, {"Resource": DIST_ARN})
    eu.ok("apigateway", "GetRestApis",
          {"items": [aws_stubs.rest_api(API_ID, API_NAME, {"runbook:stack": STACK})]}, {})
    eu.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "E1"}, {"Id": DIST_ID})
    stack = provision.find(eu.target, STACK)
    eu.assert_done()
    assert stack is not None
    assert (stack.distribution_id, stack.domain_name, stack.api_id, stack.preset) == (
        DIST_ID, DOMAIN, API_ID, "allviewer")


def test_find_returns_none_when_nothing_is_there(eu: aws_stubs.StubbedAws) -> None:
    eu.ok("cloudfront", "ListDistributions", aws_stubs.distribution_list(), {})
    eu.ok("apigateway", "GetRestApis", {"items": []}, {})
    assert provision.find(eu.target, STACK) is None
    eu.assert_done()


def test_describe_reads_the_deployed_api_behavior_and_origin(eu: aws_stubs.StubbedAws) -> None:
    config = deployed_config("eu-west-1", "custom-auth-in-key")
    eu.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": config, "ETag": "E1"}, {"Id": DIST_ID})
    stack = provision.Stack(name=STACK, target="aws", region="eu-west-1", distribution_id=DIST_ID)
    described = provision.describe(eu.target, stack)
    eu.assert_done()
    assert described["behavior"]["CachePolicyId"] == POLICY_ID
    assert described["origin"] == {
        "Id": "api", "DomainName": f"{API_ID}.execute-api.eu-west-1.amazonaws.com", "OriginPath": "/prod",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                               "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                               "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
    }
    assert provision.preset_of(config) == "custom-auth-in-key"


# --- teardown -------------------------------------------------------------------------------------


def queue_no_variants(eu: aws_stubs.StubbedAws, config: dict[str, Any]) -> None:
    """Teardown also looks for the stack's variants (aws/variants.py): the stack's own Comment is not a variant's,
    so its tags are not read again."""
    eu.ok("cloudfront", "ListDistributions",
          aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, config)), {})


def queue_full_teardown(eu: aws_stubs.StubbedAws) -> None:
    """Every call of a teardown that finds all of the stack (and a neighbour's OAC, policy and API)."""
    region, b = "eu-west-1", bucket("eu-west-1")
    enabled = deployed_config(region, "custom-auth-in-key")
    disabled = {**enabled, "Enabled": False}
    policy_config = {**to_cache_policy_config(API_AUTH_AND_QUERY), "Name": POLICY_NAME}

    eu.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    eu.ok("cloudfront", "ListDistributions",
          aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, enabled)), {})
    eu.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG, POLICY_TAG]}}, {"Resource": DIST_ARN})
    queue_no_variants(eu, enabled)
    # The policies the stack created are the IDs its distribution records: read before it is deleted.
    eu.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG, POLICY_TAG]}}, {"Resource": DIST_ARN})
    eu.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": enabled, "ETag": "E1READ"}, {"Id": DIST_ID})
    # A distribution is deleted only once disabled and deployed
    # (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToDeleteDistribution.html).
    eu.ok("cloudfront", "UpdateDistribution",
          {"Distribution": aws_stubs.distribution(DIST_ID, disabled, "InProgress"), "ETag": "E2DISABLED"},
          {"Id": DIST_ID, "IfMatch": "E1READ", "DistributionConfig": disabled})
    eu.ok("cloudfront", "GetDistribution",
          {"Distribution": aws_stubs.distribution(DIST_ID, disabled, "InProgress"), "ETag": "E2DISABLED"},
          {"Id": DIST_ID})
    eu.ok("cloudfront", "GetDistribution",
          {"Distribution": aws_stubs.distribution(DIST_ID, disabled, "Deployed"), "ETag": "E3DEPLOYED"},
          {"Id": DIST_ID})
    eu.ok("cloudfront", "GetDistribution",
          {"Distribution": aws_stubs.distribution(DIST_ID, disabled, "Deployed"), "ETag": "E3DEPLOYED"},
          {"Id": DIST_ID})
    eu.ok("cloudfront", "DeleteDistribution", {}, {"Id": DIST_ID, "IfMatch": "E3DEPLOYED"})
    eu.ok("cloudfront", "GetCachePolicy",
          {"CachePolicy": aws_stubs.cache_policy(POLICY_ID, policy_config), "ETag": "ECP1"}, {"Id": POLICY_ID})
    eu.ok("cloudfront", "DeleteCachePolicy", {}, {"Id": POLICY_ID, "IfMatch": "ECP1"})
    eu.ok("cloudfront", "ListOriginAccessControls", aws_stubs.oac_list(
        aws_stubs.oac("E9OTHER", "other-oac"), aws_stubs.oac(OAC_ID, OAC_NAME)), {})
    eu.ok("cloudfront", "GetOriginAccessControl",
          {"OriginAccessControl": {"Id": OAC_ID, "OriginAccessControlConfig": {
              "Name": OAC_NAME, "SigningProtocol": "sigv4", "SigningBehavior": "always",
              "OriginAccessControlOriginType": "s3"}}, "ETag": "EOAC1"}, {"Id": OAC_ID})
    eu.ok("cloudfront", "DeleteOriginAccessControl", {}, {"Id": OAC_ID, "IfMatch": "EOAC1"})

    eu.ok("s3", "GetBucketTagging", {"TagSet": [{"Key": "env", "Value": "lab"}, TAG]}, {"Bucket": b})
    eu.ok("s3", "ListObjectVersions", {
        "IsTruncated": False, "Name": b,
        "Versions": [{"Key": "index.html", "VersionId": "null", "IsLatest": True, "Size": 120,
                      "LastModified": aws_stubs.WHEN}],
        "DeleteMarkers": [{"Key": "old.html", "VersionId": "v2", "IsLatest": True,
                           "LastModified": aws_stubs.WHEN}],
    }, {"Bucket": b})
    eu.ok("s3", "DeleteObjects", {"Deleted": [{"Key": "index.html"}, {"Key": "old.html"}]},
          {"Bucket": b, "Delete": {"Objects": [{"Key": "index.html", "VersionId": "null"},
                                               {"Key": "old.html", "VersionId": "v2"}]}})
    eu.ok("s3", "DeleteBucket", {}, {"Bucket": b})

    eu.ok("apigateway", "GetRestApis", {"items": [
        aws_stubs.rest_api("zzz999zzz9", "someone-elses-api", {"runbook:stack": "another-stack"}),
        aws_stubs.rest_api(API_ID, API_NAME, {"runbook:stack": STACK}),
    ]}, {})
    eu.ok("apigateway", "DeleteRestApi", {}, {"restApiId": API_ID})

    eu.ok("lambda", "GetFunction", aws_stubs.function(FUNCTION, region, ROLE_ARN, {"runbook:stack": STACK}),
          {"FunctionName": FUNCTION})
    eu.ok("lambda", "DeleteFunction", {}, {"FunctionName": FUNCTION})

    eu.ok("iam", "GetRole", aws_stubs.role(ROLE, [TAG]), {"RoleName": ROLE})
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    eu.ok("iam", "ListAttachedRolePolicies", {"AttachedPolicies": [
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": basic}], "IsTruncated": False},
        {"RoleName": ROLE})
    eu.ok("iam", "DetachRolePolicy", {}, {"RoleName": ROLE, "PolicyArn": basic})
    eu.ok("iam", "DeleteRole", {}, {"RoleName": ROLE})


def test_teardown_disables_waits_and_deletes_only_what_is_ours(
        eu: aws_stubs.StubbedAws, no_sleep: list[float]) -> None:
    b = bucket("eu-west-1")
    queue_full_teardown(eu)
    removed = teardown.remove(eu.target, STACK, progress=False)
    eu.assert_done()
    assert removed == [
        f"distribution {DIST_ID}", f"cache policy {POLICY_NAME}", f"origin access control {OAC_NAME}",
        f"bucket {b}", f"REST API {API_ID}", f"function {FUNCTION}", f"role {ROLE}",
    ]
    assert no_sleep == [15]


def test_teardown_of_an_already_disabled_distribution_skips_the_update(eu: aws_stubs.StubbedAws) -> None:
    disabled = deployed_config("eu-west-1", "recommended", enabled=False)
    eu.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    eu.ok("cloudfront", "ListDistributions",
          aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, disabled)), {})
    eu.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG]}}, {"Resource": DIST_ARN})
    queue_no_variants(eu, disabled)
    eu.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [TAG]}}, {"Resource": DIST_ARN})
    eu.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": disabled, "ETag": "E1"}, {"Id": DIST_ID})
    for _ in range(2):
        eu.ok("cloudfront", "GetDistribution",
              {"Distribution": aws_stubs.distribution(DIST_ID, disabled), "ETag": "E1"}, {"Id": DIST_ID})
    eu.ok("cloudfront", "DeleteDistribution", {}, {"Id": DIST_ID, "IfMatch": "E1"})
    eu.ok("cloudfront", "ListOriginAccessControls", aws_stubs.oac_list(), {})
    eu.error("s3", "GetBucketTagging", "NoSuchBucket", "The specified bucket does not exist", 404)
    eu.ok("apigateway", "GetRestApis", {"items": []}, {})
    eu.error("lambda", "GetFunction", "ResourceNotFoundException", "Function not found", 404)
    eu.error("iam", "GetRole", "NoSuchEntity", "The role cannot be found", 404)
    assert teardown.remove(eu.target, STACK, progress=False) == [f"distribution {DIST_ID}"]
    eu.assert_done()


@pytest.mark.parametrize("untagged", [True, False], ids=["untagged", "tagged-for-another-stack"])
def test_teardown_leaves_same_named_resources_that_are_not_ours(
        eu: aws_stubs.StubbedAws, untagged: bool) -> None:
    # No Delete*/Detach*/UpdateDistribution is queued: the Stubber raises on any such call.
    other = [{"Key": "runbook:stack", "Value": "another-stack"}]
    eu.ok("sts", "GetCallerIdentity", aws_stubs.caller_identity(), {})
    # Same comment, but the distribution's tags say it is not ours.
    config = deployed_config("eu-west-1", "recommended")
    eu.ok("cloudfront", "ListDistributions",
          aws_stubs.distribution_list(aws_stubs.distribution_summary(DIST_ID, config)), {})
    eu.ok("cloudfront", "ListTagsForResource", {"Tags": {"Items": [] if untagged else other}},
          {"Resource": DIST_ARN})
    queue_no_variants(eu, config)
    eu.ok("cloudfront", "ListOriginAccessControls", aws_stubs.oac_list(aws_stubs.oac("E9OTHER", "other-oac")), {})
    if untagged:
        eu.error("s3", "GetBucketTagging", "NoSuchTagSet", "The TagSet does not exist", 404,
                 {"Bucket": bucket("eu-west-1")})
    else:
        eu.ok("s3", "GetBucketTagging", {"TagSet": other}, {"Bucket": bucket("eu-west-1")})
    eu.ok("apigateway", "GetRestApis", {"items": [
        aws_stubs.rest_api("zzz999zzz9", API_NAME, {} if untagged else {"runbook:stack": "another-stack"})]}, {})
    eu.ok("lambda", "GetFunction", aws_stubs.function(
        FUNCTION, "eu-west-1", ROLE_ARN, None if untagged else {"runbook:stack": "another-stack"}),
        {"FunctionName": FUNCTION})
    eu.ok("iam", "GetRole", aws_stubs.role(ROLE, None if untagged else other), {"RoleName": ROLE})
    assert teardown.remove(eu.target, STACK, progress=False) == []
    eu.assert_done()


def test_request_count_is_what_the_report_claims() -> None:
    """Keeps the module honest about how much it validates: a fresh build sends this many requests."""
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        queue_fresh_build(aws, "eu-west-1", "recommended")
        provision.build(aws.target, STACK, "recommended", progress=False)
        aws.assert_done()
    assert aws.queued == len(aws.calls) == 29
    assert json.dumps(sorted({s for s, _ in aws.calls})) == json.dumps(sorted(aws_stubs.SERVICES))


# The IAM policy is checked against every call of every Stubber test: tests/test_aws_iam.py.


def test_a_denied_read_is_a_provisioning_error_too() -> None:
    # Reads and paginators are not wrapped one by one; the public functions convert what they meet.
    with aws_stubs.stubbed_aws("eu-west-1") as aws:
        aws.error("cloudfront", "ListDistributions", "AccessDenied", "not authorized", 403)
        with pytest.raises(ProvisioningError, match="find: ListDistributions failed: AccessDenied") as info:
            provision.find(aws.target, "rb-test")
        aws.assert_done()
    assert info.value.code == "AccessDenied" and "IAM policy" in str(info.value)
    assert isinstance(info.value.__cause__, ClientError)
