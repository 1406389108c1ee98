"""The real notebooks, executed headless with papermill against a real local AWS (MiniStack)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from runbook_lib.aws import presets, provision, teardown
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import Target
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import requirements, results, runner, verify
from runbook_lib.runbook.deviations import BY_ID
from runbook_lib.runbook.pitfalls import PITFALL_IDS

pytestmark = pytest.mark.integration


def test_make_report_end_to_end(tmp_path: Path) -> None:
    result = runner.run(target="local", out_root=tmp_path)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["ok"] is True and summary["target"] == "local"
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
    # Every pitfall is present with its fix verified; an unseen symptom names the deviation that hid it.
    assert {p["id"] for p in summary["pitfalls"]} == set(PITFALL_IDS)
    for pit in summary["pitfalls"]:
        assert pit["fix_verified"], pit
        assert pit["symptom_seen"] or pit["note"].split(":", 1)[0] in BY_ID, pit
    assert (result.run_dir / "index.html").exists()
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
