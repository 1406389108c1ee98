"""What the API behind a behavior needs, by id, and whether a distribution gives it.

Two questions, one vocabulary:

- :func:`predict` answers from the configuration alone, with the forwarding model (``simulate``): pure, no
  AWS, usable on any DistributionConfig (a ``check`` command on a user's own distribution);
- ``runbook_lib.runbook.requirement_checks.evaluate`` answers from live probes: what the API really got.

Requirement ids: ``query-strings``, ``authorization``, ``host-is-api``, ``methods``, ``path-reaches-route``,
``not-cached`` (the six :data:`DEFAULTS`), plus ``header:<name>`` and ``cookie:<name>``. A verdict's ``met``
is ``True`` (met), ``False`` (unmet) or ``None`` (unknown: nothing decided it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from runbook_lib.cloudfront.behaviors import Behavior
from runbook_lib.cloudfront.diagnosis import diagnose
from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.model import SimulationResult, compiled_behaviors, match_behavior, simulate
from runbook_lib.cloudfront.policies import policy_name
from runbook_lib.errors import ParameterError

__all__ = [
    "DEFAULTS", "METHODS", "SAMPLE_QUERY", "VIEWER_HOST", "Verdict", "describe", "load", "parse", "predict",
    "settings_of",
]

#: What every API behind ``/api/*`` needs unless told otherwise.
DEFAULTS = ("query-strings", "authorization", "host-is-api", "methods", "path-reaches-route", "not-cached")
#: The methods an API needs to reach it (``methods``).
METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
#: Repeated keys, percent-encoding and an empty value: what ``query-strings`` asks to arrive unchanged.
SAMPLE_QUERY = "tag=a&tag=b&q=caf%C3%A9%20au%20lait&flag="
_SAMPLE_AUTH = "Bearer runbook-requirement-example"  # a made-up credential for the model only
#: The viewer Host the models send with (an example CloudFront domain, as in AWS's docs).
VIEWER_HOST = "d111111abcdef8.cloudfront.net"
_NAMED = re.compile(r"^(header|cookie):([A-Za-z0-9!#$%&'*+.^_`|~-]+)$")

_WHAT = {
    "query-strings": "every query string arrives unchanged (repeated keys, percent-encoded, empty values)",
    "authorization": "the viewer's Authorization header arrives",
    "host-is-api": "the API sees its own host name, not the viewer's",
    "methods": "GET, HEAD, OPTIONS, PUT, PATCH, POST and DELETE reach the API",
    "path-reaches-route": "/api/<x> reaches a route of the API (not 'Missing Authentication Token', not S3)",
    "not-cached": "a response to a request with Authorization is never served to a viewer with another one",
}
#: The diagnosis finding whose fix repairs an unmet requirement (``runbook_lib.cloudfront.diagnosis``).
_DIAGNOSIS = {
    "query-strings": "query-strings-dropped",
    "authorization": "authorization-not-forwarded",
    "host-is-api": "viewer-host-to-execute-api",
    "path-reaches-route": "api-prefix-vs-stage",
    "not-cached": "authorization-not-in-cache-key",
}
_FALLBACK_FIX = {
    "query-strings": "Use CachingDisabled + AllViewerExceptHostHeader (preset 'recommended').",
    "authorization": "Use CachingDisabled + AllViewerExceptHostHeader (preset 'recommended').",
    "host-is-api": "Use AllViewerExceptHostHeader: CloudFront then sets Host to the API's own domain.",
    "methods": "Set AllowedMethods to GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE on the API's behavior.",
    "path-reaches-route": "Give the API an /api resource, let the stage carry the prefix, use a base path "
                          "mapping, or strip /api with a CloudFront Function (notebook 03 compares the four).",
    "not-cached": "Use the CachingDisabled cache policy (or put Authorization in the cache key).",
}


@dataclass
class Verdict:
    """One requirement's verdict, predicted (model) or observed (probes)."""

    id: str
    met: bool | None
    evidence: str
    fix: str = ""
    #: The probes that decided it (observed verdicts only).
    probes: list[str] = field(default_factory=list)
    #: What the model predicted for the same requirement (observed verdicts only).
    predicted: bool | None = None
    #: Emulator deviations the decision went through (never what makes it met).
    deviations: list[str] = field(default_factory=list)
    #: The model's explanation (observed verdicts only).
    model: str = ""

    @property
    def word(self) -> str:
        return {True: "met", False: "unmet", None: "unknown"}[self.met]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "met": self.met, "evidence": self.evidence, "fix": self.fix,
                "probes": list(self.probes), "predicted": self.predicted, "model": self.model,
                "deviations": list(self.deviations)}


