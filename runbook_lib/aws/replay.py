"""Replay: a user's distribution recreated on a target with each API origin swapped for the echo API.

``check --replay local`` (issue 10) builds a :class:`Replay` on the embedded local AWS, probes each of its API
behaviors and removes it again. The replay keeps what decides forwarding (path patterns and their order,
OriginPath, origin custom headers, protocol policy, allowed methods, legacy ForwardedValues, cache and origin
request policies, CloudFront Functions with their code) and replaces only the API origins' address, with an
echo API that has the source API's routes where the source describes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ROUTES_CATCH_ALL", "ROUTES_LAMBDA_URL", "ROUTES_SOURCE", "Replay", "ReplayedBehavior"]

#: The echo API has the source API's routes and stages: a missing route answers as API Gateway would.
ROUTES_SOURCE = "source"
#: The source does not describe the API: the echo answers every path, so a probe cannot tell whether the
#: user's API has the route (``path-reaches-route`` stays unknown).
ROUTES_CATCH_ALL = "catch-all"
#: A Lambda function URL origin: every path reaches the function
#: (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html).
ROUTES_LAMBDA_URL = "lambda-url"


@dataclass
class ReplayedBehavior:
    """One behavior of the replay whose origin is an API (its pattern as in the source; ``*`` for the default)."""

    path_pattern: str
    origin_id: str
    #: The Host the echo API sees as its own (the replayed origin's DomainName), for ``host-is-api``.
    api_host: str
    #: ROUTES_SOURCE, ROUTES_CATCH_ALL or ROUTES_LAMBDA_URL.
    routes: str


@dataclass
class Replay:
    """A replay as built on a target: everything in it carries the tag of stack ``stack_name``."""

    stack_name: str
    distribution_id: str
    #: The replay distribution's own domain (``dXXXX.cloudfront.net``), where probes go.
    domain: str
    #: The DistributionConfig as created on the target (API origins at the echo API's address).
    config: dict[str, Any]
    behaviors: list[ReplayedBehavior]
    #: What could not be replayed as it is (Lambda@Edge, origin groups, certificates...), one sentence each.
    notes: list[str] = field(default_factory=list)
