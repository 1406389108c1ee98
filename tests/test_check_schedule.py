"""Scheduled verification (issue 12 item 1): ``check --junit``, ``--out`` history with "changed since the last
run", and ``--keep`` pruning."""

from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.aws.target import Target
from runbook_lib.cli import main
from runbook_lib.errors import ConfigError
from runbook_lib.runbook.run_folders import is_run_folder, new_run_dir, point_latest, prune
from tests.test_check import LEGACY, RECOMMENDED, STATIC_FIVE, _run


def _legacy(query_string: bool, headers: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LEGACY.read_text())
    config = data["DistributionConfig"]
    forwarded = config["CacheBehaviors"]["Items"][0]["ForwardedValues"]
    forwarded["QueryString"] = query_string
    forwarded["Headers"] = {"Quantity": len(headers), **({"Items": headers} if headers else {})}
    return data


# --- JUnit -------------------------------------------------------------------------------------------------


def _cases(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("testcase"))


def test_junit_of_a_failing_source_is_red(tmp_path: Path) -> None:
    report = tmp_path / "reports" / "junit.xml"
    code, _ = _run(str(LEGACY), "--junit", str(report))
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = _cases(suite)
    data = json.loads(_run(str(LEGACY), "--json")[1])
    [dist] = data["distributions"]
    requirements = [(b["path_pattern"], r) for b in dist["behaviors"] for r in b["requirements"]]
    errors = [f for f in dist["findings"] if f["severity"] == "error"]
    assert errors and len(cases) == len(requirements) + len(errors)
    unmet = [r for _, r in requirements if r["met"] is not True]
    assert int(suite.get("tests", "")) == len(cases) and int(root.get("tests", "")) == len(cases)
    assert int(suite.get("failures", "")) == len(unmet) + len(errors) > 0
    assert root.get("failures") == suite.get("failures") and suite.get("errors") == "0"
    by_name = {(c.get("classname"), c.get("name")): c for c in cases}
    query = by_name[(f"{dist['name']}/{'/api/*'}", "query-strings")]
    failure = query.find("failure")
    assert failure is not None and failure.get("type") == "unmet"
    assert "QueryString" in (failure.text or "") and "fix:" in (failure.text or "")
    assert by_name[(f"{dist['name']}/{'/api/*'}", "host-is-api")].find("failure") is None  # met
    finding = by_name[(f"{dist['name']}/{errors[0]['behavior']}", errors[0]["code"])].find("failure")
    assert finding is not None and finding.get("type") == "error-finding"


