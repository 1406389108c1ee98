"""A tiny AWS on 127.0.0.1 answering real HTTP, for the fleet (``check --all``): STS's GetCallerIdentity,
CloudFront's ListDistributions and GetDistributionConfig, API Gateway's GetRestApi, GetResources, GetStages and
(v2) GetApi.

Why not only botocore's Stubber: a Stubber answers from botocore's ``before-call`` event, before the request is
sent, so botocore's retry handler never sees its answers (tests/test_fleet.py shows a queued Throttling error is
raised at once). Here each answer crosses the real path (serialised request, HTTP, parser, retries), so a
Throttling answer is retried by the client's own retry mode. Bodies are written by botocore's own REST-XML
serializer from the operation's output shape, after botocore's ParamValidator checked them against that shape
(as Stubber does), so the parser reads them as it reads AWS's. Every request is recorded; anything else is
answered 400 ``NotServed``, so a test sees an unexpected call.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import boto3
import botocore.session
from botocore.serialize import RestXMLSerializer
from botocore.validate import ParamValidator

from runbook_lib.aws.target import Target
from tests.stubbing import distribution_summary

_API_VERSION = "/2020-05-31"


@functools.cache
def _cloudfront_model() -> Any:
    return botocore.session.get_session().get_service_model("cloudfront")


def _xml(operation: str, member: str, value: dict[str, Any]) -> bytes:
    """``value`` as the XML payload ``member`` of ``operation``'s output, validated against its shape first."""
    output = _cloudfront_model().operation_model(operation).output_shape
    report = ParamValidator().validate({member: value}, output)
    if report.has_errors():
        raise AssertionError(f"{operation} answer does not match botocore's model: {report.generate_report()}")
    root = ElementTree.Element("")
    RestXMLSerializer()._serialize(output.members[member], value, root, member)  # noqa: SLF001 - botocore's own
    return ElementTree.tostring(list(root)[0], encoding="utf-8")


