"""Where the runbook runs: the embedded local AWS or a real account.

Everything that differs between the two targets lives here, above all the address of the API
Gateway origin, so the rest of the code is the same for both.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from runbook_lib.aws import deployments
from runbook_lib.aws.calls import convert
from runbook_lib.errors import ParameterError

__all__ = ["ENDPOINT_ENV", "TARGETS", "Target", "aws_api_origin", "aws_api_stage_origin", "connect",
           "local_api_address", "origins_as_on_aws", "preflight"]

TARGETS = ("local", "aws")
#: Set by ``make lab`` / ``make report`` so notebooks find the running local AWS.
ENDPOINT_ENV = "RUNBOOK_ENDPOINT_URL"
_LOCAL_REGION = "us-east-1"
#: Throttled calls are retried with botocore's adaptive mode: client-side rate limiting on top of exponential
#: backoff (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
_CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
#: MiniStack's path-style addresses of an API, as :meth:`Target.api_origin` and :meth:`Target.api_stage_origin`
#: write them (OriginPath on a ``localhost`` origin): ``/restapis/{id}/{stage}/_user_request_`` and
#: ``/_aws/execute-api/{id}[/{stage}]`` (docs/deviations.md, ``local-origin-address``).
_LOCAL_API_PATHS = (
    re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_/?$"),
    re.compile(r"^/_aws/execute-api/(?P<api>[^/]+)(?:/(?P<stage>[^/]+))?/?$"),
)
_LOCAL_HOSTS = ("localhost", "127.0.0.1")


@dataclass
class Target:
    """A target plus the boto3 session to reach it. Build it with :func:`connect`."""

    name: str
    region: str
    endpoint_url: str | None = None
    session: boto3.session.Session = field(repr=False, default_factory=boto3.session.Session)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False, init=False)

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    def client(self, service: str) -> Any:
        """One boto3 client per service, reused (tests put botocore Stubbers on these)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, config=_CLIENT_CONFIG)
            if service == "cloudfront":  # deployments are recorded; locally their propagation can be simulated
                deployments.install(self._clients[service], self.simulate_deploy_seconds)
        return self._clients[service]

    @property
    def simulate_deploy_seconds(self) -> float:
        """S of ``RUNBOOK_SIMULATE_DEPLOY_SECONDS``: locally each create or update is Deployed S s later."""
        return deployments.simulated_seconds() if self.is_local else 0.0

    def api_origin(self, api_id: str, stage: str) -> dict[str, Any]:
        """The CloudFront origin fields that reach stage ``stage`` of REST API ``api_id``.

        On AWS: the execute-api domain with OriginPath ``/{stage}``, HTTPS only
        (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html).
        Locally MiniStack refuses ``*.execute-api.*.amazonaws.com`` origins and ``*.localhost`` names do
        not resolve, so its path-style invocation URL is used instead (docs/deviations.md). Either way
        CloudFront prefixes OriginPath to the full viewer path, so ``/api/items`` reaches the API as
        ``/api/items`` under the stage.
        """
        if self.is_local:
            assert self.endpoint_url is not None
            port = urlsplit(self.endpoint_url).port or 80
            return {
                "DomainName": "localhost",
                "OriginPath": f"/restapis/{api_id}/{stage}/_user_request_",
                "CustomOriginConfig": {
                    "HTTPPort": port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                },
            }
        return aws_api_origin(api_id, stage, self.region)

    def api_stage_origin(self, api_id: str) -> dict[str, Any]:
        """The origin fields for REST API ``api_id`` with no stage in OriginPath: the viewer path's first
        segment is the stage (``/api/items`` → stage ``api``, path ``/items``).

        On AWS: the execute-api domain with an empty OriginPath. Locally the same idea needs MiniStack's
        ``/_aws/execute-api/{api_id}`` prefix as OriginPath, since the execute-api host cannot be an origin
        here (docs/deviations.md, ``local-origin-address``).
        """
        if self.is_local:
            return {**self.api_origin(api_id, "-"), "OriginPath": f"/_aws/execute-api/{api_id}"}
        return aws_api_stage_origin(api_id, self.region)

    def echo_origin(self, api_id: str, origin_path: str) -> dict[str, Any]:
        """The origin fields that put API ``api_id`` where a user's API origin with ``origin_path`` was, keeping
        OriginPath's meaning: CloudFront prefixes it to the viewer path, and API Gateway takes the first segment
        after the host as the stage (``$default`` of an HTTP API takes none)
        (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html).

        On AWS: the execute-api domain with ``origin_path``. Locally MiniStack's ``/_aws/execute-api/{api_id}``
        prefix goes before it, since the execute-api host cannot be an origin here (``local-origin-address``).
        """
        stage_origin = self.api_stage_origin(api_id)
        return {**stage_origin, "OriginPath": stage_origin["OriginPath"] + origin_path}

    def placeholder_origin(self) -> dict[str, Any]:
        """A harmless custom origin for a replay's origins that are not APIs (S3 sites, other hosts): nothing is
        probed there. Locally MiniStack's own port; on AWS ``example.com`` (reserved, RFC 2606)."""
        if self.is_local:
            return {**self.api_origin("-", "-"), "OriginPath": ""}
        return {**aws_api_origin("-", "-", self.region), "DomainName": "example.com", "OriginPath": ""}

    def as_on_aws(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` as the distribution it stands for on AWS: the model predicts AWS. Locally every origin at
        MiniStack's address of an API gets its AWS form (:func:`origins_as_on_aws`, the one rule, which reads the
        API and stage back from the address); on AWS ``config`` is that distribution already, and a ``localhost``
        origin there is not the local API."""
        return origins_as_on_aws(config, self.region)[0] if self.is_local else config

    def viewer_endpoint(self, distribution_domain: str, scheme: str = "https") -> tuple[str, dict[str, str]]:
        """Where a viewer request goes, and the headers that make it one.

        Locally the request goes to MiniStack with ``Host: dXXXX.cloudfront.net``; MiniStack takes
        ``X-Forwarded-Proto: https`` as an HTTPS viewer (docs/deviations.md).
        """
        if self.is_local:
            extra = {"Host": distribution_domain}
            if scheme == "https":
                extra["X-Forwarded-Proto"] = "https"
            return self.endpoint_url or "", extra
        return f"{scheme}://{distribution_domain}", {}

def local_api_address(origin: dict[str, Any]) -> tuple[str, str | None] | None:
    """``(api_id, stage)`` when ``origin`` is at MiniStack's path-style address of an API (stage ``None`` when the
    viewer path's first segment is the stage, as with :meth:`Target.api_stage_origin`); ``None`` otherwise.

    The one place that recognises the local address: what :meth:`Target.api_origin` writes, read back.
    """
    if str(origin.get("DomainName") or "").lower() not in _LOCAL_HOSTS:
        return None
    for pattern in _LOCAL_API_PATHS:
        m = pattern.match(str(origin.get("OriginPath") or ""))
        if m:
            return m.group("api"), m.group("stage")
    return None


def origins_as_on_aws(config: dict[str, Any], region: str) -> tuple[dict[str, Any], list[str]]:
    """``config`` with every origin at MiniStack's address of an API given its AWS form (the execute-api domain,
    OriginPath ``/{stage}`` or empty), and the IDs of the origins changed. Behaviors and other origins are kept,
    so the result is the distribution the local one stands for on AWS."""
    changed: list[str] = []
    out = []
    for origin in (config.get("Origins") or {}).get("Items") or []:
        found = local_api_address(origin) if isinstance(origin, dict) else None
        if found is None:
            out.append(origin)
            continue
        api_id, stage = found
        aws = aws_api_origin(api_id, stage, region) if stage else aws_api_stage_origin(api_id, region)
        out.append({**origin, **aws})
        changed.append(str(origin.get("Id")))
    if not changed:
        return config, []
    return {**config, "Origins": {**config["Origins"], "Items": out}}, changed


def _require_loopback(endpoint: str) -> None:
    """Every address ``endpoint``'s host resolves to must be loopback: a name such as ``127.0.0.1.nip.io``
    looks local but is resolved by DNS, which can point it anywhere."""
    try:
        url = urlsplit(endpoint)
        host = url.hostname or ""
        infos = socket.getaddrinfo(host, url.port, proto=socket.IPPROTO_TCP) if host else []
        found = {str(info[4][0]) for info in infos}
    except (OSError, ValueError, UnicodeError) as err:
        raise ParameterError(f"endpoint_url={endpoint!r} does not resolve ({err}); the local target only talks "
                             "to loopback: pass http://127.0.0.1:<port>.") from err
    remote = sorted(a for a in found if not ipaddress.ip_address(a.split("%", 1)[0]).is_loopback)
    if not found or remote:
        raise ParameterError(
            f"endpoint_url={endpoint!r} is not on loopback (it resolves to {', '.join(remote) or 'nothing'}); "
            "the local target only talks to 127.0.0.1: pass http://127.0.0.1:<port>."
        )


def aws_api_origin(api_id: str, stage: str, region: str) -> dict[str, Any]:
    """The origin fields for stage ``stage`` of REST API ``api_id`` on AWS (default endpoint, HTTPS only)."""
    return {
        "DomainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "OriginPath": f"/{stage}",
        "CustomOriginConfig": {
            "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
        },
    }


def aws_api_stage_origin(api_id: str, region: str) -> dict[str, Any]:
    """The origin fields for REST API ``api_id`` on AWS with an empty OriginPath (the stage comes from the path)."""
    return {**aws_api_origin(api_id, "-", region), "OriginPath": ""}


def connect(
    target: str = "local",
    region: str = "",
    endpoint_url: str = "",
    profile: str = "",
    check: bool = True,
) -> Target:
    """A :class:`Target` for ``target`` ("local" or "aws"); raises ParameterError with the fix.

    On AWS, ``check`` makes one call (:func:`preflight`) so that missing or expired credentials, an unknown
    profile or an unreachable endpoint are one line with the fix here, not a traceback in a later cell.
    """
    if target not in TARGETS:
        raise ParameterError(f"target={target!r} is not known. Valid choices: {', '.join(TARGETS)}.")
    if target == "local":
        endpoint = endpoint_url or os.environ.get(ENDPOINT_ENV, "")
        if not endpoint:
            raise ParameterError(
                "target='local' needs a running local AWS, and none was found. Open the notebooks with "
                "`make lab` (it starts one), run everything with `make report`, or pass endpoint_url="
                "'http://127.0.0.1:<port>' (on the command line: --endpoint-url) of the local AWS that "
                "`python -m runbook_lib local-aws` starts and prints."
            )
        _require_loopback(endpoint)
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=_LOCAL_REGION
        )
        return Target("local", region or _LOCAL_REGION, endpoint, session)
    try:
        session = boto3.session.Session(profile_name=profile or None,
                                        region_name=region or os.environ.get("AWS_REGION") or None)
        resolved = session.region_name
    except BotoCoreError as err:  # ProfileNotFound, a broken config file
        raise (convert(err, "connect", profile or None) or err) from err
    if not resolved:
        raise ParameterError(
            "target='aws' needs a region: pass region='eu-west-1' (for example) or set AWS_REGION."
        )
    aws = Target("aws", resolved, None, session)
    if check:
        preflight(aws)
    return aws


def preflight(target: Target) -> str:
    """Check once that ``target`` answers these credentials (STS GetCallerIdentity); returns the account.

    Raises :class:`~runbook_lib.errors.AwsAccessError` naming the fix (``aws sso login --profile X``, ...).
    """
    profile = target.session.profile_name
    try:
        identity = target.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as err:
        raise (convert(err, "sts.GetCallerIdentity", None if profile == "default" else profile) or err) from err
    return str(identity["Account"])
