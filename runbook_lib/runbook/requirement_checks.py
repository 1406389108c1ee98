"""Requirements decided by live probes: what the API behind ``/api/*`` really got.

:func:`probes_for` adds the probes a requirement needs beyond the default matrix; :func:`evaluate` turns the
observations into one :class:`~runbook_lib.runbook.requirements.Verdict` per requirement. A requirement is met
only when every probe that decides it was answered by the party that can report it and showed what the API
needs; unmet when one showed otherwise, or was refused before the API exactly as the model predicts (a 403 to the
viewer's Host, a method CloudFront does not allow); unknown when none could tell. An emulator deviation never
makes a requirement met: a verdict lists the deviations its probes went through.
"""

from __future__ import annotations

import numbers
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pandas as pd

from runbook_lib.runbook import requirements
from runbook_lib.runbook.probes import ABSENT, Observation, Probe, format_query
from runbook_lib.runbook.requirements import Verdict

__all__ = ["CACHE_PROBES", "as_rows", "evaluate", "probes_for", "refused_probes", "unmet_phrases"]

#: The two viewers of ``not-cached``: the same URL, each with its own Authorization.
CACHE_PROBES = ("cache-viewer-a", "cache-viewer-b")
#: Locally nothing is cached (docs/deviations.md), so a miss there proves nothing about caching.
_NO_CACHING = "no-caching"

_PHRASE = {
    "query-strings": "your API does not get its query strings",
    "authorization": "your API does not get the viewer's Authorization header",
    "host-is-api": "your API does not see its own host name",
    "methods": "not every method reaches your API",
    "path-reaches-route": "{prefix}<x> does not reach a route of your API",
    "not-cached": "a response to one Authorization may be served to a viewer with another",
}


def probes_for(requirement_ids: Iterable[str], token: str | None = None) -> list[Probe]:
    """The probes these requirements need beyond ``probes.default_matrix`` (each sends fresh values)."""
    extra: list[Probe] = []
    for rid in requirements.parse(list(requirement_ids)):
        if rid == "not-cached":
            # Same URL for both, so that a cache key without Authorization would serve A's answer to B.
            query = f"cache-check={secrets.token_hex(6)}"
            for pid, who in zip(CACHE_PROBES, ("A", "B"), strict=True):
                auth = f"Bearer {token or secrets.token_urlsafe(18)}-{who}"
                extra.append(Probe(pid, f"viewer {who}: same URL, its own Authorization", "GET", "/api/data", query,
                                   headers=(("Authorization", auth),),
                                   checks=("status", "served_by", "api.header.authorization")))
        kind, _, name = rid.partition(":")
        if kind in ("header", "cookie") and name:
            value = f"runbook-{secrets.token_hex(4)}"
            sent = (name, value) if kind == "header" else ("Cookie", f"{name}={value}")
            check = f"api.header.{name.lower()}" if kind == "header" else "api.header.cookie"
            extra.append(Probe(f"requirement-{kind}-{name.lower()}", f"the {kind} {name} the API needs", "GET",
                               "/api/data", headers=(sent,), checks=("status", "served_by", check)))
    return extra


@dataclass
class _Seen:
    """One probe's say on a requirement: ok True/False, or None when it could not tell."""

    probe: str
    ok: bool | None
    why: str


def _echo(obs: Observation, judge: Callable[[Observation], tuple[bool, str]],
          refused: frozenset[str] = frozenset()) -> _Seen:
    if obs.probe.id in refused:
        missing = "Missing Authentication Token"
        token = f" ({missing})" if missing in str(obs.get("response.body")) else ""
        return _Seen(obs.probe.id, False, f"{obs.probe.id}: refused with {obs.status} by {obs.served_by}{token} "
                     "before it reached the API, as the model predicts")
    if obs.error or obs.served_by != "api":
        return _Seen(obs.probe.id, None, f"{obs.probe.id}: answered {obs.status} by {obs.served_by}, not the API")
    ok, why = judge(obs)
    return _Seen(obs.probe.id, ok, f"{obs.probe.id}: {why}")


