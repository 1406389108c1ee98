"""The pitfalls lab: each failure people report, reproduced live, then fixed and proven with probes.

Every pitfall runs the same way: configure it on the target, probe, record the symptom as a user
meets it, apply the fix, probe again. Where the local target cannot show the symptom (a documented
emulator deviation), the outcome says so and names the deviation; it is never reported as seen.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from runbook_lib.aws import path_stack, provision
from runbook_lib.aws.ownership import record_policy
from runbook_lib.aws.target import Target
from runbook_lib.aws.teardown import remove
from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.model import compiled_behaviors, simulate
from runbook_lib.cloudfront.policies import CACHING_DISABLED
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import deviations, path_fixes, policy_code, probes, redact
from runbook_lib.runbook.pitfall_steps import Steps, evidence_table
from runbook_lib.runbook.probes import ABSENT, NO_QUERY, Observation, Probe
from runbook_lib.runbook.progress import bar

_AUTH = "Bearer lab-token-7f3a9c"  # a made-up credential, still masked in every output

QUERY_PROBE = Probe("query", "GET with a query string", "GET", "/api/data", "since=2020-01-01",
                    checks=("status", "served_by", "api.query"))
AUTH_PROBE = Probe("authorization", "GET with Authorization", "GET", "/api/data", "since=2020-01-01",
                   headers=(("Authorization", _AUTH),), checks=("status", "served_by", "api.header.authorization"))


@dataclass
class Outcome:
    id: str
    symptom: str
    cause: str
    doc_url: str
    fix: str
    symptom_seen: bool = False
    fix_verified: bool = False
    note: str = ""
    #: Probe evidence before and after the fix, one row per probe, credentials masked.
    before: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """Symptom, cause (with the AWS page), fix, and the probes before and after, for notebooks."""
        def rows(items: list[dict[str, Any]]) -> str:
            return str(evidence_table(items).to_html()) if items else "<p><em>no probe</em></p>"

        seen = "yes" if self.symptom_seen else "not on this target"
        return (
            f"<h3>{html.escape(self.id)}</h3>"
            f"<p><b>Symptom</b> ({seen}): {html.escape(self.symptom)}</p>"
            f"<p><b>Cause</b>: {html.escape(self.cause)} "
            f'(<a href="{html.escape(self.doc_url)}">AWS doc</a>)</p>'
            + (f"<p><b>Note</b>: {html.escape(self.note)}</p>" if self.note else "")
            + f"<p><b>Before the fix</b></p>{rows(self.before)}"
            f"<p><b>Fix</b>: {html.escape(self.fix)} (verified: {'yes' if self.fix_verified else 'NO'})</p>"
            f"{rows(self.after)}"
        )

    def summary(self) -> dict[str, Any]:
        """The entry of ``summary.json``'s ``pitfalls`` list."""
        return {"id": self.id, "kind": "pitfall", "symptom_seen": self.symptom_seen,
                "fix_verified": self.fix_verified, "note": self.note}


def evidence(label: str, obs: Observation) -> dict[str, Any]:
    """What a person sees: status, who answered and how to tell, what the API received."""
    auth = obs.get("api.header.authorization")
    return {
        "configuration": label,
        "request": f"{obs.probe.method} {obs.probe.path}" + (f"?{obs.probe.query}" if obs.probe.query else ""),
        "status": obs.status,
        "answered by": obs.served_by,
        "X-Cache": obs.get("response.x-cache"),
        "Via": obs.get("response.via"),
        "API received query": obs.get("api.query") if obs.served_by == "api" else "",
        "API received Authorization": (redact.mask(auth) if auth != ABSENT else ABSENT)
        if obs.served_by == "api" else "",
        "body (not from the echo)": obs.get("response.body") if obs.served_by != "api" else "",
    }


def validate_request(service: str, operation: str, params: dict[str, Any]) -> str:
    """Check a request against AWS's service model (what botocore's Stubber does); '' when valid."""
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return report.generate_report() if report.has_errors() else ""


