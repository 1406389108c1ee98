"""The pitfalls lab against the real local AWS, and its AWS-only branches against the service model."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import ANY
from stubbing import stubbed_aws

from runbook_lib.aws import path_stack
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import lab_results, path_fixes, pitfalls, policy_code
from runbook_lib.runbook.deviations import BY_ID
from runbook_lib.runbook.path_fixes import FixOutcome
from runbook_lib.runbook.pitfalls.lab import CONFIGURATIONS
from runbook_lib.runbook.probes import Observation, Probe

pytestmark = pytest.mark.integration

EXPECTED_ON_LOCAL = {
    # id: (symptom seen, the deviation that hides it or qualifies it)
    "legacy-query-dropped": (True, None),
    "caching-optimized-query-dropped": (True, None),
    # The symptom is API Gateway's 403; locally the 403 comes from MiniStack's CloudFront, so it is not seen.
    "allviewer-host-403": (False, "allviewer-403-from-cloudfront"),
    "authorization-in-orp": (False, "orp-authorization-accepted"),
    "zero-ttl-headers-in-key": (False, "zero-ttl-key-accepted"),
}
#: The path pitfall runs on the lab's second stack (see test_path_fixes.py for its fixes).
STEPPED_ON_LOCAL = {**EXPECTED_ON_LOCAL, "api-prefix-missing-route": (True, None)}


@pytest.fixture(scope="module")
def outcomes(local_aws: Any) -> dict[str, pitfalls.Outcome]:
    from runbook_lib.aws.target import connect

    target = connect("local", endpoint_url=local_aws.endpoint_url)
    result = {o.id: o for o in pitfalls.run(target, "rb-lab", ids=list(EXPECTED_ON_LOCAL), progress=False)}
    removed = pitfalls.teardown(target, "rb-lab", progress=False)
    assert "origin request policy rb-lab-orp-authorization" in removed
    assert "cache policy rb-lab-zero-ttl-auth" in removed
    return result


@pytest.mark.parametrize("pid", list(EXPECTED_ON_LOCAL))
def test_each_pitfall_is_reproduced_then_fixed(outcomes: dict[str, pitfalls.Outcome], pid: str) -> None:
    seen, deviation = EXPECTED_ON_LOCAL[pid]
    out = outcomes[pid]
    assert out.fix_verified, out.after
    assert out.symptom_seen is seen, out.before
    if deviation:
        assert deviation in BY_ID and out.note.startswith(deviation)
    assert out.doc_url.startswith("https://")


def test_symptoms_show_what_the_api_received(outcomes: dict[str, pitfalls.Outcome]) -> None:
    legacy = outcomes["legacy-query-dropped"]
    assert legacy.before[0]["API received query"] == "(none)"
    assert legacy.after[0]["API received query"] == "since=2020-01-01"
    assert outcomes["allviewer-host-403"].before[0]["status"] == 403


def test_no_credential_in_any_rendering(outcomes: dict[str, pitfalls.Outcome]) -> None:
    for out in outcomes.values():
        text = out._repr_html_() + json.dumps(out.before + out.after, default=str)
        assert "lab-token" not in text and "Bearer" not in text


def test_table_and_summary_entries(outcomes: dict[str, pitfalls.Outcome], tmp_path: Any) -> None:
    rows = pitfalls.table(list(outcomes.values()))
    assert [r["pitfall"] for r in rows] == list(EXPECTED_ON_LOCAL)
    path = lab_results.save(list(outcomes.values()), [], tmp_path)
    entries = json.loads(path.read_text())
    assert {tuple(sorted(e)) for e in entries} == {("fix_verified", "id", "kind", "note", "symptom_seen")}
    # Only five of the ten entries ran: the lab does not pass.
    missing = [p for p in lab_results.problems(entries, local=True) if p.endswith("missing (the lab did not run it)")]
    assert len(missing) == len(lab_results.ENTRY_IDS) - len(EXPECTED_ON_LOCAL)


def _fix(fix_id: str, verified: bool, shown: bool, deviation: str | None = None, note: str = "") -> FixOutcome:
    fix = path_fixes.FIXES[fix_id]
    return FixOutcome(fix.id, fix.title, fix.what_changes, fix.cost, fix.caveats, "local", shown, verified,
                      deviation=deviation, note=note)


def _all_fixes(**override: FixOutcome) -> list[FixOutcome]:
    fixes = {i: _fix(i, True, True) for i in path_fixes.FIX_IDS}
    fixes["path-fix-base-path-mapping"] = _fix("path-fix-base-path-mapping", True, False,
                                               deviation="custom-domain-origin-unreachable")
    fixes.update(override)
    return list(fixes.values())


def _pitfall_entries(**override: dict[str, Any]) -> list[dict[str, Any]]:
    base = {i: {"id": i, "kind": "pitfall", "symptom_seen": True, "fix_verified": True, "note": ""}
            for i in pitfalls.PITFALL_IDS}
    for k, v in override.items():
        base[k.replace("_", "-")] = {**base[k.replace("_", "-")], **v}
    return list(base.values())


def test_the_lab_passes_only_with_all_ten_entries_verified() -> None:
    fixes = [lab_results.fix_entry(f) for f in _all_fixes()]
    assert [e["id"] for e in _pitfall_entries() + fixes] == list(lab_results.ENTRY_IDS)
    assert lab_results.problems(_pitfall_entries() + fixes, local=True) == []
    no_node = _fix("path-fix-cloudfront-function", False, False,
                   note="NOT verified: ... Install Node.js (e.g. `apt-get install nodejs`) and run again.")
    fixes = [lab_results.fix_entry(f) for f in _all_fixes(**{"path-fix-cloudfront-function": no_node})]
    [problem] = lab_results.problems(_pitfall_entries() + fixes, local=True)
    assert problem.startswith("path-fix-cloudfront-function: fix NOT verified") and "Install Node.js" in problem


def test_an_unseen_symptom_needs_the_deviation_that_hides_it() -> None:
    fixes = [lab_results.fix_entry(f) for f in _all_fixes()]
    hidden = _pitfall_entries(allviewer_host_403={"symptom_seen": False, "note": "allviewer-403-from-cloudfront: x"})
    assert lab_results.problems(hidden + fixes, local=True) == []
    unexplained = _pitfall_entries(allviewer_host_403={"symptom_seen": False, "note": "403 from s3"})
    assert lab_results.problems(unexplained + fixes, local=True) == [
        "allviewer-host-403: symptom not seen, and no documented deviation hides it (403 from s3)"]
    unshown = _all_fixes(**{"path-fix-origin-path": _fix("path-fix-origin-path", True, False)})
    assert lab_results.problems(_pitfall_entries() + [lab_results.fix_entry(f) for f in unshown], local=True)


class _OfflineLab(pitfalls.Lab):
    """A lab whose deployed distributions answer as fixed ones would, so only the policy calls go to 'AWS'."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.distributions = {c: ("E0FFLINE", "offline.example") for c in CONFIGURATIONS}
        self.probed: list[str] = []

    def deploy(self, parts: tuple[str, ...] = ("lab", "paths")) -> Any:
        self.deployed.update(parts)

    def probe(self, probe: Probe, configuration: str) -> Observation:
        self.probed.append(configuration)
        auth = dict(probe.headers).get("Authorization", "(absent)")
        return Observation(probe, 200, "api", {"api.query": "since=2020-01-01", "api.header.authorization": auth})

    def fix_note(self, broken: str, fixed: str) -> Any:
        return f"{broken} -> {fixed}"


