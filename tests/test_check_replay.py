"""``check --replay local``: the replay of a distribution probed behind the echo API, verdicts observed.

The verdicts expected here are what AWS documents for each configuration (the page is cited beside each); the
probes must observe them through the replay on the local AWS. A documented emulator deviation is named and never
turns a requirement met.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.apigateway import RestApi
from runbook_lib.aws import provision
from runbook_lib.aws.replay import ROUTES_CATCH_ALL, ROUTES_SOURCE, Replay, ReplayedBehavior
from runbook_lib.aws.target import ENDPOINT_ENV, Target
from runbook_lib.cli import main
from runbook_lib.cloudfront.policies import CACHING_DISABLED, CACHING_OPTIMIZED
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import check, replay_check, requirement_checks, verify
from runbook_lib.runbook.probes import Probe
from runbook_lib.sources import DistributionSource, load_source

FIXTURES = Path(__file__).parent / "fixtures"
LEGACY = FIXTURES / "sources" / "legacy_get_distribution_config.json"
CDK = FIXTURES / "cdk_app" / "template.json"
TERRAFORM = FIXTURES / "sources" / "terraform_plan_allviewer.json"
RECOMMENDED = FIXTURES / "sources" / "recommended_get_distribution.json"
WITH_API = FIXTURES / "sources" / "recommended_with_api.yaml"
STATIC_FIVE = "query-strings,authorization,host-is-api,methods,not-cached"

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
                "CachePolicyId": CACHING_DISABLED}
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
def target(local_target: Target) -> Target:
    return local_target


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
    assert "the model predicted otherwise on: query-single api.query" in query["evidence"]


def test_unmet_phrases_name_the_behaviors_own_prefix() -> None:
    from runbook_lib.runbook.requirements import Verdict

    [phrase] = requirement_checks.unmet_phrases([Verdict("path-reaches-route", False, "x", "fix")], "/v1/")
    assert phrase.startswith("/v1/<x> does not reach a route")


# --- modes and refusals (no replay built) -------------------------------------------------------------------


def test_replay_modes_by_target(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main(["check", str(LEGACY), "--target", "aws", "--region", "eu-west-1", "--json"], out) == 1
    data = json.loads(out.getvalue())
    assert data["replay"] == "none" and data["distributions"][0]["behaviors"][0]["requirements"][0]["observed"] is None
    assert main(["check", "--all", "--replay", "local"], io.StringIO()) == 2
    assert "--all checks every distribution statically" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="Valid choices: local, shadow, none"):
        check.check(str(LEGACY), replay="bogus")
    with pytest.raises(ParameterError, match="needs the embedded local AWS"):
        check.check(str(LEGACY), replay="local")


def test_a_behavior_the_replay_did_not_probe_is_unknown_never_met() -> None:
    [source] = load_source(str(WITH_API))
    result = check.check_source(source)
    assert result.ok  # predicted: every requirement met
    replay = Replay("rp-x", "E1", "d1.cloudfront.net", {}, [], ["Origin site: not an API"])
    replay_check.apply(result, [], replay)
    [behavior] = result.behaviors
    assert all(r["met"] is None and r["observed"] is None and r["predicted"] is True for r in behavior.requirements)
    assert behavior.requirements[0]["evidence"].startswith("not replayed: the replay of Cdn has no behavior /api/*")
    assert not result.ok and "replay: Origin site: not an API" in result.notes


# --- check --replay local on the four inputs of issue 10's "Done when" (R1's replay build) ------------------


def _cli(endpoint: str, *argv: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = main(["check", *argv, "--replay", "local", "--endpoint-url", endpoint, "--json"], out)
    return code, json.loads(out.getvalue())


def _by_id(data: dict[str, Any], pattern: str = "/api/*") -> dict[str, dict[str, Any]]:
    [dist] = data["distributions"]
    behavior = next(b for b in dist["behaviors"] if b["path_pattern"] == pattern)
    assert behavior["replay"]["probes"] > 0
    return {r["id"]: r for r in behavior["requirements"]}


def test_saved_legacy_config_query_strings_unmet_observed(local_target: Target) -> None:
    # QUERY_DOC: legacy settings with QueryString false forward no query string to the origin.
    code, data = _cli(local_target.endpoint_url or "", str(LEGACY))
    got = _by_id(data)
    assert code == 1 and data["ok"] is False and data["replay"] == "local"
    assert got["query-strings"]["observed"] is False and got["query-strings"]["met"] is False
    assert "the API got (none)" in got["query-strings"]["evidence"] and "query-single" in got["query-strings"]["probes"]
    # The echo answers every path (the saved config does not describe the API): no route verdict, never met.
    assert got["path-reaches-route"]["observed"] is None


def test_cdk_template_caching_optimized_behind_rest_api_origin(local_target: Target) -> None:
    # RestApiOrigin puts the stage in OriginPath, so /api/data reaches the API as /prod/api/data; the template's
    # RestApi has no /api resource, so API Gateway answers 403 "Missing Authentication Token"
    # (https://repost.aws/knowledge-center/api-gateway-authentication-token-errors).
    code, data = _cli(local_target.endpoint_url or "", str(CDK))
    got = _by_id(data)
    assert code == 1
    assert got["query-strings"]["observed"] is False
    route = got["path-reaches-route"]
    assert route["observed"] is False and "Missing Authentication Token" in route["evidence"]


def test_terraform_allviewer_unmet_through_the_named_deviation(local_target: Target) -> None:
    # HOST_DOC: the viewer's Host forwarded to API Gateway is answered 403. Locally MiniStack's CloudFront answers it
    # (deviation allviewer-403-from-cloudfront): named, and nothing is met.
    code, data = _cli(local_target.endpoint_url or "", str(TERRAFORM))
    got = _by_id(data)
    assert code == 1
    for rid in ("query-strings", "authorization", "host-is-api", "methods", "path-reaches-route"):
        assert got[rid]["observed"] is False and "allviewer-403-from-cloudfront" in got[rid]["deviations"], rid
    assert all(r["met"] is not True for r in got.values())
    # /search/* has its own probes, under /search/ (the terraform plan's API has no /search resource).
    search = _by_id(data, "/search/*")
    assert search["path-reaches-route"]["observed"] is False
    assert "/search/data" in search["path-reaches-route"]["evidence"]


def test_correct_saved_config_five_met_observed_route_unknown(local_target: Target) -> None:
    endpoint = local_target.endpoint_url or ""
    code, data = _cli(endpoint, str(RECOMMENDED))
    got = _by_id(data)
    assert code == 1  # path-reaches-route unknown: unknown is not a pass
    assert got["path-reaches-route"]["met"] is None
    assert [r for r in got if got[r]["observed"] is True] == [r for r in got if r != "path-reaches-route"]
    code, data = _cli(endpoint, str(RECOMMENDED), "--requirements", STATIC_FIVE)
    assert code == 0 and data["ok"] is True
    assert all(r["observed"] is True for r in _by_id(data).values())


def test_correct_template_with_its_routes_passes_every_default_observed(local_target: Target) -> None:
    # CachingDisabled + AllViewerExceptHostHeader (QUERY_DOC, HOST_DOC), and a RestApi with /api and /api/{proxy+}.
    code, data = _cli(local_target.endpoint_url or "", str(WITH_API))
    got = _by_id(data)
    assert code == 0 and data["ok"] is True, {k: v["evidence"] for k, v in got.items()}
    assert all(r["observed"] is True and r["predicted"] is True for r in got.values())


def test_the_table_shows_predicted_and_observed_side_by_side(local_target: Target) -> None:
    out = io.StringIO()
    code = main(["check", str(LEGACY), "--replay", "local", "--endpoint-url", local_target.endpoint_url or ""], out)
    text = out.getvalue()
    assert code == 1 and "(replay local:" in text.splitlines()[0]
    assert "UNMET    query-strings        predicted unmet   observed unmet" in text


def test_the_replay_is_removed_also_on_an_error(local_target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt  # Ctrl-C while probing

    monkeypatch.setattr(replay_check, "probe_replay", boom)
    before = _distribution_ids(local_target)
    with pytest.raises(KeyboardInterrupt):
        check.check(str(LEGACY), replay="local", replay_target=local_target)
    assert _distribution_ids(local_target) == before  # nothing of the replay is left


def _distribution_ids(target: Target) -> set[str]:
    listed = target.client("cloudfront").list_distributions()["DistributionList"].get("Items") or []
    return {d["Id"] for d in listed}


def test_a_change_to_the_replay_behind_the_checks_back_turns_the_verdict_red(local_target: Target) -> None:
    from runbook_lib.aws import replay as replays

    @contextlib.contextmanager
    def tampered(target: Target, source: DistributionSource, ids: list[str]) -> Iterator[Replay]:
        """R1's replay, then its /api/* behavior switched to CachingOptimized before the probes run: no query
        string reaches the origin any more (QUERY_DOC), while the source still says CachingDisabled."""
        with replays.replayed(target, source, ids, progress=False) as made:
            cf = target.client("cloudfront")
            got = cf.get_distribution_config(Id=made.distribution_id)
            config = got["DistributionConfig"]
            [api] = [b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*"]
            api["CachePolicyId"] = CACHING_OPTIMIZED
            api.pop("OriginRequestPolicyId", None)
            cf.update_distribution(Id=made.distribution_id, IfMatch=got["ETag"], DistributionConfig=config)
            yield made

    honest = check.check(str(WITH_API), replay="local", replay_target=local_target)
    assert honest.ok
    result = check.check(str(WITH_API), replay="local", replay_target=local_target, replayer=tampered)
    [behavior] = result.distributions[0].behaviors
    query = next(r for r in behavior.requirements if r["id"] == "query-strings")
    assert not result.ok and query["predicted"] is True and query["observed"] is False and query["met"] is False
    assert "the probes disagree with the model" in query["evidence"]


def test_readme_check_example_runs_verbatim_with_its_own_local_aws(repo_root: Path) -> None:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    [line] = re.findall(r"^(\.venv/bin/python -m runbook_lib check [^#\n]+?)\s+# exit 1$", text, re.MULTILINE)
    env = {k: v for k, v in os.environ.items() if k != ENDPOINT_ENV}  # no running local AWS: it starts its own
    done = subprocess.run(["bash", "-c", line], cwd=repo_root, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "UNMET    query-strings        predicted unmet   observed unmet" in done.stdout
    assert "starting the local AWS" in done.stderr and "local AWS stopped" in done.stderr
    assert "Traceback" not in done.stderr


def test_notebook_04_replays_the_example_headless(local_target: Target, tmp_path: Path) -> None:
    """As ``make report`` runs it: the run's local AWS, the example cdk synth template (broken on purpose)."""
    import papermill as pm

    from runbook_lib.runbook.runner import NOTEBOOK_DIR

    pm.execute_notebook(str(NOTEBOOK_DIR / "04_your_distribution.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters={"endpoint_url": local_target.endpoint_url, "results_dir": str(tmp_path)},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    data = json.loads((tmp_path / "check.json").read_text())
    assert data["source"] == str(check.EXAMPLE_SOURCE) and data["replay"] == "local" and data["ok"] is False
    route = _by_id(data)["path-reaches-route"]
    assert route["observed"] is False and "Missing Authentication Token" in route["evidence"]
    text = (tmp_path / "out.ipynb").read_text()
    assert "not replayed" not in text and "observed" in text and "Make requests reach the API first" in text


def test_bench_replay_fails_on_a_missed_target(monkeypatch: pytest.MonkeyPatch, repo_root: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_replay", repo_root / "benchmarks" / "bench_replay.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "SOURCES", [LEGACY])
    assert bench.main() == 0
    monkeypatch.setattr(bench, "TARGET_S", 0.01)
    assert bench.main() == 1
    assert "target < 0 s: NOT met" in capsys.readouterr().out


def test_a_local_aws_that_does_not_answer_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(LEGACY), "--replay", "local", "--endpoint-url", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No local AWS answers at http://127.0.0.1:1") and err.count("\n") == 1


def test_notebook_04_starts_its_own_local_aws_when_none_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``report --target aws`` runs it on the example: no local AWS is given, so the replay starts and stops one."""
    import papermill as pm

    from runbook_lib.runbook.runner import NOTEBOOK_DIR

    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    pm.execute_notebook(str(NOTEBOOK_DIR / "04_your_distribution.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters={"target": "aws", "source": str(LEGACY), "results_dir": str(tmp_path)},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    data = json.loads((tmp_path / "check.json").read_text())
    assert data["replay"] == "local" and _by_id(data)["query-strings"]["observed"] is False


def test_sigterm_during_a_replay_removes_it(local_target: Target, repo_root: Path) -> None:
    """A CI timeout (SIGTERM) while the replay is built or probed: one line, exit 128+15, nothing of it left."""
    import signal
    import sys
    import time

    apis = local_target.client("apigateway")
    before, before_apis = _distribution_ids(local_target), {a["id"] for a in apis.get_rest_apis()["items"]}
    argv = [sys.executable, "-m", "runbook_lib", "check", str(LEGACY), "--replay", "local", "--endpoint-url",
            local_target.endpoint_url or ""]
    with subprocess.Popen(argv, cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        seen = ""
        while "replaying" not in seen:  # the replay's build has started
            line = proc.stderr.readline()
            assert line, f"check ended before replaying: {seen}"
            seen += line
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    assert _distribution_ids(local_target) == before
    assert {a["id"] for a in apis.get_rest_apis()["items"]} == before_apis  # the echo API went with it
