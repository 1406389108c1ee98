"""The pitfalls of policies CloudFront refuses to create: Authorization named in an origin request policy, and
headers in the cache key of a policy whose TTLs are all 0. On AWS the symptom is the refusal itself (400)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.model import simulate
from runbook_lib.runbook import policy_code
from runbook_lib.runbook.pitfall_steps import Markdown, Steps
from runbook_lib.runbook.pitfalls.lab import CONFIGURATIONS, ORP_CONFIGURATION, Lab, orp_config
from runbook_lib.runbook.pitfalls.outcome import AUTH, AUTH_PROBE, QUERY, Outcome, evidence, validate_request

__all__ = ["auth_in_orp_steps", "zero_ttl_steps"]

_FIXED = "custom-auth-in-key"
_SERVICE_SIDE = "The request is valid against AWS's service model; the refusal is a service-side rule."


def _refusal_row(label: str, err: ClientError) -> dict[str, Any]:
    return {"configuration": label, "status": err.response["ResponseMetadata"].get("HTTPStatusCode"),
            "answered by": "CloudFront API", "body (not from the echo)": str(err)}


def _fix_deployed(lab: Lab, what: str) -> Markdown:
    return Markdown(f"**Fix**: {what}: {CONFIGURATIONS[_FIXED]}, on {lab.where(_FIXED)}, deployed with the rest of "
                    "the lab up front (no propagation wait of its own).")


class _AuthInOrp(Steps):
    """An origin request policy naming Authorization on CachingDisabled; fixed by the cache key."""

    def _configure(self) -> str:
        self.lab.ensure("lab")
        self.policy_id, self.err = self.lab.orp_attempt()
        if self.policy_id:
            return Markdown(f"**Configured**: CreateOriginRequestPolicy naming Authorization: accepted, and "
                            f"{CONFIGURATIONS[ORP_CONFIGURATION]} is on {self.lab.where(ORP_CONFIGURATION)}.")
        return Markdown("**Configured**: CreateOriginRequestPolicy naming Authorization: refused, so there is no "
                        "distribution to put it on.")

    def _symptom(self) -> None:
        out, lab, err = self.outcome, self.lab, self.err
        if err is not None:
            out.symptom_seen = err.response["Error"]["Code"] == "InvalidArgument"
            out.before = [_refusal_row("CreateOriginRequestPolicy [Authorization]", err)]
            return
        assert self.policy_id
        config = orp_config(lab.name("orp-authorization"))
        problems = validate_request("cloudfront", "CreateOriginRequestPolicy", {"OriginRequestPolicyConfig": config})
        obs = lab.probe(AUTH_PROBE, ORP_CONFIGURATION)
        out.before = [evidence("CachingDisabled + ORP naming Authorization (accepted)", obs)]
        model = simulate(lab.distribution_config(ORP_CONFIGURATION),
                         AUTH_PROBE.request(lab.distributions[ORP_CONFIGURATION][1]),
                         {self.policy_id: {"OriginRequestPolicyConfig": config}})
        cautions = " ".join(model.cautions)
        out.note = ("orp-authorization-accepted: the local target accepts the policy, so the 400 AWS has answered "
                    "cannot be shown here. " + (f"Model: {cautions} " if cautions else "")
                    + (_SERVICE_SIDE if not problems else f"The service model rejects the request: {problems}"))

    def _fix(self) -> str:
        if self.policy_id:
            return self.lab.fix_note(ORP_CONFIGURATION, _FIXED)
        return _fix_deployed(self.lab, "Authorization in the cache key instead")

    def _verify(self) -> None:
        after = self.lab.probe(AUTH_PROBE, _FIXED)
        self.outcome.after = [evidence(_FIXED, after)]
        self.outcome.fix_verified = after.get("api.header.authorization") == AUTH


class _ZeroTtl(Steps):
    """A cache policy with Authorization in its key and every TTL 0; fixed by MaxTTL >= 1."""

    broken, fixed = policy_code.ZERO_TTL_AUTH_IN_KEY, policy_code.API_AUTH_AND_QUERY

    def _configure(self) -> str:
        self.lab.ensure("lab")  # the lab's distribution records the policy, so teardown removes it
        self.config = policy_code.to_cache_policy_config(self.broken)
        self.config["Name"] = self.lab.name("zero-ttl-auth")
        self.policy_id, self.err = self.lab.create_policy("CachePolicy", self.config)
        answer = f"refused ({self.err.response['Error']['Code']})" if self.err is not None else "accepted"
        return Markdown(f"**Configured**: CreateCachePolicy with Authorization in the key and all TTLs 0: {answer}.")

    def _symptom(self) -> None:
        out, err = self.outcome, self.err
        check = {"configuration": "runbook check before any call (policy_code.cache_policy_problems)",
                 "body (not from the echo)": " ".join(policy_code.cache_policy_problems(self.broken))}
        label = "CreateCachePolicy, all TTLs 0, Authorization in key"
        if err is not None:
            out.symptom_seen = err.response["Error"]["Code"] == "InvalidArgument"
            out.before = [check, _refusal_row(label, err)]
            return
        problems = validate_request("cloudfront", "CreateCachePolicy", {"CachePolicyConfig": self.config})
        out.before = [check, {"configuration": label, "status": 201, "answered by": "CloudFront API (local)",
                              "body (not from the echo)": f"accepted as {self.policy_id}"}]
        out.note = ("zero-ttl-key-accepted: the local target accepts the policy, so AWS's 400 cannot be shown "
                    "here; the runbook's own check (policy_code.cache_policy_problems) reports it before any call. "
                    + (_SERVICE_SIDE if not problems else f"The service model rejects the request: {problems}"))

    def _fix(self) -> str:
        self.lab.ensure("lab")
        return _fix_deployed(self.lab, f"keep MaxTTL >= 1 (policy {self.fixed.name}, MaxTTL {self.fixed.max_ttl})")

    def _verify(self) -> None:
        after = self.lab.probe(AUTH_PROBE, _FIXED)
        self.outcome.after = [evidence(f"custom policy {self.fixed.name} (MaxTTL {self.fixed.max_ttl})", after)]
        self.outcome.fix_verified = after.get("api.header.authorization") == AUTH and after.get("api.query") == QUERY


def auth_in_orp_steps(lab: Lab) -> Steps:
    out = Outcome(
        "authorization-in-orp",
        "Creating an origin request policy that names Authorization fails with 400 InvalidArgument "
        "('The parameter Headers contains Authorization that is not allowed').",
        "CloudFront has long refused Authorization in an origin request policy (Knowledge Center, CDK "
        "validation); its newest 401 page says it may now be named there. The reliable way is the cache key.",
        cloudfront_guide("http-401-unauthorized.html"),
        "Put Authorization in the cache policy's key (custom policy, MaxTTL >= 1: preset 'custom-auth-in-key').",
    )
    return _AuthInOrp(lab, out)


def zero_ttl_steps(lab: Lab) -> Steps:
    out = Outcome(
        "zero-ttl-headers-in-key",
        "Creating a cache policy with Authorization in the key and all TTLs 0 fails with 400 InvalidArgument "
        "(CDK/CloudFormation: 'Invalid request').",
        "With caching disabled (all TTLs 0) a cache policy cannot put headers, cookies or query strings in the "
        "key (the fields are 'forwarded to the origin' only while caching is on).",
        cloudfront_guide("controlling-the-cache-key.html"),
        "Keep MaxTTL >= 1 (the CDK snippet's fix): policy 'api-auth-and-query'.",
    )
    return _ZeroTtl(lab, out)
