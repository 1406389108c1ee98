"""``check distribution:<ID> --probe-live PATH…``: read-only probes through the real distribution and straight to
its API, side by side.

For each PATH, one request goes to the distribution's domain (as a viewer) and one to the API origin directly (the
origin's domain, its OriginPath, then the path, with the origin's custom headers, which is what CloudFront sends
it: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html). Each answer
is reduced to its status, who answered (``probes.classify``), a digest and length of its body, and a few key
headers with credentials masked (``redact``); bodies themselves are never kept. The two are "same" when status and
body digest are equal, else "differs" with what differs.

Only GET and HEAD are ever sent (:data:`READ_ONLY`); a PATH given as ``"POST /x"`` is refused before anything is
sent. The API origin of a PATH is the origin of the behavior CloudFront picks for it when that origin is an API,
otherwise the distribution's first API origin (so a path that CloudFront sends to S3 by mistake is compared with
what the API would have answered).

Exit code: a PATH **breaks** (the check fails, exit 1) when the API answers it directly with a status below 400
and CloudFront answers 400 or more, or does not answer: CloudFront loses what the API serves. Any other difference
(a body that differs, as an echo or a timestamp makes it, a different 2xx, an API that refuses both) is reported and
does not change the exit code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote_plus

import requests

from runbook_lib.aws.calls import aws_call
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.model import compiled_behaviors, match_behavior
from runbook_lib.errors import ConfigError
from runbook_lib.runbook import redact
from runbook_lib.runbook.check import CheckResult
from runbook_lib.runbook.probes import classify
from runbook_lib.sources import ApiOrigin, DistributionSource, api_origins

__all__ = ["KEY_HEADERS", "READ_ONLY", "Answer", "Comparison", "attach", "compare", "lines", "parse_path",
           "probe_live", "require_distribution"]

#: The only methods a live probe sends: neither changes anything at a well-behaved API.
READ_ONLY = frozenset({"GET", "HEAD"})
#: Response headers shown side by side (lower case): who answered, caching, errors, redirects.
KEY_HEADERS = ("content-type", "cache-control", "age", "x-cache", "via", "x-amz-cf-pop", "x-amzn-errortype",
               "x-amzn-requestid", "x-amz-apigw-id", "location", "www-authenticate", "set-cookie")
_TIMEOUT = 15.0


@dataclass
class Answer:
    """One side's answer: never its body, only what identifies it."""

    url: str
    status: int | None
    served_by: str
    digest: str
    length: int
    headers: dict[str, str]
    message: str = ""
    error: str = ""


@dataclass
class Comparison:
    method: str
    path: str
    behavior: str
    #: The origin of that behavior, and the API origin the PATH is compared with (the same unless the behavior's
    #: origin is not an API).
    behavior_origin: str
    origin_id: str
    via_cloudfront: Answer
    direct: Answer
    #: "same", or "differs: " and what differs (status, body, who answered).
    verdict: str
    #: The API answers directly (< 400) and CloudFront does not (>= 400 or no answer): the check fails.
    breaks: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_path(spec: str) -> tuple[str, str]:
    """``"/api/items?x=1"`` → ``("GET", "/api/items?x=1")``; ``"HEAD /api/items"`` → ``("HEAD", ...)``."""
    method, _, path = spec.strip().rpartition(" ")
    method = method.strip().upper() or "GET"
    if method not in READ_ONLY:
        raise ConfigError(f"--probe-live {spec!r}: only GET and HEAD are sent to a live distribution (found "
                          f"{method}). Write the path alone (GET) or as 'HEAD /path'.")
    if not path.startswith("/") or any(ord(c) < 0x21 or ord(c) == 0x7F for c in path):
        raise ConfigError(f"--probe-live {spec!r}: expected a path starting with '/' without spaces or control "
                          "characters, such as /api/items?since=2020-01-01.")
    return method, path


