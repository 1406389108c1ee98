"""Predict what CloudFront does with one viewer request: edge answer, or the request the origin gets.

Pure Python, no AWS. Every rule names its AWS page; ``docs/aws-behaviour.md`` lists the sources
and the points where AWS's own pages disagree (the "doubtful points" the cautions below refer to).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.behaviors import Behavior, compile_behaviors
from runbook_lib.cloudfront.cautions import (
    CAUTION_AUTH_ALL_VIEWER_CACHED,
    CAUTION_AUTH_IN_ORP,
    CAUTION_AUTH_POLICY_METHOD,
    CAUTION_LEGACY_ORIGIN,
    CAUTION_LEGACY_OTHER_HEADERS,
    CAUTION_S3_VIEWER_HOST,
)
from runbook_lib.cloudfront.fields import check_request
from runbook_lib.cloudfront.headers import (
    ALWAYS_REMOVED,
    CF_ID_PLACEHOLDER,
    LEGACY_FORWARDED,
    ORIGIN_HEADER,
    POLICY_FORWARDED,
    REMOVED_UNLESS_CONFIGURED,
    SPECIAL,
    USER_AGENT,
    VIEWER_IP_PLACEHOLDER,
    legacy_accept_encoding,
    normalize_accept_encoding,
    via_value,
)
from runbook_lib.cloudfront.rules.config import ConfigIssue, config_issues
from runbook_lib.cloudfront.shape import check_inputs
from runbook_lib.errors import ConfigError

__all__ = [
    "SimulationResult",
    "compiled_behaviors",
    "compiled_issues",
    "match_behavior",
    "simulate",
]

@dataclass(slots=True)
class SimulationResult:
    """The predicted outcome. ``to_dict()`` is the stable, documented shape."""

    behavior: str
    edge_status: int | None
    origin_id: str | None
    origin_request: dict[str, Any] | None
    origin_status: int | None
    config_errors: list[dict[str, Any]]
    #: Doc conflicts that touch this request (not part of ``to_dict``).
    cautions: list[str] = field(default_factory=list)
    #: Location of a 301/307 redirect (format assumed: docs/aws-behaviour.md, doubtful point 7).
    redirect_location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``origin_request.query`` is None when the behavior forwards no query strings at all, and
        the (possibly empty) forwarded raw query otherwise."""
        return {
            "behavior": self.behavior,
            "edge_status": self.edge_status,
            "origin_id": self.origin_id,
            "origin_request": copy.deepcopy(self.origin_request),
            "origin_status": self.origin_status,
            "config_errors": [dict(e) for e in self.config_errors],
        }


@dataclass(slots=True)
class _Compiled:
    config: dict[str, Any]
    snapshot: dict[str, Any]
    policies: dict[str, Any] | None
    policies_snapshot: dict[str, Any] | None
    behaviors: list[Behavior]
    issues: list[ConfigIssue]
    errors: list[dict[str, Any]]
    default_root: str


_CACHE: dict[int, _Compiled] = {}
_CACHE_SIZE = 64


def _compiled(config: dict[str, Any], policies: dict[str, Any] | None) -> _Compiled:
    # Resolving policies and compiling patterns dominates the cost of a request, so keep the result
    # per config object. The snapshot comparison (C-level dict ==) catches in-place edits.
    hit = _CACHE.get(id(config))
    if (
        hit is not None
        and hit.config is config
        and hit.policies is policies
        and hit.snapshot == config
        and hit.policies_snapshot == policies
    ):
        return hit
    check_inputs(config, policies)  # one ConfigError naming the path of a malformed field, never a traceback
    behaviors = compile_behaviors(config, policies)
    issues = config_issues(config, policies)
    entry = _Compiled(
        config=config,
        snapshot=copy.deepcopy(config),
        policies=policies,
        policies_snapshot=copy.deepcopy(policies),
        behaviors=behaviors,
        issues=issues,
        errors=[i.to_dict() for i in issues],
        default_root=str(config.get("DefaultRootObject") or ""),
    )
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(config)] = entry
    return entry


