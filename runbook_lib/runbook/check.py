"""``check``: does a user's own distribution give its API what the API needs?

For each distribution of a source (``runbook_lib.sources``) and each behavior whose origin is an API
(``sources.api_origins``), the requirements are predicted by the forwarding model
(``runbook.requirements.predict``) and, where the source describes the API's routes, by the API Gateway
path model (``apigateway.api_route``) for ``path-reaches-route``. With ``replay="local"`` the distribution is
also recreated on the embedded local AWS behind an echo API and probed (``runbook.replay_check``): each
requirement's ``observed`` is then what the probes saw, and ``met`` is that observed verdict (PASS means
observed; ``predicted`` stays beside it). Without a replay ``observed`` is None and ``met`` is the prediction.
``ok`` is true only when every requirement is met and no finding is an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.apigateway.routing import DOCS as API_DOCS
from runbook_lib.cloudfront.behaviors import items
from runbook_lib.cloudfront.diagnosis import diagnose
from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.model import compiled_behaviors, match_behavior
from runbook_lib.errors import ParameterError
from runbook_lib.runbook.api_findings import arrival, rewrites_path, weigh
from runbook_lib.runbook.requirements import Verdict, parse, predict
from runbook_lib.sources import ApiOrigin, DistributionSource, api_origins, load_source

__all__ = ["EXAMPLE_SOURCE", "PAGES", "REPLAYS", "BehaviorCheck", "CheckResult", "DistributionCheck", "check",
           "check_source", "model_config", "rows", "sample_path", "table", "write"]

#: How ``check`` observes what reaches the API, by name (the CLI's ``--replay`` choices and notebook 04's).
REPLAYS = {
    "local": "recreate the distribution on the embedded local AWS behind an echo API, probe it, remove it",
    "shadow": "on --target aws: recreate it in the account as a new, temporary distribution behind an echo API "
              "(tagged, removed after; yours is only read), probe it, remove it",
    "none": "predict only, with the forwarding and API Gateway models",
}
_WORD = {True: "met", False: "unmet", None: "unknown"}

_PLACEHOLDER = re.compile(r"<([^>]*)>")
_LAMBDA_URL_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html"
#: The AWS page that explains each requirement (named header/cookie requirements use the origin request page).
PAGES = {
    "query-strings": cloudfront_guide("QueryStringParameters.html"),
    "authorization": cloudfront_guide("http-401-unauthorized.html"),
    "host-is-api": "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers",
    "methods": cloudfront_guide("http-403-invalid-method.html"),
    "path-reaches-route": API_DOCS["rest-invoke"],
    "not-cached": cloudfront_guide("controlling-the-cache-key.html"),
}
#: The example ``check`` and notebook 04 use when no source is given: the cdk synth template of the CDK app
#: in tests/fixtures/cdk_app (a repository checkout is where the runbook runs).
EXAMPLE_SOURCE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "cdk_app" / "template.json"


@dataclass
class BehaviorCheck:
    path_pattern: str
    origin_id: str
    sample_path: str
    requirements: list[dict[str, Any]]
    #: With a replay: how many probes, their check counts and whether CloudFront behaved as AWS documents.
    replay: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"path_pattern": self.path_pattern, "origin_id": self.origin_id, "requirements": self.requirements}
        return {**out, "replay": self.replay} if self.replay is not None else out


@dataclass
class DistributionCheck:
    name: str
    kind: str
    behaviors: list[BehaviorCheck]
    findings: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    #: The source as read (its normalized configuration and policies), for history's drift section.
    source: DistributionSource | None = field(default=None, repr=False, compare=False)
    #: ``--probe-live``: each PATH through CloudFront and directly at the API (runbook.live_probe).
    live: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        met = all(r["met"] is True for b in self.behaviors for r in b.requirements)
        return met and not any(f["severity"] == "error" for f in self.findings) and not any(
            c["breaks"] for c in self.live)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "behaviors": [b.to_dict() for b in self.behaviors], "findings": self.findings,
                **({"live_probes": self.live} if self.live else {})}


@dataclass
class CheckResult:
    source: str
    distributions: list[DistributionCheck]
    #: How the API's side was observed: a key of :data:`REPLAYS`.
    replay: str = "none"

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.distributions)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ok": self.ok, "replay": self.replay,
                "distributions": [d.to_dict() for d in self.distributions]}


def sample_path(pattern: str) -> str:
    """A viewer path the behavior's pattern matches: ``/api/*`` → ``/api/data``, ``*`` → ``/data``."""
    path = pattern.replace("*", "data").replace("?", "x")
    return path if path.startswith("/") else "/" + path


