"""Which origins of a distribution are APIs: execute-api and Lambda function URL names, a custom domain
known from the source, or an origin named explicitly (``--api-origin ID``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runbook_lib.apigateway.model import Api, CustomDomain
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.errors import SourceError
from runbook_lib.sources.result import DistributionSource

__all__ = ["ApiOrigin", "api_origins"]

# https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html (placeholders such as
# <ApiF70053CD> and <region> from a template count: they stand for the real names).
_EXECUTE_API = re.compile(r"^(?P<id>[^.]+)\.execute-api\.[^.]+\.amazonaws\.com(\.cn)?$", re.I)
# https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
_LAMBDA_URL = re.compile(r"^[^.]+\.lambda-url\.[^.]+\.on\.aws$", re.I)


@dataclass
class ApiOrigin:
    """An origin that is an API, and what the source knows about that API."""

    origin_id: str
    domain: str
    origin_path: str
    #: "execute-api", "lambda-url", "custom-domain" or "named".
    kind: str
    #: The API (or custom domain) behind it, when the source describes it.
    api: Api | CustomDomain | None


def _classify(origin: dict[str, Any], source: DistributionSource, named: set[str]) -> ApiOrigin | None:
    domain = str(origin.get("DomainName") or "")
    oid, path = str(origin.get("Id")), str(origin.get("OriginPath") or "")
    m = _EXECUTE_API.match(domain)
    if m:
        api_id = m.group("id")
        api = source.apis.get(api_id) or source.apis.get(api_id.lower())
        return ApiOrigin(oid, domain, path, "execute-api", api or source.domains.get(domain))
    if _LAMBDA_URL.match(domain):
        return ApiOrigin(oid, domain, path, "lambda-url", None)
    if domain in source.domains:
        return ApiOrigin(oid, domain, path, "custom-domain", source.domains[domain])
    if oid in named:
        return ApiOrigin(oid, domain, path, "named", None)
    return None


def api_origins(source: DistributionSource, named: list[str] | tuple[str, ...] = ()) -> list[ApiOrigin]:
    """The API origins of ``source``'s distribution, in origin order. An unknown ``named`` ID is a SourceError."""
    origins = [o for o in items(source.config.get("Origins")) if isinstance(o, dict)]
    ids = [str(o.get("Id")) for o in origins]
    unknown = [n for n in named if n not in ids]
    if unknown:
        raise SourceError(f"--api-origin {', '.join(unknown)}: distribution {source.name} has no such origin "
                          f"(origins: {', '.join(ids) or 'none'}). Pass one of these IDs.")
    found = (_classify(o, source, set(named)) for o in origins)
    return [o for o in found if o is not None]
