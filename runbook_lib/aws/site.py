"""The S3 site: a bucket with ``index.html`` for the default behavior, read by CloudFront through an OAC."""

from __future__ import annotations

import json
from typing import Any

from runbook_lib.aws.calls import aws_call, get_or_none
from runbook_lib.aws.ownership import tag_list
from runbook_lib.aws.site_page import INDEX_HTML
from runbook_lib.aws.stack import Stack
from runbook_lib.aws.target import Target

__all__ = ["ensure_bucket", "ensure_oac", "grant_distribution_read"]


def ensure_bucket(target: Target, stack: Stack, name: str, parent: str = "") -> None:
    """The tagged site bucket with ``index.html`` (created when missing, the page rewritten every run)."""
    s3 = target.client("s3")
    found = get_or_none(f"s3.HeadBucket {name}", s3.head_bucket, Bucket=name,
                        fix="The name may belong to another account; pass another stack_name.")
    if found is None:
        kwargs: dict[str, Any] = {"Bucket": name}
        if target.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
        aws_call("s3.CreateBucket", s3.create_bucket, **kwargs)
        aws_call("s3.PutBucketTagging", s3.put_bucket_tagging, Bucket=name,
                 Tagging={"TagSet": tag_list(stack.name, parent)})
    aws_call("s3.PutObject", s3.put_object, Bucket=name, Key="index.html", Body=INDEX_HTML,
             ContentType="text/html; charset=utf-8")


def ensure_oac(target: Target, name: str) -> str:
    """The origin access control named ``name`` (OACs take no tags, so the stack-derived name finds it)."""
    cf = target.client("cloudfront")
    for item in aws_call("cloudfront.ListOriginAccessControls", cf.list_origin_access_controls)[
            "OriginAccessControlList"].get("Items", []) or []:
        if item["Name"] == name:
            return str(item["Id"])
    oac = aws_call("cloudfront.CreateOriginAccessControl", cf.create_origin_access_control,
                   OriginAccessControlConfig={
                       "Name": name, "Description": "Site bucket of the CloudFront/API Gateway runbook",
                       "SigningProtocol": "sigv4", "SigningBehavior": "always",
                       "OriginAccessControlOriginType": "s3"})
    return str(oac["OriginAccessControl"]["Id"])


def grant_distribution_read(target: Target, bucket: str, account: str, distribution_id: str) -> None:
    """Bucket policy for OAC: only this distribution may read (the AWS-recommended setup,
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowCloudFrontServicePrincipalReadOnly",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {
                "AWS:SourceArn": f"arn:aws:cloudfront::{account}:distribution/{distribution_id}"}},
        }],
    }
    s3 = target.client("s3")
    aws_call("s3.PutBucketPolicy", s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(policy))
