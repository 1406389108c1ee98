"""The echo API's Lambda handler: it answers with what API Gateway handed it.

This file is zipped as it is and deployed as the function's code (handler
``echo_lambda.handler``), so it must only use the standard library.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

__all__ = ["MARKER", "handler"]

#: Lets a probe tell the echo's answer from anything else (S3, CloudFront's own errors).
MARKER = "cf-apigw-runbook-echo"


def _v2(event: dict[str, Any]) -> dict[str, Any]:
    """What an HTTP API (payload format 2.0) handed over, in the REST shape below: one shape for the probes.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    (2.0 keeps cookies apart and joins repeated query keys with commas; ``rawQueryString`` keeps them apart).
    """
    ctx = event.get("requestContext") or {}
    stage = ctx.get("stage")
    path = event.get("rawPath") or "/"
    prefix = f"/{stage}"
    if stage and stage != "$default" and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix):] or "/"  # AWS keeps a named stage in rawPath; the REST shape does not
    raw_query = event.get("rawQueryString") or ""
    query = parse_qs(raw_query, keep_blank_values=True) or None
    headers = {k.lower(): [v] for k, v in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = ["; ".join(event["cookies"])]
    return {
        "method": (ctx.get("http") or {}).get("method"),
        "path": path,
        "stage_path": path if stage in (None, "$default") else f"/{stage}{path}",
        "stage": stage,
        "resource": event.get("routeKey"),
        "query": query,
        "headers": headers,
    }


def _v1(event: dict[str, Any]) -> dict[str, Any]:
    request_context = event.get("requestContext") or {}
    return {
        "method": event.get("httpMethod"),
        # REST API proxy events: "path" is the resource path without the stage,
        # requestContext.path keeps the stage ("/prod/api/data").
        "path": event.get("path"),
        "stage_path": request_context.get("path"),
        "stage": request_context.get("stage"),
        "resource": event.get("resource"),
        "query": event.get("multiValueQueryStringParameters"),
        "headers": {k.lower(): v for k, v in (event.get("multiValueHeaders") or {}).items()},
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    seen = _v2(event) if event.get("version") == "2.0" else _v1(event)
    received = {"echo": MARKER, **seen, "body": body}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(received),
    }