def compiled_behaviors(config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[Behavior]:
    """The resolved behaviors of ``config``, in evaluation order (default last)."""
    return _compiled(config, policies).behaviors


def compiled_issues(config: dict[str, Any], policies: dict[str, Any] | None = None) -> list[ConfigIssue]:
    """The issues AWS would reject in ``config`` (``rules.config.config_issues``, cached like the behaviors)."""
    return _compiled(config, policies).issues


def match_behavior(behaviors: list[Behavior], path: str) -> Behavior:
    """The first behavior whose pattern matches ``path``; the default is last and matches all.

    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern
    """
    bare = path[1:] if path.startswith("/") else path
    for behavior in behaviors:
        if behavior.matcher(bare) is not None:
            return behavior
    return behaviors[-1]


def _read_request(request: Any) -> tuple[str, str, str, str, dict[str, str], str, str]:
    if not isinstance(request, dict):
        raise ConfigError(
            f"Expected a request dict, found {type(request).__name__}. "
            'Pass {"method": "GET", "scheme": "https", "path": "/", "query": "", "headers": {}}.'
        )
    try:
        method = str(request["method"]).upper()
        path = str(request["path"])
    except KeyError as err:
        raise ConfigError(f"The request has no {err.args[0]!r}; give method and path at least.") from err
    scheme = str(request.get("scheme", "https")).lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"Request scheme must be 'http' or 'https', found {scheme!r}.")
    query = str(request.get("query") or "")
    if query.startswith("?"):
        query = query[1:]
    raw_headers = request.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise ConfigError(f"Request headers must be a dict of name: value, found {type(raw_headers).__name__}.")
    headers: dict[str, str] = {}
    for name, value in raw_headers.items():
        lname = str(name).lower()
        if lname in headers:  # the same header twice in different case: one comma-joined field
            sep = "; " if lname == "cookie" else ", "
            headers[lname] = f"{headers[lname]}{sep}{value}"
        else:
            headers[lname] = str(value)
    check_request(method, path + query, headers)
    version = str(request.get("http_version", "1.1"))
    client_ip = str(request.get("client_ip") or VIEWER_IP_PLACEHOLDER)
    return method, scheme, path if path.startswith("/") else "/" + path, query, headers, version, client_ip


def _edge_answer(b: Behavior, method: str, scheme: str, version: str, body: Any) -> int | None:
    # Viewer protocol first, then methods (order not documented; a redirect to HTTPS is what a
    # browser sees before anything else): https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-viewers-to-cloudfront.html
    if scheme == "http":
        if b.protocol == "https-only":
            return 403
        if b.protocol == "redirect-to-https":
            if method in ("GET", "HEAD"):
                return 301
            return 307 if version not in ("0.9", "1.0") else 403
    # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-403-invalid-method.html
    if method not in b.allowed:
        return 403
    # RequestAndResponseBehaviorCustomOrigin.html#RequestCustom-get-body
    if method == "GET" and body:
        return 403
    return None


def _query(b: Behavior, raw: str) -> str | None:
    sel = b.query
    if sel.kind == "none":
        return None  # QueryStringParameters.html / controlling-origin-requests.html: not forwarded
    if sel.kind == "all" and not b.s3_strip:
        return raw  # viewer order and encoding preserved (QueryStringParameters.html)
    keep: list[str] = []
    match, strip, cache_query = b.query_match, b.s3_strip, b.cache_query
    for part in raw.split("&"):
        if not part:
            continue
        key = part.split("=", 1)[0]
        if strip and key in strip and not cache_query.includes(key):
            continue  # managed all-viewer ORP + S3 origin: response-content-* dropped
        if match(key):
            keep.append(part)
    # docs/aws-behaviour.md, doubtful point 5: the order of a filtered list is not documented; the
    # viewer's order is kept.
    return "&".join(keep)


def _cookies(b: Behavior, header: str | None) -> str | None:
    if not header or b.cookies.kind == "none":
        return None  # Cookies.html: with "none", all cookies are removed
    pairs: list[tuple[str, str]] = []
    for piece in header.split(";"):
        piece = piece.strip()
        if "=" not in piece:
            continue  # only standard name=value pairs are forwarded (Cookies.html)
        name = piece.split("=", 1)[0].strip()
        if b.cookies.includes(name):
            pairs.append((name, piece))
    if not pairs:
        return None
    # Cookies.html: forwarded cookies are sorted in natural order by name (stable for repeats).
    pairs.sort(key=lambda p: p[0])
    return "; ".join(p for _, p in pairs)


