"""The page the runbook puts in the site bucket (what the default behavior serves), and the marker that tells it apart.

A constant module like ``echo_lambda.MARKER``: provisioning uploads :data:`INDEX_HTML`, and the probes
recognise an answer from the S3 site by :data:`MARKER`, without the probes importing the provisioning code.
"""

from __future__ import annotations

__all__ = ["INDEX_HTML", "MARKER"]

#: Lets a probe tell the site's answer from the echo API's or CloudFront's own.
MARKER = "cf-apigw-runbook-site"
INDEX_HTML = (
    f"<!doctype html><title>{MARKER}</title>"
    "<h1>Served by the S3 default behavior</h1><p>Requests outside /api/* land here.</p>"
).encode()
