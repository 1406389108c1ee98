"""Probes, expectations and verdicts, without a network: the parts that decide pass/fail/deviation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.aws import echo_lambda, presets
from runbook_lib.aws.provision import INDEX_HTML, api_behavior
from runbook_lib.aws.target import aws_api_origin
from runbook_lib.cloudfront.configs import site_and_api_config
from runbook_lib.runbook import deviations, probes, results
from runbook_lib.runbook.probes import ABSENT, NO_QUERY, Observation, Probe

HOST = "d111111abcdef8.cloudfront.net"


def _config(preset: str) -> dict[str, Any]:
    return site_and_api_config(bucket_domain="b.s3.us-east-1.amazonaws.com",
                               api_origin=aws_api_origin("abc123", "prod", "us-east-1"),
                               api_behavior=api_behavior(presets.get(preset)), caller_reference="x", comment="")


def _echo(probe: Probe, query: dict[str, list[str]] | None, headers: dict[str, list[str]]) -> Observation:
    return Observation(probe, 200, "api", {
        "api.method": probe.method, "api.path": probe.path, "api.stage_path": "/prod" + probe.path,
        "api.query": probes.format_query(query), "api.body": probe.body or ABSENT,
        **{f"api.header.{k}": ", ".join(v) for k, v in headers.items()},
    })


def _compare(obs: list[Observation], preset: str, local: bool) -> Any:
    config = _config(preset)
    expectations = results.predict(obs, config, host=HOST, stage="prod")
    return results.compare(obs, expectations, config, preset=preset, local=local)


def test_query_that_arrives_passes_under_recommended() -> None:
    probe = Probe("q", "", "GET", "/api/data", "since=2020-01-01&tag=a&tag=b", checks=("status", "api.query"))
    table = _compare([_echo(probe, {"since": ["2020-01-01"], "tag": ["a", "b"]}, {})], "recommended", False)
    assert list(table["verdict"]) == ["pass", "pass"]


def test_query_that_is_dropped_fails_under_recommended() -> None:
    probe = Probe("q", "", "GET", "/api/data", "since=2020-01-01", checks=("api.query",))
    table = _compare([_echo(probe, None, {})], "recommended", False)
    row = table.iloc[0]
    assert (row["expected"], row["observed"], row["verdict"]) == ("since=2020-01-01", NO_QUERY, "fail")


def test_dropped_query_is_the_expected_outcome_of_legacy_no_query() -> None:
    probe = Probe("q", "", "GET", "/api/data", "since=2020-01-01", checks=("api.query",))
    table = _compare([_echo(probe, None, {})], "legacy-no-query", False)
    assert table.iloc[0]["verdict"] == "pass"


def test_authorization_is_compared_unmasked_but_shown_masked() -> None:
    probe = Probe("a", "", "GET", "/api/data", headers=(("Authorization", "Bearer right"),),
                  checks=("api.header.authorization",))
    wrong = _compare([_echo(probe, None, {"authorization": ["Bearer wrong"]})], "recommended", False)
    right = _compare([_echo(probe, None, {"authorization": ["Bearer right"]})], "recommended", False)
    assert wrong.iloc[0]["verdict"] == "fail" and right.iloc[0]["verdict"] == "pass"
    assert "Bearer" not in wrong.to_csv() and "right" not in right.to_csv()


def test_a_documented_deviation_only_applies_on_the_local_target() -> None:
    probe = Probe("c", "", "GET", "/api/data", headers=(("Cookie", "theme=dark; session=s1"),),
                  checks=("api.header.cookie",))
    obs = [_echo(probe, None, {"cookie": ["theme=dark; session=s1"]})]  # viewer order, AWS sorts
    local, aws = _compare(obs, "recommended", True), _compare(obs, "recommended", False)
    assert local.iloc[0]["verdict"] == "deviation" and local.iloc[0]["note"].startswith("cookie-order-kept")
    assert aws.iloc[0]["verdict"] == "fail"


def test_an_unexplained_local_mismatch_is_a_fail() -> None:
    probe = Probe("x", "", "GET", "/api/data", headers=(("X-Runbook-Probe", "1"),),
                  checks=("api.header.x-runbook-probe",))
    table = _compare([_echo(probe, None, {})], "recommended", True)
    assert table.iloc[0]["verdict"] == "fail"


def test_viewer_host_to_execute_api_is_expected_to_be_refused_by_api_gateway() -> None:
    probe = Probe("h", "", "GET", "/api/data", checks=("status", "served_by"))
    table = _compare([Observation(probe, 403, "api-gateway")], "allviewer", False)
    assert list(table["expected"]) == [403, "api-gateway"] and set(table["verdict"]) == {"pass"}


def test_http_viewer_is_redirected_with_the_https_url() -> None:
    probe = Probe("r", "", "GET", "/api/data", "a=1", scheme="http", checks=("status", "location"))
    obs = Observation(probe, 301, "cloudfront", {"location": f"https://{HOST}/api/data?a=1"})
    assert set(_compare([obs], "recommended", False)["verdict"]) == {"pass"}


def test_summary_and_verdict_line() -> None:
    probe = Probe("q", "", "GET", "/api/data", "a=1", checks=("api.query",))
    table = _compare([_echo(probe, None, {})], "recommended", False)
    assert results.summary(table) == {"total": 1, "passed": 0, "failed": 1, "deviations": 0, "not_observed": 0}
    assert results.verdict_line(table, "recommended").startswith(
        "FAIL (preset 'recommended'): CloudFront did NOT behave as AWS documents: 1 of 1 checks failed (q)")


def test_verdict_fails_on_an_unmet_requirement_even_when_cloudfront_behaved_as_documented() -> None:
    probe = Probe("q", "", "GET", "/api/data", "a=1", checks=("api.query",))
    table = _compare([_echo(probe, None, {})], "legacy-no-query", False)
    assert results.verdict_line(table, "legacy-no-query") == (
        "PASS (preset 'legacy-no-query'): CloudFront behaved as AWS documents (1/1).")
    line = results.verdict_line(table, "legacy-no-query", ["your API does not get query strings"])
    assert line.startswith("FAIL") and "(1/1); your API does not get query strings" in line


def test_api_checks_are_not_observed_when_the_echo_did_not_answer() -> None:
    # allviewer on AWS: API Gateway refuses the viewer's Host, so no api.* value is ever reported.
    probe = Probe("h", "", "GET", "/api/data", "a=1", checks=("status", "served_by", "api.query"))
    table = _compare([Observation(probe, 403, "api-gateway")], "allviewer", False)
    assert list(table["verdict"]) == ["pass", "pass", results.NOT_OBSERVED]
    assert "not the echo" in table.iloc[2]["note"]
    counts = results.summary(table)
    assert (counts["passed"], counts["not_observed"]) == (2, 1)
    assert "1 not observed" in results.verdict_line(table, "allviewer")


@pytest.mark.parametrize(("status", "headers", "body", "who"), [
    (200, {}, json.dumps({"echo": echo_lambda.MARKER}).encode(), "api"),
    (200, {}, INDEX_HTML, "s3"),
    (403, {}, b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "s3"),
    (403, {"x-amzn-RequestId": "1"}, b'{"message":"Forbidden"}', "api-gateway"),
    (301, {"Location": "https://x/"}, b"", "cloudfront"),
])
def test_classify_who_answered(status: int, headers: dict[str, str], body: bytes, who: str) -> None:
    assert probes.classify(status, headers, body)[0] == who


def test_format_query_is_order_independent_for_keys_and_keeps_repeats() -> None:
    assert probes.format_query({"b": ["2"], "a": ["1", "0"]}) == "a=1&a=0&b=2"
    assert probes.format_query(None) == NO_QUERY


def test_default_matrix_covers_the_issue() -> None:
    matrix = probes.default_matrix("tok")
    methods = {p.method for p in matrix}
    assert methods == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert {"/api/data", "/api/a/b/c", "/api", "/index.html"} <= {p.path for p in matrix}
    assert sum(len(p.checks) for p in matrix) >= 30
    described = json.dumps(probes.describe(matrix))
    assert "Bearer tok" not in described  # credentials masked in the matrix table too


def test_echo_handler_returns_what_it_received() -> None:
    event = {"httpMethod": "POST", "path": "/api/x", "resource": "/api/{proxy+}",
             "requestContext": {"path": "/prod/api/x", "stage": "prod"},
             "multiValueQueryStringParameters": {"a": ["1", "2"]},
             "multiValueHeaders": {"X-Test": ["v"]}, "body": "aGk=", "isBase64Encoded": True}
    body = json.loads(echo_lambda.handler(event, None)["body"])
    assert body["query"] == {"a": ["1", "2"]} and body["headers"] == {"x-test": ["v"]}
    assert (body["body"], body["stage_path"]) == ("hi", "/prod/api/x")


def test_deviation_list_matches_the_docs(repo_root: Path) -> None:
    doc = (repo_root / "docs" / "deviations.md").read_text()
    documented = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    assert documented == {d.id for d in deviations.DEVIATIONS}
