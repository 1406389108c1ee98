"""The lab: every configuration the pitfalls show, each on its own distribution, deployed up front in one round.

On AWS every create or update of a distribution takes minutes to reach the edge
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HowToUpdateDistribution.html). Changing one
distribution for each broken configuration and again for each fix meant fifteen waits one after the other. So
:meth:`Lab.deploy` creates them all at once, each broken configuration beside its fixed twin (the lab stack's
own distribution plus its variants, :mod:`runbook_lib.aws.variants`; the path fixes' stack,
``path_stack.deploy``), and waits once. Each pitfall's steps then probe the distributions already deployed.
"""

from __future__ import annotations

import dataclasses
import html
import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from runbook_lib.aws import path_stack, presets, provision, variants
from runbook_lib.aws.distribution import ensure_cache_policy, wait_all_deployed
from runbook_lib.aws.ownership import PolicyKind, find_distribution, owned_policies, record_policy
from runbook_lib.aws.target import Target
from runbook_lib.cloudfront.policies import CACHING_DISABLED, policy_name
from runbook_lib.runbook import probes, reports
from runbook_lib.runbook.pitfall_steps import Markdown
from runbook_lib.runbook.probes import Observation, Probe

__all__ = ["CONFIGURATIONS", "ORP_CONFIGURATION", "Deployment", "Lab", "behavior_diff"]

#: The configuration that names Authorization in an origin request policy (pitfall authorization-in-orp).
ORP_CONFIGURATION = "orp-authorization"
#: Each configuration of the lab's stack, on its own distribution: what its /api/* behavior is. 'recommended' is
#: the stack's own distribution (the fixed twin of the first three pitfalls); the others are its variants.
CONFIGURATIONS = {
    "recommended": "preset 'recommended': CachingDisabled + AllViewerExceptHostHeader",
    "legacy-no-query": "preset 'legacy-no-query': legacy settings, QueryString=false",
    "caching-optimized": "preset 'caching-optimized': CachingOptimized, no origin request policy",
    "allviewer": "preset 'allviewer': CachingDisabled + AllViewer (forwards the viewer's Host)",
    "custom-auth-in-key": "preset 'custom-auth-in-key': a custom cache policy, Authorization and query strings "
                          "in the key, MaxTTL 1",
    ORP_CONFIGURATION: "CachingDisabled + an origin request policy naming Authorization",
}
#: The path stack's distributions (``path_stack.deploy``).
_PATHS = {
    path_stack.PITFALL: "an API with root routes only, behind OriginPath /prod (path-fix-api-resource adds /api to "
                        "the API: proven here too)",
    "path-fix-origin-path": "empty OriginPath: the viewer path's first segment is the stage ('api')",
    "path-fix-base-path-mapping": "the API's custom domain as origin (base path mapping 'api')",
    "path-fix-cloudfront-function": "a CloudFront Function strips /api on viewer request",
}
_FIX_ON_YOUR_OWN = ("On your own distribution you would change it in place instead: `python -m runbook_lib fix "
                    "distribution:<ID> --plan plan.json`, then `fix --apply plan.json`.")


