"""``check SOURCE``: the four inputs of issue 10's "Done when", predicted statically, with exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.apigateway import RestApi
from runbook_lib.cli import main
from runbook_lib.runbook.check import check, check_source, model_config, sample_path
from runbook_lib.sources import load_source

FIXTURES = Path(__file__).parent / "fixtures"
LEGACY = FIXTURES / "sources" / "legacy_get_distribution_config.json"
CDK = FIXTURES / "cdk_app" / "template.json"
TERRAFORM = FIXTURES / "sources" / "terraform_plan_allviewer.json"
RECOMMENDED = FIXTURES / "sources" / "recommended_get_distribution.json"
STATIC_FIVE = "query-strings,authorization,host-is-api,methods,not-cached"


def _run(*argv: str) -> tuple[int, str]:
    """``check`` as a static check (``--replay none``, unless the test names a replay)."""
    out = io.StringIO()
    static = [] if "--replay" in argv or "--all" in argv else ["--replay", "none"]
    code = main(["check", *argv, *static], out)
    return code, out.getvalue()


def _verdicts(data: dict[str, Any], pattern: str = "/api/*") -> dict[str, bool | None]:
    [dist] = data["distributions"]
    behavior = next(b for b in dist["behaviors"] if b["path_pattern"] == pattern)
    return {r["id"]: r["met"] for r in behavior["requirements"]}


def test_saved_legacy_config_query_string_false() -> None:
    code, text = _run(str(LEGACY), "--json")
    data = json.loads(text)
    assert code == 1 and data["ok"] is False and data["source"] == str(LEGACY)
    met = _verdicts(data)
    assert met["query-strings"] is False and met["authorization"] is False and met["not-cached"] is False
    assert met["host-is-api"] is True and met["methods"] is True
    assert met["path-reaches-route"] is None  # a saved config does not describe the API's routes
    req = data["distributions"][0]["behaviors"][0]["requirements"][0]
    assert set(req) >= {"id", "met", "predicted", "observed", "fix"} and req["observed"] is None
    assert "QueryString" in req["fix"]
    assert any(f["code"] == "query-strings-dropped" and f["severity"] == "error"
               for f in data["distributions"][0]["findings"])


def test_cdk_synth_template_caching_optimized_behind_rest_api_origin() -> None:
    code, text = _run(str(CDK), "--json")
    met = _verdicts(json.loads(text))
    assert code == 1
    assert met == {"query-strings": False, "authorization": False, "host-is-api": True, "methods": True,
                   "path-reaches-route": False, "not-cached": False}
    # RestApiOrigin puts the stage in OriginPath: /api/data reaches the API as /prod/api/data, no such route.
    [dist] = check(str(CDK)).distributions
    route = next(r for r in dist.behaviors[0].requirements if r["id"] == "path-reaches-route")
    assert "/prod/api/data" in route["evidence"] and "Missing Authentication Token" in route["evidence"]


def test_terraform_plan_all_viewer() -> None:
    code, text = _run(str(TERRAFORM), "--json")
    data = json.loads(text)
    met = _verdicts(data)
    assert code == 1 and met["host-is-api"] is False and met["not-cached"] is True
    assert any(f["code"] == "viewer-host-to-execute-api" for f in data["distributions"][0]["findings"])
    fix = next(r["fix"] for r in data["distributions"][0]["behaviors"][0]["requirements"] if r["id"] == "host-is-api")
    assert "AllViewerExceptHostHeader" in fix


def test_correct_config_caching_disabled_all_viewer_except_host() -> None:
    code, text = _run(str(RECOMMENDED), "--requirements", STATIC_FIVE)
    assert code == 0 and text.startswith("PASS")
    # With the defaults, path-reaches-route stays unknown for a saved config: unknown is not a pass.
    code, text = _run(str(RECOMMENDED))
    assert code == 1 and "unknown  path-reaches-route" in text


def test_correct_config_with_its_api_known_passes_every_default() -> None:
    [source] = load_source(str(RECOMMENDED))
    api = RestApi(id="a1b2c3d4e5", resources={"/api": ["ANY"], "/api/{proxy+}": ["ANY"]}, stages=["prod"])
    source.apis = {api.id: api}
    result = check_source(source)
    assert result.ok, result.behaviors[0].requirements
    api.resources = {"/items": ["GET"]}
    assert not check_source(source).ok


@pytest.mark.parametrize("argv", [
    [str(RECOMMENDED), "--requirements", "nonsense"],
    [str(RECOMMENDED), "--api-origin", "nope"],
    [str(FIXTURES / "cdk_app" / "app.py")],
    ["distribution:E123", "--target", "local", "--endpoint-url", "http://example.com:4566"],
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*argv)[0] == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_out_writes_json_and_table(tmp_path: Path) -> None:
    code, _ = _run(str(LEGACY), "--out", str(tmp_path / "run"))
    assert code == 1
    data = json.loads((tmp_path / "run" / "latest" / "check.json").read_text())
    assert data["ok"] is False and "UNMET" in (tmp_path / "run" / "latest" / "check.txt").read_text()


def test_helpers() -> None:
    assert sample_path("/api/*") == "/api/data" and sample_path("*") == "/data" and sample_path("v?/x") == "/vx/x"
    config = {"Origins": {"Quantity": 1, "Items": [{"Id": "a", "DomainName": "<Api1>.execute-api.<region>.x"}]}}
    assert model_config(config)["Origins"]["Items"][0]["DomainName"] == "api1.execute-api.region.x"
    assert config["Origins"]["Items"][0]["DomainName"].startswith("<")  # the source is not changed


def test_notebook_04_runs_headless_on_a_saved_config(tmp_path: Path) -> None:
    import papermill as pm

    from runbook_lib.runbook.runner import NOTEBOOK_DIR

    pm.execute_notebook(str(NOTEBOOK_DIR / "04_your_distribution.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters={"source": str(LEGACY), "results_dir": str(tmp_path), "replay": "none"},
                        kernel_name="python3",
                        progress_bar=False, cwd=str(tmp_path))
    data = json.loads((tmp_path / "check.json").read_text())
    assert data["source"] == str(LEGACY) and data["ok"] is False
    text = (tmp_path / "out.ipynb").read_text()
    assert "QueryString" in text and "not replayed" in text


def test_notebook_04_parameters_are_checked() -> None:
    from runbook_lib.errors import ParameterError
    from runbook_lib.runbook import params

    given = {"source": "", "requirements": "", "target": "local", "replay": "local", "endpoint_url": "",
             "region": "", "profile": "", "results_dir": ""}
    with pytest.raises(ParameterError, match="replay='bogus' is not valid. Valid choices: local, shadow, none"):
        params.validate("04_your_distribution", {**given, "replay": "bogus"})
    with pytest.raises(ParameterError, match="Unknown requirement 'bogus'"):
        params.validate("04_your_distribution", {**given, "replay": "none", "requirements": "bogus"})


@pytest.mark.parametrize("argv", [[], [str(LEGACY), "--all"]])
def test_check_needs_exactly_one_of_source_and_all(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*argv)[0] == 2
    assert "exactly one of SOURCE or --all" in capsys.readouterr().err


def test_a_behavior_shadowed_by_an_earlier_pattern_is_named() -> None:
    # DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern: the first matching pattern wins.
    [source] = load_source(str(RECOMMENDED))
    behaviors = source.config["CacheBehaviors"]
    later = {**behaviors["Items"][0], "PathPattern": "/api/v2/*"}
    behaviors["Items"].append(later)
    behaviors["Quantity"] = 2
    result = check_source(source)
    assert [b.path_pattern for b in result.behaviors] == ["/api/*", "/api/v2/*"]
    assert any("/api/v2/*: /api/v2/data is served by the earlier behavior /api/*" in n for n in result.notes)
    assert not any(n.startswith("/api/*:") for n in result.notes)
