"""The pitfalls one preset of the /api/* behavior shows and another fixes: query strings dropped (legacy settings,
CachingOptimized alone) and the viewer's Host forwarded (AllViewer)."""

from __future__ import annotations

from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.model import compiled_behaviors
from runbook_lib.runbook import deviations
from runbook_lib.runbook.pitfall_steps import Markdown, Steps
from runbook_lib.runbook.pitfalls.lab import CONFIGURATIONS, Lab
from runbook_lib.runbook.pitfalls.outcome import AUTH, AUTH_PROBE, QUERY, QUERY_PROBE, Outcome, evidence
from runbook_lib.runbook.probes import ABSENT, NO_QUERY

__all__ = ["PresetSteps", "allviewer_steps", "caching_optimized_steps", "legacy_steps"]


class PresetSteps(Steps):
    """A pitfall shown by one configuration of the lab (``preset``) and fixed by another (``fixed``), each on its
    own distribution, deployed up front (:meth:`Lab.deploy`)."""

    def __init__(self, lab: Lab, outcome: Outcome, preset: str, fixed: str = "recommended") -> None:
        super().__init__(lab, outcome)
        self.preset, self.fixed = preset, fixed

    def _configure(self) -> str:
        self.lab.ensure("lab")
        return Markdown(f"**Configured**: {CONFIGURATIONS[self.preset]}, on {self.lab.where(self.preset)} "
                        "(deployed with the rest of the lab).")

    def _fix(self) -> str:
        self.lab.ensure("lab")
        return self.lab.fix_note(self.preset, self.fixed)


class _QueryDropped(PresetSteps):
    """A preset that drops the query string (and, for some, Authorization)."""

    def __init__(self, lab: Lab, outcome: Outcome, preset: str, drops_authorization: bool) -> None:
        super().__init__(lab, outcome, preset)
        self.drops_authorization = drops_authorization

    def _symptom(self) -> None:
        before = [self.lab.probe(QUERY_PROBE, self.preset), self.lab.probe(AUTH_PROBE, self.preset)]
        self.outcome.before = [evidence(self.preset, o) for o in before]
        # A symptom counts only when the API itself answered: it is the one that reports what it got.
        dropped_query = before[0].served_by == "api" and before[0].get("api.query") == NO_QUERY
        dropped_auth = before[1].served_by == "api" and before[1].get("api.header.authorization") == ABSENT
        self.outcome.symptom_seen = dropped_query and (dropped_auth or not self.drops_authorization)

    def _verify(self) -> None:
        after = [self.lab.probe(QUERY_PROBE, self.fixed), self.lab.probe(AUTH_PROBE, self.fixed)]
        self.outcome.after = [evidence(self.fixed, o) for o in after]
        self.outcome.fix_verified = (after[0].get("api.query") == QUERY
                                     and after[1].get("api.header.authorization") == AUTH)


class _AllViewerHost(PresetSteps):
    """AllViewer forwards the viewer's Host; AllViewerExceptHostHeader (preset 'recommended') does not."""

    def _symptom(self) -> None:
        out, lab = self.outcome, self.lab
        before = lab.probe(QUERY_PROBE, self.preset)
        out.before = [evidence(self.preset, before)]
        # The symptom is API Gateway's refusal: a 403 from anyone else is not it.
        out.symptom_seen = before.status == 403 and before.served_by == "api-gateway"
        if lab.target.is_local and not out.symptom_seen:
            # Only the deviation's exact case: the viewer's Host forwarded, a 403 from MiniStack's CloudFront.
            config = lab.distribution_config(self.preset)
            behavior = next(b for b in compiled_behaviors(config) if b.label == "/api/*")
            ctx = deviations.Context(behavior, QUERY_PROBE, "served_by", "api-gateway", before.served_by,
                                     before.status)
            dev = deviations.explain(ctx)
            if dev is not None:
                out.note = (f"{dev.id}: locally the 403 comes from MiniStack's CloudFront handler, not from API "
                            "Gateway's {\"message\":\"Forbidden\"}, so the symptom as AWS shows it cannot be seen "
                            "here")

    def _verify(self) -> None:
        after = self.lab.probe(QUERY_PROBE, self.fixed)
        self.outcome.after = [evidence(self.fixed, after)]
        self.outcome.fix_verified = after.status == 200 and after.served_by == "api"


_QUERY_FIX = "Use CachingDisabled + AllViewerExceptHostHeader (preset 'recommended')."


def legacy_steps(lab: Lab) -> Steps:
    out = Outcome(
        "legacy-query-dropped",
        "GET /api/data?since=2020-01-01 reaches the API as /api/data: the query string is gone.",
        "Legacy cache settings with 'Query string forwarding and caching: None' (QueryString=false) forward "
        "no query string at all.",
        cloudfront_guide("DownloadDistValuesCacheBehavior.html#DownloadDistValuesQueryString"), _QUERY_FIX)
    return _QueryDropped(lab, out, "legacy-no-query", drops_authorization=False)


def caching_optimized_steps(lab: Lab) -> Steps:
    out = Outcome(
        "caching-optimized-query-dropped",
        "With CachingOptimized alone, query strings and Authorization never reach the API.",
        "A cache policy forwards only what is in its cache key; CachingOptimized keys on nothing but the "
        "normalised Accept-Encoding, and no origin request policy adds anything.",
        cloudfront_guide("using-managed-cache-policies.html#managed-cache-caching-optimized"), _QUERY_FIX)
    return _QueryDropped(lab, out, "caching-optimized", drops_authorization=True)


def allviewer_steps(lab: Lab) -> Steps:
    out = Outcome(
        "allviewer-host-403",
        "After 'forward all headers' (AllViewer) every API call answers 403.",
        "AllViewer forwards the viewer's Host (the CloudFront domain); API Gateway's default endpoint refuses a "
        "Host that is not its own.",
        "https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers",
        "Use AllViewerExceptHostHeader: CloudFront then sets Host to the API's own domain.",
    )
    return _AllViewerHost(lab, out, "allviewer")
