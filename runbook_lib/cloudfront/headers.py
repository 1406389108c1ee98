"""The request-header table: what CloudFront does to each viewer header on its way to the origin.

Source of the table: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html#request-custom-headers-behavior
(the S3-origin page points to the same rules). It was written for legacy cache settings; how it
carries over to policy-based behaviors is noted per rule below.
"""

from __future__ import annotations

__all__ = [
    "ALWAYS_FORWARDED",
    "ALWAYS_REMOVED",
    "REMOVED_UNLESS_CONFIGURED",
    "SPECIAL",
    "VIEWER_IP_PLACEHOLDER",
    "CF_ID_PLACEHOLDER",
    "CF_HOST_PLACEHOLDER",
    "USER_AGENT",
    "normalize_accept_encoding",
    "legacy_accept_encoding",
    "via_value",
]

#: Headers the table says "CloudFront forwards the header". We apply this row to policy-based
#: behaviors too: the policy pages say values are "not included by default", but this row is the
#: per-header, more specific text, and the body CloudFront always forwards
#: (controlling-origin-requests.html) is unusable without Content-Type/Content-Length.
#: Doubtful: docs/aws-behaviour.md, point 4.
ALWAYS_FORWARDED = frozenset(
    {
        "cache-control",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "from",
        "max-forwards",
        "origin",
        "pragma",
        "range",
        "request-range",
        "transfer-encoding",
        "warning",
    }
)  # plus every "If-*" header, checked by prefix

#: Removed even when a policy or whitelist names them: hop-by-hop and spoofable proxy headers.
#: The table lists them as "removed"; MiniStack forwards X-Forwarded-Proto under all-viewer
#: policies, AWS does not (docs/deviations.md).
ALWAYS_REMOVED = frozenset(
    {
        "expect",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",  # except WebSocket upgrades, which this model does not simulate
        "x-forwarded-proto",
        "x-real-ip",
    }
)  # plus every "X-Edge-*" header

#: Removed by default, forwarded when the behavior caches on / forwards them (table, second column).
REMOVED_UNLESS_CONFIGURED = frozenset(
    {"accept", "accept-charset", "accept-language", "referer", "x-http-method-override"}
)

#: Headers CloudFront rewrites itself; the model handles them one by one.
SPECIAL = frozenset(
    {
        "host",
        "user-agent",
        "authorization",
        "cookie",
        "accept-encoding",
        "x-forwarded-for",
        "via",
        "connection",
        "x-amz-cf-id",
    }
)

#: Viewer address used when the request does not give ``client_ip`` (RFC 5737 documentation range).
VIEWER_IP_PLACEHOLDER = "203.0.113.10"
#: X-Amz-Cf-Id is a per-request opaque ID; the model shows its presence, not a value.
CF_ID_PLACEHOLDER = "<x-amz-cf-id>"
#: The edge host in Via ("<version> <id>.cloudfront.net (CloudFront)"); the ID varies per edge.
CF_HOST_PLACEHOLDER = "<edge-id>.cloudfront.net"
#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html#request-custom-user-agent-header
USER_AGENT = "Amazon CloudFront"


def _tokens(value: str) -> set[str]:
    return {part.split(";", 1)[0].strip().lower() for part in value.split(",")}


def normalize_accept_encoding(viewer_value: str | None, gzip: bool, brotli: bool) -> str:
    """Accept-Encoding sent to the origin when a cache policy enables gzip and/or Brotli caching.

    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cache-key-understand-cache-policy.html
    ("Compression support"): ``br,gzip`` when the viewer supports both, ``gzip`` or ``br`` when it
    supports one enabled encoding, ``identity`` when it supports none of the enabled ones.
    """
    tokens = _tokens(viewer_value) if viewer_value else set()
    chosen = [name for name, on in (("br", brotli), ("gzip", gzip)) if on and name in tokens]
    return ",".join(chosen) if chosen else "identity"


def legacy_accept_encoding(viewer_value: str | None) -> str | None:
    """Accept-Encoding under legacy settings: ``gzip`` when the viewer accepts gzip, else removed.

    Brotli caching needs a cache policy, so legacy behaviors normalise to gzip only
    (RequestAndResponseBehaviorCustomOrigin.html, Accept-Encoding row; viewers that send only ``br``
    are docs/aws-behaviour.md, doubtful point 10: we remove the header, as the older text said).
    """
    if viewer_value and "gzip" in _tokens(viewer_value):
        return "gzip"
    return None


def via_value(http_version: str, viewer_via: str | None) -> str:
    """The Via header: CloudFront's hop appended to the viewer's (RFC 9110 section 7.6.3)."""
    version = "2.0" if http_version == "2" else http_version
    own = f"{version} {CF_HOST_PLACEHOLDER} (CloudFront)"
    return f"{viewer_via}, {own}" if viewer_via else own