@dataclass
class Deployment:
    """What :meth:`Lab.deploy` deployed: one row per distribution, and the account's distribution quota."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    quota: str = ""
    near_quota: bool = False

    def _repr_html_(self) -> str:
        page = html.escape(variants.QUOTAS_PAGE)
        text = html.escape(self.quota).replace(page, f'<a href="{page}">{page}</a>')
        quota = f"<p><b>Quota{' WARNING' if self.near_quota else ''}</b>: {text}</p>"
        return quota + (str(reports.table(self.rows).to_html()) if self.rows else "<p>nothing to deploy</p>")


class Lab:
    """One lab run: the target, the lab's stacks, and the distributions each configuration is deployed on."""

    def __init__(self, target: Target, stack_name: str, progress: bool = True, paths_stack: str = "",
                 parent: str = "", domain_name: str = "", certificate_arn: str = "") -> None:
        self.target, self.stack_name, self.progress = target, stack_name, progress
        #: The main stack the lab's stacks belong to (their ``runbook:parent`` tag); "" for none.
        self.parent = parent
        #: The path pitfall's own stack (an API with root routes only): ``runbook_lib.path_fixes``.
        self.paths_stack = paths_stack or f"{stack_name}-paths"
        #: For the base-path-mapping fix on AWS: a domain you control and its ACM certificate.
        self.domain_name, self.certificate_arn = domain_name, certificate_arn
        self.stack: provision.Stack | None = None
        #: configuration → (distribution ID, domain name), once deployed.
        self.distributions: dict[str, tuple[str, str]] = {}
        self.deployed: set[str] = set()
        self._orp: tuple[str | None, ClientError | None] | None = None
        #: The custom policies the lab uses, ID → name (to show a change by name).
        self.policy_names: dict[str, str] = {}

    def name(self, suffix: str) -> str:
        return f"{self.stack_name}-{suffix}"

    # --- deploying, once for all -------------------------------------------------------------------------

    def deploy(self, parts: tuple[str, ...] = ("lab", "paths")) -> Deployment:
        """Create (or bring back) every distribution of ``parts`` without waiting, then wait for all of them at
        once: one deployment round. 'lab': the pitfalls' configurations; 'paths': the path pitfall and its fixes."""
        todo = [p for p in parts if p not in self.deployed]
        out = Deployment()
        if not todo:
            return out
        out.quota, out.near_quota = variants.quota_note(self.target, self._to_create(todo))
        lab_ids = self._deploy_lab() if "lab" in todo else []
        paths = {} if "paths" not in todo else path_stack.deploy(
            self.target, self.paths_stack, domain_name=self.domain_name, certificate_arn=self.certificate_arn,
            parent=self.parent)
        wait_all_deployed(self.target, lab_ids + list(paths.values()), progress=self.progress)
        self.deployed.update(todo)
        if lab_ids:
            out.rows = [{"stack": self.stack_name, "configuration": c, "what": CONFIGURATIONS[c],
                         "distribution": i, "domain": d} for c, (i, d) in self.distributions.items()]
        out.rows += [{"stack": self.paths_stack, "configuration": c, "what": _PATHS.get(c, ""), "distribution": i,
                      "domain": ""} for c, i in paths.items()]
        return out

    def ensure(self, part: str) -> None:
        """Deploy ``part`` ('lab' or 'paths') if this lab has not yet (a section run on its own)."""
        if part not in self.deployed:
            self.deploy((part,))

    def _to_create(self, parts: list[str]) -> int:
        count = 0
        if "lab" in parts:
            have = variants.find_all(self.target, self.stack_name)
            count += (find_distribution(self.target, self.stack_name) is None) + len(
                [c for c in CONFIGURATIONS if c != "recommended" and c not in have])
        if "paths" in parts:
            have = variants.find_all(self.target, self.paths_stack)
            count += (find_distribution(self.target, self.paths_stack) is None) + len(
                [f for f in path_stack.VARIANT_FIXES if f not in have])
        return count

    def _deploy_lab(self) -> list[str]:
        t, name = self.target, self.stack_name
        self.stack = stack = provision.build(t, name, "recommended", progress=False, parent=self.parent, wait=False)
        assert stack.distribution_id and stack.domain_name
        self.distributions = {"recommended": (stack.distribution_id, stack.domain_name)}
        cache_name = provision.resource_names(name, provision.account_id(t), t.region)["cache_policy"]
        cache_id, created = ensure_cache_policy(t, cache_name)
        self.policy_names[cache_id] = cache_name
        if created:
            record_policy(t, name, "cache", cache_id)
        wanted = {preset: provision.distribution_config(t, dataclasses.replace(stack, cache_policy_id=cache_id),
                                                        presets.get(preset), "", "")
                  for preset in ("legacy-no-query", "caching-optimized", "allviewer", "custom-auth-in-key")}
        policy_id, _ = self.orp_attempt()
        if policy_id:  # on AWS refused (the pitfall's symptom): then there is no such configuration to deploy
            recommended = provision.distribution_config(t, stack, presets.get("recommended"), "", "")
            wanted[ORP_CONFIGURATION] = _with_policies(recommended, CACHING_DISABLED, policy_id)
        found = variants.find_all(t, name)
        for configuration, config in wanted.items():
            dist = variants.put(t, name, configuration, config, self.parent, found.get(configuration))
            self.distributions[configuration] = (str(dist["Id"]), str(dist["DomainName"]))
        return [i for i, _ in self.distributions.values()]

    # --- policies the pitfalls create ----------------------------------------------------------------------

    def orp_attempt(self) -> tuple[str | None, ClientError | None]:
        """Create (once) the origin request policy naming Authorization: (its ID, None), or (None, AWS's refusal)."""
        if self._orp is None:
            self._orp = self.create_policy("OriginRequestPolicy", orp_config(self.name("orp-authorization")))
        return self._orp

    def create_policy(self, kind: str, config: dict[str, Any]) -> tuple[str | None, ClientError | None]:
        """Create a cache (``CachePolicy``) or origin request (``OriginRequestPolicy``) policy, recorded on the lab's
        distribution so teardown deletes it; one of the same name the lab created before is reused."""
        cf = self.target.client("cloudfront")
        create = cf.create_origin_request_policy if kind == "OriginRequestPolicy" else cf.create_cache_policy
        label: PolicyKind = "origin-request" if kind == "OriginRequestPolicy" else "cache"
        try:
            policy_id = str(create(**{f"{kind}Config": config})[kind]["Id"])
        except ClientError as err:
            if not err.response["Error"]["Code"].endswith("AlreadyExists"):
                return None, err
            found = self._owned_policy(kind, str(config["Name"]))
            if found:
                self.policy_names[found] = str(config["Name"])
            return (found, None) if found else (None, err)
        self.policy_names[policy_id] = str(config["Name"])
        # Policies take no tags: the lab's distribution records the ones it created, and teardown deletes those.
        record_policy(self.target, self.stack_name, label, policy_id)
        return policy_id, None

    def _owned_policy(self, kind: str, name: str) -> str | None:
        dist = find_distribution(self.target, self.stack_name)
        owned = {policy_id for _, policy_id in owned_policies(self.target, dist)} if dist else set()
        cf = self.target.client("cloudfront")
        listed = (cf.list_origin_request_policies(Type="custom")["OriginRequestPolicyList"]
                  if kind == "OriginRequestPolicy" else cf.list_cache_policies(Type="custom")["CachePolicyList"])
        return next((str(i[kind]["Id"]) for i in listed.get("Items", []) or []
                     if i[kind][f"{kind}Config"]["Name"] == name and i[kind]["Id"] in owned), None)

    # --- what the steps read -------------------------------------------------------------------------------

    def probe(self, probe: Probe, configuration: str) -> Observation:
        """Send ``probe`` through the distribution of ``configuration``."""
        return probes.send(self.target, self.distributions[configuration][1], probe)

    def where(self, configuration: str) -> str:
        dist_id, domain = self.distributions[configuration]
        return f"distribution {dist_id} ({domain})"

    def distribution_config(self, configuration: str) -> dict[str, Any]:
        """The deployed DistributionConfig of ``configuration``, with the API origin as it is on AWS (the model
        predicts AWS)."""
        assert self.stack and self.stack.api_id
        config = self.target.client("cloudfront").get_distribution_config(Id=self.distributions[configuration][0])
        return self.target.as_on_aws(config["DistributionConfig"], "api", self.stack.api_id, self.stack.stage)

    def fix_note(self, broken: str, fixed: str) -> Markdown:
        """What the fix changes on the /api/* behavior, and where it was deployed (beside the broken one)."""
        diff = behavior_diff(self.distribution_config(broken), self.distribution_config(fixed), self.policy_names)
        return Markdown(
            f"**Fix**: {CONFIGURATIONS[fixed]}, on {self.where(fixed)}.\n\n"
            + "".join(f"- `{line}`\n" for line in diff) + "\n"
            "To spare one propagation wait (minutes on AWS) per change, the fixed configuration was deployed "
            f"beside the broken one up front, when the lab was deployed. {_FIX_ON_YOUR_OWN}")


