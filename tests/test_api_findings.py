"""``check``'s findings weighed against the API read with the source (runbook.api_findings).

``diagnose`` cannot see an API's routes, so it warns ``api-prefix-vs-stage`` for ``/api/*`` behind an OriginPath
stage. Where the source describes the API, the API Gateway model decides: the first path segment is the stage and
the rest must match a resource (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html),
``{proxy+}`` takes every child path
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

from runbook_lib.apigateway import RestApi
from runbook_lib.aws import provision
from runbook_lib.aws.target import Target
from runbook_lib.cli import main
from runbook_lib.runbook.api_findings import ROUTED_CODE
from runbook_lib.runbook.check import check, check_source
from runbook_lib.sources import DistributionSource, load_source

FIXTURES = Path(__file__).parent / "fixtures"
WITH_API = FIXTURES / "sources" / "recommended_with_api.yaml"
CDK = FIXTURES / "cdk_app" / "template.json"
SAVED = FIXTURES / "sources" / "recommended_get_distribution.json"


def _routed(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["code"] == ROUTED_CODE]


def _saved(resources: dict[str, list[str]] | None) -> DistributionSource:
    """The saved correct config (REST API a1b2c3d4e5, OriginPath /prod on /api/*), its API known with
    ``resources`` (None: not described)."""
    [source] = load_source(str(SAVED))
    if resources is not None:
        api = RestApi(id="a1b2c3d4e5", resources=resources, stages=["prod"])
        source.apis = {api.id: api}
    return source


def test_a_template_whose_api_has_the_route_gives_an_info_line_not_a_warning() -> None:
    [dist] = check(str(WITH_API)).distributions
    [finding] = _routed(dist.findings)
    assert finding["severity"] == "info" and finding["fix"] is None
    assert "/prod/api/data" in finding["effect"] and "/api/{proxy+}" in finding["effect"]
    assert finding["doc_url"].startswith("https://docs.aws.amazon.com/apigateway/")


def test_the_cdk_template_whose_api_has_no_api_resource_keeps_the_warning_with_what_the_model_found() -> None:
    [dist] = check(str(CDK)).distributions
    [finding] = _routed(dist.findings)
    assert finding["severity"] == "warning" and finding["fix"] is not None
    assert "has no such route" in finding["effect"] and "Missing Authentication Token" in finding["effect"]


def test_the_verdict_follows_the_routes_not_the_fixture() -> None:
    # The same distribution: the warning stands without the API, and with an API that lacks /api; it goes with
    # /api/{proxy+}.
    for resources, severity in ((None, "warning"), ({"/items": ["GET"]}, "warning"),
                                ({"/api/{proxy+}": ["ANY"]}, "info"), ({"/api/data": ["GET"]}, "info")):
        [finding] = _routed(check_source(_saved(resources)).findings)
        assert finding["severity"] == severity, (resources, finding)
    unknown = _routed(check_source(_saved(None)).findings)[0]
    assert "API read with the source" not in unknown["effect"]


def test_a_function_that_may_rewrite_the_path_leaves_the_warning() -> None:
    source = _saved({"/api/{proxy+}": ["ANY"]})
    config = copy.deepcopy(source.config)
    behavior = config["CacheBehaviors"]["Items"][0]
    behavior["FunctionAssociations"] = {"Quantity": 1, "Items": [
        {"FunctionARN": "arn:aws:cloudfront::123456789012:function/strip", "EventType": "viewer-request"}]}
    source.config = config
    [finding] = _routed(check_source(source).findings)
    assert finding["severity"] == "warning" and "API read with the source" not in finding["effect"]


def test_the_runbook_stack_read_with_distribution_id_has_no_prefix_warning(local_target: Target) -> None:
    stack = provision.build(local_target, "api-findings", preset="recommended", progress=False)
    assert stack.distribution_id
    out = io.StringIO()
    code = main(["check", f"distribution:{stack.distribution_id}", "--target", "local", "--endpoint-url",
                 local_target.endpoint_url or "", "--json", "--replay", "none"], out)
    [dist] = json.loads(out.getvalue())["distributions"]
    assert code == 0, dist
    assert [f["severity"] for f in _routed(dist["findings"])] == ["info"]
    assert not [f for f in dist["findings"] if f["severity"] != "info"], dist["findings"]


def test_a_path_an_earlier_behavior_serves_decides_nothing() -> None:
    # The first matching pattern wins (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
    # DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern): /api/data goes to /api* first.
    source = _saved({"/api/{proxy+}": ["ANY"]})
    config = copy.deepcopy(source.config)
    behaviors = config["CacheBehaviors"]
    wider = {**copy.deepcopy(behaviors["Items"][0]), "PathPattern": "/api*"}
    behaviors["Items"].insert(0, wider)
    behaviors["Quantity"] += 1
    source.config = config
    routed = {f["behavior"]: f for f in _routed(check_source(source).findings)}
    assert routed["/api/*"]["severity"] == "warning" and "API read with the source" not in routed["/api/*"]["effect"]