@dataclass
class LoopbackAws:
    """What the server answers, and what it was asked. Add to it before or while serving."""

    #: Seconds each answer waits before it is sent: an AWS round trip, for the benchmark.
    latency: float = 0.0
    page_size: int = 100
    #: Operation name → how many Throttling answers to give before the real one.
    throttle: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: The account STS GetCallerIdentity names (``connect``'s preflight).
    account: str = "123456789012"
    #: The most requests that were being answered at the same moment (the client's parallelism).
    max_in_flight: int = 0
    _in_flight: int = 0
    _configs: dict[str, bytes] = field(default_factory=dict)
    _summaries: list[dict[str, Any]] = field(default_factory=list)
    _apis: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_distribution(self, dist_id: str, config: dict[str, Any]) -> None:
        self._configs[dist_id] = _xml("GetDistributionConfig", "DistributionConfig", config)
        self._summaries.append(distribution_summary(dist_id, config))

    def add_rest_api(self, api_id: str, resources: dict[str, list[str]], stages: list[str]) -> None:
        self._apis[api_id] = {
            "api": {"id": api_id, "name": f"api-{api_id}"},
            "resources": {"item": [{"id": f"r{i}", "path": path, "resourceMethods": {m: {} for m in methods}}
                                   for i, (path, methods) in enumerate(resources.items())]},
            "stages": {"item": [{"stageName": s} for s in stages]},
        }

    # --- answers ---------------------------------------------------------------------------------

    def answer(self, method: str, target: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        if method == "POST" and target == "/" and b"Action=GetCallerIdentity" in body:  # STS (query protocol)
            with self._lock:
                self.requests.append((method, "sts:GetCallerIdentity"))
            return 200, {"Content-Type": "text/xml"}, _caller_identity(self.account)
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        with self._lock:
            self.requests.append((method, target))
        operation = self._operation(method, parts)
        with self._lock:
            left = self.throttle.get(operation, 0)
            if left:
                self.throttle[operation] = left - 1
        if left:
            return _error(operation, "Throttling", "Rate exceeded", 400)
        if operation == "ListDistributions":
            return self._list(query)
        if operation == "GetDistributionConfig":
            body = self._configs.get(parts[2])
            if body is None:
                return _error(operation, "NoSuchDistribution", "The specified distribution does not exist.", 404)
            return 200, {"ETag": f"E{parts[2]}", "Content-Type": "text/xml"}, body
        if operation == "GetApi":  # HTTP APIs are not served: every id is unknown
            return _error(operation, "NotFoundException", "Invalid API identifier specified", 404)
        if operation in ("GetRestApi", "GetResources", "GetStages"):
            api = self._apis.get(parts[1])
            if api is None:
                return _error(operation, "NotFoundException", "Invalid API identifier specified", 404)
            key = {"GetRestApi": "api", "GetResources": "resources", "GetStages": "stages"}[operation]
            return 200, {"Content-Type": "application/json"}, json.dumps(api[key]).encode()
        return _error(operation, "NotServed", f"{method} {url.path} is not served by tests/loopback_aws.py", 400)

    @staticmethod
    def _operation(method: str, parts: list[str]) -> str:
        if method != "GET":
            return f"{method} (not served)"
        if parts[:2] == [_API_VERSION.strip("/"), "distribution"]:
            return "ListDistributions" if len(parts) == 2 else "GetDistributionConfig"
        if parts[0] == "restapis" and len(parts) == 2:
            return "GetRestApi"
        if parts[0] == "restapis" and len(parts) == 3:
            return {"resources": "GetResources", "stages": "GetStages"}.get(parts[2], "?")
        if parts[:2] == ["v2", "apis"] and len(parts) == 3:
            return "GetApi"
        return "?"

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        start = int(query.get("Marker") or 0)
        size = min(self.page_size, int(query.get("MaxItems") or self.page_size))
        page = self._summaries[start:start + size]
        body: dict[str, Any] = {"Marker": query.get("Marker", ""), "MaxItems": size,
                                "IsTruncated": start + size < len(self._summaries), "Quantity": len(page)}
        if page:
            body["Items"] = page
        if body["IsTruncated"]:
            body["NextMarker"] = str(start + size)
        return 200, {"Content-Type": "text/xml"}, _xml("ListDistributions", "DistributionList", body)


def _caller_identity(account: str) -> bytes:
    return (f"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/runbook</Arn>"
            f"<UserId>AIDAEXAMPLE</UserId><Account>{account}</Account></GetCallerIdentityResult>"
            "<ResponseMetadata><RequestId>loopback</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ).encode()


def _error(operation: str, code: str, message: str, status: int) -> tuple[int, dict[str, str], bytes]:
    if operation in ("GetRestApi", "GetResources", "GetStages", "GetApi"):  # API Gateway: REST-JSON
        return status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, \
            json.dumps({"message": message}).encode()
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
           "<RequestId>loopback</RequestId></ErrorResponse>")
    return status, {"Content-Type": "text/xml"}, xml.encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    # One buffered write per answer, sent at once: headers and body written apart would meet Nagle's algorithm and
    # the client's delayed ACK, adding about 40 ms to every answer.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        aws = self.server.aws
        with aws._lock:
            aws._in_flight += 1
            aws.max_in_flight = max(aws.max_in_flight, aws._in_flight)
        try:
            if aws.latency:
                time.sleep(aws.latency)
            status, headers, body = aws.answer(self.command, self.path, body)
        finally:
            with aws._lock:
                aws._in_flight -= 1
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body)), "x-amzn-RequestId": "loopback"}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, aws: LoopbackAws) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.aws = aws


@contextmanager
def serving(aws: LoopbackAws) -> Iterator[str]:
    """Serve ``aws`` on 127.0.0.1 (a free port) while the block runs; yields its endpoint URL."""
    server = _Server(aws)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def aws_target(endpoint_url: str, region: str = "eu-west-1") -> Target:
    """A ``Target("aws", region)`` whose clients (made by Target.client, with its retry config) talk to
    ``endpoint_url``; explicit fake credentials, so no profile or metadata lookup happens."""
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                    region_name=region)
    return Target("aws", region, endpoint_url, session)
