"""``check --replay local``: the replay of a distribution probed behind the echo API, verdicts observed.

The verdicts expected here are what AWS documents for each configuration (the page is cited beside each); the
probes must observe them through the replay on the local AWS. A documented emulator deviation is named and never
turns a requirement met.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runbook_lib.apigateway import RestApi
from runbook_lib.aws import provision
from runbook_lib.aws.replay import ROUTES_CATCH_ALL, ROUTES_SOURCE, Replay, ReplayedBehavior
from runbook_lib.aws.target import Target
from runbook_lib.runbook import check, replay_check, requirement_checks, verify
from runbook_lib.runbook.probes import Probe
from runbook_lib.sources import DistributionSource

QUERY_DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/QueryStringParameters.html"
HOST_DOC = "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers"
PATTERN_DOC = ("https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
               "DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern")


# --- the probe matrix under a behavior's pattern (pure) ------------------------------------------------------


@pytest.mark.parametrize(("pattern", "prefix"), [
    ("/api/*", "/api/"), ("/v1/*", "/v1/"), ("v1/*", "/v1/"), ("*", "/"), ("/api/v?/*", None), ("*.json", None),
])
def test_api_prefix(pattern: str, prefix: str | None) -> None:
    assert replay_check.api_prefix(pattern) == prefix


def test_relocate_moves_api_probes_under_the_pattern() -> None:
    probe = Probe("method-put", "PUT", "PUT", "/api/items/7")
    assert replay_check.relocate(probe, "/api/*").path == "/api/items/7"
    assert replay_check.relocate(probe, "/v1/*").path == "/v1/items/7"
    assert replay_check.relocate(probe, "*").path == "/items/7"
    assert replay_check.relocate(probe, "*.json").path == check.sample_path("*.json") == "/data.json"


def _two_behaviors(first: str, second: str) -> dict[str, Any]:
    origin = {"Id": "api", "DomainName": "a1.execute-api.eu-west-1.amazonaws.com", "OriginPath": "/prod",
              "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}}
    behavior = {"TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
    return {"Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": behavior,
            "CacheBehaviors": {"Quantity": 2, "Items": [{**behavior, "PathPattern": first},
                                                        {**behavior, "PathPattern": second}]}}


def test_probes_an_earlier_behavior_serves_are_left_out_and_named() -> None:
    # PATTERN_DOC: the first behavior whose pattern matches serves the request.
    config = _two_behaviors("/v1/items/*", "/v1/*")
    kept, notes = replay_check.matrix_for(verify.probe_matrix(), "/v1/*", config)
    assert kept and all(p.path.startswith("/v1/") and not p.path.startswith("/v1/items/") for p in kept)
    [note] = notes
    assert note.startswith("/v1/*: 3 probes left out because an earlier behavior serves their path")
    for pid in ("method-put", "method-patch", "method-delete"):  # /api/items/7 → /v1/items/7
        assert f"{pid} (/v1/items/7: /v1/items/*)" in note
    assert "method-get" in {p.id for p in kept}  # /v1/items is /v1/*'s
    # The runbook's own site probes (/api, /index.html, /) test no API behavior.
    assert not any(p.id in ("path-bare-api", "path-site", "path-root") for p in kept)
    kept, notes = replay_check.matrix_for(verify.probe_matrix(), "/v1/items/*", config)
    assert notes == [] and kept


# --- a runbook stack probed as a replay on the local AWS ---------------------------------------------------


def _as_replay(target: Target, name: str, preset: str, routes: str = ROUTES_SOURCE,
               api_routes: tuple[str, ...] = provision.API_ROUTES) -> tuple[Replay, DistributionSource]:
    """The runbook's stack built with ``preset``, seen as the replay of a source: the source is the same
    distribution in its AWS form (the API at its execute-api name) with the echo API's routes."""
    provision.build(target, name, preset, progress=False, api_routes=api_routes)
    stack, config, aws_config, policies = verify.load(target, name)
    assert stack.api_id and stack.distribution_id and stack.domain_name
    api = RestApi(id=stack.api_id, resources={r: ["ANY"] for r in api_routes}, stages=[provision.STAGE])
    source = DistributionSource(name, "distribution", name, aws_config, policies, apis={api.id: api})
    api_host = verify._api_host(config)
    replay = Replay(name, stack.distribution_id, stack.domain_name, config,
                    [ReplayedBehavior("/api/*", "api", api_host, routes)])
    return replay, source