def describe(requirement_id: str) -> str:
    """What the requirement asks, in one line."""
    named = _NAMED.match(requirement_id)
    if named:
        return f"the viewer's {named.group(1)} {named.group(2)!r} arrives unchanged"
    return _WHAT[requirement_id]


def parse(spec: str | Iterable[str] | None) -> list[str]:
    """Requirement ids from a comma-separated string or a list; empty or ``None`` → :data:`DEFAULTS`.

    A string naming a ``.json``/``.yaml``/``.yml`` file is read with :func:`load`. Unknown ids are refused.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return list(DEFAULTS)
    if isinstance(spec, str):
        if spec.strip().lower().endswith((".json", ".yaml", ".yml")):
            return load(spec.strip())
        spec = [s for s in spec.split(",")]
    ids = [s.strip() for s in spec if s.strip()]
    bad = [i for i in ids if i not in _WHAT and not _NAMED.match(i)]
    if bad or not ids:
        raise ParameterError(
            f"Unknown requirement {', '.join(map(repr, bad)) or '(none given)'}. Valid: {', '.join(DEFAULTS)}, "
            "header:<name>, cookie:<name> (e.g. 'query-strings,authorization,header:X-Tenant')."
        )
    return list(dict.fromkeys(ids))


def load(path: str | Path) -> list[str]:
    """Requirement ids from a JSON or YAML file: a list, or ``{"requirements": [...]}``."""
    file = Path(path)
    if not file.is_file():
        raise ParameterError(f"Requirements file {str(file)!r} not found. Give a .json or .yaml file listing "
                             "requirement ids, e.g. [\"query-strings\", \"header:X-Tenant\"].")
    text = file.read_text()
    if file.suffix.lower() == ".json":
        data: Any = json.loads(text)
    else:
        import yaml  # only for YAML files

        data = yaml.safe_load(text)
    if isinstance(data, dict):
        data = data.get("requirements")
    if not isinstance(data, list) or not all(isinstance(i, str) for i in data):
        raise ParameterError(f"{file}: expected a list of requirement ids (or {{\"requirements\": [...]}}), "
                             f"found {type(data).__name__}.")
    return parse(data)


# --- prediction (the model, no AWS) ----------------------------------------------------------------


def settings_of(b: Behavior, policies: dict[str, Any] | None = None) -> str:
    """The behavior's forwarding settings as a person names them."""
    if b.legacy:
        fv = b.raw.get("ForwardedValues") or {}
        return f"legacy settings with QueryString={str(bool(fv.get('QueryString'))).lower()}"
    parts = [f"cache policy {policy_name(b.cache_policy_id, policies)}" if b.cache_policy_id else "no cache policy"]
    orp = b.origin_request_policy_id
    parts.append(f"origin request policy {policy_name(orp, policies)}" if orp else "no origin request policy")
    return ", ".join(parts)


