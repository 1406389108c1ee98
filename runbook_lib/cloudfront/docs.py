"""Where the AWS pages live: every citation in the code is built from these, so a moved guide is one edit."""

from __future__ import annotations

__all__ = ["API_GATEWAY_GUIDE", "CLOUDFRONT_API", "CLOUDFRONT_GUIDE", "cloudfront_api", "cloudfront_guide"]

#: The CloudFront Developer Guide.
CLOUDFRONT_GUIDE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
#: The CloudFront API reference.
CLOUDFRONT_API = "https://docs.aws.amazon.com/cloudfront/latest/APIReference/"
#: The API Gateway Developer Guide.
API_GATEWAY_GUIDE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"


def cloudfront_guide(page: str) -> str:
    """``cloudfront_guide("controlling-the-cache-key.html")`` → the page's address in the Developer Guide."""
    return CLOUDFRONT_GUIDE + page


def cloudfront_api(page: str) -> str:
    """``cloudfront_api("API_DistributionConfig.html")`` → the page's address in the API reference."""
    return CLOUDFRONT_API + page