def test_junit_of_a_passing_source_is_green(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    code, _ = _run(str(RECOMMENDED), "--requirements", STATIC_FIVE, "--junit", str(report))
    root = ET.parse(report).getroot()
    assert code == 0 and root.get("failures") == "0" and root.get("tests") == "5"
    assert {c.get("name") for c in _cases(root)} == set(STATIC_FIVE.split(","))


# --- history -----------------------------------------------------------------------------------------------


def _history(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]


def test_two_runs_with_a_configuration_change_show_drift_and_verdicts(tmp_path: Path) -> None:
    dist, out = tmp_path / "dist.json", tmp_path / "checks"
    dist.write_text(json.dumps(_legacy(True, [])))
    code, first = _run(str(dist), "--out", str(out))
    assert code == 1 and "this is the first run" in first.splitlines()[0]
    # Between the runs someone turns query strings off and whitelists Authorization.
    dist.write_text(json.dumps(_legacy(False, ["Authorization"])))
    code, second = _run(str(dist), "--out", str(out))
    assert code == 1
    one, two = _history(out)
    assert one["source"] == two["source"] == str(dist) and one["config_hash"] != two["config_hash"]
    assert set(two) >= {"time", "run", "source", "ok", "config_hash", "verdicts", "errors"}
    assert {v["requirement"]: v["met"] for v in one["verdicts"]}["query-strings"] is True
    assert {v["requirement"]: v["met"] for v in two["verdicts"]}["query-strings"] is False
    section = second.split("\n\n")[0]
    assert section.startswith(f"changed since the last run ({one['run']}")
    lines = section.splitlines()
    failing = next(i for i, line in enumerate(lines) if "newly failing" in line and "query-strings" in line)
    passing = next(i for i, line in enumerate(lines) if "now passing" in line and "authorization" in line)
    assert failing < passing  # newly failing first
    assert any("ForwardedValues.QueryString: true -> false" in line for line in lines)
    assert any("ForwardedValues.Headers.Items[0]" in line and "Authorization" in line and "added" in line
               for line in lines)
    run_dir = out / two["run"]
    assert (out / "latest").resolve() == run_dir.resolve()
    assert (run_dir / "check.txt").read_text().startswith(section)
    saved = json.loads((run_dir / "config.json").read_text())
    [snap] = saved.values()
    assert snap["config"]["CacheBehaviors"]["Items"][0]["ForwardedValues"]["QueryString"] is False
    # A third run with nothing changed says so.
    _, third = _run(str(dist), "--out", str(out))
    assert "configuration and policies: unchanged" in third and "verdicts: unchanged" in third


def test_local_distribution_changed_with_boto3_between_runs(local_target: Target, tmp_path: Path) -> None:
    cloudfront = local_target.client("cloudfront")
    config = copy.deepcopy(_legacy(True, [])["DistributionConfig"])
    config["CallerReference"] = f"history-{os.getpid()}-{tmp_path.name}"
    created = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    ident = created["Id"]
    args = [f"distribution:{ident}", "--target", "local", "--endpoint-url", str(local_target.endpoint_url),
            "--out", str(tmp_path / "out"), "--json"]
    try:
        assert _run(*args)[0] == 1
        current = cloudfront.get_distribution_config(Id=ident)
        changed = current["DistributionConfig"]
        changed["CacheBehaviors"]["Items"][0]["ForwardedValues"]["QueryString"] = False
        cloudfront.update_distribution(Id=ident, IfMatch=current["ETag"], DistributionConfig=changed)
        assert _run(*args)[0] == 1
    finally:
        _remove(cloudfront, ident)
    one, two = _history(tmp_path / "out")
    assert one["config_hash"] != two["config_hash"]
    report = (tmp_path / "out" / "latest" / "check.txt").read_text()
    assert "QueryString: true -> false" in report and "newly failing" in report


def _remove(cloudfront: Any, ident: str) -> None:
    current = cloudfront.get_distribution_config(Id=ident)
    config = current["DistributionConfig"]
    config["Enabled"] = False
    etag = cloudfront.update_distribution(Id=ident, IfMatch=current["ETag"], DistributionConfig=config)["ETag"]
    cloudfront.delete_distribution(Id=ident, IfMatch=etag)


# --- pruning -----------------------------------------------------------------------------------------------


def test_keep_prunes_only_recognised_run_folders(tmp_path: Path) -> None:
    out = tmp_path / "checks"
    for _ in range(4):
        assert _run(str(LEGACY), "--out", str(out), "--keep", "2")[0] == 1
    runs = sorted(p.name for p in out.iterdir() if is_run_folder(p, "check.json"))
    assert len(runs) == 2 and len(_history(out)) == 4
    assert (out / "latest").resolve().name == runs[-1]
    # Things beside the run folders are never touched, even when named like one.
    (out / "notes").mkdir()
    (out / "19990101T000000Z").mkdir()  # stamp name, but no check.json: not a run folder
    (out / "19990101T000001Z").symlink_to(out / runs[0], target_is_directory=True)
    (out / "20000101T000000Z.txt").write_text("mine")
    report_run = out / "19990101T000002Z"
    report_run.mkdir()
    (report_run / "summary.json").write_text("{}")  # another command's run
    assert _run(str(LEGACY), "--out", str(out), "--keep", "1")[0] == 1
    left = {p.name for p in out.iterdir()}
    assert {"notes", "19990101T000000Z", "19990101T000001Z", "20000101T000000Z.txt", "19990101T000002Z",
            "history.jsonl", "latest"} <= left
    assert [p for p in out.iterdir() if is_run_folder(p, "check.json")] == [(out / "latest").resolve()]


def test_prune_keeps_latest_and_refuses_zero(tmp_path: Path) -> None:
    folders = [new_run_dir(tmp_path) for _ in range(3)]  # same second: <stamp>, <stamp>-2, <stamp>-3
    assert len({f.name for f in folders}) == 3
    for folder in folders:
        (folder / "check.json").write_text("{}")
    point_latest(tmp_path, folders[0])  # latest points at the oldest: it stays
    removed = prune(tmp_path, keep=1)
    assert removed == [folders[1]] and folders[0].is_dir() and folders[2].is_dir()
    with pytest.raises(ConfigError, match="at least 1"):
        prune(tmp_path, keep=0)
    assert _run(str(LEGACY), "--out", str(tmp_path), "--keep", "0")[0] == 2


def test_report_keep_prunes_old_report_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook_lib.runbook import runner

    def fake_run(out_root: str, **_: Any) -> runner.RunResult:
        run_dir = new_run_dir(Path(out_root))
        (run_dir / "summary.json").write_text('{"ok": true}')
        point_latest(Path(out_root), run_dir)
        return runner.RunResult(run_dir, {"ok": True})

    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setattr(runner, "print_summary", lambda result: None)
    check_run = tmp_path / "20000101T000000Z"
    check_run.mkdir()
    (check_run / "check.json").write_text("{}")  # a check run in the same folder is not a report run
    for _ in range(3):
        assert main(["report", "--out", str(tmp_path), "--keep", "2"]) == 0
    reports = [p for p in tmp_path.iterdir() if is_run_folder(p, "summary.json")]
    assert len(reports) == 2 and check_run.is_dir() and (tmp_path / "latest").resolve() in reports
    assert main(["report", "--out", str(tmp_path), "--keep", "0"]) == 2