def _checked(target: Target, replay: Replay, source: DistributionSource,
             ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    result = check.check_source(source, ids)
    probed = replay_check.probe_replay(target, replay, source, ids, progress=False)
    replay_check.apply(result, probed, replay)
    [behavior] = result.behaviors
    assert behavior.replay is not None and behavior.replay["probes"] > 20
    return {r["id"]: r for r in behavior.requirements}


@pytest.fixture
def target(local_target: Target) -> Iterator[Target]:
    yield local_target


def test_correct_config_every_requirement_met_observed(target: Target) -> None:
    got = _checked(target, *_as_replay(target, "rp-ok", "recommended"))
    for rid, r in got.items():
        assert r["met"] is True and r["observed"] is True and r["predicted"] is True, (rid, r["evidence"])
        assert r["probes"], rid
    # Locally the API sees MiniStack's address: the deviation is named, and the Host check still decides.
    assert got["host-is-api"]["deviations"] == ["local-origin-address"]


def test_legacy_query_string_false_unmet_observed(target: Target) -> None:
    # QUERY_DOC: with legacy settings and QueryString false, CloudFront forwards no query string to the origin.
    got = _checked(target, *_as_replay(target, "rp-legacy", "legacy-no-query"))
    assert got["query-strings"]["observed"] is False and got["query-strings"]["predicted"] is False
    assert "query-single" in got["query-strings"]["probes"]
    assert "the API got (none)" in got["query-strings"]["evidence"]
    assert "QueryString" in got["query-strings"]["fix"]


def test_allviewer_unmet_through_the_named_deviation_never_a_pass(target: Target) -> None:
    # HOST_DOC: with the viewer's Host forwarded, API Gateway answers 403. Locally MiniStack's CloudFront answers
    # that 403 itself (deviation allviewer-403-from-cloudfront): it is named, and nothing turns met.
    got = _checked(target, *_as_replay(target, "rp-allviewer", "allviewer"))
    for rid in ("query-strings", "authorization", "host-is-api", "methods", "path-reaches-route"):
        assert got[rid]["observed"] is False, (rid, got[rid]["evidence"])
        assert got[rid]["deviations"] == ["allviewer-403-from-cloudfront"], rid
        assert "refused with 403" in got[rid]["evidence"]
    assert got["not-cached"]["met"] is not True  # a 403 shows nothing about caching


def test_catch_all_echo_leaves_path_reaches_route_unknown(target: Target) -> None:
    got = _checked(target, *_as_replay(target, "rp-catchall", "recommended", ROUTES_CATCH_ALL))
    route = got["path-reaches-route"]
    assert route["observed"] is None and route["met"] is None
    assert "does not describe the API's routes" in route["evidence"] and "distribution:<ID>" in route["fix"]
    assert all(got[r]["met"] is True for r in got if r != "path-reaches-route")


def test_missing_route_answers_as_api_gateway_and_is_unmet(target: Target) -> None:
    # A REST API with no /api resource: /api/data under stage prod has no route, and API Gateway answers 403
    # "Missing Authentication Token" (https://repost.aws/knowledge-center/api-gateway-authentication-token-errors).
    replay, source = _as_replay(target, "rp-noroute", "recommended", api_routes=("/items",))
    got = _checked(target, replay, source)
    route = got["path-reaches-route"]
    assert route["observed"] is False and route["predicted"] is False
    assert "Missing Authentication Token" in route["evidence"]
    [probed] = replay_check.probe_replay(target, replay, source, progress=False)
    assert probed.disagreements() == []  # the model with API Gateway's routes predicted each 403


def test_a_change_behind_the_checks_back_turns_the_observed_verdict_red(target: Target) -> None:
    replay, source = _as_replay(target, "rp-tamper", "recommended")
    # Between build and probe, the replay's /api/* behavior becomes CachingOptimized (no query strings reach the
    # origin: QUERY_DOC), while the source, and so the model, still says CachingDisabled + AllViewerExceptHostHeader.
    provision.build(target, "rp-tamper", "caching-optimized", progress=False)
    got = _checked(target, replay, source)
    query = got["query-strings"]
    assert query["predicted"] is True and query["observed"] is False and query["met"] is False
    assert "the probes disagree with the model" in query["evidence"]
    assert "not as AWS documents" in query["evidence"]


def test_unmet_phrases_name_the_behaviors_own_prefix() -> None:
    from runbook_lib.runbook.requirements import Verdict

    [phrase] = requirement_checks.unmet_phrases([Verdict("path-reaches-route", False, "x", "fix")], "/v1/")
    assert phrase.startswith("/v1/<x> does not reach a route")
