"""botocore Stubbers on a ``Target("aws", ...)`` and AWS-shaped responses for them.

Every request the code under test sends goes through the real client: botocore validates its
parameters against the service model (``ParamValidationError`` on a wrong shape) and serialises it;
the Stubber then checks the operation order and ``expected_params`` and answers with a response that
is itself validated against the operation's output shape. Nothing leaves the process: an operation
with no queued answer raises ``UnStubbedResponseError``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore import xform_name
from botocore.stub import Stubber

from runbook_lib.aws.target import Target

SERVICES = ("sts", "iam", "lambda", "apigateway", "s3", "cloudfront")


@dataclass(frozen=True)
class Call:
    """One request the code under test sent to a stubbed client: what IAM must allow (tests/test_aws_iam.py)."""

    service: str
    operation: str
    region: str
    params: dict[str, Any]


#: Every request sent to a stubbed client in this test session, in order (valid or not, answered or refused).
RECORDED: list[Call] = []


def record_calls(client: Any) -> None:
    """Append every request ``client`` is asked to send to :data:`RECORDED` (before validation and stubbing)."""
    service = client.meta.service_model.service_name
    region = client.meta.region_name

    def on_call(params: dict[str, Any], model: Any, **_: Any) -> None:
        RECORDED.append(Call(service, model.name, region, copy.deepcopy(params)))

    client.meta.events.register_first(f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}",
                                      on_call)
ACCOUNT = "123456789012"
WHEN = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@dataclass
class StubbedAws:
    """One activated Stubber per service on ``target``'s cached clients."""

    target: Target
    stubbers: dict[str, Stubber]
    #: How many requests were queued; once ``assert_done`` passes, each was sent and validated.
    queued: int = 0
    calls: list[tuple[str, str]] = field(default_factory=list)

    def ok(self, service: str, operation: str, response: dict[str, Any] | None = None,
           expected: dict[str, Any] | None = None) -> None:
        """Queue ``response`` for the next ``operation`` ("CreateRole"); ``expected`` pins its parameters."""
        self.stubbers[service].add_response(xform_name(operation), response or {}, expected)
        self.queued += 1
        self.calls.append((service, operation))

    def error(self, service: str, operation: str, code: str, message: str = "", status: int = 400,
              expected: dict[str, Any] | None = None) -> None:
        """Queue an AWS error answer (a ``ClientError`` with ``code``) for the next ``operation``."""
        self.stubbers[service].add_client_error(
            xform_name(operation), service_error_code=code, service_message=message, http_status_code=status,
            expected_params=expected)
        self.queued += 1
        self.calls.append((service, operation))

    def assert_done(self) -> None:
        """Every queued answer was consumed, by the expected request, in order."""
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@functools.cache
def _loader() -> Any:
    return botocore.session.get_session().get_component("data_loader")