class Lab:
    """One lab run: the target, the lab's stack, and helpers the pitfalls share."""

    def __init__(self, target: Target, stack_name: str, progress: bool = True, paths_stack: str = "",
                 parent: str = "") -> None:
        self.target, self.stack_name, self.progress = target, stack_name, progress
        #: The main stack the lab's stacks belong to (their ``runbook:parent`` tag); "" for none.
        self.parent = parent
        #: The path pitfall's own stack (an API with root routes only): ``runbook_lib.path_fixes``.
        self.paths_stack = paths_stack or f"{stack_name}-paths"
        self.stack: provision.Stack | None = None

    def configure(self, preset: str) -> provision.Stack:
        self.stack = provision.build(self.target, self.stack_name, preset, progress=False, parent=self.parent)
        return self.stack

    def probe(self, probe: Probe) -> Observation:
        assert self.stack and self.stack.domain_name
        return probes.send(self.target, self.stack.domain_name, probe)

    def set_policies(self, cache_policy_id: str, origin_request_policy_id: str | None) -> None:
        """Point the ``/api/*`` behavior at these policies (an IfMatch update)."""
        assert self.stack and self.stack.distribution_id
        cf = self.target.client("cloudfront")
        current = cf.get_distribution_config(Id=self.stack.distribution_id)
        config = current["DistributionConfig"]
        for b in config["CacheBehaviors"]["Items"]:
            if b["PathPattern"] == "/api/*":
                for key in ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL", "OriginRequestPolicyId"):
                    b.pop(key, None)
                b["CachePolicyId"] = cache_policy_id
                if origin_request_policy_id:
                    b["OriginRequestPolicyId"] = origin_request_policy_id
        cf.update_distribution(Id=self.stack.distribution_id, IfMatch=current["ETag"], DistributionConfig=config)
        provision.wait_deployed(self.target, self.stack.distribution_id, progress=self.progress)

    def name(self, suffix: str) -> str:
        return f"{self.stack_name}-{suffix}"


class _PresetSteps(Steps):
    """A pitfall shown by one preset on the lab's ``/api/*`` behavior and fixed by another."""

    def __init__(self, lab: Lab, outcome: Outcome, preset: str, fixed: str = "recommended") -> None:
        super().__init__(lab, outcome)
        self.preset, self.fixed = preset, fixed

    def _configure(self) -> str:
        self.lab.configure(self.preset)
        return f"/api/* behavior: preset {self.preset!r}"

    def _fix(self) -> str:
        self.lab.configure(self.fixed)
        return f"/api/* behavior: preset {self.fixed!r}"


class _QueryDropped(_PresetSteps):
    """A preset that drops the query string (and, for some, Authorization)."""

    def __init__(self, lab: Lab, outcome: Outcome, preset: str, drops_authorization: bool) -> None:
        super().__init__(lab, outcome, preset)
        self.drops_authorization = drops_authorization

    def _symptom(self) -> None:
        before = [self.lab.probe(QUERY_PROBE), self.lab.probe(AUTH_PROBE)]
        self.outcome.before = [evidence(self.preset, o) for o in before]
        # A symptom counts only when the API itself answered: it is the one that reports what it got.
        dropped_query = before[0].served_by == "api" and before[0].get("api.query") == NO_QUERY
        dropped_auth = before[1].served_by == "api" and before[1].get("api.header.authorization") == ABSENT
        self.outcome.symptom_seen = dropped_query and (dropped_auth or not self.drops_authorization)

    def _verify(self) -> None:
        after = [self.lab.probe(QUERY_PROBE), self.lab.probe(AUTH_PROBE)]
        self.outcome.after = [evidence(self.fixed, o) for o in after]
        self.outcome.fix_verified = (after[0].get("api.query") == "since=2020-01-01"
                                     and after[1].get("api.header.authorization") == _AUTH)


class _AllViewerHost(_PresetSteps):
    """AllViewer forwards the viewer's Host; AllViewerExceptHostHeader (preset 'recommended') does not."""

    def _symptom(self) -> None:
        out, lab = self.outcome, self.lab
        before = lab.probe(QUERY_PROBE)
        out.before = [evidence(self.preset, before)]
        # The symptom is API Gateway's refusal: a 403 from anyone else is not it.
        out.symptom_seen = before.status == 403 and before.served_by == "api-gateway"
        if lab.target.is_local and not out.symptom_seen:
            # Only the deviation's exact case: the viewer's Host forwarded, a 403 from MiniStack's CloudFront.
            behavior = next(b for b in compiled_behaviors(_behavior_config(lab)) if b.label == "/api/*")
            ctx = deviations.Context(behavior, QUERY_PROBE, "served_by", "api-gateway", before.served_by,
                                     before.status)
            dev = deviations.explain(ctx)
            if dev is not None:
                out.note = (f"{dev.id}: locally the 403 comes from MiniStack's CloudFront handler, not from API "
                            "Gateway's {\"message\":\"Forbidden\"}, so the symptom as AWS shows it cannot be seen "
                            "here")

    def _verify(self) -> None:
        after = self.lab.probe(QUERY_PROBE)
        self.outcome.after = [evidence(self.fixed, after)]
        self.outcome.fix_verified = after.status == 200 and after.served_by == "api"


