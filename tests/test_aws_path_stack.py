"""The path fixes' AWS calls that tests/test_path_fixes.py does not reach: re-applying the CloudFront Function
fix updates the existing function (cloudfront:UpdateFunction, which docs/iam-policy.json lacked)."""

from __future__ import annotations

from botocore.stub import ANY

from runbook_lib.aws import path_stack

try:
    from tests import test_path_fixes as pf
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import test_path_fixes as pf  # type: ignore[no-redef]

aws = pf.aws  # the stubbed target with apigatewayv2 too (a fixture)


def test_aws_cloudfront_function_already_there_is_updated(aws: pf.aws_stubs.StubbedAws) -> None:
    config = pf.broken_config(aws.target)
    pf.queue_locate(aws, config)
    pf.queue_reset(aws, "path-fix-cloudfront-function")
    aws.ok("cloudfront", "DescribeFunction", {"FunctionSummary": pf.function_summary(), "ETag": "FETAG0"},
           {"Name": pf.CF_FUNCTION, "Stage": "DEVELOPMENT"})
    aws.ok("cloudfront", "UpdateFunction", {"FunctionSummary": pf.function_summary(), "ETag": "FETAG1"},
           {"Name": pf.CF_FUNCTION, "IfMatch": "FETAG0",
            "FunctionConfig": {"Comment": ANY, "Runtime": "cloudfront-js-2.0"},
            "FunctionCode": path_stack.function_code().encode()})
    aws.ok("cloudfront", "DescribeFunction", {"FunctionSummary": pf.function_summary(), "ETag": "FETAG1"},
           {"Name": pf.CF_FUNCTION, "Stage": "DEVELOPMENT"})
    aws.ok("cloudfront", "PublishFunction", {"FunctionSummary": pf.function_summary("LIVE")},
           {"Name": pf.CF_FUNCTION, "IfMatch": "FETAG1"})
    pf.queue_distribution_update(
        aws, config, lambda c: pf.api_behavior_of(c)["FunctionAssociations"]["Quantity"] == 1,
        "viewer-request function on /api/*")
    path_stack.apply_fix(aws.target, pf.STACK, "path-fix-cloudfront-function", domain_name=pf.DOMAIN)
    aws.assert_done()