def orp_config(name: str) -> dict[str, Any]:
    """An origin request policy that names Authorization (what CloudFront has long refused)."""
    return {"Name": name, "Comment": "pitfall: Authorization in an ORP",
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Authorization"]}},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"}}


def _with_policies(config: dict[str, Any], cache_policy_id: str, origin_request_policy_id: str) -> dict[str, Any]:
    """``config`` with its /api/* behavior on these policies (no legacy settings)."""
    drop = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL", "OriginRequestPolicyId")
    behaviors = [{**{k: v for k, v in b.items() if k not in drop}, "CachePolicyId": cache_policy_id,
                  "OriginRequestPolicyId": origin_request_policy_id} if b["PathPattern"] == "/api/*" else b
                 for b in config["CacheBehaviors"]["Items"]]
    return {**config, "CacheBehaviors": {**config["CacheBehaviors"], "Items": behaviors}}


def behavior_diff(old: dict[str, Any], new: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """``field: before → after`` for each field of the /api/* behavior that differs (policy IDs by name: managed
    ones by theirs, custom ones by ``names``, ID → name)."""
    known = {i: {"CachePolicyConfig": {"Name": n}} for i, n in (names or {}).items()}

    def api(config: dict[str, Any]) -> dict[str, Any]:
        return dict(next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*"))

    def shown(key: str, value: Any) -> str:
        if value is None:
            return "(none)"
        if key.endswith("PolicyId"):
            return policy_name(str(value), known)
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    a, b = api(old), api(new)
    return [f"{k}: {shown(k, a.get(k))} → {shown(k, b.get(k))}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]
