"""Live probes: viewer requests sent through CloudFront, and what the echo API says it received.

A probe is one viewer request; each probe names the checks it makes. :func:`run` sends the matrix and
returns one :class:`Observation` per probe; ``runbook_lib.results`` compares them with what AWS's
documented behaviour predicts.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from runbook_lib.aws import echo_lambda, site_page
from runbook_lib.aws.target import Target
from runbook_lib.runbook import redact
from runbook_lib.runbook.progress import bar

__all__ = [
    "ABSENT", "NO_QUERY", "Observation", "Probe", "classify", "default_matrix", "describe", "format_query",
    "observe", "run", "send", "send_to",
]

#: The observed (or expected) value of a header the origin did not receive.
ABSENT = "(absent)"
#: The query the API saw when none reached it.
NO_QUERY = "(none)"


@dataclass(frozen=True)
class Probe:
    id: str
    what: str
    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    scheme: str = "https"
    checks: tuple[str, ...] = ("status", "served_by")

    def header_dict(self) -> dict[str, str]:
        return dict(self.headers)

    def request(self, host: str) -> dict[str, Any]:
        """This probe in the model's request shape (``runbook_lib.simulate``)."""
        req: dict[str, Any] = {
            "method": self.method, "scheme": self.scheme, "path": self.path, "query": self.query,
            # What requests itself sends (User-Agent, Accept-Encoding, Accept) is part of the request.
            "headers": {**requests.utils.default_headers(), "Host": host, **self.header_dict()},
            "http_version": "1.1",
        }
        if self.body is not None:
            req["body"] = self.body
        return req


def _api(*checks: str) -> tuple[str, ...]:
    return ("status", "served_by", *checks)


def default_matrix(token: str | None = None) -> list[Probe]:
    """The probe matrix of the verify notebook: query strings, headers, cookies, methods, paths.

    ``token`` is the Authorization credential sent; by default a fresh random one per run, since it is
    compared for real (and masked in every output).
    """
    auth = f"Bearer {token or secrets.token_urlsafe(18)}"
    ua = "runbook-probe/1.0 (+https://github.com/)"
    return [
        Probe("query-single", "one query parameter", "GET", "/api/data", "since=2020-01-01",
              checks=_api("api.path", "api.query")),
        Probe("query-repeated", "a repeated key", "GET", "/api/data", "tag=a&tag=b&since=2020-01-01",
              checks=_api("api.query")),
        Probe("query-encoded", "percent-encoded characters", "GET", "/api/data",
              "q=caf%C3%A9%20au%20lait&expr=a%2Bb%3Dc", checks=_api("api.query")),
        Probe("query-empty-value", "an empty value", "GET", "/api/data", "flag=&since=",
              checks=_api("api.query")),
        Probe("header-authorization", "Authorization on GET", "GET", "/api/data",
              headers=(("Authorization", auth),), checks=_api("api.header.authorization")),
        Probe("header-custom", "a custom X- header", "GET", "/api/data",
              headers=(("X-Runbook-Probe", "probe-42"),), checks=_api("api.header.x-runbook-probe")),
        Probe("header-accept-language", "Accept-Language", "GET", "/api/data",
              headers=(("Accept-Language", "fr-CH, fr;q=0.9"),), checks=_api("api.header.accept-language")),
        Probe("header-user-agent", "User-Agent", "GET", "/api/data", headers=(("User-Agent", ua),),
              checks=_api("api.header.user-agent")),
        Probe("header-host", "Host the API sees", "GET", "/api/data", checks=_api("api.header.host")),
        Probe("cookie", "two cookies", "GET", "/api/data", headers=(("Cookie", "theme=dark; session=s1"),),
              checks=_api("api.header.cookie")),
        Probe("method-get", "GET", "GET", "/api/items", checks=_api("api.method")),
        # A HEAD answer has no body, so only its status can be checked.
        Probe("method-head", "HEAD (no body comes back)", "HEAD", "/api/items", checks=("status",)),
        Probe("method-post", "POST with a JSON body and Authorization", "POST", "/api/items",
              headers=(("Content-Type", "application/json"), ("Authorization", auth)),
              body='{"name": "widget"}', checks=_api("api.method", "api.body", "api.header.authorization")),
        Probe("method-put", "PUT with a body", "PUT", "/api/items/7", headers=(("Content-Type", "text/plain"),),
              body="replace", checks=_api("api.method", "api.body")),
        Probe("method-patch", "PATCH with a body", "PATCH", "/api/items/7",
              headers=(("Content-Type", "text/plain"),), body="patch", checks=_api("api.method", "api.body")),
        Probe("method-delete", "DELETE", "DELETE", "/api/items/7", checks=_api("api.method")),
        Probe("method-options", "OPTIONS", "OPTIONS", "/api/items", checks=_api("api.method")),
        Probe("path-deep", "a deep path", "GET", "/api/a/b/c", checks=_api("api.path", "api.stage_path")),
        Probe("path-bare-api", "/api itself (not matched by /api/*)", "GET", "/api"),
        Probe("path-site", "a non-API path", "GET", "/index.html"),
        Probe("path-root", "the root (default root object)", "GET", "/"),
        Probe("http-redirect", "plain HTTP", "GET", "/api/data", "since=2020-01-01", scheme="http",
              checks=("status", "served_by", "location")),
    ]


