"""A replay a killed run left is found and removed by the runbook (issue 10): ``replay.leftovers`` finds it by the
runbook's own tags and marks only, and ``check --remove-replays`` removes it to the last resource, leaving a
same-prefixed resource without the runbook's tag alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import papermill as pm
import pytest

from runbook_lib.aws import deployments, names, ownership, provision, replay
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.stack import TAG_KEY, account_id, resource_names
from runbook_lib.aws.target import Target
from runbook_lib.cli import main
from runbook_lib.sources import load_source

_SOURCE = Path(__file__).resolve().parent / "fixtures" / "sources" / "terraform_plan_allviewer.json"


def _cli(target: Target, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["check", "--remove-replays", "--target", "local", "--endpoint-url", str(target.endpoint_url),
                 *argv], out=out)
    return code, out.getvalue()


def _marked(target: Target, stack: str) -> list[object]:
    """Everything of ``stack`` the runbook can find by its tag or mark."""
    return [*ownership.marked_policies(target, stack), *ownership.marked_functions(target, stack),
            *ownership.find_http_apis(target, stack), ownership.find_api(target, stack),
            ownership.find_distribution(target, stack)]


@pytest.mark.integration
def test_a_left_replay_is_found_removed_by_the_cli_and_an_untagged_namesake_stays(local_target: Target) -> None:
    [source] = load_source(str(_SOURCE))
    left = replay.build(local_target, source, progress=False)  # as a SIGKILL leaves it: never removed
    assert _marked(local_target, left.stack_name) != [None, None]
    # Same prefix, no runbook tag or mark: never a leftover, never removed.
    other = names.replay_stack("0ddba11e")
    rn = resource_names(other, account_id(local_target), local_target.region)
    iam, apig = local_target.client("iam"), local_target.client("apigateway")
    iam.create_role(RoleName=rn["role"], AssumeRolePolicyDocument="{}", Tags=[{"Key": "owner", "Value": "me"}])
    api = apig.create_rest_api(name=f"{rn['api']}-1", tags={TAG_KEY: "someone-else"})["id"]
    try:
        assert replay.leftovers(local_target) == [left.stack_name]
        code, text = _cli(local_target)
        assert code == 0 and text.splitlines()[0] == f"removed replay {left.stack_name}"
        assert f"  removed distribution {left.distribution_id}" in text.splitlines()
        assert _marked(local_target, left.stack_name) == [None, None]
        mine = resource_names(left.stack_name, account_id(local_target), local_target.region)
        assert mine["role"] not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
        assert mine["function"] not in {f["FunctionName"] for f in
                                        local_target.client("lambda").list_functions()["Functions"]}
        assert replay.leftovers(local_target) == []
        assert _cli(local_target) == (0, "no replay left\n")
        assert rn["role"] in {r["RoleName"] for r in iam.list_roles()["Roles"]}
        assert api in {a["id"] for a in apig.get_rest_apis()["items"]}
    finally:
        iam.delete_role(RoleName=rn["role"])
        apig.delete_rest_api(restApiId=api)
        replay.remove(local_target, left.stack_name, progress=False)


def test_remove_replays_takes_no_source() -> None:
    assert main(["check", "dist.json", "--remove-replays"], out=io.StringIO()) == 2


_POLICY = {"MinTTL": 0, "ParametersInCacheKeyAndForwardedToOrigin": {
    "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
    "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}}


@pytest.mark.integration
def test_a_replay_killed_before_its_distribution_is_found_by_its_marked_policy(local_target: Target) -> None:
    stack, cf = names.replay_stack("5ca1ab1e"), local_target.client("cloudfront")
    cf.create_cache_policy(CachePolicyConfig={**_POLICY, "Name": f"{stack}-policy-1", "Comment": ownership.mark(stack)})
    hand = cf.create_cache_policy(CachePolicyConfig={**_POLICY, "Name": f"{stack}-policy-2",
                                                     "Comment": f"{ownership.mark(stack)} (made by hand)"})
    try:
        assert replay.leftovers(local_target) == [stack]
        assert _cli(local_target) == (0, f"removed replay {stack}\n  removed cache policy {stack}-policy-1\n")
        assert replay.leftovers(local_target) == []
    finally:
        pid = hand["CachePolicy"]["Id"]
        cf.delete_cache_policy(Id=pid, IfMatch=cf.get_cache_policy(Id=pid)["ETag"])


@pytest.mark.integration
def test_notebook_09_removes_a_left_replay_with_the_stack_in_one_round(
        local_target: Target, local_aws: LocalAWS, repo_root: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    [source] = load_source(str(_SOURCE))
    provision.build(local_target, "stk-r", progress=False)
    left = replay.build(local_target, source, progress=False)
    ledger = tmp_path / deployments.LEDGER_FILE
    monkeypatch.setenv(deployments.LEDGER_ENV, str(ledger))  # the notebook's kernel inherits it
    out = tmp_path / "09.ipynb"
    pm.execute_notebook(str(repo_root / "notebooks" / "09_teardown.ipynb"), str(out), kernel_name="python3",
                        parameters={"stack_name": "stk-r", "endpoint_url": local_aws.endpoint_url},
                        progress_bar=False)
    executed = out.read_text()
    assert f"replays removed: {left.stack_name}" in executed and "nothing of the stack is left" in executed
    assert replay.leftovers(local_target) == [] and provision.find(local_target, "stk-r") is None
    waits = deployments.read_ledger(ledger)
    assert deployments.rounds(waits) == 1 and {left.distribution_id} < {d for w in waits for d in w.distributions}