def _botocore_session() -> botocore.session.Session:
    """A fresh botocore session that shares one (caching) model loader with every other test."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())
    return session


@contextmanager
def stubbed_aws(region: str) -> Iterator[StubbedAws]:
    """A ``Target("aws", region)`` whose six clients answer only from their Stubbers."""
    # Explicit fake credentials: no profile, environment or instance-metadata lookup happens. One
    # botocore session for all tests so the service models are loaded once.
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                    region_name=region, botocore_session=_botocore_session())
    target = Target("aws", region, None, session)
    make_client = target.client

    def recorded_client(service: str) -> Any:  # every client of the target, also one a test adds later
        new = service not in target._clients
        client = make_client(service)
        if new:
            record_calls(client)
        return client

    target.client = recorded_client  # type: ignore[method-assign]
    stubbers = {s: Stubber(target.client(s)) for s in SERVICES}
    for stubber in stubbers.values():
        stubber.activate()
    try:
        yield StubbedAws(target, stubbers)
    finally:
        for stubber in stubbers.values():
            stubber.deactivate()


class JsonDoc:
    """Equal to a JSON string that parses to a document for which ``check`` is true (policies)."""

    def __init__(self, check: Callable[[Any], bool], what: str) -> None:
        self.check, self.what = check, what

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.check(json.loads(other))

    def __hash__(self) -> int:  # pragma: no cover - never hashed, defined alongside __eq__
        return id(self)

    def __repr__(self) -> str:
        return f"<JSON document: {self.what}>"


# --- responses ------------------------------------------------------------------------------------


def caller_identity() -> dict[str, Any]:
    return {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/runbook"}


def role(name: str, tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Path": "/", "RoleName": name, "RoleId": "AROA3XFRBF535EXAMPLE",
                            "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "CreateDate": WHEN}
    if tags is not None:
        body["Tags"] = tags
    return {"Role": body}


def function_config(name: str, region: str, role_arn: str, state: str = "Active") -> dict[str, Any]:
    return {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
            "Runtime": "python3.12", "Role": role_arn, "Handler": "echo_lambda.handler", "CodeSize": 900,
            "Timeout": 10, "MemorySize": 128, "State": state, "LastUpdateStatus": "Successful"}


def function(name: str, region: str, role_arn: str, tags: dict[str, str] | None = None,
             state: str = "Active") -> dict[str, Any]:
    out: dict[str, Any] = {
        "Configuration": function_config(name, region, role_arn, state),
        "Code": {"RepositoryType": "S3", "Location": "https://awslambda-eu-west-1-tasks.example/snapshot"},
    }
    if tags is not None:
        out["Tags"] = tags
    return out


def rest_api(api_id: str, name: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"id": api_id, "name": name, "createdDate": WHEN, "apiKeySource": "HEADER",
            "endpointConfiguration": {"types": ["REGIONAL"]}, "tags": tags}


def oac(oac_id: str, name: str) -> dict[str, Any]:
    """An OriginAccessControlSummary."""
    return {"Id": oac_id, "Description": "", "Name": name, "SigningProtocol": "sigv4",
            "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}


def oac_list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"OriginAccessControlList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                        "Quantity": len(items), **({"Items": list(items)} if items else {})}}


def cache_policy(policy_id: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"Id": policy_id, "LastModifiedTime": WHEN, "CachePolicyConfig": config}


def cache_policy_list(*policies: dict[str, Any]) -> dict[str, Any]:
    items = [{"Type": "custom", "CachePolicy": p} for p in policies]
    return {"CachePolicyList": {"MaxItems": 100, "Quantity": len(items), **({"Items": items} if items else {})}}


def distribution(dist_id: str, config: dict[str, Any], status: str = "Deployed") -> dict[str, Any]:
    """A Distribution (what CreateDistribution/GetDistribution/UpdateDistribution return)."""
    return {"Id": dist_id, "ARN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{dist_id}", "Status": status,
            "LastModifiedTime": WHEN, "InProgressInvalidationBatches": 0,
            "DomainName": "d111111abcdef8.cloudfront.net", "DistributionConfig": config}


def distribution_summary(dist_id: str, config: dict[str, Any], status: str = "Deployed") -> dict[str, Any]:
    """A DistributionSummary as ListDistributions returns it."""
    return {
        "Id": dist_id, "ARN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{dist_id}", "Status": status,
        "LastModifiedTime": WHEN, "DomainName": "d111111abcdef8.cloudfront.net",
        "Aliases": {"Quantity": 0}, "Origins": config["Origins"],
        "DefaultCacheBehavior": config["DefaultCacheBehavior"],
        "CacheBehaviors": config.get("CacheBehaviors", {"Quantity": 0}),
        "CustomErrorResponses": {"Quantity": 0}, "Comment": config["Comment"],
        "PriceClass": config.get("PriceClass", "PriceClass_All"), "Enabled": config["Enabled"],
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1",
                              "CertificateSource": "cloudfront"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "", "HttpVersion": config.get("HttpVersion", "http2"), "IsIPV6Enabled": True,
        "Staging": False,
    }


def distribution_list(*summaries: dict[str, Any], next_marker: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"Marker": "", "MaxItems": 100, "IsTruncated": bool(next_marker),
                            "Quantity": len(summaries)}
    if summaries:
        body["Items"] = list(summaries)
    if next_marker:
        body["NextMarker"] = next_marker
    return {"DistributionList": body}


#: CloudFront answers with the methods in its own order, not the one sent (terraform-provider-aws
#: PR 7732 made these lists sets for that reason; carina-rs/carina issue 3093 shows ["HEAD", "GET"]).
_AWS_METHOD_ORDER = ["HEAD", "DELETE", "POST", "GET", "OPTIONS", "PUT", "PATCH"]


def _aws_order(methods: dict[str, Any]) -> dict[str, Any]:
    return {**methods, "Items": sorted(methods["Items"], key=_AWS_METHOD_ORDER.index)}


def _behavior_defaults(behavior: dict[str, Any]) -> dict[str, Any]:
    if "AllowedMethods" in behavior:
        allowed = _aws_order(behavior["AllowedMethods"])
        if "CachedMethods" in allowed:
            allowed["CachedMethods"] = _aws_order(allowed["CachedMethods"])
        behavior = {**behavior, "AllowedMethods": allowed}
    filled = {
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "SmoothStreaming": False,
        "LambdaFunctionAssociations": {"Quantity": 0},
        "FunctionAssociations": {"Quantity": 0},
        "FieldLevelEncryptionId": "",
        **behavior,
    }
    return filled


def as_returned(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` the way GetDistributionConfig gives it back: with the defaults AWS fills in, and the
    methods lists in CloudFront's order."""
    out = copy.deepcopy(config)
    for origin in out["Origins"]["Items"]:
        origin.setdefault("CustomHeaders", {"Quantity": 0})
        origin.setdefault("ConnectionAttempts", 3)
        origin.setdefault("ConnectionTimeout", 10)
        origin.setdefault("OriginShield", {"Enabled": False})
        if "CustomOriginConfig" in origin:
            origin["CustomOriginConfig"] = {"OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5,
                                            **origin["CustomOriginConfig"]}
    out["DefaultCacheBehavior"] = _behavior_defaults(out["DefaultCacheBehavior"])
    if "CacheBehaviors" in out:
        out["CacheBehaviors"]["Items"] = [_behavior_defaults(b) for b in out["CacheBehaviors"]["Items"]]
    return {
        "Aliases": {"Quantity": 0},
        "OriginGroups": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True, "SSLSupportMethod": "vip",
                              "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "IsIPV6Enabled": True,
        "ContinuousDeploymentPolicyId": "",
        "Staging": False,
        **out,
    }