_QUERY_FIX = "Use CachingDisabled + AllViewerExceptHostHeader (preset 'recommended')."


def _legacy_steps(lab: Lab) -> Steps:
    out = Outcome(
        "legacy-query-dropped",
        "GET /api/data?since=2020-01-01 reaches the API as /api/data: the query string is gone.",
        "Legacy cache settings with 'Query string forwarding and caching: None' (QueryString=false) forward "
        "no query string at all.",
        cloudfront_guide("DownloadDistValuesCacheBehavior.html#DownloadDistValuesQueryString"), _QUERY_FIX)
    return _QueryDropped(lab, out, "legacy-no-query", drops_authorization=False)


def _caching_optimized_steps(lab: Lab) -> Steps:
    out = Outcome(
        "caching-optimized-query-dropped",
        "With CachingOptimized alone, query strings and Authorization never reach the API.",
        "A cache policy forwards only what is in its cache key; CachingOptimized keys on nothing but the "
        "normalised Accept-Encoding, and no origin request policy adds anything.",
        cloudfront_guide("using-managed-cache-policies.html#managed-cache-caching-optimized"), _QUERY_FIX)
    return _QueryDropped(lab, out, "caching-optimized", drops_authorization=True)


def legacy_query_dropped(lab: Lab) -> Outcome:
    return _legacy_steps(lab).run()


def caching_optimized_query_dropped(lab: Lab) -> Outcome:
    return _caching_optimized_steps(lab).run()


def _allviewer_steps(lab: Lab) -> Steps:
    out = Outcome(
        "allviewer-host-403",
        "After 'forward all headers' (AllViewer) every API call answers 403.",
        "AllViewer forwards the viewer's Host (the CloudFront domain); API Gateway's default endpoint refuses a "
        "Host that is not its own.",
        "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers",
        "Use AllViewerExceptHostHeader: CloudFront then sets Host to the API's own domain.",
    )
    return _AllViewerHost(lab, out, "allviewer")


def allviewer_host_403(lab: Lab) -> Outcome:
    return _allviewer_steps(lab).run()


def _create_policy(lab: Lab, kind: str, config: dict[str, Any]) -> tuple[str | None, ClientError | None]:
    cf = lab.target.client("cloudfront")
    create = cf.create_origin_request_policy if kind == "OriginRequestPolicy" else cf.create_cache_policy
    try:
        policy_id = str(create(**{f"{kind}Config": config})[kind]["Id"])
    except ClientError as err:
        return None, err
    # Policies take no tags: the lab's distribution records the ones it created, and teardown deletes those.
    record_policy(lab.target, lab.stack_name, "origin-request" if kind == "OriginRequestPolicy" else "cache",
                  policy_id)
    return policy_id, None


class _AuthInOrp(_PresetSteps):
    """An origin request policy naming Authorization, on the 'recommended' distribution; fixed by the cache key."""

    def _configure(self) -> str:
        lab = self.lab
        self.config = {"Name": lab.name("orp-authorization"), "Comment": "pitfall: Authorization in an ORP",
                       "HeadersConfig": {"HeaderBehavior": "whitelist",
                                         "Headers": {"Quantity": 1, "Items": ["Authorization"]}},
                       "CookiesConfig": {"CookieBehavior": "none"},
                       "QueryStringsConfig": {"QueryStringBehavior": "all"}}
        lab.configure(self.preset)
        self.policy_id, self.err = _create_policy(lab, "OriginRequestPolicy", self.config)
        if self.policy_id:
            lab.set_policies(CACHING_DISABLED, self.policy_id)
        return "CreateOriginRequestPolicy naming Authorization" + (" (accepted, on /api/*)" if self.policy_id else "")

    def _symptom(self) -> None:
        out, lab, config, err = self.outcome, self.lab, self.config, self.err
        if err is not None:
            out.symptom_seen = err.response["Error"]["Code"] == "InvalidArgument"
            out.before = [{"configuration": "CreateOriginRequestPolicy [Authorization]",
                           "status": err.response["ResponseMetadata"].get("HTTPStatusCode"),
                           "answered by": "CloudFront API", "body (not from the echo)": str(err)}]
            return
        assert self.policy_id
        problems = validate_request("cloudfront", "CreateOriginRequestPolicy", {"OriginRequestPolicyConfig": config})
        obs = lab.probe(AUTH_PROBE)
        out.before = [evidence("CachingDisabled + ORP naming Authorization (accepted)", obs)]
        model = simulate(_behavior_config(lab), AUTH_PROBE.request(lab.stack.domain_name or ""),  # type: ignore[union-attr]
                         {self.policy_id: {"OriginRequestPolicyConfig": config}})
        cautions = " ".join(model.cautions)
        out.note = ("orp-authorization-accepted: the local target accepts the policy, so the 400 AWS has answered "
                    "cannot be shown here. " + (f"Model: {cautions} " if cautions else "")
                    + ("The request is valid against AWS's service model; the refusal is a service-side rule."
                       if not problems else f"The service model rejects the request: {problems}"))

    def _verify(self) -> None:
        after = self.lab.probe(AUTH_PROBE)
        self.outcome.after = [evidence(self.fixed, after)]
        self.outcome.fix_verified = after.get("api.header.authorization") == _AUTH


