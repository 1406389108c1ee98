"""Requirements predicted from a configuration alone (the pure side of runbook_lib.runbook.requirements).

Each row is one preset's /api/* settings and what AWS's pages say the API then gets:
- query strings and headers reach the origin only when a policy or ForwardedValues names them:
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html
- Authorization is removed unless the cache key or an all-viewer policy includes it:
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-401-unauthorized.html
- API Gateway answers 403 to a Host that is not its own:
  https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers
- a response is shared between viewers when caching is on and Authorization is not in the key:
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-the-cache-key.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.aws import presets
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import policy_code, requirements
from tests.model_fixtures import behavior, dist

CUSTOM = "custom-auth-policy"


def _config(preset: str, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p = presets.PRESETS[preset]
    fields = p.behavior_fields(CUSTOM if p.custom_cache_policy else None)
    b = behavior("/api/*", cache=None, **fields, **extra)
    policies = {CUSTOM: {"CachePolicyConfig": policy_code.to_cache_policy_config(policy_code.API_AUTH_AND_QUERY)}}
    return dist(b), policies


T, F, U = True, False, None
# query-strings, authorization, host-is-api, methods, path-reaches-route, not-cached
TABLE = {
    "recommended": (T, T, T, T, U, T),
    "legacy-no-query": (F, F, T, T, U, T),
    "caching-optimized": (F, F, T, T, U, F),
    "allviewer": (F, F, F, F, F, T),
    "custom-auth-in-key": (T, T, T, T, U, T),
}


@pytest.mark.parametrize("preset", list(TABLE))
def test_each_preset_gives_the_api_what_aws_documents(preset: str) -> None:
    config, policies = _config(preset)
    verdicts = requirements.predict(requirements.DEFAULTS, config, policies)
    assert [v.id for v in verdicts] == list(requirements.DEFAULTS)
    assert tuple(v.met for v in verdicts) == TABLE[preset], [v.to_dict() for v in verdicts]
    for v in verdicts:
        assert v.evidence
        assert bool(v.fix) == (v.met is not True), v  # a fix for every requirement not met


def test_unmet_requirement_carries_the_diagnosis_fix_and_names_the_settings() -> None:
    config, policies = _config("legacy-no-query")
    [query] = requirements.predict(["query-strings"], config, policies)
    assert query.met is False
    assert "ForwardedValues.QueryString = true" in query.fix
    b = requirements._Predictor(config, policies, "/api/data").behavior
    assert requirements.settings_of(b, policies) == "legacy settings with QueryString=false"


def test_methods_unmet_when_the_behavior_allows_only_get_and_head() -> None:
    config, policies = _config("recommended", methods=["GET", "HEAD"])
    [methods] = requirements.predict(["methods"], config, policies)
    assert methods.met is False and "POST" in methods.evidence and "AllowedMethods" in methods.fix


def test_named_headers_and_cookies() -> None:
    rec, pol = _config("recommended")
    opt, pol2 = _config("caching-optimized")
    ids = ["header:X-Tenant", "cookie:session"]
    assert [v.met for v in requirements.predict(ids, rec, pol)] == [True, True]
    assert [v.met for v in requirements.predict(ids, opt, pol2)] == [False, False]


def test_parse_and_load(tmp_path: Path) -> None:
    assert requirements.parse("") == list(requirements.DEFAULTS)
    assert requirements.parse("query-strings, header:X-Tenant") == ["query-strings", "header:X-Tenant"]
    with pytest.raises(ParameterError, match="Unknown requirement 'query'"):
        requirements.parse("query")
    as_json = tmp_path / "req.json"
    as_json.write_text(json.dumps({"requirements": ["methods", "cookie:session"]}))
    assert requirements.parse(str(as_json)) == ["methods", "cookie:session"]
    as_yaml = tmp_path / "req.yaml"
    as_yaml.write_text("- authorization\n- not-cached\n")
    assert requirements.load(as_yaml) == ["authorization", "not-cached"]
    as_yaml.write_text("authorization: yes\n")
    with pytest.raises(ParameterError, match="expected a list"):
        requirements.load(as_yaml)
