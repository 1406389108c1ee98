"""Probe a replay: what each API behavior of a user's distribution, recreated behind the echo API, gives the API.

``check --replay local`` (issue 10) builds a :class:`~runbook_lib.aws.replay.Replay` of the user's distribution
(``runbook_lib.aws.replay``), then, for each replayed API behavior:

- moves the probe matrix (``verify.probe_matrix``) under the behavior's pattern: ``/api/*`` keeps ``/api/data``,
  ``/v1/*`` probes ``/v1/data`` and ``/v1/items/7``, the default ``*`` probes ``/data``, and any other pattern
  probes ``check.sample_path(pattern)``. The matrix's probes of the runbook's own site (``/api``,
  ``/index.html``, ``/``) are left out: they test no API behavior. A probe an earlier behavior serves is left
  out too, and a note says which (the first matching pattern wins:
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern);
- sends it through the replay's domain, and predicts every probe with the forwarding model on the source's
  own (AWS) form, plus, where the source describes the API's routes, the API Gateway path model, so that each
  emulator deviation is named (docs/deviations.md) and any other mismatch shows as a failed check;
- decides each requirement from the probes (``requirement_checks.evaluate``). Behind a catch-all echo (the
  source does not describe the API's routes) a path that reaches the echo proves nothing about the user's API,
  so ``path-reaches-route`` is unknown, never met.

:func:`apply` then writes the observed verdicts into the static check of the same distribution.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from runbook_lib.apigateway.routing import api_route
from runbook_lib.aws import replay as replays
from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.replay import ROUTES_CATCH_ALL, ROUTES_SOURCE, Replay, ReplayedBehavior
from runbook_lib.aws.target import ENDPOINT_ENV, Target, connect
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.model import compiled_behaviors, match_behavior, simulate
from runbook_lib.errors import ConfigError, LocalStackError, ParameterError
from runbook_lib.runbook import deviations, probes, requirement_checks, requirements, results, verify
from runbook_lib.runbook.check import CheckResult, DistributionCheck, model_config, sample_path
from runbook_lib.runbook.expectations import Expectation
from runbook_lib.runbook.probes import ABSENT, Observation, Probe
from runbook_lib.runbook.requirements import Verdict
from runbook_lib.sources import ApiOrigin, DistributionSource, api_origins

__all__ = ["BehaviorProbes", "Replayer", "api_prefix", "apply", "deviation_rows", "matrix_for", "observe",
           "probe_replay", "relocate", "replay_target"]

#: Builds a replay of a source on a target for the given API origin IDs, and removes it on leaving the block.
Replayer = Callable[[Target, DistributionSource, list[str]], AbstractContextManager[Replay]]

#: Where the probe matrix puts its API probes (``probes.default_matrix``).
_MATRIX_PREFIX = "/api/"
_WORD = {True: "met", False: "unmet", None: "unknown"}
_NOT_REPLAYED = "not replayed"
_ROUTES_UNKNOWN_FIX = ("Name the API's routes: check the template (CloudFormation, cdk synth or Terraform) that "
                      "defines the API as well, or read the distribution with distribution:<ID>, which reads the "
                      "API's resources and stages too.")


@dataclass
class BehaviorProbes:
    """One replayed API behavior, probed: what was sent, what the model predicted, the verdicts."""

    behavior: ReplayedBehavior
    observations: list[Observation]
    #: The results table (``results.compare``): one row per (probe, check) with its verdict.
    table: pd.DataFrame
    verdicts: list[Verdict]
    notes: list[str] = field(default_factory=list)
    #: Wall time of sending the probes (what the check-vs-notebook bench adds to its baseline).
    seconds: float = 0.0

    @property
    def summary(self) -> dict[str, int]:
        return results.summary(self.table)

    def disagreements(self) -> list[str]:
        """The checks where the probes and the model disagree outside any documented deviation."""
        failed = self.table[self.table["verdict"] == "fail"]
        return [f"{r.probe} {r.check} (model: {r.expected}, seen: {r.observed})" for r in failed.itertuples()]


def api_prefix(pattern: str) -> str | None:
    """The viewer path prefix a behavior's probes go under (``/api/*`` → ``/api/``, ``/v1/*`` → ``/v1/``,
    ``*`` → ``/``), or None for a pattern that is not a plain prefix (``*.json``, ``/v?/*``)."""
    stem = pattern.lstrip("/")
    if stem == "*":
        return "/"
    if stem.endswith("/*") and not any(c in stem[:-1] for c in "*?"):
        return "/" + stem[:-1]
    return None


def relocate(probe: Probe, pattern: str) -> Probe:
    """``probe`` (a path under ``/api/``) moved under ``pattern``."""
    prefix = api_prefix(pattern)
    rest = probe.path[len(_MATRIX_PREFIX):] if probe.path.startswith(_MATRIX_PREFIX) else probe.path.lstrip("/")
    return dataclasses.replace(probe, path=prefix + rest if prefix is not None else sample_path(pattern))


def _label(pattern: str) -> str:
    return "default" if pattern == "*" else pattern


def matrix_for(matrix: list[Probe], pattern: str, config: dict[str, Any],
               policies: dict[str, Any] | None = None) -> tuple[list[Probe], list[str]]:
    """The API probes of ``matrix`` moved under ``pattern``, less those another behavior serves (said in a note)."""
    behaviors = compiled_behaviors(config, policies)
    kept: list[Probe] = []
    dropped: list[str] = []
    for probe in matrix:
        if not probe.path.startswith(_MATRIX_PREFIX):
            continue  # the runbook's own site probes (/api, /index.html, /): no API behavior's
        moved = relocate(probe, pattern)
        served = match_behavior(behaviors, moved.path).label
        if served == _label(pattern):
            kept.append(moved)
        else:
            dropped.append(f"{moved.id} ({moved.path}: {served})")
    notes = []
    if dropped:
        notes.append(f"{pattern}: {len(dropped)} probes left out because an earlier behavior serves their path "
                     f"(the first matching pattern wins): {', '.join(dropped)}.")
    return kept, notes


def _stage(origin_path: str, origin: ApiOrigin | None, config: dict[str, Any], sample: str,
           policies: dict[str, Any] | None) -> str:
    """The API's stage as the echo reports it (``api.stage_path``): OriginPath's first segment (a REST API
    origin ``/prod``), else the stage the API Gateway model routes the sample path to."""
    first = origin_path.strip("/").split("/")[0]
    if first or origin is None or origin.api is None:
        return first
    sent = (simulate(config, {"method": "GET", "path": sample}, policies).origin_request or {}).get("path")
    return str(api_route(origin.api, "GET", str(sent))["stage"] or "") if sent else ""


def _expectations(observations: list[Observation], config: dict[str, Any], host: str, stage: str,
                  policies: dict[str, Any] | None, behavior: ReplayedBehavior,
                  origin: ApiOrigin | None) -> list[Expectation]:
    """What AWS would answer each probe: the forwarding model, then API Gateway's routing where known."""
    expectations = results.predict(observations, config, host=host, stage=stage, policies=policies)
    if behavior.routes != ROUTES_SOURCE or origin is None or origin.api is None:
        return expectations
    for obs, exp in zip(observations, expectations, strict=True):
        if exp.values.get("served_by") != "api" or exp.origin_id != behavior.origin_id:
            continue
        sent = (simulate(config, obs.probe.request(host), policies).origin_request or {}).get("path")
        route = api_route(origin.api, obs.probe.method, str(sent))
        if route["status"] not in (None, 200):
            # API Gateway answers itself: a missing route is 403 "Missing Authentication Token" (REST) or
            # 404 "Not Found" (HTTP): https://repost.aws/knowledge-center/api-gateway-authentication-token-errors
            exp.values = {"location": ABSENT, "status": route["status"], "served_by": "api-gateway"}
    return expectations


def _routes_unknown(verdicts: list[Verdict], behavior: ReplayedBehavior) -> None:
    """Behind a catch-all echo, reaching the echo says nothing about the user's routes: met becomes unknown."""
    if behavior.routes != ROUTES_CATCH_ALL:
        return
    for v in verdicts:
        if v.id == "path-reaches-route" and v.met is True:
            v.met = None
            v.evidence = ("the echo behind this replay answers every path (the source does not describe the API's "
                          f"routes), so no probe can tell whether your API has a route for it; seen: {v.evidence}")
            v.fix = _ROUTES_UNKNOWN_FIX


def _probe_behavior(target: Target, replay: Replay, behavior: ReplayedBehavior, source: DistributionSource,
                    origin: ApiOrigin | None, ids: list[str], predicted: list[Verdict] | None,
                    progress: bool) -> BehaviorProbes:
    config, policies = model_config(source.config), source.policies or None
    matrix, notes = matrix_for(verify.probe_matrix(ids), behavior.path_pattern, config, policies)
    sample = sample_path(behavior.path_pattern)
    stage = _stage(str(origin.origin_path if origin else ""), origin, config, sample, policies)
    if not stage:  # the stage the echo reports is then the replay's own choice: nothing to compare it with
        matrix = [dataclasses.replace(p, checks=tuple(c for c in p.checks if c != "api.stage_path")) for p in matrix]
    start = time.perf_counter()
    observations = probes.run(target, replay.domain, matrix, progress)
    seconds = time.perf_counter() - start
    expectations = _expectations(observations, config, replay.domain, stage, policies, behavior, origin)
    table = results.compare(observations, expectations, config, preset=behavior.path_pattern,
                            local=target.is_local, policies=policies)
    model = predicted if predicted is not None else requirements.predict(ids, config, policies, path=sample)
    prefix = api_prefix(behavior.path_pattern) or sample
    verdicts = requirement_checks.evaluate(ids, observations, api_host=behavior.api_host, table=table,
                                           predicted=model, local=target.is_local, api_prefix=prefix)
    _routes_unknown(verdicts, behavior)
    if _has_functions(config, behavior.path_pattern):
        notes.append(f"{behavior.path_pattern}: a CloudFront Function or Lambda@Edge runs on this behavior; the "
                     "replay runs a CloudFront Function's code, the forwarding model does not, so where it changes the "
                     "request the probes decide and the model's prediction may differ.")
    return BehaviorProbes(behavior, observations, table, verdicts, notes, seconds)


def _has_functions(config: dict[str, Any], pattern: str) -> bool:
    raws = [*items(config.get("CacheBehaviors")), {**(config.get("DefaultCacheBehavior") or {}), "PathPattern": "*"}]
    raw: dict[str, Any] = next((b for b in raws if b.get("PathPattern") == pattern), {})
    return bool(items(raw.get("FunctionAssociations")) or items(raw.get("LambdaFunctionAssociations")))


def probe_replay(target: Target, replay: Replay, source: DistributionSource,
                 requirement_ids: list[str] | str | None = None,
                 predicted: Mapping[str, list[Verdict]] | None = None,
                 progress: bool = True) -> list[BehaviorProbes]:
    """Probe every API behavior of ``replay`` (built on ``target`` from ``source``).

    ``predicted``: the static check's verdicts by path pattern (their fixes and the model's reasons); by
    default :func:`requirements.predict` on the source.
    """
    ids = requirements.parse(requirement_ids)
    origins = {o.origin_id: o for o in api_origins(source, sorted({b.origin_id for b in replay.behaviors}))}
    return [_probe_behavior(target, replay, b, source, origins.get(b.origin_id), ids,
                            (predicted or {}).get(b.path_pattern), progress) for b in replay.behaviors]


def _merge(requirement: dict[str, Any], verdict: Verdict | None, probed: BehaviorProbes | None,
           reason: str) -> bool:
    """The observed verdict into one requirement of the static check: ``met`` becomes what the probes saw.
    Returns True when every probe deciding it was refused before the API, as predicted."""
    if verdict is None or probed is None:
        requirement.update(observed=None, met=None, probes=[], deviations=[],
                           evidence=f"{_NOT_REPLAYED}: {reason}; the model predicts {_WORD[requirement['predicted']]}"
                                    f": {requirement['evidence']}")
        return False
    evidence = verdict.evidence
    if verdict.deviations:
        evidence += f" [through deviation {', '.join(verdict.deviations)}]"
    predicted = requirement["predicted"]
    refused = bool(verdict.probes) and set(verdict.probes) <= requirement_checks.refused_probes(probed.table)
    if verdict.met is not True and predicted is True and refused:
        evidence += ("; every probe of it was refused before the API, as the model predicts for these requests, so "
                     "the API gets none of it (the forwarding model alone predicts met once requests reach the API)")
    elif verdict.met is not None and predicted is not None and verdict.met != predicted and not verdict.deviations:
        evidence += (f"; the probes disagree with the model, which predicts {_WORD[predicted]}: "
                     f"{requirement['evidence']}")
    failed = [d for d in probed.disagreements() if d.split(" ", 1)[0] in verdict.probes]
    if failed:
        evidence += f"; the model predicted otherwise on: {'; '.join(failed)}"
    fix = verdict.fix if verdict.met is False else requirement["fix"] if predicted is not True else ""
    if verdict.id == "path-reaches-route" and verdict.fix == _ROUTES_UNKNOWN_FIX:
        fix = _ROUTES_UNKNOWN_FIX
    requirement.update(met=verdict.met, observed=verdict.met, evidence=evidence, fix=fix,
                       probes=list(verdict.probes), deviations=list(verdict.deviations))
    return refused


def _refusal_fixes(requirements_: list[dict[str, Any]], refused: set[str]) -> None:
    """A requirement the model predicts met but whose every probe was refused before the API gets the fix of what
    refuses them: the viewer's Host (``host-is-api``) or a missing route (``path-reaches-route``)."""
    causes = {r["id"]: r for r in requirements_ if r["id"] in ("host-is-api", "path-reaches-route")
              and r["met"] is False and r["fix"] and (r["predicted"] is False or r["id"] not in refused)}
    cause = causes.get("host-is-api") or causes.get("path-reaches-route")
    for r in requirements_:
        if r["id"] in refused and r["met"] is not True and r["predicted"] is True:
            r["fix"] = (f"Make requests reach the API first ({cause['id']}): {cause['fix']}" if cause else
                        "Make requests reach the API first: every probe was refused before it (see the findings).")


def apply(check: DistributionCheck, probed: list[BehaviorProbes], replay: Replay | None,
          reason: str = "") -> None:
    """Write the observed verdicts into ``check`` (the static check of the replayed distribution).

    A behavior the replay did not probe gets ``met`` None (unknown, never met): PASS means observed.
    """
    by_pattern = {p.behavior.path_pattern: p for p in probed}
    for b in check.behaviors:
        found = by_pattern.get(b.path_pattern)
        why = reason or (f"the replay of {check.name} has no behavior {b.path_pattern}" if replay else "no replay")
        verdicts = {v.id: v for v in found.verdicts} if found else {}
        refused = {r["id"] for r in b.requirements if _merge(r, verdicts.get(r["id"]), found, why)}
        _refusal_fixes(b.requirements, refused)
        if found is not None:
            b.replay = {"probes": len(found.observations), "seconds": round(found.seconds, 3), **found.summary,
                        "behaviour": results.behaviour_line(found.table)}
    check.notes.extend(n for p in probed for n in p.notes)
    if replay is not None:
        check.notes.extend(f"replay: {n}" for n in replay.notes if n not in check.notes)


def _default_replayer(progress: bool) -> Replayer:
    """``aws.replay.replayed``: builds the replay, removes it when the block ends (normally, on an error, Ctrl-C)."""
    def replayed(target: Target, source: DistributionSource, origin_ids: list[str]) -> AbstractContextManager[Replay]:
        return replays.replayed(target, source, origin_ids, progress=progress)
    return replayed


def observe(result: DistributionCheck, source: DistributionSource, requirement_ids: list[str],
            named_api_origins: list[str] | tuple[str, ...], target: Target | None, progress: bool = False,
            replayer: Replayer | None = None, shadow: bool = False) -> None:
    """Replay ``source`` on ``target`` (local; with ``shadow``, the aws target ``source`` was read from: a new,
    temporary distribution in the account), probe its API behaviors, remove the replay, and write the observed
    verdicts into ``result`` (its static check). The replay is removed also on an error or Ctrl-C."""
    if not result.behaviors:
        return  # no API behavior: nothing to replay
    if target is None or target.is_local == shadow:
        raise ParameterError(
            "replay='shadow' builds in an AWS account: pass the aws target the distribution was read from (check "
            "distribution:<ID> --target aws), or replay='local'." if shadow else
            "replay='local' needs the embedded local AWS: pass replay_target=connect('local', endpoint_url=...) "
            "(the check command starts one itself), or replay='none'.")
    build = replayer or _default_replayer(progress)
    origin_ids = [o.origin_id for o in api_origins(source, named_api_origins)]
    predicted = {b.path_pattern: [Verdict(r["id"], r["predicted"], r["evidence"], r["fix"]) for r in b.requirements]
                 for b in result.behaviors}
    where = ("in the account as a new, temporary distribution (deploying takes minutes)" if shadow
             else "on the local AWS")
    _say(progress, f"replaying {source.name} {where} behind the echo API ...")
    with build(target, source, origin_ids) as replay:
        if shadow:  # said always: should this run be killed, the copy in the account is found by this name
            print(_shadow_line(replay, target), file=sys.stderr, flush=True)
        probed = probe_replay(target, replay, source, requirement_ids, predicted, progress)
    _say(progress, f"replay of {source.name} probed and removed")
    apply(result, probed, replay)


def _shadow_line(replay: Replay, target: Target) -> str:
    profile = target.session.profile_name
    where = f"--target aws --region {shlex.quote(target.region)}" + (
        f" --profile {shlex.quote(profile)}" if profile and profile != "default" else "")
    return (f"shadow replay {replay.stack_name}: distribution {replay.distribution_id} ({replay.domain}), everything "
            f"tagged runbook:stack={replay.stack_name}; removed when this check ends. Should the run be killed, "
            f"remove it with: python -m runbook_lib check --remove-replays {where}")


def deviation_rows(result: CheckResult) -> list[dict[str, Any]]:
    """One row per documented deviation a replay's probes went through: where, what MiniStack does, what it
    excuses (exactly that mismatch, never a pass)."""
    where: dict[str, list[str]] = {}
    for d in result.distributions:
        for b in d.behaviors:
            for r in b.requirements:
                for dev in r.get("deviations") or []:
                    where.setdefault(dev, []).append(f"{b.path_pattern} {r['id']}")
    known = deviations.BY_ID
    return [{"deviation": dev, "requirements": ", ".join(dict.fromkeys(places)),
             "what MiniStack does": known[dev].title if dev in known else dev,
             "what it excuses": (known[dev].scope() if dev in known else "") or "(no probe check)"}
            for dev, places in where.items()]


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def replay_target(replay: str, endpoint_url: str = "", source_target: Target | None = None,
                  progress: bool = False) -> Iterator[Target | None]:
    """Where a replay runs. ``"shadow"``: the AWS target the source is read from. ``"local"``: the local target
    the source is read from, the local AWS at ``endpoint_url`` (or ``$RUNBOOK_ENDPOINT_URL``, as ``make lab`` and
    ``make report`` set it), or one started here and stopped when the block ends (also on an error, Ctrl-C or
    SIGTERM). None for ``replay="none"``."""
    if replay == "none":
        yield None
        return
    if replay == "shadow":
        if source_target is None or source_target.is_local:
            raise ConfigError("--replay shadow builds a temporary copy in your AWS account: pass distribution:<ID> "
                              "--target aws (or --replay local for the embedded local AWS).")
        yield source_target
        return
    if source_target is not None and source_target.is_local:
        _require_answering(source_target.endpoint_url or "")
        yield source_target
        return
    endpoint = endpoint_url or os.environ.get(ENDPOINT_ENV, "")
    if endpoint:
        where = connect("local", endpoint_url=endpoint)
        _require_answering(endpoint)
        yield where
        return
    _say(progress, "starting the local AWS (MiniStack) on 127.0.0.1 for the replay ...")
    with tempfile.TemporaryDirectory(prefix="runbook-replay-") as logs, LocalAWS(log_dir=logs) as aws:
        _say(progress, f"local AWS ready at {aws.endpoint_url}")
        yield connect("local", endpoint_url=aws.endpoint_url)
    _say(progress, "local AWS stopped")


def _require_answering(endpoint: str) -> None:
    """One quick request, so a local AWS that is not running is one line now, not minutes of SDK retries later."""
    import requests

    try:
        requests.get(endpoint, timeout=3)
    except requests.RequestException as err:
        raise LocalStackError(f"No local AWS answers at {endpoint} ({type(err).__name__}): the replay needs one. "
                              "Start it with `python -m runbook_lib local-aws` and pass the endpoint_url it prints, "
                              "or drop --endpoint-url and check starts its own.") from err