def _auth_in_orp_steps(lab: Lab) -> Steps:
    out = Outcome(
        "authorization-in-orp",
        "Creating an origin request policy that names Authorization fails with 400 InvalidArgument "
        "('The parameter Headers contains Authorization that is not allowed').",
        "CloudFront has long refused Authorization in an origin request policy (Knowledge Center, CDK "
        "validation); its newest 401 page says it may now be named there. The reliable way is the cache key.",
        cloudfront_guide("http-401-unauthorized.html"),
        "Put Authorization in the cache policy's key (custom policy, MaxTTL >= 1: preset 'custom-auth-in-key').",
    )
    return _AuthInOrp(lab, out, "recommended", fixed="custom-auth-in-key")


def authorization_in_orp(lab: Lab) -> Outcome:
    return _auth_in_orp_steps(lab).run()


def zero_ttl_headers_in_key(lab: Lab) -> Outcome:
    broken, fixed = policy_code.ZERO_TTL_AUTH_IN_KEY, policy_code.API_AUTH_AND_QUERY
    out = Outcome(
        "zero-ttl-headers-in-key",
        "Creating a cache policy with Authorization in the key and all TTLs 0 fails with 400 InvalidArgument "
        "(CDK/CloudFormation: 'Invalid request').",
        "With caching disabled (all TTLs 0) a cache policy cannot put headers, cookies or query strings in the "
        "key (the fields are 'forwarded to the origin' only while caching is on).",
        cloudfront_guide("controlling-the-cache-key.html"),
        "Keep MaxTTL >= 1 (the CDK snippet's fix): policy 'api-auth-and-query'.",
    )
    config = policy_code.to_cache_policy_config(broken)
    config["Name"] = lab.name("zero-ttl-auth")
    check = {"configuration": "runbook check before any call (policy_code.cache_policy_problems)",
             "body (not from the echo)": " ".join(policy_code.cache_policy_problems(broken))}
    lab.configure("recommended")
    policy_id, err = _create_policy(lab, "CachePolicy", config)
    if err is not None:
        out.symptom_seen = err.response["Error"]["Code"] == "InvalidArgument"
        out.before = [check, {"configuration": "CreateCachePolicy, all TTLs 0, Authorization in key",
                              "status": err.response["ResponseMetadata"].get("HTTPStatusCode"),
                              "answered by": "CloudFront API", "body (not from the echo)": str(err)}]
    else:
        problems = validate_request("cloudfront", "CreateCachePolicy", {"CachePolicyConfig": config})
        out.before = [check, {"configuration": "CreateCachePolicy, all TTLs 0, Authorization in key",
                              "status": 201, "answered by": "CloudFront API (local)",
                              "body (not from the echo)": f"accepted as {policy_id}"}]
        out.note = ("zero-ttl-key-accepted: the local target accepts the policy, so AWS's 400 cannot be shown "
                    "here; the runbook's own check (policy_code.cache_policy_problems) reports it before any call. "
                    + ("The request is valid against AWS's service model; the refusal is a service-side rule."
                       if not problems else f"The service model rejects the request: {problems}"))
    lab.configure("custom-auth-in-key")  # the MaxTTL 1 policy
    after = lab.probe(AUTH_PROBE)
    out.after = [evidence(f"custom policy {fixed.name} (MaxTTL {fixed.max_ttl})", after)]
    out.fix_verified = after.get("api.header.authorization") == _AUTH and after.get("api.query") == "since=2020-01-01"
    return out