def _query(obs: Observation) -> tuple[bool, str]:
    sent = format_query(parse_qs(obs.probe.query, keep_blank_values=True))
    got = obs.get("api.query")
    return got == sent, "arrived unchanged" if got == sent else f"sent ?{obs.probe.query}, the API got {got}"


def _header(name: str) -> Callable[[Observation], tuple[bool, str]]:
    def judge(obs: Observation) -> tuple[bool, str]:
        got, sent = obs.get(f"api.header.{name.lower()}"), obs.probe.header_dict().get(name)
        if got == sent:
            return True, f"{name} arrived"
        return False, f"{name} " + ("did not arrive" if got == ABSENT else "arrived changed")
    return judge


def _cookie(name: str) -> Callable[[Observation], tuple[bool, str]]:
    def judge(obs: Observation) -> tuple[bool, str]:
        sent = obs.probe.header_dict().get("Cookie", "")
        ok = sent in [c.strip() for c in str(obs.get("api.header.cookie")).split(";")]
        return ok, f"cookie {name} " + ("arrived" if ok else "did not arrive")
    return judge


def _method(obs: Observation, refused: frozenset[str]) -> _Seen:
    m, pid = obs.probe.method, obs.probe.id
    if pid in refused:
        return _echo(obs, lambda o: (False, ""), refused)
    if m == "HEAD":
        # A HEAD answer has no body to tell the echo by; a 200 carrying API Gateway's request id shows that
        # API Gateway routed it (a missing route is a 403 "Missing Authentication Token":
        # https://repost.aws/knowledge-center/api-gateway-authentication-token-errors).
        if obs.served_by in ("api", "api-gateway"):
            return _Seen(pid, obs.status == 200, f"{pid}: HEAD answered {obs.status} by API Gateway")
        return _Seen(pid, None, f"{pid}: HEAD answered {obs.status} by {obs.served_by}")
    if obs.served_by in ("api-gateway", "s3"):
        return _Seen(pid, False, f"{pid}: {m} answered {obs.status} by {obs.served_by}, not the API's route")
    return _echo(obs, lambda o: (o.get("api.method") == m, f"{m} arrived as {o.get('api.method')}"))


def _route(obs: Observation, refused: frozenset[str]) -> _Seen:
    pid, body = obs.probe.id, str(obs.get("response.body"))
    if obs.served_by == "s3" or (obs.served_by == "api-gateway" and "Missing Authentication Token" in body):
        return _Seen(pid, False, f"{pid}: {obs.probe.path} answered {obs.status} by {obs.served_by}"
                     + (" (Missing Authentication Token)" if obs.served_by == "api-gateway" else ""))
    return _echo(obs, lambda o: (True, f"{o.probe.path} reached route {o.get('api.path')}"), refused)


def _cached(obs: list[Observation], local: bool, predicted: Verdict | None) -> list[_Seen]:
    by_id = {o.probe.id: o for o in obs}
    if not all(p in by_id for p in CACHE_PROBES):
        return []
    a, b = (by_id[p] for p in CACHE_PROBES)
    pid = b.probe.id
    if str(b.get("response.x-cache")).lower().startswith("hit"):
        return [_Seen(pid, False, f"{pid}: served from CloudFront's cache (X-Cache: {b.get('response.x-cache')})")]
    if b.served_by == "api" and b.get("api.header.authorization") == a.probe.header_dict()["Authorization"]:
        return [_Seen(pid, False, f"{pid}: got the answer to viewer A's Authorization")]
    seen = _echo(b, lambda o: (True, "reached the API itself (a cache miss)"))
    if seen.ok and local:
        # The probes cannot show caching on the local target; the deployed configuration decides.
        model = predicted.met if predicted is not None else None
        seen.ok = model
        seen.why += (f"; locally nothing is cached ({_NO_CACHING}), so the deployed configuration decides: "
                     f"{predicted.evidence if predicted else 'no prediction'}")
    return [seen]


