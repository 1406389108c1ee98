"""Apply a fix plan safely: back up, refuse a distribution that changed since the plan, change, wait, probe,
and roll back by itself when a requirement the plan predicted met is unmet after the change.

Two ways to change the distribution:

- ``update``: UpdateDistribution with IfMatch = the ETag of the plan (a stale ETag answers PreconditionFailed:
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html). The local target
  always goes this way (MiniStack has no continuous deployment: docs/deviations.md).
- ``staging`` (default on AWS): a staging copy tested through the production domain with a header, then
  promoted (:mod:`runbook_lib.aws.staging`); it falls back to ``update`` where continuous deployment is not
  allowed (HTTP/3, the staging quota).

Every step goes to ``fix.log`` in the run folder; ``backup.json`` there is what :func:`rollback` restores.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from runbook_lib.aws.calls import aws_call, aws_errors
from runbook_lib.aws.distribution import wait_deployed
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.model import compiled_behaviors, match_behavior
from runbook_lib.cloudfront.policies import fetch_custom_policies
from runbook_lib.errors import FixRefused, ProvisioningError, StagingUnavailable
from runbook_lib.runbook import probes, requirement_checks, requirements
from runbook_lib.runbook.fix_plan import Plan, aws_view
from runbook_lib.runbook.requirements import Verdict

__all__ = ["ApplyResult", "RunLog", "apply", "observe", "read_backup", "rollback", "run_folder", "unmarked"]

_POLICY_CALLS = {  # placeholder label -> (create, get, delete, body key, answer key)
    "cache-policy": ("create_cache_policy", "get_cache_policy", "delete_cache_policy", "CachePolicyConfig",
                     "CachePolicy"),
    "origin-request-policy": ("create_origin_request_policy", "get_origin_request_policy",
                              "delete_origin_request_policy", "OriginRequestPolicyConfig", "OriginRequestPolicy"),
}


class RunLog:
    """Timestamped lines in ``<run folder>/fix.log``, echoed to ``stream`` when one is given."""

    def __init__(self, run_dir: Path, stream: TextIO | None = None) -> None:
        self.path, self.stream = run_dir / "fix.log", stream
        run_dir.mkdir(parents=True, exist_ok=True)

    def __call__(self, message: str) -> None:
        line = f"{datetime.now(UTC).strftime('%H:%M:%S')} {message}"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        if self.stream is not None:
            self.stream.write(line + "\n")
            self.stream.flush()


@dataclass
class ApplyResult:
    """``status``: applied, rolled-back or nothing-to-do; ``via``: update or staging."""

    status: str
    run_dir: Path
    backup: Path | None
    via: str = "update"
    verdicts: list[Verdict] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "nothing-to-do")


def run_folder(out_root: str | Path = "outputs") -> Path:
    """A new ``<out_root>/fix-<UTC timestamp>/``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = Path(out_root) / f"fix-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- backup -----------------------------------------------------------------------------------------