def _shown(url: str) -> str:
    """``url`` with the values of credential-named query parameters masked (``?token=‹redacted…›``)."""
    base, sep, query = url.partition("?")
    parts = []
    for part in query.split("&") if sep else []:
        name, eq, value = part.partition("=")
        parts.append(f"{name}={redact.mask(unquote_plus(value))}" if eq and redact.is_sensitive(unquote_plus(name))
                     else part)
    return base + sep + "&".join(parts)


def _answer(url: str, response: requests.Response) -> Answer:
    body = response.content
    served_by, _ = classify(response.status_code, dict(response.headers), body)
    headers = {k: response.headers[k] for k in KEY_HEADERS if k in response.headers}
    message = ""
    if response.status_code >= 400:  # API Gateway's and CloudFront's JSON refusals say why in "message"
        try:
            found = json.loads(body)
            message = str(found.get("message") or found.get("Message") or "")[:200] if isinstance(found, dict) else ""
        except ValueError:
            message = ""
    return Answer(_shown(url), response.status_code, served_by, hashlib.sha256(body).hexdigest()[:12], len(body),
                  redact.headers(headers), message)


def _send(http: requests.Session, method: str, url: str, headers: dict[str, str]) -> Answer:
    if method not in READ_ONLY:  # the one place a live request is sent: nothing else, ever
        raise ConfigError(f"refusing to send {method} to a live distribution: only GET and HEAD are sent.")
    try:
        response = http.request(method, url, headers=headers, allow_redirects=False, timeout=_TIMEOUT)
    except requests.RequestException as err:
        return Answer(_shown(url), None, "unreachable", "", 0, {}, error=f"{type(err).__name__}: {err}")
    return _answer(url, response)


