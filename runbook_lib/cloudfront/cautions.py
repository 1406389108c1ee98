"""The cautions ``simulate`` attaches to a result: where AWS's pages disagree or say nothing about what
the request touches. Each names its doubtful point in docs/aws-behaviour.md and the pages on both sides.
"""

from __future__ import annotations

from runbook_lib.cloudfront.docs import cloudfront_guide

__all__ = [
    "CAUTION_AUTH_ALL_VIEWER_CACHED",
    "CAUTION_AUTH_IN_ORP",
    "CAUTION_AUTH_POLICY_METHOD",
    "CAUTION_LEGACY_ORIGIN",
    "CAUTION_LEGACY_OTHER_HEADERS",
    "CAUTION_S3_VIEWER_HOST",
]

# docs/aws-behaviour.md, doubtful point 1. Followed: the newest text (Authorization may be named in
# an ORP), so this is a caution, not a config error.
CAUTION_AUTH_IN_ORP = (
    "Authorization is named in the origin request policy. The newest AWS text "
    f"({cloudfront_guide('http-401-unauthorized.html')}) says this forwards it; older AWS text "
    "(https://repost.aws/knowledge-center/cloudfront-authorization-header, and the AWS CDK validation) "
    "says CloudFront rejects such a policy with 400 InvalidArgument. The model follows the newest "
    "text; if AWS rejects the policy, put Authorization in the cache key or use AllViewerExceptHostHeader."
)
# docs/aws-behaviour.md, doubtful point 2.
CAUTION_AUTH_ALL_VIEWER_CACHED = (
    "Authorization reaches the origin through an all-viewer origin request policy while caching is on. "
    f"{cloudfront_guide('http-401-unauthorized.html')} says all-viewer policies include Authorization; "
    "https://repost.aws/knowledge-center/cloudfront-authorization-header says so only when caching is "
    "turned off. Use CachingDisabled, or put Authorization in the cache key."
)
# docs/aws-behaviour.md, doubtful point 3.
CAUTION_AUTH_POLICY_METHOD = (
    "The header table that keeps Authorization on DELETE/PATCH/POST/PUT "
    f"({cloudfront_guide('RequestAndResponseBehaviorCustomOrigin.html')}) is written for legacy settings; under a "
    "cache policy AWS does not say. The model removes Authorization unless a policy forwards it "
    f"({cloudfront_guide('add-origin-custom-headers.html')}, {cloudfront_guide('http-401-unauthorized.html')})."
)
# docs/aws-behaviour.md, doubtful point 4.
CAUTION_LEGACY_OTHER_HEADERS = (
    "Legacy settings without a header whitelist: the header table says 'Other-defined headers: "
    "CloudFront forwards the headers', the policy pages say headers are not forwarded by default. "
    "The model drops {names}; whitelist them to be sure "
    f"({cloudfront_guide('RequestAndResponseBehaviorCustomOrigin.html')})."
)
# docs/aws-behaviour.md, doubtful point 11.
CAUTION_LEGACY_ORIGIN = (
    "The viewer's Origin header is dropped: this legacy behavior does not allow-list it. The header table "
    f"({cloudfront_guide('RequestAndResponseBehaviorCustomOrigin.html#request-custom-headers-behavior')}) "
    "lists Origin as forwarded, but the same page's CORS section says CloudFront must be configured to "
    "forward it; the model follows the latter. Add Origin to ForwardedValues.Headers, or move to "
    "CachingDisabled + AllViewerExceptHostHeader (or the managed CORS-CustomOrigin policy)."
)
# docs/aws-behaviour.md, doubtful point 8.
CAUTION_S3_VIEWER_HOST = (
    "The viewer's Host is forwarded to an S3 origin; what S3 does with it is not documented "
    f"({cloudfront_guide('using-managed-origin-request-policies.html')})."
)
