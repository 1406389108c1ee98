"""Requirements decided by observations (requirement_checks.evaluate), without a network.

The observations are what the echo API would report; the configurations are the presets' AWS form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from runbook_lib.aws import presets
from runbook_lib.aws.provision import api_behavior
from runbook_lib.aws.target import aws_api_origin
from runbook_lib.cloudfront.configs import site_and_api_config
from runbook_lib.runbook import probes, requirement_checks, requirements, results
from runbook_lib.runbook.probes import ABSENT, Observation, Probe

HOST = "d111111abcdef8.cloudfront.net"
API_HOST = "abc123.execute-api.us-east-1.amazonaws.com"


def _config(preset: str) -> dict[str, Any]:
    return site_and_api_config(bucket_domain="b.s3.us-east-1.amazonaws.com",
                               api_origin=aws_api_origin("abc123", "prod", "us-east-1"),
                               api_behavior=api_behavior(presets.get(preset)), caller_reference="x", comment="")


def _echo(probe: Probe, *, drop_query: bool = False, drop: tuple[str, ...] = (),
          x_cache: str = "Miss from cloudfront") -> Observation:
    """What the echo API reports when CloudFront forwards everything (minus what is dropped)."""
    headers = {k.lower(): v for k, v in probe.header_dict().items() if k.lower() not in drop}
    values = {"api.method": probe.method, "api.path": probe.path, "api.stage_path": "/prod" + probe.path,
              "api.query": probes.NO_QUERY if drop_query else probes.format_query(
                  parse_qs(probe.query, keep_blank_values=True)),
              "api.body": probe.body or ABSENT, "api.header.host": API_HOST, "response.x-cache": x_cache,
              **{f"api.header.{k}": v for k, v in headers.items()}}
    return Observation(probe, 200, "api", values)


def _matrix() -> list[Probe]:
    return probes.default_matrix("tok") + requirement_checks.probes_for(requirements.DEFAULTS, "tok")


def _evaluate(obs: list[Observation], preset: str = "recommended", local: bool = False) -> dict[str, Any]:
    config = _config(preset)
    table = results.compare(obs, results.predict(obs, config, host=HOST, stage="prod"), config,
                            preset=preset, local=local)
    predicted = requirements.predict(requirements.DEFAULTS, config)
    verdicts = requirement_checks.evaluate(requirements.DEFAULTS, obs, api_host=API_HOST, table=table,
                                           predicted=predicted, local=local)
    return {v.id: v for v in verdicts}


def _everything_arrives(matrix: list[Probe], **kw: Any) -> list[Observation]:
    out = []
    for p in matrix:
        if p.path.startswith("/api/") and p.scheme == "https":
            out.append(_echo(p, **kw))
        else:
            out.append(Observation(p, 200, "s3"))
    return out


def test_everything_arrives_every_requirement_met() -> None:
    verdicts = _evaluate(_everything_arrives(_matrix()))
    assert {k: v.met for k, v in verdicts.items()} == dict.fromkeys(requirements.DEFAULTS, True)
    assert set(verdicts["query-strings"].probes) == {"query-single", "query-repeated", "query-encoded",
                                                     "query-empty-value"}


def test_an_echo_that_drops_query_strings_is_unmet_though_the_model_says_met() -> None:
    v = _evaluate(_everything_arrives(_matrix(), drop_query=True))["query-strings"]
    assert (v.met, v.predicted) == (False, True)
    assert "the API got (none)" in v.evidence and "after CloudFront" in v.fix


def test_api_checks_nobody_reported_leave_the_requirement_unknown() -> None:
    obs = [Observation(p, 403, "api-gateway") if p.id.startswith("query-") else o
           for p, o in zip(_matrix(), _everything_arrives(_matrix()), strict=True)]
    v = _evaluate(obs)["query-strings"]
    assert v.met is None and "not the API" in v.evidence


def test_missing_authentication_token_means_the_path_does_not_reach_a_route() -> None:
    obs = [Observation(o.probe, 403, "api-gateway", {"response.body": '{"message":"Missing Authentication Token"}'})
           if o.probe.id == "path-deep" else o for o in _everything_arrives(_matrix())]
    assert _evaluate(obs)["path-reaches-route"].met is False


def test_cache_hit_or_someone_elses_answer_is_unmet() -> None:
    matrix = _matrix()
    hit = [_echo(o.probe, x_cache="Hit from cloudfront") if o.probe.id == "cache-viewer-b" else o
           for o in _everything_arrives(matrix)]
    assert _evaluate(hit)["not-cached"].met is False
    a = next(p for p in matrix if p.id == "cache-viewer-a")
    a_auth = a.header_dict()["Authorization"]
    other = [Observation(o.probe, 200, "api", {**o.values, "api.header.authorization": a_auth})
             if o.probe.id == "cache-viewer-b" else o for o in _everything_arrives(matrix)]
    assert _evaluate(other)["not-cached"].met is False


def test_locally_a_cache_miss_proves_nothing_the_deployed_configuration_decides() -> None:
    obs = _everything_arrives(_matrix())
    assert _evaluate(obs, "recommended", local=True)["not-cached"].met is True
    cached = _evaluate(obs, "caching-optimized", local=True)["not-cached"]
    assert cached.met is False and "no-caching" in cached.deviations


def test_a_deviation_is_named_and_never_makes_a_requirement_met() -> None:
    # Legacy settings on the local emulator: POST loses Authorization (a documented deviation).
    obs = _everything_arrives(_matrix(), drop=("authorization",))
    v = _evaluate(obs, "legacy-no-query", local=True)["authorization"]
    assert v.met is False and "legacy-write-drops-authorization" in v.deviations
    assert "methods" not in [k for k, x in _evaluate(obs, "legacy-no-query", local=True).items() if x.deviations
                             and "legacy-write-drops-authorization" in x.deviations]


def test_unmet_phrases_say_why_in_the_users_terms_and_the_fix() -> None:
    obs = _everything_arrives(_matrix(), drop_query=True)
    verdicts = list(_evaluate(obs, "legacy-no-query").values())
    [phrase] = [p for p in requirement_checks.unmet_phrases(verdicts) if "query strings" in p]
    assert "legacy settings with QueryString=false" in phrase
    assert phrase.endswith("Fix: Forward query strings (ForwardedValues.QueryString = true)")