def _direct_base(target: Target, api: ApiOrigin, origin: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Where the API origin is reached directly, and the custom headers CloudFront adds to every request to it."""
    headers = {str(h["HeaderName"]): str(h["HeaderValue"]) for h in items(origin.get("CustomHeaders"))}
    path = str(origin.get("OriginPath") or "")
    if target.is_local:
        # distribution:<ID> is read in its AWS form (aws.read); the API is reached at MiniStack's path-style address
        # on the loopback endpoint, the one Target.api_origin gives the local distribution's origin.
        if api.kind == "execute-api":
            api_id, (stage, sep, rest) = api.domain.split(".", 1)[0], path.strip("/").partition("/")
            local = target.api_origin(api_id, stage) if stage else target.api_stage_origin(api_id)
            path = str(local["OriginPath"]) + sep + rest
        return (target.endpoint_url or "").rstrip("/") + path, headers
    custom = origin.get("CustomOriginConfig") or {}
    domain = str(origin.get("DomainName"))
    if custom.get("OriginProtocolPolicy") == "http-only":
        port = int(custom.get("HTTPPort") or 80)
        return f"http://{domain}{'' if port == 80 else f':{port}'}{path}", headers
    port = int(custom.get("HTTPSPort") or 443)
    return f"https://{domain}{'' if port == 443 else f':{port}'}{path}", headers


def _api_origin(source: DistributionSource, apis: list[ApiOrigin], path: str) -> tuple[str, str, ApiOrigin]:
    """The behavior CloudFront picks for ``path``, its origin, and the API origin to compare it with."""
    behavior = match_behavior(compiled_behaviors(source.config, source.policies or None), path.partition("?")[0])
    target_id = str(behavior.raw.get("TargetOriginId"))
    chosen = next((o for o in apis if o.origin_id == target_id), apis[0])
    return behavior.label, target_id, chosen


def _verdict(cloudfront: Answer, direct: Answer) -> str:
    differs = [name for name, a, b in (("status", cloudfront.status, direct.status),
                                       ("body", cloudfront.digest, direct.digest),
                                       ("who answered", cloudfront.served_by, direct.served_by)) if a != b]
    return "same" if not differs else "differs: " + ", ".join(differs)


def compare(target: Target, source: DistributionSource, domain: str, specs: list[str],
            named_api_origins: tuple[str, ...] = (), http: requests.Session | None = None) -> list[Comparison]:
    """Probe each of ``specs`` through ``domain`` (the distribution) and directly at its API origin."""
    parsed = [parse_path(s) for s in specs]  # every PATH refused before anything is sent
    apis = api_origins(source, named_api_origins)
    if not apis:
        raise ConfigError(f"--probe-live: distribution {source.name} has no API origin to compare with; name one "
                          "with --api-origin ID.")
    origins = {str(o.get("Id")): o for o in items(source.config.get("Origins"))}
    out = []
    with requests.Session() if http is None else contextlib.nullcontext(http) as session:
        for method, path in parsed:
            label, behavior_origin, api = _api_origin(source, apis, path)
            viewer_base, viewer_headers = target.viewer_endpoint(domain)
            direct_base, direct_headers = _direct_base(target, api, origins[api.origin_id])
            via = _send(session, method, viewer_base + path, viewer_headers)
            direct = _send(session, method, direct_base + path, direct_headers)
            breaks = direct.status is not None and direct.status < 400 and (via.status is None or via.status >= 400)
            out.append(Comparison(method, _shown(path), label, behavior_origin, api.origin_id, via, direct,
                                  _verdict(via, direct), breaks))
    return out


def probe_live(target: Target, source: DistributionSource, specs: list[str],
               named_api_origins: tuple[str, ...] = (), http: requests.Session | None = None) -> list[Comparison]:
    """:func:`compare` for ``distribution:<ID>``, its domain read from ``target`` (GetDistribution, read-only)."""
    if source.kind != "distribution":
        raise ConfigError(f"--probe-live needs distribution:<ID> (a live distribution to send requests through); "
                          f"{source.location} is {source.kind}. Run `check distribution:<ID> --target aws "
                          "--probe-live PATH`.")
    found = aws_call(f"GetDistribution {source.name}", target.client("cloudfront").get_distribution, Id=source.name)
    return compare(target, source, str(found["Distribution"]["DomainName"]), specs, named_api_origins, http)


def require_distribution(spec: str) -> None:
    """Refuse ``--probe-live`` for anything but ``distribution:<ID>``, before any work is done."""
    if not spec.startswith("distribution:"):
        raise ConfigError(f"--probe-live needs distribution:<ID> (a live distribution to send requests "
                          f"through), not {spec}. Run `check distribution:<ID> --target aws --probe-live PATH`.")


def attach(result: CheckResult, target: Target | None, specs: list[str],
           named_api_origins: tuple[str, ...] = ()) -> None:
    """Probe ``specs`` live for each distribution of ``result`` (``check --probe-live``); kept in its ``live``."""
    for dist in result.distributions:
        if target is None or dist.source is None:
            require_distribution(result.source)
            raise ConfigError("--probe-live needs the target the distribution was read from (--target).")
        dist.live = [c.to_dict() for c in probe_live(target, dist.source, specs, named_api_origins)]


def _side(a: Answer) -> str:
    if a.status is None:
        return f"no answer ({a.error})"
    said = f" \"{a.message}\"" if a.message else ""
    return f"{a.status} {a.served_by} #{a.digest} ({a.length} B){said}"


def lines(comparisons: list[dict[str, Any]]) -> list[str]:
    """The readable side-by-side section (from :meth:`Comparison.to_dict` rows)."""
    out = ["  live probes (GET/HEAD only): via CloudFront | directly at the API"] if comparisons else []
    for c in comparisons:
        flag = "BREAKS" if c["breaks"] else c["verdict"].split(":")[0]
        route = c["behavior"] + " -> " + c["behavior_origin"] + (
            "" if c["behavior_origin"] == c["origin_id"] else f", compared with API origin {c['origin_id']}")
        out.append(f"    {flag:8} {c['method']} {c['path']} ({route}): "
                   f"{_side(Answer(**c['via_cloudfront']))} | {_side(Answer(**c['direct']))}; {c['verdict']}")
    return out
