"""The real notebooks, executed headless with papermill against a real local AWS (MiniStack)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from runbook_lib.aws import deployments, presets, provision, teardown
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import Target
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import lab_results, requirements, results, runner, verify
from runbook_lib.runbook.deviations import BY_ID

pytestmark = pytest.mark.integration


def test_make_report_end_to_end(tmp_path: Path) -> None:
    # CloudFront's propagation simulated (1 s: the test stays fast), so every wait for a deployment really waits.
    result = runner.run(target="local", out_root=tmp_path, simulate_deploy_seconds=1)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["ok"] is True and summary["target"] == "local"
    # Issue 13: at most three deployment rounds (main stack; the whole lab; every stack's teardown), and each of
    # them waited the simulated second.
    waits = deployments.read_ledger(result.run_dir / deployments.LEDGER_FILE)
    assert summary["deployments"]["rounds"] <= 3 and summary["deployments"] == deployments.summarize(
        result.run_dir / deployments.LEDGER_FILE)
    assert summary["deployments"]["count"] >= 11 and all(w.end - w.start >= 0.9 for w in waits), waits
    assert [nb["name"] for nb in summary["notebooks"]] == list(runner.NOTEBOOKS)
    assert all(nb["status"] == "ok" and (result.run_dir / nb["html"]).stat().st_size > 0
               for nb in summary["notebooks"])
    probes = summary["probes"]
    assert probes["total"] >= 30 and probes["failed"] == 0 and probes["not_observed"] == 0
    assert probes["passed"] + probes["deviations"] == probes["total"]
    # What the API needs: the six default requirements, each decided by probes and met.
    assert [r["id"] for r in summary["requirements"]] == list(requirements.DEFAULTS)
    assert all(r["met"] is True and r["evidence"] and r["fix"] == "" for r in summary["requirements"])
    table = pd.read_csv(result.run_dir / "probes.csv")
    assert list(table.columns) == results.COLUMNS
    assert (tmp_path / "latest").resolve() == result.run_dir.resolve()
    # Every pitfall and path fix is present with its fix verified; an unseen symptom names the deviation
    # that hid it.
    assert [p["id"] for p in summary["pitfalls"]] == list(lab_results.ENTRY_IDS)
    assert len(summary["pitfalls"]) == 10 and lab_results.problems(summary["pitfalls"], local=True) == []
    for pit in summary["pitfalls"]:
        assert pit["fix_verified"], pit
        if pit["kind"] == "pitfall":
            assert pit["symptom_seen"] or pit["note"].split(":", 1)[0] in BY_ID, pit
    index = (result.run_dir / "index.html").read_text()
    assert "query-strings" in index and "path-fix-cloudfront-function" in index
    # The one file to share: self-contained, small, with the lab's tables (lab.json) in it.
    shared = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert len(shared.encode()) < 1_500_000 and "<script" not in shared and "<link" not in shared
    assert "What reaches the API" in shared and "path-fix-api-resource" in shared
    # Teardown ran last and left nothing behind.
    teardown = (result.run_dir / "09_teardown.ipynb").read_text()
    assert "nothing of the stack is left" in teardown
    # Credentials were compared, but no output holds one (notebook sources hold only made-up examples).
    for path in result.run_dir.iterdir():
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text())
            text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
        elif path.is_file():
            text = path.read_text(errors="replace")
        else:
            continue
        assert "Bearer " not in text, path.name
    verify_html = (result.run_dir / "02_verify_forwarding.html").read_text()
    assert "PASS (preset" in verify_html and "query-single" in verify_html


def test_a_failed_notebook_still_gets_its_report_and_fails_the_run(tmp_path: Path) -> None:
    # Verify with nothing built: the notebook raises, the report says why, the run is not ok.
    result = runner.run(target="local", out_root=tmp_path, notebooks=("02_verify_forwarding",))
    [entry] = result.summary["notebooks"]
    assert entry["status"] == "error" and "No runbook stack named" in entry["error"]
    assert result.ok is False
    html = (result.run_dir / entry["html"]).read_text()
    banner = html.index('class="runbook-banner"')
    assert banner < html.index('class="runbook-failed-cell"')  # the error comes first, before any cell
    assert "No runbook stack named" in html[banner: banner + 3000]


def test_bad_parameter_is_refused_in_the_first_cell(tmp_path: Path, local_aws: LocalAWS, repo_root: Path) -> None:
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(repo_root / "notebooks" / "01_build_origin.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"preset": "fast", "endpoint_url": local_aws.endpoint_url},
                            kernel_name="python3", progress_bar=False)
    err = info.value
    assert err.ename == "ParameterError"
    assert "Valid choices: recommended, legacy-no-query" in err.evalue
    # The failing cell is the first code cell after the parameters cell, not cell 17.
    nb = json.loads((repo_root / "notebooks" / "01_build_origin.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = next(i for i, c in enumerate(code) if "parameters" in c["metadata"].get("tags", [])) + 1
    assert err.source == "".join(code[first]["source"])


def test_runner_refuses_a_parameter_the_notebook_does_not_declare() -> None:
    with pytest.raises(ParameterError, match="has no parameter bogus"):
        runner._check_declared("09_teardown", {"bogus": 1})


@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_every_preset_behaves_as_the_model_predicts(local_target: Target, preset: str) -> None:
    # One stack, updated in place from preset to preset (the IfMatch update path).
    stack = provision.build(local_target, "rb-presets", preset, progress=False)
    assert provision.find(local_target, "rb-presets").preset == preset  # type: ignore[union-attr]
    v = verify.verify(local_target, "rb-presets", progress=False)
    failed = v.table[v.table["verdict"] == "fail"]
    assert failed.empty, failed.to_string()
    assert v.stack.distribution_id == stack.distribution_id


def test_rebuild_reuses_and_teardown_removes_only_what_it_made(local_target: Target) -> None:
    s3, apig = local_target.client("s3"), local_target.client("apigateway")
    s3.create_bucket(Bucket="someone-elses-bucket")
    foreign_api = apig.create_rest_api(name="rb-own-echo-api")["id"]  # same name as ours, no tag
    first = provision.build(local_target, "rb-own", "recommended", progress=False)
    second = provision.build(local_target, "rb-own", "recommended", progress=False)
    assert first.to_dict() == second.to_dict()
    cf = local_target.client("cloudfront")
    ours = [d for d in cf.list_distributions()["DistributionList"].get("Items", [])
            if d["Comment"] == f"{provision.TAG_KEY}=rb-own"]
    assert len(ours) == 1
    removed = teardown.remove(local_target, "rb-own", progress=False)
    assert any(r.startswith("distribution") for r in removed) and any(r.startswith("bucket") for r in removed)
    assert provision.find(local_target, "rb-own") is None
    assert "someone-elses-bucket" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert foreign_api in {a["id"] for a in apig.get_rest_apis()["items"]}
    assert teardown.remove(local_target, "rb-own", progress=False) == []  # idempotent


# --- failures fail: one stack shared by the tests below ------------------------------------------------------


@pytest.fixture(scope="module")
def verdict_stack(local_aws: LocalAWS) -> Target:
    from runbook_lib.aws.target import connect

    target = connect("local", endpoint_url=local_aws.endpoint_url)
    provision.build(target, "rb-verdicts", "recommended", progress=False)
    return target


def _echo_zip(source: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("echo_lambda.py", source)
    return buf.getvalue()


def test_an_echo_that_drops_query_strings_turns_the_verdict_red(verdict_stack: Target) -> None:
    from runbook_lib.aws import echo_lambda

    original = Path(echo_lambda.__file__).read_text()
    dropping = original.replace('event.get("multiValueQueryStringParameters")', "None")
    assert dropping != original
    lam = verdict_stack.client("lambda")
    lam.update_function_code(FunctionName="rb-verdicts-echo", ZipFile=_echo_zip(dropping))
    try:
        v = verify.verify(verdict_stack, "rb-verdicts", progress=False)
    finally:
        lam.update_function_code(FunctionName="rb-verdicts-echo", ZipFile=_echo_zip(original))
    needs = {r.id: r for r in v.requirements}
    assert needs["query-strings"].met is False and needs["query-strings"].predicted is True
    assert v.ok is False and v.verdict.startswith("FAIL")
    assert "your API does not get its query strings" in v.verdict
    assert set(v.table.loc[v.table["check"] == "api.query", "verdict"]) == {"fail"}


def test_a_distribution_changed_behind_the_runbooks_back_fails_papermill(
    verdict_stack: Target, local_aws: LocalAWS, repo_root: Path, tmp_path: Path
) -> None:
    from runbook_lib.cloudfront.policies import CACHING_OPTIMIZED

    stack = provision.find(verdict_stack, "rb-verdicts")
    assert stack is not None and stack.distribution_id
    cf = verdict_stack.client("cloudfront")
    current = cf.get_distribution_config(Id=stack.distribution_id)
    config = current["DistributionConfig"]
    [api] = [b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*"]
    api.pop("OriginRequestPolicyId", None)
    api["CachePolicyId"] = CACHING_OPTIMIZED
    cf.update_distribution(Id=stack.distribution_id, IfMatch=current["ETag"], DistributionConfig=config)
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(repo_root / "notebooks" / "02_verify_forwarding.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"stack_name": "rb-verdicts", "endpoint_url": local_aws.endpoint_url},
                            kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    err = info.value
    assert err.ename == "VerdictFailed"
    # CloudFront did exactly what CachingOptimized documents; the API still does not get what it needs.
    assert "CloudFront behaved as AWS documents" in err.evalue
    assert "your API does not get its query strings" in err.evalue and "CachingOptimized" in err.evalue
    # The report still holds every cell before the last, the verdict among them.
    executed = json.loads((tmp_path / "out.ipynb").read_text())
    outputs = json.dumps([c.get("outputs", []) for c in executed["cells"]])
    assert "FAIL (preset" in outputs and "not-cached" in outputs


def test_report_with_a_broken_preset_exits_1_naming_the_unmet_requirement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import functools

    from runbook_lib import cli

    # The main stack only (build, verify, teardown): the lab's notebooks do not depend on the preset.
    monkeypatch.setattr(runner, "run", functools.partial(
        runner.run, notebooks=("01_build_origin", "02_verify_forwarding", "09_teardown")))
    code = cli.main(["report", "--preset", "legacy-no-query", "--out", str(tmp_path)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "requirement query-strings: UNMET" in printed
    summary = json.loads((tmp_path / "latest" / "summary.json").read_text())
    needs = {r["id"]: r["met"] for r in summary["requirements"]}
    assert summary["ok"] is False and summary["preset"] == "legacy-no-query" and needs["query-strings"] is False
    assert needs["host-is-api"] is True and needs["methods"] is True
