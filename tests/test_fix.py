"""fix --plan / --apply / --rollback: pure planning, and the whole loop against the real local AWS.

The local loop is the issue's "done when": a distribution built with preset ``allviewer`` is planned, applied and
verified by probes (and by ``verify``, the runbook's own check), with a backup; a change made between plan and
apply makes apply refuse and leaves the distribution as it was; a fix whose probes fail is rolled back.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.aws import presets, provision
from runbook_lib.aws.target import Target
from runbook_lib.cli import main
from runbook_lib.cloudfront import configs
from runbook_lib.cloudfront.policies import (
    ALL_VIEWER,
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
)
from runbook_lib.errors import ConfigError, FixRefused
from runbook_lib.runbook import fix_apply, fix_plan, verify


def _config(preset: str) -> dict[str, Any]:
    # The AWS form of the runbook's own distribution with the preset's /api/* behavior.
    from runbook_lib.aws.target import aws_api_origin

    return configs.site_and_api_config(
        bucket_domain="site.s3.us-east-1.amazonaws.com", oac_id="E2OAC", api_origin=aws_api_origin("a1b2c3", "prod",
                                                                                                     "us-east-1"),
        api_behavior=configs.api_behavior(presets.get(preset).behavior_fields(None)), caller_reference="ref",
        comment="test")


def _api_behavior(config: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")


# --- planning (pure) --------------------------------------------------------------------------------


def test_plan_of_allviewer_swaps_to_all_viewer_except_host_and_predicts_the_requirements_met() -> None:
    # AllViewer forwards the viewer's Host and API Gateway answers 403:
    # https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers
    config = _config("allviewer")
    plan = fix_plan.make_plan(config, source="test")
    assert [f["code"] for f in plan.findings] == ["viewer-host-to-execute-api"]
    assert _api_behavior(plan.fixed_config)["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert _api_behavior(plan.config)["OriginRequestPolicyId"] == ALL_VIEWER  # the original is kept as it was
    before = {v["id"]: v["met"] for v in plan.predicted_before}
    after = {v["id"]: v["met"] for v in plan.predicted_after}
    assert before["host-is-api"] is False and after["host-is-api"] is True
    assert after["query-strings"] is True and after["authorization"] is True
    assert f'-        "OriginRequestPolicyId": "{ALL_VIEWER}"' in plan.diff
    assert f'+        "OriginRequestPolicyId": "{ALL_VIEWER_EXCEPT_HOST_HEADER}"' in plan.diff


def test_plan_patches_apply_in_sequence_and_a_correct_config_gets_an_empty_plan() -> None:
    legacy = _config("legacy-no-query")
    plan = fix_plan.make_plan(legacy)
    assert plan.changes and {"query-strings-dropped"} <= {f["code"] for f in plan.findings}
    from runbook_lib.cloudfront.fixes import apply_patch

    assert apply_patch(legacy, plan.patch) == plan.fixed_config
    assert {v["id"]: v["met"] for v in plan.predicted_after}["query-strings"] is True
    good = fix_plan.make_plan(_config("recommended"))
    assert not good.changes and good.fixed_config == good.config and good.diff == ""


def test_local_origins_are_planned_in_their_aws_form() -> None:
    # MiniStack's path-style origin stands for the execute-api one (docs/deviations.md, local-origin-address).
    config = _config("allviewer")
    origin = next(o for o in config["Origins"]["Items"] if o["Id"] == "api")
    origin.update(DomainName="localhost", OriginPath="/restapis/a1b2c3/prod/_user_request_")
    view = fix_plan.aws_view(config)
    assert next(o for o in view["Origins"]["Items"] if o["Id"] == "api")["DomainName"] == \
        "a1b2c3.execute-api.us-east-1.amazonaws.com"
    plan = fix_plan.make_plan(config)
    assert next(o for o in plan.fixed_config["Origins"]["Items"] if o["Id"] == "api")["DomainName"] == "localhost"
    assert [f["code"] for f in plan.findings] == ["viewer-host-to-execute-api"]


def test_plan_round_trips_through_its_file_and_refuses_other_files(tmp_path: Path) -> None:
    plan = fix_plan.make_plan(_config("caching-optimized"), source="x.json", requirement_ids="query-strings")
    path = fix_plan.save_plan(plan, tmp_path / "plan.json")
    again = fix_plan.load_plan(path)
    assert again.to_dict() == plan.to_dict() and again.requirements == ["query-strings"]
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a fix plan"):
        fix_plan.load_plan(tmp_path / "other.json")


def test_cli_plan_from_a_saved_config_writes_the_plan(tmp_path: Path) -> None:
    saved = tmp_path / "dist.json"
    saved.write_text(json.dumps({"ETag": "E1", "DistributionConfig": _config("allviewer")}))
    out = io.StringIO()
    assert main(["fix", str(saved), "--plan", str(tmp_path / "plan.json")], out) == 0
    data = json.loads((tmp_path / "plan.json").read_text())
    assert data["distribution_id"] is None and data["findings"][0]["code"] == "viewer-host-to-execute-api"
    assert "host-is-api: unmet -> met" in out.getvalue()
    # Applying a plan that names no distribution is refused with the way out.
    assert main(["fix", "--apply", str(tmp_path / "plan.json"), "--target", "local",
                 "--endpoint-url", "http://127.0.0.1:1"], io.StringIO()) == 2


# --- the loop on the local AWS -----------------------------------------------------------------------


def _built(target: Target, name: str, preset: str = "allviewer") -> str:
    stack = provision.build(target, name, preset=preset, progress=False)
    assert stack.distribution_id
    return stack.distribution_id


def _live(target: Target, dist_id: str) -> tuple[dict[str, Any], str]:
    answer = target.client("cloudfront").get_distribution_config(Id=dist_id)
    return answer["DistributionConfig"], answer["ETag"]


def _checked(target: Target, dist_id: str, replay: str = "none") -> tuple[int, dict[str, bool | None]]:
    """``check distribution:<ID> --json --replay REPLAY`` on the local AWS, as a user runs it (no --api-origin: the
    local address is read as its AWS form): exit code and requirement id -> met. ``none`` decides with the models,
    ``local`` (the default on the local target) by probing a replay of the distribution behind an echo API."""
    out = io.StringIO()
    code = main(["check", f"distribution:{dist_id}", "--target", "local", "--endpoint-url",
                 target.endpoint_url or "", "--json", "--replay", replay], out)
    [dist] = json.loads(out.getvalue())["distributions"]
    [behavior] = dist["behaviors"]
    return code, {r["id"]: r["met"] for r in behavior["requirements"]}


#: The ``check --replay`` modes the loop is checked with: the models alone, and probes through a replay.
REPLAYS = ("none", "local")


def _all_six_met(target: Target, dist_id: str) -> None:
    """``check`` exits 0 with all six default requirements met, with each mode of :data:`REPLAYS`."""
    for replay in REPLAYS:
        code, met = _checked(target, dist_id, replay)
        assert code == 0 and len(met) == 6 and all(v is True for v in met.values()), (replay, met)


def test_allviewer_plan_apply_verified_with_a_backup(local_target: Target, tmp_path: Path) -> None:
    dist_id = _built(local_target, "fix-ok")
    [plan] = fix_plan.plan_source(f"distribution:{dist_id}", local_target)
    assert plan.etag == _live(local_target, dist_id)[1] and plan.target == "local"
    before, _ = _live(local_target, dist_id)
    for replay in REPLAYS:
        code, met = _checked(local_target, dist_id, replay)
        assert code == 1 and met["host-is-api"] is False, (replay, met)
    result = fix_apply.apply(plan, local_target, tmp_path / "run", progress=False)
    assert result.status == "applied" and result.ok and result.via == "update", result.message
    assert _live(local_target, dist_id)[0] == plan.fixed_config
    backup = json.loads((tmp_path / "run" / "backup.json").read_text())
    assert backup["config"] == before and backup["distribution_id"] == dist_id
    assert {v.id: v.met for v in result.verdicts}["host-is-api"] is True
    log = (tmp_path / "run" / "fix.log").read_text()
    assert "backup saved" in log and "UpdateDistribution" in log and "Deployed" in log
    # The runbook's own verification (probes against the model) passes on the fixed distribution, and `check`
    # exits 0 with all six default requirements met: path-reaches-route decided by the API Gateway model from the
    # API read from the target.
    assert verify.verify(local_target, "fix-ok", progress=False).ok
    _all_six_met(local_target, dist_id)
    assert set(plan.expected_met()) <= {"query-strings", "authorization", "host-is-api", "methods",
                                        "path-reaches-route", "not-cached"}
    # And the backup restores the broken original by hand.
    out = io.StringIO()
    assert main(["fix", "--rollback", str(tmp_path / "run" / "backup.json"), "--target", "local",
                 "--endpoint-url", local_target.endpoint_url or ""], out) == 0
    assert _api_behavior(_live(local_target, dist_id)[0])["OriginRequestPolicyId"] == ALL_VIEWER


def test_a_change_between_plan_and_apply_is_refused_and_left_alone(local_target: Target, tmp_path: Path) -> None:
    dist_id = _built(local_target, "fix-raced")
    [plan] = fix_plan.plan_source(f"distribution:{dist_id}", local_target)
    config, etag = _live(local_target, dist_id)
    # A plan whose configuration is not the distribution's (an edited plan file) is refused though the ETag matches.
    edited = dataclasses.replace(plan, config={**plan.config, "Comment": "edited in the plan"})
    with pytest.raises(FixRefused, match="differs from the one the plan was made from"):
        fix_apply.apply(edited, local_target, tmp_path / "edited", progress=False)
    assert _live(local_target, dist_id) == (config, etag)
    someone = {**config, "Comment": "changed by someone else"}
    local_target.client("cloudfront").update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=someone)
    changed = _live(local_target, dist_id)
    with pytest.raises(FixRefused, match="changed since the plan"):
        fix_apply.apply(plan, local_target, tmp_path / "run", progress=False)
    assert _live(local_target, dist_id) == changed
    assert "REFUSED" in (tmp_path / "run" / "fix.log").read_text()
    assert not (tmp_path / "run" / "backup.json").exists()


def test_a_fix_whose_probes_fail_is_rolled_back_with_its_new_policy(local_target: Target, tmp_path: Path) -> None:
    dist_id = _built(local_target, "fix-bad")
    [plan] = fix_plan.plan_source(f"distribution:{dist_id}", local_target)
    original, _ = _live(local_target, dist_id)
    # A wrong fix the plan still predicts good: a new cache policy with no query strings, and no origin request
    # policy, so ?since=... never arrives although predicted_after says query-strings is met.
    placeholder = "<new-cache-policy-broken>"
    plan.policies = {placeholder: {"CachePolicyConfig": {
        **configs.to_cache_policy_config(configs.CachePolicySpec(name="fix-bad-no-query", max_ttl=1)),
    }}}
    behavior = _api_behavior(plan.fixed_config)
    behavior["CachePolicyId"] = placeholder
    behavior.pop("OriginRequestPolicyId")
    result = fix_apply.apply(plan, local_target, tmp_path / "run", progress=False)
    assert result.status == "rolled-back" and not result.ok
    assert any(r.startswith("query-strings") for r in result.regressions)
    assert _live(local_target, dist_id)[0] == original
    created = json.loads((tmp_path / "run" / "backup.json").read_text())["created_policies"]
    assert [c["kind"] for c in created] == ["cache-policy"]
    listed = local_target.client("cloudfront").list_cache_policies(Type="custom")["CachePolicyList"]
    assert created[0]["id"] not in [i["CachePolicy"]["Id"] for i in listed.get("Items") or []]
    assert "rolled back" in (tmp_path / "run" / "fix.log").read_text()


def test_cli_apply_of_a_plan_on_the_local_aws(local_target: Target, tmp_path: Path) -> None:
    dist_id = _built(local_target, "fix-cli", preset="caching-optimized")
    endpoint = local_target.endpoint_url or ""
    for replay in REPLAYS:
        code, met = _checked(local_target, dist_id, replay)
        assert code == 1 and met["query-strings"] is False, (replay, met)
    plan = tmp_path / "plan.json"
    assert main(["fix", f"distribution:{dist_id}", "--plan", str(plan), "--target", "local",
                 "--endpoint-url", endpoint], io.StringIO()) == 0
    out = io.StringIO()
    assert main(["fix", "--apply", str(plan), "--endpoint-url", endpoint, "--out", str(tmp_path)], out) == 0
    assert "applied:" in out.getvalue() and "backup:" in out.getvalue()
    live = _live(local_target, dist_id)[0]
    assert live == fix_plan.load_plan(plan).fixed_config
    assert _api_behavior(live)["CachePolicyId"] == CACHING_DISABLED != CACHING_OPTIMIZED
    # The whole chain on the command line: check, plan, apply, check again (exit 0, all six met).
    _all_six_met(local_target, dist_id)


def test_notebook_05_plans_by_default_and_applies_when_asked(local_target: Target, tmp_path: Path,
                                                             repo_root: Path) -> None:
    import papermill as pm

    dist_id = _built(local_target, "fix-nb")
    base = {"target": "local", "stack_name": "fix-nb", "endpoint_url": local_target.endpoint_url or "",
            "results_dir": str(tmp_path / "runs")}
    notebook = str(repo_root / "notebooks" / "05_fix_safely.ipynb")
    pm.execute_notebook(notebook, str(tmp_path / "plan.ipynb"), parameters=base, kernel_name="python3",
                        progress_bar=False, cwd=str(tmp_path))
    assert _api_behavior(_live(local_target, dist_id)[0])["OriginRequestPolicyId"] == ALL_VIEWER  # apply=False
    pm.execute_notebook(notebook, str(tmp_path / "apply.ipynb"), parameters={**base, "apply": True},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    assert _api_behavior(_live(local_target, dist_id)[0])["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    text = (tmp_path / "apply.ipynb").read_text()
    assert "applied (via update)" in text and "Bearer " not in text
    assert len(list((tmp_path / "runs").glob("fix-*/backup.json"))) == 1