def model_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with placeholder names made concrete, so the model recognises
    ``<ApiF70053CD>.execute-api.<region>.amazonaws.com`` as an execute-api origin (``apif70053cd...``)."""
    copy: dict[str, Any] = json.loads(json.dumps(config))
    for origin in items(copy.get("Origins")):
        domain = str(origin.get("DomainName") or "")
        origin["DomainName"] = _PLACEHOLDER.sub(lambda m: re.sub(r"[^a-z0-9-]", "", m.group(1).lower()) or "x",
                                                domain)
    return copy


def _route_verdict(verdict: Verdict, origin: ApiOrigin, raw: dict[str, Any], config: dict[str, Any],
                   source: DistributionSource, path: str) -> None:
    """Decide ``path-reaches-route`` with the API Gateway model where the source knows the API."""
    if rewrites_path(raw):
        verdict.met = None
        verdict.evidence = (f"a function on this behavior may rewrite {path}; the static check does not run it "
                            "(a replay does)")
        return
    if origin.kind == "lambda-url":
        verdict.met = True
        verdict.evidence = f"a Lambda function URL passes every path to the function ({_LAMBDA_URL_DOC})"
        verdict.fix = ""
        return
    found = arrival(config, source.policies, origin, path)
    if found is None:
        return  # refused before any route (the viewer's Host): the prediction already says so
    if found.route is None:
        verdict.evidence += (f"; the source does not describe the API behind {origin.domain} (read it with "
                             "distribution:<ID>, or check the template that defines the API)")
        return
    route = found.route
    verdict.met = None if route["status"] is None else route["status"] == 200
    verdict.evidence = f"{path} arrives at API Gateway as {found.sent}: {route['message']}"
    if verdict.met:
        verdict.fix = ""


def _behavior(source: DistributionSource, config: dict[str, Any], raw: dict[str, Any], origin: ApiOrigin,
              ids: list[str], notes: list[str]) -> BehaviorCheck:
    pattern = str(raw.get("PathPattern") or "*")
    path = sample_path(pattern)
    # The first behavior whose pattern matches wins, so an earlier, wider pattern can take this behavior's sample
    # path; the verdicts then describe that one. https://docs.aws.amazon.com/AmazonCloudFront/latest/
    # DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern
    served = match_behavior(compiled_behaviors(config, source.policies or None), path).label
    if served != str(raw.get("PathPattern") or "default"):
        notes.append(f"{pattern}: {path} is served by the earlier behavior {served}, so its verdicts describe "
                     f"{served}; order the more specific pattern first if {pattern} should serve it.")
    verdicts = predict(ids, config, source.policies or None, path=path)
    for verdict in verdicts:
        if verdict.id == "path-reaches-route":
            _route_verdict(verdict, origin, raw, config, source, path)
    requirements = [{"id": v.id, "met": v.met, "predicted": v.met, "observed": None, "fix": v.fix,
                     "evidence": v.evidence,
                     "doc": PAGES.get(v.id, cloudfront_guide("controlling-origin-requests.html"))} for v in verdicts]
    return BehaviorCheck(pattern, origin.origin_id, path, requirements)


def check_source(source: DistributionSource, requirements: list[str] | None = None,
                 named_api_origins: list[str] | tuple[str, ...] = ()) -> DistributionCheck:
    """The static check of one distribution."""
    ids = parse(requirements)
    origins = {o.origin_id: o for o in api_origins(source, named_api_origins)}
    config = model_config(source.config)
    raws = [*items(config.get("CacheBehaviors")), config.get("DefaultCacheBehavior") or {}]
    notes = list(source.notes)
    behaviors = [_behavior(source, config, raw, origins[str(raw.get("TargetOriginId"))], ids, notes)
                 for raw in raws if str(raw.get("TargetOriginId")) in origins]
    findings = weigh([{k: v for k, v in f.to_dict().items() if k != "fixed_config"}
                      for f in diagnose(config, source.policies or None)], behaviors, config, source.policies, origins)
    if not origins:
        notes.append("No origin is an API (execute-api, Lambda URL or a known custom domain); name one with "
                     "--api-origin ID.")
    return DistributionCheck(source.name, source.kind, behaviors, findings, notes, source=source)


def check(spec: str, requirements: list[str] | str | None = None,
          named_api_origins: list[str] | tuple[str, ...] = (), target: Any = None, replay: str = "none",
          replay_target: Any = None, progress: bool = False, replayer: Any = None) -> CheckResult:
    """Check every distribution of ``spec`` (a file or ``distribution:<ID>`` read from ``target``).

    ``replay``: a key of :data:`REPLAYS`. ``"local"`` replays each distribution on ``replay_target`` (a local
    :class:`~runbook_lib.aws.target.Target`; by default ``target`` when that is local), probes it and removes
    it again, also on an error or Ctrl-C. ``replayer``: what builds and removes the replay (a context manager
    factory like ``runbook_lib.aws.replay.replayed``; tests pass their own).
    """
    if replay not in REPLAYS:
        raise ParameterError(f"replay={replay!r} is not known. Valid choices: {', '.join(REPLAYS)}.")
    ids = parse(requirements)
    sources = load_source(spec, target)
    checks = [check_source(s, ids, named_api_origins) for s in sources]
    if replay in ("local", "shadow"):
        from runbook_lib.runbook import replay_check  # probes, pandas and the SDK: only when replaying

        where = replay_target if replay_target is not None else target
        for source, result in zip(sources, checks, strict=True):
            replay_check.observe(result, source, ids, named_api_origins, where, progress, replayer,
                                 shadow=replay == "shadow")
    return CheckResult(spec, checks, replay)


def rows(result: CheckResult) -> list[dict[str, Any]]:
    """One row per (distribution, API behavior, requirement), for a notebook table."""
    word = {True: "met", False: "unmet", None: "unknown"}
    return [{"distribution": d.name, "behavior": b.path_pattern, "origin": b.origin_id, "requirement": r["id"],
             "predicted": word[r["predicted"]], "observed": word[r["observed"]] if "probes" in r
             else "not replayed", "why": r["evidence"], "deviations": ", ".join(r.get("deviations") or [])}
            for d in result.distributions for b in d.behaviors for r in b.requirements]


def table(result: CheckResult) -> str:
    """The readable form: one line per requirement, the fix under each unmet one."""
    replayed = result.replay != "none"
    lines = [f"{'PASS' if result.ok else 'FAIL'}: {result.source}"
             + (f" (replay {result.replay}: verdicts observed by probes, the model's prediction beside them)"
                if replayed else "")]
    for d in result.distributions:
        lines.append(f"distribution {d.name} ({d.kind})")
        if not d.behaviors:
            lines.append("  no behavior sends requests to an API origin")
        for b in d.behaviors:
            lines.append(f"  {b.path_pattern} -> {b.origin_id} (as {b.sample_path})")
            if b.replay is not None:
                lines.append(f"    replay: {b.replay['probes']} probes; {b.replay['behaviour']}")
            for r in b.requirements:
                word = {True: "met", False: "UNMET", None: "unknown"}[r["met"]]
                both = (f"predicted {_WORD[r['predicted']]:7} observed "
                        f"{_WORD[r['observed']] if 'probes' in r else 'not replayed':12} " if replayed else "")
                lines.append(f"    {word:8} {r['id']:20} {both}{r['evidence']}")
                if r["met"] is not True and r["fix"]:
                    lines.append(f"    {'':8} {'':20} fix: {r['fix']}")
        for f in d.findings:
            lines.append(f"  [{f['severity']}] {f['code']} ({f['behavior']}): {f['effect']}")
        lines.extend(f"  note: {n}" for n in d.notes)
        from runbook_lib.runbook.live_probe import lines as live_lines  # here: live_probe imports this module

        lines.extend(live_lines(d.live))
    return "\n".join(lines) + "\n"


def write(result: CheckResult, out_dir: str | Path) -> Path:
    """Write ``check.json`` and ``check.txt`` under ``out_dir``; returns the folder."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "check.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    (folder / "check.txt").write_text(table(result), encoding="utf-8")
    return folder