def _request(method: str, path: str, query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {"method": method, "scheme": "https", "path": path, "query": query,
                           "headers": {"Host": VIEWER_HOST, **(headers or {})}}
    if method in {"POST", "PUT", "PATCH"}:
        req["body"] = "{}"
    return req


def _refused(result: SimulationResult, b: Behavior) -> str:
    """Why the request does not reach the API ('' when it does)."""
    if result.edge_status is not None:
        return f"CloudFront answers {result.edge_status} itself"
    if b.origin is None or not b.origin.is_custom:
        return f"the request goes to origin {result.origin_id} (not an API)"
    if result.origin_status is not None:
        return f"API Gateway answers {result.origin_status} (the viewer's Host is forwarded)"
    return ""


class _Predictor:
    def __init__(self, config: dict[str, Any], policies: dict[str, Any] | None, path: str) -> None:
        self.config, self.policies, self.path = config, policies, path
        self.behavior = match_behavior(compiled_behaviors(config, policies), path)
        self.settings = settings_of(self.behavior, policies)

    def run(self, method: str = "GET", query: str = "", headers: dict[str, str] | None = None,
            path: str | None = None) -> tuple[SimulationResult, str]:
        result = simulate(self.config, _request(method, path or self.path, query, headers), self.policies)
        return result, _refused(result, self.behavior)

    def received(self, name: str, value: str, method: str = "GET") -> tuple[bool, str]:
        result, refused = self.run(method, headers={name: value})
        if refused:
            return False, refused
        got = ((result.origin_request or {}).get("headers") or {}).get(name.lower())
        return got == value, ("arrives" if got == value else "is removed" if got is None else "arrives changed")


def _query_strings(p: _Predictor) -> tuple[bool | None, str]:
    result, refused = p.run(query=SAMPLE_QUERY)
    if refused:
        return False, refused
    got = (result.origin_request or {}).get("query") or ""
    same = parse_qs(got, keep_blank_values=True) == parse_qs(SAMPLE_QUERY, keep_blank_values=True)
    return same, "the query string arrives unchanged" if same else f"?{SAMPLE_QUERY} arrives as '{got}'"


def _authorization(p: _Predictor) -> tuple[bool | None, str]:
    outcomes = {m: p.received("Authorization", _SAMPLE_AUTH, m) for m in ("GET", "POST")}
    missing = [f"{m}: {why}" for m, (ok, why) in outcomes.items() if not ok]
    return not missing, "Authorization arrives on GET and POST" if not missing else "; ".join(missing)


def _host_is_api(p: _Predictor) -> tuple[bool | None, str]:
    result, refused = p.run()
    origin = p.behavior.origin
    if refused or origin is None:
        return False, refused or "no origin"
    host = ((result.origin_request or {}).get("headers") or {}).get("host", "")
    ok = host.lower() == origin.domain.lower()
    return ok, f"the API sees Host: {host}" + ("" if ok else f" (its own is {origin.domain})")


def _methods(p: _Predictor) -> tuple[bool | None, str]:
    missing: dict[str, list[str]] = {}
    for method in METHODS:
        result, refused = p.run(method)
        if refused or (result.origin_request or {}).get("method") != method:
            missing.setdefault(refused or "not forwarded as sent", []).append(method)
    if not missing:
        return True, "all seven methods reach the API"
    return False, "; ".join(f"{', '.join(ms)}: {why}" for why, ms in missing.items())


def _path_reaches_route(p: _Predictor) -> tuple[bool | None, str]:
    result, refused = p.run()
    if refused:
        return False, refused
    arrives = (result.origin_request or {}).get("path")
    # The model cannot see the API's routes: whether the API has one for this path is for the probes to say.
    return None, f"{p.path} arrives at the API as {arrives}; whether the API has that route only a probe can tell"


def _not_cached(p: _Predictor) -> tuple[bool | None, str]:
    b = p.behavior
    # A response is shared between viewers only when caching is on and Authorization is not in the cache
    # key: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-the-cache-key.html
    if not b.caching:
        return True, f"nothing is cached ({p.settings})"
    if b.cache_headers.includes("authorization"):
        return True, "responses are cached per Authorization value (it is in the cache key)"
    return False, f"responses are cached without Authorization in the key ({p.settings})"


def _named(p: _Predictor, kind: str, name: str) -> tuple[bool | None, str]:
    value = f"runbook-{name.lower()}"
    if kind == "header":
        ok, why = p.received(name, value)
        return ok, f"{name} {why}"
    result, refused = p.run(headers={"Cookie": f"{name}={value}"})
    if refused:
        return False, refused
    cookie = ((result.origin_request or {}).get("headers") or {}).get("cookie") or ""
    ok = f"{name}={value}" in [c.strip() for c in cookie.split(";")]
    return ok, f"cookie {name} " + ("arrives" if ok else "is removed")


_RULES = {"query-strings": _query_strings, "authorization": _authorization, "host-is-api": _host_is_api,
          "methods": _methods, "path-reaches-route": _path_reaches_route, "not-cached": _not_cached}


def _fix(requirement_id: str, p: _Predictor) -> str:
    """The diagnosis fix for this behavior where one exists, else the general fix."""
    code = _DIAGNOSIS.get(requirement_id)
    if code:
        for finding in diagnose(p.config, p.policies):
            if finding.code == code and finding.behavior == p.behavior.label and finding.fix is not None:
                return finding.fix.description
    named = _NAMED.match(requirement_id)
    if named:
        where = "its name to the origin request policy" if named.group(1) == "header" else "the cookie"
        return (f"Forward {named.group(2)}: use AllViewerExceptHostHeader, or add {where} "
                f"({cloudfront_guide('controlling-origin-requests.html')}).")
    return _FALLBACK_FIX[requirement_id]


def predict(requirement_ids: Iterable[str], distribution_config: dict[str, Any],
            policies: dict[str, Any] | None = None, *, path: str = "/api/data") -> list[Verdict]:
    """What the model predicts for each requirement on the behavior that serves ``path``.

    Pure: the forwarding model only (``simulate``), no AWS. ``policies`` are custom policies by id.
    """
    p = _Predictor(distribution_config, policies, path)
    # A request API Gateway refuses (the viewer's Host) gets nothing through: the Host fix comes first.
    host_refused = p.run()[0].origin_status is not None
    verdicts = []
    for rid in parse(list(requirement_ids)):
        named = _NAMED.match(rid)
        met, evidence = _named(p, named.group(1), named.group(2)) if named else _RULES[rid](p)
        if met is False and p.settings not in evidence:
            evidence += f" ({p.settings})"
        fix = "" if met else _fix("host-is-api" if host_refused else rid, p)
        verdicts.append(Verdict(rid, met, evidence, fix, predicted=met))
    return verdicts
