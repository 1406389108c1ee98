"""The request-header table: what CloudFront does to each viewer header on its way to the origin.

Source of the table: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html#request-custom-headers-behavior
(the S3-origin page points to the same rules). It was written for legacy cache settings; how it
carries over to policy-based behaviors is noted per rule below.
"""

from __future__ import annotations

__all__ = [
    "LEGACY_FORWARDED",
    "ORIGIN_HEADER",
    "POLICY_FORWARDED",
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

_TABLE_FORWARDED = frozenset(
    {
        "cache-control",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "from",
        "max-forwards",
        "pragma",
        "range",
        "request-range",
        "transfer-encoding",
        "warning",
    }
)  # plus every "If-*" header, checked by prefix

#: Legacy behaviors: the rows of the header table that say "CloudFront forwards the header"
#: (RequestAndResponseBehaviorCustomOrigin.html#request-custom-headers-behavior, written for legacy
#: settings). ``Origin`` is in that row too, but the same page's "Cross-origin resource sharing (CORS)"
#: section and header-caching.html#header-caching-web-cors say CloudFront must be *configured* to
#: forward it (an allow-list entry): the newer, specific text wins and the model adds a caution
#: (docs/aws-behaviour.md, doubtful point 11).
LEGACY_FORWARDED = _TABLE_FORWARDED

#: Policy-based behaviors: controlling-origin-requests.html says an origin request always carries the
#: body, and the policy pages list only what the policies name. The header table's "forwarded" rows
#: (the body's framing and type, conditional and range headers, hop-by-hop caching directives) are the
#: per-header text for both kinds of origin (the page: "custom and Amazon S3 origins"); the body is
#: unusable without them, so they are kept here too (docs/aws-behaviour.md, doubtful point 4).
#: ``Origin`` is not: "to respect CORS, configure CloudFront to forward Origin"
#: (RequestAndResponseBehaviorCustomOrigin.html#request-custom-cors), which is why the managed
#: CORS-CustomOrigin and CORS-S3Origin origin request policies exist (using-managed-origin-request-policies.html).
POLICY_FORWARDED = _TABLE_FORWARDED

#: The header the header table lists as forwarded, but which reaches the origin only when configured.
ORIGIN_HEADER = "origin"

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
