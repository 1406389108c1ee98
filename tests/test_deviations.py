"""Each emulator deviation excuses exactly what docs/deviations.md says, and a near miss is a fail.

For every deviation a probe check can meet: the documented mismatch is excused, and the same check with
another observed value, another expected value or another configuration is not (so it stays a fail).
"""

from __future__ import annotations

from typing import Any

import pytest

from runbook_lib.aws import presets
from runbook_lib.aws.provision import api_behavior
from runbook_lib.aws.target import aws_api_origin
from runbook_lib.cloudfront.behaviors import Behavior
from runbook_lib.cloudfront.configs import site_and_api_config
from runbook_lib.cloudfront.model import compiled_behaviors
from runbook_lib.runbook import deviations
from runbook_lib.runbook.deviations import BY_ID, Context
from runbook_lib.runbook.probes import ABSENT, Probe

API_HOST = "abc123.execute-api.us-east-1.amazonaws.com"
AUTH = "Bearer t0ken"


def _behavior(preset: str) -> Behavior:
    p = presets.get(preset)
    policies: dict[str, Any] = {}
    custom = None
    if p.custom_cache_policy:
        from runbook_lib.runbook import policy_code

        custom = "custom"
        policies = {custom: {"CachePolicyConfig": policy_code.to_cache_policy_config(policy_code.API_AUTH_AND_QUERY)}}
    config = site_and_api_config(bucket_domain="b.s3.us-east-1.amazonaws.com",
                                 api_origin=aws_api_origin("abc123", "prod", "us-east-1"),
                                 api_behavior=api_behavior(p, custom), caller_reference="x", comment="")
    return next(b for b in compiled_behaviors(config, policies) if b.label == "/api/*")


def _probe(method: str = "GET", headers: tuple[tuple[str, str], ...] = (), body: str | None = None,
           scheme: str = "https") -> Probe:
    return Probe("p", "", method, "/api/items", headers=headers, body=body, scheme=scheme)


def _ctx(preset: str, probe: Probe, check: str, expected: Any, observed: Any, status: int | None = 200) -> Context:
    return Context(_behavior(preset), probe, check, expected, observed, status)


POST_AUTH = _probe("POST", (("Authorization", AUTH), ("Content-Type", "application/json")), "{}")
OPTIONS_AUTH = _probe("OPTIONS", (("Authorization", AUTH),))
COOKIES = _probe("GET", (("Cookie", "theme=dark; session=s1"),))

# (deviation, the mismatch it documents, near misses that must stay fails)
CASES: list[tuple[str, Context, list[Context]]] = [
    ("legacy-write-drops-authorization",
     _ctx("legacy-no-query", POST_AUTH, "api.header.authorization", AUTH, ABSENT),
     [_ctx("legacy-no-query", POST_AUTH, "api.header.authorization", AUTH, "Bearer other"),
      _ctx("recommended", POST_AUTH, "api.header.authorization", AUTH, ABSENT),
      _ctx("legacy-no-query", _probe("GET", (("Authorization", AUTH),)), "api.header.authorization", AUTH, ABSENT)]),
    ("legacy-drops-content-type",
     _ctx("legacy-no-query", POST_AUTH, "api.header.content-type", "application/json", ABSENT),
     [_ctx("legacy-no-query", _probe("PUT", (("Content-Type", "text/plain"),), "x"), "api.header.content-type",
           "text/plain", ABSENT),
      _ctx("recommended", POST_AUTH, "api.header.content-type", "application/json", ABSENT),
      _ctx("legacy-no-query", POST_AUTH, "api.header.content-type", "application/json", "text/plain")]),
    ("legacy-options-drops-authorization",
     _ctx("legacy-no-query", OPTIONS_AUTH, "api.header.authorization", AUTH, ABSENT),
     [_ctx("custom-auth-in-key", OPTIONS_AUTH, "api.header.authorization", AUTH, ABSENT),
      _ctx("legacy-no-query", OPTIONS_AUTH, "api.header.authorization", AUTH, "Bearer other")]),
    ("allviewer-403-from-cloudfront",
     _ctx("allviewer", _probe(), "served_by", "api-gateway", "cloudfront", 403),
     [_ctx("allviewer", _probe(), "served_by", "api-gateway", "s3", 403),
      _ctx("allviewer", _probe(), "served_by", "api-gateway", "cloudfront", 502),
      _ctx("recommended", _probe(), "served_by", "api-gateway", "cloudfront", 403)]),
    ("get-body-forwarded",
     _ctx("recommended", _probe("GET", body="x"), "status", 403, 200),
     [_ctx("recommended", _probe("GET", body="x"), "status", 403, 502),
      _ctx("recommended", _probe("GET"), "status", 403, 200),
      _ctx("recommended", _probe("GET", body="x"), "served_by", "cloudfront", "s3")]),
    ("cookie-order-kept",
     _ctx("recommended", COOKIES, "api.header.cookie", "session=s1; theme=dark", "theme=dark; session=s1"),
     [_ctx("recommended", COOKIES, "api.header.cookie", "session=s1; theme=dark", "theme=dark"),
      _ctx("recommended", COOKIES, "api.header.cookie", "session=s1; theme=dark", ABSENT),
      _ctx("caching-optimized", COOKIES, "api.header.cookie", "session=s1; theme=dark", "theme=dark; session=s1")]),
    ("accept-encoding-not-normalised",
     _ctx("recommended", _probe(), "api.header.accept-encoding", "gzip", "identity"),
     [_ctx("recommended", _probe(), "api.header.accept-encoding", "gzip", "deflate"),
      _ctx("recommended", _probe(), "api.header.accept-encoding", "gzip", ABSENT)]),
    ("x-forwarded-proto-forwarded",
     _ctx("allviewer", _probe(), "api.header.x-forwarded-proto", ABSENT, "https"),
     [_ctx("caching-optimized", _probe(), "api.header.x-forwarded-proto", ABSENT, "https"),
      _ctx("allviewer", _probe(), "api.header.x-forwarded-proto", ABSENT, "http")]),
    ("local-origin-address",
     _ctx("recommended", _probe(), "api.header.host", API_HOST, "localhost"),
     [_ctx("recommended", _probe(), "api.header.host", API_HOST, "d111111abcdef8.cloudfront.net"),
      _ctx("recommended", _probe(), "api.header.host", "api.example.com", "localhost"),
      _ctx("allviewer", _probe(), "api.header.host", API_HOST, "localhost")]),
]


@pytest.mark.parametrize(("dev_id", "documented", "near_misses"), CASES, ids=[c[0] for c in CASES])
def test_deviation_excuses_what_it_documents_and_nothing_near_it(
    dev_id: str, documented: Context, near_misses: list[Context]
) -> None:
    excused = deviations.explain(documented)
    assert excused is not None and excused.id == dev_id
    for ctx in near_misses:
        found = deviations.explain(ctx)
        assert found is None, (ctx.check, ctx.expected, ctx.observed, found and found.id)


def test_every_deviation_a_check_can_meet_has_a_case_and_says_what_it_excuses() -> None:
    checkable = {d.id for d in deviations.DEVIATIONS if d.checks}
    assert checkable == {c[0] for c in CASES}
    for dev_id in checkable:
        scope = BY_ID[dev_id].scope()
        assert "expected" in scope and "observed" in scope, dev_id