def _seen(rid: str, obs: list[Observation], api_host: str, local: bool, predicted: Verdict | None,
          api_prefix: str = "/api/", refused: frozenset[str] = frozenset()) -> list[_Seen]:
    def having(check: str) -> list[Observation]:
        return [o for o in obs if check in o.probe.checks]

    def echo(o: Observation, judge: Callable[[Observation], tuple[bool, str]]) -> _Seen:
        return _echo(o, judge, refused)

    if rid == "query-strings":
        return [echo(o, _query) for o in having("api.query") if o.probe.query and o.probe.scheme == "https"]
    if rid == "authorization":
        return [echo(o, _header("Authorization")) for o in having("api.header.authorization")]
    if rid == "host-is-api":
        return [echo(o, lambda x: (str(x.get("api.header.host")).lower() == api_host.lower(),
                                   f"the API saw Host: {x.get('api.header.host')} (its own: {api_host})"))
                for o in having("api.header.host")]
    if rid == "methods":
        return [_method(o, refused) for o in obs if o.probe.id.startswith("method-")]
    if rid == "path-reaches-route":
        return [_route(o, refused) for o in obs if o.probe.path.startswith(api_prefix) and o.probe.scheme == "https"
                and o.probe.id not in CACHE_PROBES and o.probe.id.startswith(("query-single", "method-get", "path-"))]
    if rid == "not-cached":
        return _cached(obs, local, predicted)
    kind, _, name = rid.partition(":")
    mine = [o for o in obs if o.probe.id == f"requirement-{kind}-{name.lower()}"]
    return [echo(o, _header(name) if kind == "header" else _cookie(name)) for o in mine]


def refused_probes(table: pd.DataFrame | None) -> frozenset[str]:
    """Probes the model predicts are refused before the API (an error status from CloudFront, API Gateway or S3)
    and that were refused just so: their status and who answered match the model, or differ only by a
    documented deviation (which :func:`_deviations` then names)."""
    if table is None or not len(table):
        return frozenset()
    refused = set()
    for probe, rows in table[table["check"].isin(("status", "served_by"))].groupby("probe"):
        want = dict(zip(rows["check"], rows["expected"], strict=True))
        status, who = want.get("status"), want.get("served_by", "")
        if (isinstance(status, numbers.Real) and float(status) >= 400 and who != "api"
                and rows["verdict"].isin(("pass", "deviation")).all()):
            refused.add(str(probe))
    return frozenset(refused)


#: The api.* check each requirement reads (besides who answered and the status).
_API_CHECK = {"query-strings": "api.query", "authorization": "api.header.authorization",
              "host-is-api": "api.header.host", "methods": "api.method", "path-reaches-route": "api.path",
              "not-cached": "api.header.authorization"}


def _api_check(rid: str) -> str:
    kind, _, name = rid.partition(":")
    return _API_CHECK.get(rid) or ("api.header.cookie" if kind == "cookie" else f"api.header.{name.lower()}")


def _deviations(table: pd.DataFrame | None, probe_ids: list[str], local: bool, rid: str) -> list[str]:
    found: list[str] = []
    if table is not None and len(table):
        checks = {"status", "served_by", _api_check(rid)}
        rows = table[(table["verdict"] == "deviation") & table["probe"].isin(probe_ids) & table["check"].isin(checks)]
        found = [str(n) for n in dict.fromkeys(rows["note"])]
    if rid == "not-cached" and local:
        found.append(_NO_CACHING)
    return found