@pytest.mark.parametrize(("run", "operation"), [
    (pitfalls.authorization_in_orp, "CreateOriginRequestPolicy"),
    (pitfalls.zero_ttl_headers_in_key, "CreateCachePolicy"),
])
def test_on_aws_the_400_is_the_symptom(run: Any, operation: str) -> None:
    with stubbed_aws("us-east-1") as aws:
        # The request is validated against CloudFront's service model by the Stubber; AWS answers 400.
        aws.error("cloudfront", operation, "InvalidArgument",
                  "The parameter Headers contains Authorization that is not allowed.", 400,
                  expected={operation.removeprefix("Create") + "Config": ANY})
        out = run(_OfflineLab(aws.target, "rb-lab", progress=False))
        aws.assert_done()
    assert out.symptom_seen is True and out.fix_verified is True and out.note == ""
    assert out.before[-1]["status"] == 400


def test_the_broken_policy_is_valid_for_the_model_but_refused_by_the_runbook_check() -> None:
    config = policy_code.to_cache_policy_config(policy_code.ZERO_TTL_AUTH_IN_KEY)
    assert pitfalls.validate_request("cloudfront", "CreateCachePolicy", {"CachePolicyConfig": config}) == ""
    assert policy_code.cache_policy_problems(policy_code.ZERO_TTL_AUTH_IN_KEY)
    bad = pitfalls.validate_request("cloudfront", "CreateCachePolicy", {"CachePolicyConfig": {"Name": 1}})
    assert "Invalid type" in bad or "Missing required" in bad