def _write_backup(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_backup(path: str | Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise FixRefused(f"Cannot read backup {str(path)!r} ({err}). Give the backup.json of a fix run "
                         "folder (outputs/fix-<timestamp>/backup.json).") from err
    if not {"distribution_id", "config", "etag"} <= data.keys():
        raise FixRefused(f"{str(path)!r} is not a fix backup (needs distribution_id, etag and config).")
    return data


# --- policies the fix creates -----------------------------------------------------------------------


def _label(placeholder: str) -> str:
    return "origin-request-policy" if placeholder.startswith("<new-origin-request-policy") else "cache-policy"


def _create_policies(target: Target, plan: Plan, backup: dict[str, Any], backup_path: Path,
                     log: RunLog) -> dict[str, str]:
    """Create each new policy of the plan, recording it in the backup at once; placeholder -> real ID."""
    cf = target.client("cloudfront")
    ids: dict[str, str] = {}
    for placeholder, body in plan.policies.items():
        create, _, _, key, answer = _POLICY_CALLS[_label(placeholder)]
        config = {**body[key], "Name": f"{body[key]['Name']}-{int(time.time())}"[:128]}
        made = aws_call(f"cloudfront.{create}", getattr(cf, create), **{key: config})[answer]["Id"]
        ids[placeholder] = str(made)
        backup["created_policies"].append({"kind": _label(placeholder), "id": str(made)})
        _write_backup(backup_path, backup)
        log(f"created {_label(placeholder)} {made} ({config['Name']}) for {placeholder}")
    return ids


def _delete_policies(target: Target, created: list[dict[str, str]], log: RunLog) -> None:
    cf = target.client("cloudfront")
    for entry in reversed(created):
        _, get, delete, _, _ = _POLICY_CALLS[entry["kind"]]
        etag = aws_call(f"cloudfront.{get}", getattr(cf, get), Id=entry["id"])["ETag"]
        aws_call(f"cloudfront.{delete}", getattr(cf, delete), Id=entry["id"], IfMatch=etag)
        log(f"deleted {entry['kind']} {entry['id']}")


def _substitute(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


# --- probes -----------------------------------------------------------------------------------------


def _probe(target: Target, config: dict[str, Any], domain: str, ids: list[str], path: str,
           extra_headers: dict[str, str] | None, progress: bool) -> tuple[list[Verdict], list[probes.Observation]]:
    from runbook_lib.runbook import verify  # the probe matrix of the verdicts

    matrix = verify.probe_matrix(ids)
    if extra_headers:
        matrix = [dataclasses.replace(p, headers=tuple(p.headers) + tuple(extra_headers.items())) for p in matrix]
    observations = probes.run(target, domain, matrix, progress)
    policies = fetch_custom_policies(target.client("cloudfront"), config)
    behavior = match_behavior(compiled_behaviors(config, policies), path)
    api_host = behavior.origin.domain if behavior.origin else ""
    predicted = requirements.predict(ids, aws_view(config, target.region), policies, path=path)
    verdicts = requirement_checks.evaluate(ids, observations, api_host=api_host, predicted=predicted,
                                           local=target.is_local)
    return verdicts, observations


def observe(target: Target, config: dict[str, Any], domain: str, ids: list[str], path: str = "/api/data",
            extra_headers: dict[str, str] | None = None, progress: bool = False) -> list[Verdict]:
    """The requirements ``ids`` decided by live probes through ``domain`` (``extra_headers`` on every probe,
    e.g. the continuous deployment header), with the model's prediction beside each."""
    return _probe(target, config, domain, ids, path, extra_headers, progress)[0]


def unmarked(observations: list[probes.Observation], marker: tuple[str, str]) -> list[str]:
    """The probes answered by the API that do not carry ``marker`` (so did not go through staging); a problem
    too when no probe reached the API at all."""
    key = f"api.header.{marker[0].lower()}"
    reached = [o for o in observations if o.served_by == "api"]
    if not reached:
        return ["no probe reached the API, so none proves it went through the staging copy"]
    return [f"{o.probe.id} was not served through the staging copy (no {marker[0]} at the API)"
            for o in reached if o.values.get(key) != marker[1]]


def _regressions(plan: Plan, verdicts: list[Verdict]) -> list[str]:
    expected = set(plan.expected_met())
    return [f"{v.id}: {v.evidence}" for v in verdicts if v.id in expected and v.met is False]


# --- apply and roll back ----------------------------------------------------------------------------


def _current(target: Target, dist_id: str) -> tuple[dict[str, Any], str]:
    answer = aws_call(f"cloudfront.GetDistributionConfig {dist_id}",
                      target.client("cloudfront").get_distribution_config, Id=dist_id)
    return answer["DistributionConfig"], str(answer["ETag"])


def _refuse_if_changed(plan: Plan, config: dict[str, Any], etag: str, log: RunLog) -> None:
    if plan.etag is not None and etag != plan.etag:
        why = f"its ETag is {etag}, the plan was made at {plan.etag}"
    elif config != plan.config:
        why = "its configuration differs from the one the plan was made from"
    else:
        return
    log(f"REFUSED: distribution {plan.distribution_id} changed since the plan ({why}); nothing was changed")
    raise FixRefused(f"Distribution {plan.distribution_id} changed since the plan ({why}). Nothing was changed. "
                     f"Review the change, then run `fix distribution:{plan.distribution_id} --plan FILE` again.")


def _update(target: Target, dist_id: str, etag: str, config: dict[str, Any], log: RunLog) -> str:
    """UpdateDistribution with IfMatch; PreconditionFailed becomes :class:`FixRefused`. Returns the new ETag."""
    cf = target.client("cloudfront")
    try:
        answer = aws_call(f"cloudfront.UpdateDistribution {dist_id}", cf.update_distribution, Id=dist_id,
                          IfMatch=etag, DistributionConfig=config)
    except ProvisioningError as err:
        if err.code == "PreconditionFailed":
            log(f"REFUSED: UpdateDistribution {dist_id} answered PreconditionFailed (someone changed it)")
            raise FixRefused(f"CloudFront refused the update of {dist_id}: PreconditionFailed, the distribution "
                             "changed since it was read. Nothing was changed; plan again.") from err
        raise
    log(f"UpdateDistribution {dist_id} (IfMatch {etag}) accepted; new ETag {answer['ETag']}")
    return str(answer["ETag"])


def _wait(target: Target, dist_id: str, log: RunLog, progress: bool) -> None:
    log(f"waiting for {dist_id} to be Deployed")
    wait_deployed(target, dist_id, progress=progress)
    log(f"{dist_id} is Deployed")


@aws_errors
def rollback(backup_path: str | Path, target: Target, *, log: RunLog | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Restore the configuration saved in ``backup_path`` (IfMatch the current ETag), wait, and delete the
    policies the fix created. Returns the restored DistributionConfig."""
    backup = read_backup(backup_path)
    log = log or RunLog(Path(backup_path).parent)
    dist_id = str(backup["distribution_id"])
    current, etag = _current(target, dist_id)
    if current != backup["config"]:
        _update(target, dist_id, etag, backup["config"], log)
        _wait(target, dist_id, log, progress)
    else:
        log(f"{dist_id} already has the backed-up configuration")
    _delete_policies(target, list(backup.get("created_policies") or []), log)
    log(f"rolled back {dist_id} to the backup of {backup.get('saved_at', '?')}")
    return dict(backup["config"])


def _verify_or_roll_back(plan: Plan, target: Target, result: ApplyResult, config: dict[str, Any],
                         domain: str, log: RunLog, progress: bool) -> ApplyResult:
    assert plan.distribution_id is not None and result.backup is not None
    log(f"probing {domain} for {', '.join(plan.requirements)}")
    result.verdicts = observe(target, config, domain, plan.requirements, plan.path, progress=progress)
    for v in result.verdicts:
        log(f"  {v.id}: {v.word} (plan predicted {requirements.Verdict(v.id, v.predicted, '').word}) {v.evidence}")
    result.regressions = _regressions(plan, result.verdicts)
    if result.regressions:
        log("requirements the plan predicted met are unmet: " + "; ".join(result.regressions))
        rollback(result.backup, target, log=log, progress=progress)
        result.status, result.message = "rolled-back", "Rolled back: " + "; ".join(result.regressions)
    else:
        result.status, result.message = "applied", f"Applied to {plan.distribution_id} and verified by probes."
    (result.run_dir / "verdicts.json").write_text(json.dumps([v.to_dict() for v in result.verdicts], indent=2))
    log(result.message)
    return result


def _apply_staged(plan: Plan, target: Target, result: ApplyResult, fixed: dict[str, Any], etag: str, log: RunLog,
                  progress: bool) -> ApplyResult | None:
    """Through continuous deployment; None when it is not allowed here (the caller then updates directly)."""
    from runbook_lib.aws import staging as cd

    assert plan.distribution_id is not None and result.backup is not None

    def check(domain: str, headers: dict[str, str], marker: tuple[str, str] | None) -> list[str]:
        log(f"probing {domain} with header {', '.join(headers)} (staging)")
        verdicts, observations = _probe(target, fixed, domain, plan.requirements, plan.path, headers, progress)
        return (unmarked(observations, marker) if marker else []) + _regressions(plan, verdicts)

    try:
        staged = cd.promote_with_staging(target, plan.distribution_id, etag, plan.config, fixed, check, log,
                                         progress=progress)
    except StagingUnavailable as err:
        log(f"continuous deployment not used ({err}); updating the distribution directly")
        return None
    result.via = "staging"
    if not staged.promoted:
        _delete_policies(target, read_backup(result.backup).get("created_policies") or [], log)
        result.status, result.regressions = "rolled-back", staged.problems
        result.message = "Not promoted (the primary was not changed): " + "; ".join(staged.problems)
        log(result.message)
        return result
    domain = str(target.client("cloudfront").get_distribution(Id=plan.distribution_id)["Distribution"]["DomainName"])
    return _verify_or_roll_back(plan, target, result, fixed, domain, log, progress)


@aws_errors
def apply(plan: Plan, target: Target, run_dir: Path, *, staging: bool | None = None, stream: TextIO | None = None,
          progress: bool = True) -> ApplyResult:
    """Apply ``plan`` to its distribution on ``target`` (see the module docstring). Raises :class:`FixRefused`
    when the distribution changed since the plan, and then changes nothing."""
    log = RunLog(run_dir, stream)
    if plan.distribution_id is None:
        raise FixRefused(f"Plan of {plan.source} names no distribution: only a plan made from "
                         "distribution:<ID> can be applied. Use `fix SOURCE --export ...` for a template or plan.")
    dist_id = plan.distribution_id
    current, etag = _current(target, dist_id)
    log(f"read {dist_id}: ETag {etag} (plan: {plan.etag})")
    _refuse_if_changed(plan, current, etag, log)
    if not plan.changes:
        log("the plan changes nothing")
        return ApplyResult("nothing-to-do", run_dir, None, message="The plan changes nothing.")
    backup: dict[str, Any] = {"distribution_id": dist_id, "etag": etag, "config": current, "target": target.name,
              "saved_at": datetime.now(UTC).isoformat(), "created_policies": []}
    backup_path = _write_backup(run_dir / "backup.json", backup)
    log(f"backup saved: {backup_path}")
    ids = _create_policies(target, plan, backup, backup_path, log)
    fixed = _substitute(plan.fixed_config, ids)
    result = ApplyResult("applying", run_dir, backup_path)
    use_staging = (not target.is_local) if staging is None else staging
    try:
        if use_staging:
            staged = _apply_staged(plan, target, result, fixed, etag, log, progress)
            if staged is not None:
                return staged
        _update(target, dist_id, etag, fixed, log)
    except FixRefused:
        _delete_policies(target, backup["created_policies"], log)
        raise
    _wait(target, dist_id, log, progress)
    domain = str(target.client("cloudfront").get_distribution(Id=dist_id)["Distribution"]["DomainName"])
    return _verify_or_roll_back(plan, target, result, fixed, domain, log, progress)