def api_prefix_missing_route(lab: Lab) -> Outcome:
    fix_id = "path-fix-api-resource"
    out = Outcome(
        "api-prefix-missing-route",
        "GET /api/items answers 403 {\"message\":\"Missing Authentication Token\"} although the API has /items.",
        "CloudFront forwards the full viewer path and prefixes OriginPath: /api/items reaches the API as "
        "/prod/api/items, and API Gateway answers 403 'Missing Authentication Token' for a route it does not have.",
        cloudfront_guide("DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath"),
        "Give the API an /api resource (the other three ways are compared below the pitfalls).",
    )
    path_stack.build_broken(lab.target, lab.paths_stack, progress=False, parent=lab.parent)
    before = path_fixes.show_symptom(lab.target, lab.paths_stack)
    out.before = [path_fixes.evidence("API with root routes only, OriginPath /prod", before)]
    # The symptom is API Gateway's own answer: the same words from anyone else are not it.
    out.symptom_seen = (before.status == 403 and before.served_by == "api-gateway"
                        and "Missing Authentication Token" in str(before.get("response.body")))
    path_stack.apply_fix(lab.target, lab.paths_stack, fix_id)
    fixed = path_fixes.probe_fix(lab.target, lab.paths_stack, fix_id)
    out.after = [path_fixes.evidence(fix_id, o) for o in fixed.observed]
    out.fix_verified = fixed.verified
    return out


def _behavior_config(lab: Lab) -> dict[str, Any]:
    assert lab.stack and lab.stack.distribution_id and lab.stack.api_id
    config = lab.target.client("cloudfront").get_distribution_config(Id=lab.stack.distribution_id)
    return lab.target.as_on_aws(config["DistributionConfig"], "api", lab.stack.api_id, lab.stack.stage)


PITFALL_IDS = ("legacy-query-dropped", "caching-optimized-query-dropped", "allviewer-host-403",
               "authorization-in-orp", "zero-ttl-headers-in-key", "api-prefix-missing-route")

PITFALLS: dict[str, Callable[[Lab], Outcome]] = {
    "legacy-query-dropped": legacy_query_dropped,
    "caching-optimized-query-dropped": caching_optimized_query_dropped,
    "allviewer-host-403": allviewer_host_403,
    "authorization-in-orp": authorization_in_orp,
    "zero-ttl-headers-in-key": zero_ttl_headers_in_key,
    "api-prefix-missing-route": api_prefix_missing_route,
}


#: The pitfalls split into steps so far (the others run in one call: :data:`PITFALLS`).
STEPS: dict[str, Callable[[Lab], Steps]] = {
    "legacy-query-dropped": _legacy_steps,
    "caching-optimized-query-dropped": _caching_optimized_steps,
    "allviewer-host-403": _allviewer_steps,
    "authorization-in-orp": _auth_in_orp_steps,
}


def steps(pitfall_id: str, lab: Lab) -> Steps:
    """Pitfall ``pitfall_id`` as steps to run one cell at a time; ``.verify()`` returns its :class:`Outcome`."""
    if pitfall_id not in STEPS:
        raise ParameterError(
            f"Pitfall {pitfall_id!r} has no step-by-step form; expected one of {sorted(STEPS)}. "
            f"Run it in one call instead: pitfalls.PITFALLS[{pitfall_id!r}](lab).")
    return STEPS[pitfall_id](lab)


def run(target: Target, stack_name: str, ids: list[str] | None = None, progress: bool = True,
        paths_stack: str = "", parent: str = "") -> list[Outcome]:
    """Every pitfall (or those in ``ids``), in order, on ``stack_name`` (and ``paths_stack`` for the path one);
    both stacks are tagged as children of ``parent`` when given."""
    lab = Lab(target, stack_name, progress, paths_stack, parent)
    chosen = ids or list(PITFALLS)
    return [PITFALLS[i](lab) for i in bar(chosen, desc="pitfalls", disable=not progress)]


def table(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """symptom → cause → fix → verified, one row per pitfall."""
    return [{"pitfall": o.id, "symptom": o.symptom, "cause": o.cause, "fix": o.fix,
             "symptom seen": o.symptom_seen, "fix verified": o.fix_verified, "note": o.note, "AWS doc": o.doc_url}
            for o in outcomes]


def teardown(target: Target, stack_name: str, progress: bool = True) -> list[str]:
    """Remove the lab's stack and the policies the pitfalls created (their IDs are recorded on the lab's
    distribution: :mod:`runbook_lib.aws.ownership`), nothing else."""
    return remove(target, stack_name, progress=progress)


__all__ = ["PITFALLS", "PITFALL_IDS", "STEPS", "Steps", "steps", "Outcome", "Lab", "run", "table", "teardown",
           "evidence", "validate_request"]
