"""One "as on AWS" rule: ``Target.as_on_aws`` (verify, the pitfalls lab) is ``origins_as_on_aws`` (distribution:<ID>,
fix plans) on the local target, and nothing on AWS.

CloudFront prefixes OriginPath to the viewer path and API Gateway takes the first segment after the host as the stage
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html): an origin with the stage in
OriginPath is ``/{stage}`` on AWS, one whose viewer path carries the stage has an empty OriginPath.
"""

from __future__ import annotations

from typing import Any

from runbook_lib.aws.target import Target, aws_api_origin, aws_api_stage_origin, origins_as_on_aws

LOCAL = Target("local", "us-east-1", "http://127.0.0.1:4566")
SITE = {"Id": "site", "DomainName": "site.s3.us-east-1.amazonaws.com", "OriginPath": ""}


def _config(*origins: dict[str, Any]) -> dict[str, Any]:
    return {"Origins": {"Quantity": len(origins), "Items": list(origins)}, "Comment": "kept"}


def test_locally_each_api_origin_gets_the_aws_form_of_its_own_address() -> None:
    staged = {"Id": "api", **LOCAL.api_origin("abc123", "prod")}
    stageless = {"Id": "paths", **LOCAL.api_stage_origin("def456")}
    config = _config(SITE, staged, stageless)
    aws = LOCAL.as_on_aws(config)
    assert aws == origins_as_on_aws(config, "us-east-1")[0]
    assert aws["Origins"]["Items"] == [SITE, {"Id": "api", **aws_api_origin("abc123", "prod", "us-east-1")},
                                       {"Id": "paths", **aws_api_stage_origin("def456", "us-east-1")}]
    assert aws["Comment"] == "kept" and config["Origins"]["Items"][1] == staged  # the input is not changed


def test_on_aws_the_config_is_the_distribution_itself() -> None:
    on_aws = Target("aws", "eu-west-1")
    config = _config(SITE, {"Id": "api", **LOCAL.api_origin("abc123", "prod")})
    assert on_aws.as_on_aws(config) is config
