"""The path pitfall: ``/api/items`` reaches an API with no ``/api`` route (403 Missing Authentication Token).

It runs on the lab's second stack (``path_stack``): an API whose routes sit at the root, behind OriginPath /prod.
Its fix here, an ``/api`` resource, changes API Gateway only, so it is proven on the same distribution; the other
three ways to map ``/api/*`` onto an API are compared by ``runbook_lib.runbook.path_fixes``.
"""

from __future__ import annotations

from runbook_lib.aws import path_stack
from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.runbook import path_fixes
from runbook_lib.runbook.pitfall_steps import Markdown, Steps
from runbook_lib.runbook.pitfalls.lab import Lab
from runbook_lib.runbook.pitfalls.outcome import Outcome

__all__ = ["api_prefix_steps"]

_FIX_ID = "path-fix-api-resource"


class _ApiPrefix(Steps):
    def _where(self) -> str:
        where = path_stack.locate(self.lab.target, self.lab.paths_stack)
        return f"distribution {where.distribution_id} ({where.domain})"

    def _configure(self) -> str:
        self.lab.ensure("paths")
        return Markdown(f"**Configured**: an API with root routes only (`/items`, `/items/{{proxy+}}`, stage prod) "
                        f"behind OriginPath `/prod`, on {self._where()} (deployed with the rest of the lab).")

    def _symptom(self) -> None:
        before = path_fixes.show_symptom(self.lab.target, self.lab.paths_stack)
        self.outcome.before = [path_fixes.evidence("API with root routes only, OriginPath /prod", before)]
        # The symptom is API Gateway's own answer: the same words from anyone else are not it.
        self.outcome.symptom_seen = (before.status == 403 and before.served_by == "api-gateway"
                                     and "Missing Authentication Token" in str(before.get("response.body")))

    def _fix(self) -> str:
        path_stack.add_api_resource(self.lab.target, self.lab.paths_stack)
        return Markdown("**Fix**: API Gateway: `/api` and `/api/{proxy+}` (ANY → the function) added, stage prod "
                        f"redeployed. CloudFront is unchanged ({self._where()}): an API change needs no "
                        "CloudFront propagation.")

    def _verify(self) -> None:
        fixed = path_fixes.probe_fix(self.lab.target, self.lab.paths_stack, _FIX_ID)
        self.outcome.after = [path_fixes.evidence(_FIX_ID, o) for o in fixed.observed]
        self.outcome.fix_verified = fixed.verified


def api_prefix_steps(lab: Lab) -> Steps:
    out = Outcome(
        "api-prefix-missing-route",
        "GET /api/items answers 403 {\"message\":\"Missing Authentication Token\"} although the API has /items.",
        "CloudFront forwards the full viewer path and prefixes OriginPath: /api/items reaches the API as "
        "/prod/api/items, and API Gateway answers 403 'Missing Authentication Token' for a route it does not have.",
        cloudfront_guide("DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath"),
        "Give the API an /api resource (the other three ways are compared below the pitfalls).",
    )
    return _ApiPrefix(lab, out)
