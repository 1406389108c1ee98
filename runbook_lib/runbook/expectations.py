"""What AWS would do with a probe: the expected side of every check, from the forwarding model.

The model (``runbook_lib.simulate``) predicts what CloudFront sends to the origin; this module turns
that into the values a probe observes through the echo API (status, who answered, the path, query
and headers the API received).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from runbook_lib.cloudfront.model import simulate
from runbook_lib.runbook.probes import ABSENT, NO_QUERY, Probe, format_query

__all__ = ["SITE_KEYS", "Expectation", "expected", "value"]

#: Keys the runbook puts in the site bucket (``provision.INDEX_HTML``).
SITE_KEYS = frozenset({"index.html"})


@dataclass
class Expectation:
    values: dict[str, Any]
    behavior: str
    origin_id: str | None
    cautions: list[str] = field(default_factory=list)


def _origin(config: dict[str, Any], origin_id: str | None) -> dict[str, Any]:
    return next((o for o in config["Origins"]["Items"] if o["Id"] == origin_id), {})


def expected(config: dict[str, Any], probe: Probe, host: str, stage: str,
             policies: dict[str, Any] | None = None) -> Expectation:
    """The values ``probe`` should observe on AWS, for the AWS form of the distribution ``config``."""
    result = simulate(config, probe.request(host), policies)
    values: dict[str, Any] = {"location": ABSENT}
    exp = Expectation(values, result.behavior, result.origin_id, list(result.cautions))
    origin = _origin(config, result.origin_id)
    if result.edge_status is not None:
        values.update(status=result.edge_status, served_by="cloudfront")
        if result.redirect_location:
            values["location"] = result.redirect_location
        return exp
    if result.origin_status is not None:
        # A refusal the origin itself gives (API Gateway's 403 to a foreign Host).
        values.update(status=result.origin_status, served_by="api-gateway")
        return exp
    request = result.origin_request or {}
    if "S3OriginConfig" in origin:
        # S3 answers 403, not 404, for a missing key when the reader may not ListBucket (our OAC
        # policy grants GetObject only): https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
        key = str(request.get("path", "")).lstrip("/")
        values.update(status=200 if key in SITE_KEYS else 403, served_by="s3")
        return exp
    api_path = str(request.get("path", ""))[len(origin.get("OriginPath", "")):]
    query = request.get("query")
    values.update({
        "status": 200,
        "served_by": "api",
        "api.method": request.get("method"),
        "api.path": api_path,
        "api.stage_path": f"/{stage}{api_path}",
        "api.query": format_query(parse_qs(query, keep_blank_values=True)) if query else NO_QUERY,
        "api.body": probe.body if probe.body is not None else ABSENT,
    })
    for name, value in (request.get("headers") or {}).items():
        values[f"api.header.{name.lower()}"] = value
    return exp


def value(exp: Expectation, check: str) -> Any:
    return exp.values.get(check, ABSENT)