@dataclass
class Observation:
    probe: Probe
    status: int | None
    served_by: str
    values: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    error: str | None = None

    def get(self, check: str) -> Any:
        if check == "status":
            return self.status
        if check == "served_by":
            return self.served_by
        return self.values.get(check, ABSENT)


def format_query(multi: dict[str, list[str]] | None) -> str:
    """A multi-value query mapping as one comparable string (keys sorted, values in order)."""
    if not multi:
        return NO_QUERY
    return urlencode([(k, v) for k in sorted(multi) for v in multi[k]])


def classify(status: int, headers: dict[str, str], body: bytes) -> tuple[str, dict[str, Any] | None]:
    """Who answered: the echo API, the S3 site, API Gateway itself, or CloudFront."""
    text = body[:4096].decode("utf-8", "replace")
    if echo_lambda.MARKER in text:
        try:
            return "api", dict(json.loads(body))
        except ValueError:
            return "api", None
    if site_page.MARKER in text or (text.lstrip().startswith("<?xml") and "<Error>" in text):
        return "s3", None
    if "x-amzn-requestid" in {k.lower() for k in headers} or '"message"' in text:
        return "api-gateway", None
    return "cloudfront", None


def observe(probe: Probe, response: requests.Response, elapsed_ms: float) -> Observation:
    served_by, echo = classify(response.status_code, dict(response.headers), response.content)
    values: dict[str, Any] = {
        "location": response.headers.get("Location", ABSENT),
        # How a person tells who answered: CloudFront's own headers, and the body of a refusal.
        "response.x-cache": response.headers.get("X-Cache", ABSENT),
        "response.via": response.headers.get("Via", ABSENT),
    }
    if echo is None:  # never keep an echo body: it holds the credentials the API received
        values["response.body"] = response.text[:300]
    if echo is not None:
        values["api.method"] = echo.get("method")
        values["api.path"] = echo.get("path")
        values["api.stage_path"] = echo.get("stage_path")
        values["api.stage"] = echo.get("stage")
        values["api.resource"] = echo.get("resource")
        values["api.query"] = format_query(echo.get("query"))
        values["api.body"] = echo.get("body") if echo.get("body") is not None else ABSENT
        for name, vals in (echo.get("headers") or {}).items():
            values[f"api.header.{name}"] = ", ".join(vals)
    return Observation(probe, response.status_code, served_by, values, elapsed_ms)


def send(target: Target, domain: str, probe: Probe, session: requests.Session | None = None,
         timeout: float = 30.0) -> Observation:
    """Send one probe as a viewer would and observe what came back."""
    base, extra = target.viewer_endpoint(domain, probe.scheme)
    return send_to(base, extra, probe, session, timeout)


def send_to(base_url: str, extra_headers: dict[str, str], probe: Probe, session: requests.Session | None = None,
            timeout: float = 30.0) -> Observation:
    """Send ``probe`` to ``base_url`` with ``extra_headers`` added (e.g. a ``Host``) and observe what came back."""
    url = base_url + probe.path + (f"?{probe.query}" if probe.query else "")
    start = time.perf_counter()
    try:
        if session is None:
            with requests.Session() as own:
                response = _request(own, probe, url, extra_headers, timeout)
        else:
            response = _request(session, probe, url, extra_headers, timeout)
    except requests.RequestException as err:
        return Observation(probe, None, "unreachable", {}, (time.perf_counter() - start) * 1000,
                           error=f"{type(err).__name__}: {err}")
    return observe(probe, response, (time.perf_counter() - start) * 1000)


def _request(http: requests.Session, probe: Probe, url: str, extra_headers: dict[str, str],
             timeout: float) -> requests.Response:
    return http.request(probe.method, url, headers={**extra_headers, **probe.header_dict()},
                        data=probe.body, allow_redirects=False, timeout=timeout)


def run(target: Target, domain: str, matrix: list[Probe], progress: bool = True) -> list[Observation]:
    """Send every probe (one keep-alive session), with a progress bar."""
    with requests.Session() as http:
        return [send(target, domain, p, http) for p in bar(matrix, desc="probes", disable=not progress)]


def describe(matrix: list[Probe]) -> list[dict[str, Any]]:
    """The matrix as rows a person reads (credentials masked)."""
    return [{
        "probe": p.id, "what": p.what,
        "request": f"{p.method} {p.scheme}://…{p.path}" + (f"?{p.query}" if p.query else ""),
        "headers": "; ".join(f"{k}: {v}" for k, v in redact.headers(p.header_dict()).items()),
        "body": p.body or "", "checks": ", ".join(p.checks),
    } for p in matrix]