def _without_via(out: pitfalls.Outcome) -> pitfalls.Outcome:
    """The outcome with each response's Via left out: the local CloudFront names a new edge id in every one."""
    rows = [[{k: v for k, v in row.items() if k != "Via"} for row in part] for part in (out.before, out.after)]
    return dataclasses.replace(out, before=rows[0], after=rows[1])


@pytest.fixture(scope="module")
def steps_target(local_aws: Any) -> Iterator[Any]:
    from runbook_lib.aws.target import connect

    target = connect("local", endpoint_url=local_aws.endpoint_url)
    yield target
    path_stack.teardown(target, "rb-steps-paths", others=["rb-steps"], progress=False)


@pytest.mark.parametrize("pid", list(pitfalls.STEPS))
def test_the_steps_return_the_outcome_of_the_one_call_path(steps_target: Any, pid: str) -> None:
    """A learner's cells (configure → symptom → why → fix → verify) and ``PITFALLS[pid]`` on the same stacks; each
    path deploys what it needs first (a second deploy changes nothing but puts the path pitfall back)."""
    one_call = pitfalls.PITFALLS[pid](pitfalls.Lab(steps_target, "rb-steps", progress=False))
    steps = pitfalls.steps(pid, pitfalls.Lab(steps_target, "rb-steps", progress=False))
    assert steps.configure()  # says what it configured
    table = steps.symptom()
    assert steps.outcome.before and steps.outcome.after == []  # the fix has not run yet
    assert "answered by" in table.to_html()
    why = steps.why()
    assert one_call.doc_url in why and one_call.doc_url in why._repr_markdown_()
    assert steps.fix()  # says what the fix changes and where
    stepped = steps.verify()
    assert _without_via(stepped) == _without_via(one_call)
    assert stepped.symptom_seen is STEPPED_ON_LOCAL[pid][0] and stepped.fix_verified


def test_the_fix_step_shows_the_change_and_where_it_was_deployed(steps_target: Any) -> None:
    lab = pitfalls.Lab(steps_target, "rb-steps", progress=False)
    steps = pitfalls.steps("caching-optimized-query-dropped", lab)
    fix = steps.fix()  # runs configure and symptom first
    assert "- `CachePolicyId: CachingOptimized → CachingDisabled`" in fix
    assert "- `OriginRequestPolicyId: (none) → AllViewerExceptHostHeader`" in fix
    assert lab.distributions["recommended"][0] in fix and "fix --apply" in fix
    assert lab.distributions["recommended"] != lab.distributions["caching-optimized"]


def test_a_step_asked_early_runs_the_steps_it_needs_first() -> None:
    with stubbed_aws("us-east-1") as aws:
        lab = _OfflineLab(aws.target, "rb-lab", progress=False)
        steps = pitfalls.steps("legacy-query-dropped", lab)
        out = steps.verify()  # configure, symptom and fix run first, in that order
        assert steps.done == {"configure", "symptom", "fix", "verify"}
        # The symptom probes the broken configuration's distribution, the proof the fixed one's.
        assert lab.probed == ["legacy-no-query"] * 2 + ["recommended"] * 2
        assert out == pitfalls.PITFALLS["legacy-query-dropped"](_OfflineLab(aws.target, "rb-lab", progress=False))
        assert out.before and out.after


def test_every_pitfall_has_steps_and_an_unknown_one_is_refused() -> None:
    assert tuple(pitfalls.STEPS) == tuple(pitfalls.PITFALLS) == pitfalls.PITFALL_IDS
    with pytest.raises(ParameterError, match=r"Unknown pitfall 'nope'; expected one of legacy-query-dropped"):
        pitfalls.steps("nope", pitfalls.Lab(None, "rb-lab"))  # type: ignore[arg-type]