def _viewer_headers(b: Behavior, viewer: dict[str, str], cautions: list[str]) -> dict[str, str]:
    """The viewer headers that pass as they are (everything CloudFront does not rewrite itself)."""
    sel = b.headers
    always = LEGACY_FORWARDED if b.legacy else POLICY_FORWARDED
    out: dict[str, str] = {}
    dropped_custom: list[str] = []
    for lname, value in viewer.items():
        if lname in SPECIAL or lname in ALWAYS_REMOVED or lname.startswith("x-edge-"):
            continue
        if sel.includes(lname) or lname in always or lname.startswith("if-"):
            out[lname] = value
        elif b.legacy and lname == ORIGIN_HEADER:
            cautions.append(CAUTION_LEGACY_ORIGIN)
        elif b.legacy and lname not in REMOVED_UNLESS_CONFIGURED and not lname.startswith("cloudfront-"):
            dropped_custom.append(lname)
    if dropped_custom and sel.kind == "only" and not sel.names:
        cautions.append(CAUTION_LEGACY_OTHER_HEADERS.format(names=", ".join(sorted(dropped_custom))))
    return out


def _host_and_agent(b: Behavior, viewer: dict[str, str], cautions: list[str], out: dict[str, str]) -> bool:
    """Set Host and User-Agent; True when the viewer's Host is forwarded."""
    origin = b.origin
    assert origin is not None
    # Host: the origin's domain unless the behavior forwards the viewer's Host
    # (RequestAndResponseBehaviorCustomOrigin.html; origin-request-understand-origin-request-policy.html
    # for allExcept [Host], where CloudFront "adds a new Host header with the origin's domain name").
    host_forwarded = b.headers.includes("host") and "host" in viewer
    out["host"] = viewer["host"] if host_forwarded else origin.domain
    if host_forwarded and origin.is_s3:
        cautions.append(CAUTION_S3_VIEWER_HOST)
    # #request-custom-user-agent-header
    if b.headers.includes("user-agent"):
        if "user-agent" in viewer:
            out["user-agent"] = viewer["user-agent"]
    else:
        out["user-agent"] = USER_AGENT
    return host_forwarded


def _authorization(b: Behavior, method: str, viewer: dict[str, str], cautions: list[str], out: dict[str, str]) -> None:
    if "authorization" in viewer:
        if b.headers.includes("authorization"):
            out["authorization"] = viewer["authorization"]
            if b.auth_in_orp_whitelist and not b.cache_headers.includes("authorization"):
                cautions.append(CAUTION_AUTH_IN_ORP)
            elif b.all_viewer_orp and b.caching and not b.cache_headers.includes("authorization"):
                cautions.append(CAUTION_AUTH_ALL_VIEWER_CACHED)
        elif b.legacy:
            # Header table, Authorization row (legacy): GET/HEAD removed; OPTIONS removed when OPTIONS
            # responses are cached, else forwarded; DELETE/PATCH/POST/PUT kept.
            if not (method in ("GET", "HEAD") or (method == "OPTIONS" and "OPTIONS" in b.cached)):
                out["authorization"] = viewer["authorization"]
        elif method not in ("GET", "HEAD"):
            cautions.append(CAUTION_AUTH_POLICY_METHOD)
    if b.auth_in_orp_whitelist and "authorization" not in viewer and CAUTION_AUTH_IN_ORP not in cautions:
        cautions.append(CAUTION_AUTH_IN_ORP)


def _accept_encoding(b: Behavior, viewer: dict[str, str], out: dict[str, str]) -> None:
    ae = viewer.get("accept-encoding")
    if not b.legacy and (b.gzip or b.brotli):
        out["accept-encoding"] = normalize_accept_encoding(ae, b.gzip, b.brotli)
    elif ae is not None and b.headers.includes("accept-encoding"):
        out["accept-encoding"] = ae
    elif b.legacy:
        normalized = legacy_accept_encoding(ae)
        if normalized is not None:
            out["accept-encoding"] = normalized


