"""A viewer request written as one line, ``GET /api/data?since=2020-01-01``: checked and turned into the request
``simulate`` takes. Shared by the explainer, the notebook parameters and the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runbook_lib.errors import ParameterError

__all__ = ["EXAMPLE_DISTRIBUTION_DOMAIN", "METHODS", "check", "parse"]

#: The example distribution domain of the CloudFront docs: the Host a viewer sends when none is given.
EXAMPLE_DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net"
#: The methods a CloudFront behavior can allow
#: (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesAllowedHTTPMethods).
METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
_LINE = re.compile(r"^\s*([A-Za-z]+)\s+(\S+)\s*$")


def check(line: Any) -> str | None:
    """Why ``line`` is not a request line like ``GET /api/data?since=2020-01-01`` (None when it is)."""
    if not isinstance(line, str):
        return "Pass a string such as GET /api/data?since=2020-01-01."
    found = _LINE.match(line)
    if found is None:
        return "Write METHOD /path?query, for example GET /api/data?since=2020-01-01."
    method, target = found.group(1).upper(), found.group(2)
    if method not in METHODS:
        return f"Method {method} is not one CloudFront knows. Valid methods: {', '.join(METHODS)}."
    if not (target.startswith("/") or target.startswith(("http://", "https://"))):
        return f"The path must start with / (found {target!r}), or be a full http(s):// URL."
    return None


def parse(line: str, headers: Mapping[str, str] | None = None, *, host: str = EXAMPLE_DISTRIBUTION_DOMAIN,
          scheme: str = "https") -> dict[str, Any]:
    """``"GET /api/data?since=2020-01-01"`` (or ``"GET http://host/path"``) as a ``simulate`` request.

    A viewer always sends Host, so ``host`` (or the URL's host) is added when ``headers`` has none; ``scheme``
    is the viewer's protocol unless the line is a full URL. Raises :class:`ParameterError` with an example
    when the line is malformed.
    """
    problem = check(line)
    if problem is not None:
        raise ParameterError(f"request={line!r} is not a request line. {problem}")
    found = _LINE.match(line)
    assert found is not None
    method, target = found.group(1).upper(), found.group(2)
    if not target.startswith("/"):
        url = urlsplit(target)
        scheme, host = url.scheme, url.netloc or host
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    path, _, query = target.partition("?")
    given = dict(headers or {})
    if not any(k.lower() == "host" for k in given):
        given = {"Host": host, **given}
    return {"method": method, "scheme": scheme, "path": path, "query": query, "headers": given}
