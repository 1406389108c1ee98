"""``check distribution:<ID> --target aws --replay shadow``: the user's distribution recreated in the account as a new,
temporary distribution behind an echo API, probed, and removed; the user's distribution is only ever read.

Every AWS call goes through botocore's Stubber on an aws Target (each request validated against botocore's model,
each answer against the operation's output shape), answered by tests/fake_account.py, which remembers what the
build created so that the removal finds it. The probes' HTTP is answered by the same fake account through the
forwarding model and the echo function: nothing leaves the process.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.stub import Stubber

from runbook_lib.cli import main
from runbook_lib.runbook import check as checker
from tests.fake_account import FakeAccount
from tests.stubbing import stubbed_aws

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
REGION = "eu-west-1"
USER = "EUSERDIST0001"
USER_API = "a1b2c3d4e5"
#: What only reads: the user's distribution may be named by these and by nothing else.
_READS = ("Get", "List", "Describe")


def _legacy() -> dict[str, Any]:
    """The saved legacy config (QueryString false on /api/*), its API in this account and region."""
    config: dict[str, Any] = json.loads((FIXTURES / "legacy_get_distribution_config.json").read_text())[
        "DistributionConfig"]
    api = next(o for o in config["Origins"]["Items"] if ".execute-api." in o["DomainName"])
    api["DomainName"] = f"{USER_API}.execute-api.{REGION}.amazonaws.com"
    return config


def _names(params: Any, resource_id: str) -> bool:
    return resource_id in json.dumps(params, default=str)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A stubbed aws Target answered by a fake account holding the user's distribution and API."""
    monkeypatch.setattr("runbook_lib.aws.distribution.time.sleep", lambda _s: None)
    with stubbed_aws(REGION) as stub:
        v2 = Stubber(stub.target.client("apigatewayv2"))  # HTTP APIs: asked about, never reached
        v2.activate()
        stub.stubbers["apigatewayv2"] = v2
        fake = FakeAccount(REGION)
        fake.add_distribution(USER, _legacy(), [{"Key": "team", "Value": "shop"}])
        fake.rest_apis[USER_API] = {"name": "shop", "tags": {}, "stages": {"prod"}, "resources": {
            "/": {"id": "r0", "methods": set()}, "/api": {"id": "r1", "methods": {"ANY"}},
            "/api/{proxy+}": {"id": "r2", "methods": {"ANY"}}}}
        fake.attach(stub)

        def http(_self: requests.Session, method: str, url: str, headers: dict[str, str] | None = None,
                 data: Any = None, **_: Any) -> requests.Response:
            return fake.http(method.upper(), url, headers, data)

        monkeypatch.setattr(requests.Session, "request", http)
        yield stub, fake
        v2.deactivate()


def test_shadow_replay_is_built_probed_and_removed_and_the_users_distribution_only_read(account: Any) -> None:
    stub, fake = account
    before = copy.deepcopy(fake.distributions[USER])
    result = checker.check(f"distribution:{USER}", "query-strings,host-is-api,path-reaches-route", (),
                           stub.target, replay="shadow")
    [dist] = result.distributions
    [behavior] = dist.behaviors
    observed = {r["id"]: r["observed"] for r in behavior.requirements}
    # Observed by probes through the shadow distribution on "AWS": the legacy behavior drops query strings.
    assert observed == {"query-strings": False, "host-is-api": True, "path-reaches-route": True}, dist.notes
    assert result.replay == "shadow" and not result.ok

    created = [p for s, op, p in fake.calls if op == "CreateDistributionWithTags"]
    assert len(created) == 1, "one new, temporary distribution"
    shadow_tags = created[0]["DistributionConfigWithTags"]["Tags"]["Items"]
    assert any(t["Key"] == "runbook:stack" for t in shadow_tags)
    # Its API origin is the echo API in the account at its AWS address, with the user's OriginPath kept.
    [echo] = [p["restApiId"] for s, op, p in fake.calls if op == "CreateDeployment"]
    user_api = next(o for o in _legacy()["Origins"]["Items"] if ".execute-api." in o["DomainName"])
    shadow_api = next(o for o in created[0]["DistributionConfigWithTags"]["DistributionConfig"]["Origins"]["Items"]
                      if o["Id"] == user_api["Id"])
    assert shadow_api["DomainName"] == f"{echo}.execute-api.{REGION}.amazonaws.com"
    assert shadow_api["OriginPath"] == user_api["OriginPath"]
    shadow_ids = {p["Id"] for s, op, p in fake.calls if op == "DeleteDistribution"}
    assert len(shadow_ids) == 1 and USER not in shadow_ids
    # Every probe went to the shadow's domain, never to the user's distribution.
    assert fake.sent and all(f"//{next(iter(shadow_ids)).lower()}.cloudfront.net/" in url for _, url in fake.sent)

    touching = [(s, op) for s, op, p in fake.calls if _names(p, USER) or _names(p, USER_API)]
    assert touching and all(op.startswith(_READS) for _, op in touching), touching
    # Nothing of the replay is left; the user's distribution and API are as they were.
    assert set(fake.distributions) == {USER} and fake.distributions[USER] == before
    assert set(fake.rest_apis) == {USER_API} and not fake.roles and not fake.functions and not fake.policies


def test_shadow_needs_a_distribution_on_target_aws(capsys: pytest.CaptureFixture[str]) -> None:
    saved = FIXTURES / "legacy_get_distribution_config.json"
    assert main(["check", str(saved), "--replay", "shadow"], io.StringIO()) == 2
    assert "--replay shadow" in capsys.readouterr().err


def test_the_command_line_runs_the_shadow_on_the_aws_target(account: Any, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    stub, fake = account
    monkeypatch.setattr("runbook_lib.runbook.check_cli.connect", lambda *args, **kwargs: stub.target)
    out = io.StringIO()
    code = main(["check", f"distribution:{USER}", "--target", "aws", "--replay", "shadow", "--requirements",
                 "query-strings,authorization", "--json"], out)
    doc = json.loads(out.getvalue())
    assert code == 1 and doc["replay"] == "shadow"
    [behavior] = doc["distributions"][0]["behaviors"]
    assert {r["id"]: r["observed"] for r in behavior["requirements"]} == {"query-strings": False,
                                                                          "authorization": False}
    assert set(fake.distributions) == {USER}
    # The copy's name, where to find it and how to remove it are said while it exists.
    [line] = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("shadow replay ")]
    stack = line.split()[2].rstrip(":")
    assert f"tagged runbook:stack={stack}" in line and line.endswith(
        f"python -m runbook_lib check --remove-replays --target aws --region {REGION}")


def test_a_shadow_left_by_a_killed_run_is_found_and_removed_by_its_name(account: Any) -> None:
    from runbook_lib.aws import replay
    from runbook_lib.sources import load_source

    stub, fake = account
    [source] = load_source(f"distribution:{USER}", stub.target)
    made = replay.build(stub.target, source, progress=False)  # and then the process is killed: nothing removed
    assert made.distribution_id in fake.distributions and len(fake.rest_apis) == 2 and fake.roles
    removed = replay.remove(stub.target, made.stack_name, progress=False)  # what the printed line runs
    assert f"distribution {made.distribution_id}" in removed
    assert set(fake.distributions) == {USER} and set(fake.rest_apis) == {USER_API} and not fake.roles