def _added_by_cloudfront(
    b: Behavior, scheme: str, version: str, viewer: dict[str, str], client_ip: str, out: dict[str, str]
) -> None:
    # #RequestCustomIPAddresses: add X-Forwarded-For, or append the viewer IP to it.
    xff = viewer.get("x-forwarded-for")
    out["x-forwarded-for"] = f"{xff}, {client_ip}" if xff else client_ip
    out["via"] = via_value(version, viewer.get("via"))
    if "connection" in viewer:
        out["connection"] = "Keep-Alive"  # header table, Connection row
    out["x-amz-cf-id"] = CF_ID_PLACEHOLDER
    for name in b.cf_headers:
        generated = _cloudfront_header(name, scheme, version, client_ip)
        if generated is not None:
            out[name] = generated


def _headers(
    b: Behavior,
    method: str,
    scheme: str,
    version: str,
    viewer: dict[str, str],
    client_ip: str,
    cautions: list[str],
) -> tuple[dict[str, str], bool]:
    """Origin headers (lowercase names) and whether the viewer's Host was forwarded."""
    origin = b.origin
    assert origin is not None
    out = _viewer_headers(b, viewer, cautions)
    host_forwarded = _host_and_agent(b, viewer, cautions, out)
    _authorization(b, method, viewer, cautions, out)
    cookie = _cookies(b, viewer.get("cookie"))
    if cookie is not None:
        out["cookie"] = cookie
    _accept_encoding(b, viewer, out)
    _added_by_cloudfront(b, scheme, version, viewer, client_ip, out)
    # add-origin-custom-headers.html: origin custom headers are added and overwrite viewer ones.
    for name, value in origin.custom_headers:
        out[name] = value
    return out, host_forwarded


def _cloudfront_header(name: str, scheme: str, version: str, client_ip: str) -> str | None:
    # adding-cloudfront-headers.html; only the headers whose value follows from the request are
    # modelled (geo and device headers depend on data the model does not have).
    if name == "cloudfront-forwarded-proto":
        return scheme
    if name == "cloudfront-viewer-http-version":
        return "2.0" if version == "2" else version
    if name == "cloudfront-viewer-address":
        return f"{client_ip}:0"
    return None


def simulate(
    distribution_config: dict[str, Any], request: dict[str, Any], policies: dict[str, Any] | None = None
) -> SimulationResult:
    """Predict how CloudFront handles ``request`` under ``distribution_config``.

    ``request``: ``{"method", "scheme", "path", "query", "headers"}`` plus optional ``body``,
    ``http_version`` ("1.0", "1.1", "2") and ``client_ip``. ``policies``: custom policies by ID
    (managed ones are built in). Raises :class:`ConfigError` when either cannot be read.
    """
    compiled = _compiled(distribution_config, policies)
    method, scheme, path, query, viewer, version, client_ip = _read_request(request)
    b = match_behavior(compiled.behaviors, path)
    cautions: list[str] = []
    origin = b.origin
    result = SimulationResult(
        behavior=b.label,
        edge_status=_edge_answer(b, method, scheme, version, request.get("body")),
        origin_id=origin.id if origin is not None else None,
        origin_request=None,
        origin_status=None,
        config_errors=list(compiled.errors),
        cautions=cautions,
    )
    if result.edge_status in (301, 307):
        host = viewer.get("host", "")
        result.redirect_location = f"https://{host}{path}" + (f"?{query}" if query else "")
    if result.edge_status is not None or origin is None:
        return result
    # DefaultRootObject.html: applies to "/" only, not to subdirectories.
    if path == "/" and compiled.default_root:
        path = "/" + compiled.default_root.lstrip("/")
    headers, host_forwarded = _headers(b, method, scheme, version, viewer, client_ip, cautions)
    result.origin_request = {
        "method": method,
        # DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath: OriginPath is prefixed and the
        # matched path-pattern prefix is not stripped.
        "path": origin.path.rstrip("/") + path,
        "query": _query(b, query),
        "headers": headers,
    }
    # API Gateway answers 403 to a Host that is not its own (default endpoint, no custom domain):
    # https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers
    if origin.is_execute_api and host_forwarded and headers["host"].lower() != origin.domain.lower():
        result.origin_status = 403
    return result
