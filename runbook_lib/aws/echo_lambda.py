"""The echo API's Lambda handler: it answers with what API Gateway handed it.

This file is zipped as it is and deployed as the function's code (handler
``echo_lambda.handler``), so it must only use the standard library.
"""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["MARKER", "handler"]

#: Lets a probe tell the echo's answer from anything else (S3, CloudFront's own errors).
MARKER = "cf-apigw-runbook-echo"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    request_context = event.get("requestContext") or {}
    received = {
        "echo": MARKER,
        "method": event.get("httpMethod"),
        # REST API proxy events: "path" is the resource path without the stage,
        # requestContext.path keeps the stage ("/prod/api/data").
        "path": event.get("path"),
        "stage_path": request_context.get("path"),
        "stage": request_context.get("stage"),
        "resource": event.get("resource"),
        "query": event.get("multiValueQueryStringParameters"),
        "headers": {k.lower(): v for k, v in (event.get("multiValueHeaders") or {}).items()},
        "body": body,
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(received),
    }