def _joined(seen: list[_Seen]) -> str:
    """The probes' reasons, probes with the same reason named together (``a, b: refused with 403 ...``)."""
    by_reason: dict[str, list[str]] = {}
    for s in seen:
        reason = s.why[len(s.probe) + 2:] if s.why.startswith(f"{s.probe}: ") else s.why
        by_reason.setdefault(reason, []).append(s.probe)
    return "; ".join(f"{', '.join(ids)}: {reason}" for reason, ids in by_reason.items())


def _combine(rid: str, seen: list[_Seen]) -> tuple[bool | None, str]:
    bad = [s for s in seen if s.ok is False]
    if bad:
        return False, _joined(bad)
    unknown = [s for s in seen if s.ok is None]
    if not seen or unknown:
        return None, _joined(unknown) or f"no probe decides {rid}"
    return True, _joined(seen)


def evaluate(requirement_ids: Iterable[str], observations: list[Observation], *, api_host: str,
             table: pd.DataFrame | None = None, predicted: list[Verdict] | None = None,
             local: bool = False, api_prefix: str = "/api/") -> list[Verdict]:
    """Observed verdicts, one per requirement, from the probes' observations.

    ``api_host``: the API origin's own host name on the target; ``table``: the results table (to name the
    deviations a requirement went through, and the probes refused as predicted); ``predicted``:
    :func:`requirements.predict` for the same ids (the model's side and its fixes); ``api_prefix``: the viewer
    paths of the API's behavior whose probes decide ``path-reaches-route`` (``/api/`` for ``/api/*``).
    """
    model = {v.id: v for v in predicted or []}
    refused = refused_probes(table)
    verdicts = []
    for rid in requirements.parse(list(requirement_ids)):
        seen = _seen(rid, observations, api_host, local, model.get(rid), api_prefix, refused)
        met, evidence = _combine(rid, seen)
        pred = model.get(rid)
        fix = "" if met else _fix(met, pred)
        ids = [s.probe for s in seen]
        verdicts.append(Verdict(rid, met, evidence, fix, ids, pred.met if pred else None,
                                _deviations(table, ids, local, rid), pred.evidence if pred else ""))
    return verdicts


def _fix(met: bool | None, pred: Verdict | None) -> str:
    if pred is not None and pred.fix and pred.met is not True:
        return pred.fix
    if met is False:
        return ("The distribution's configuration delivers this (the model predicts it met), so what takes it "
                "away comes after CloudFront: check the API's integration and the function behind it.")
    return ("Probe it: verify.probe_matrix(requirement_ids) adds the probes each requirement needs, and they "
            "decide only when the echo API answers them (build the stack with notebook 01_build_origin).")


def unmet_phrases(verdicts: list[Verdict], api_prefix: str = "/api/") -> list[str]:
    """One phrase per requirement not met, for the run's verdict line (``api_prefix``: the API behavior's paths)."""
    out = []
    for v in verdicts:
        if v.met is True:
            continue
        kind, _, name = v.id.partition(":")
        phrase = (_PHRASE.get(v.id) or f"your API does not get the {kind} {name}").format(prefix=api_prefix)
        if v.met is None:
            phrase = f"unknown whether {requirements.describe(v.id).replace('/api/', api_prefix)} ({v.id})"
        # The model says why in the user's terms ("legacy settings with QueryString=false"); the probes show it.
        first, *rest = v.evidence.split("; ")
        shown = first + (f" (and {len(rest)} more)" if rest else "")
        why = f"{v.model}; seen: {shown}" if v.predicted is False and v.model else shown
        via = f" [through deviation {', '.join(v.deviations)}]" if v.deviations else ""
        out.append(f"{phrase}: {why}{via}. Fix: {v.fix.rstrip('.')}")
    return out


def as_rows(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """The verdicts as table rows for a notebook."""
    return [{"requirement": v.id, "verdict": v.word, "model predicted": {True: "met", False: "unmet", None: "unknown"}[
        v.predicted], "evidence": v.evidence, "probes": ", ".join(v.probes), "deviations": ", ".join(v.deviations),
        "fix": v.fix} for v in verdicts]
