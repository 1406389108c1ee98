"""Where the embedded local AWS (MiniStack 1.5.33) is known to differ from AWS.

Each entry is written up in docs/deviations.md (a test keeps the two in step). A check whose
observation differs from AWS's documented behaviour *and* is explained by one of these is reported
as ``deviation``, never as a pass or a fail of AWS. On ``target="aws"`` no deviation applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runbook_lib.runbook.probes import ABSENT, Probe


@dataclass(frozen=True)
class Context:
    """One (probe, check) whose observation did not match the expectation."""

    behavior: dict[str, Any]
    probe: Probe
    check: str
    expected: Any
    observed: Any


@dataclass(frozen=True)
class Deviation:
    id: str
    title: str
    #: Whether this deviation explains a mismatch; None for one that no probe of ours can meet.
    applies: Callable[[Context], bool] | None = None


def _legacy(ctx: Context) -> bool:
    return "ForwardedValues" in ctx.behavior


def _cookie_names(value: Any) -> list[str]:
    return [c.strip() for c in str(value).split(";") if c.strip()]


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "legacy-write-drops-authorization",
        "Legacy settings: MiniStack drops Authorization on POST/PUT/PATCH/DELETE; AWS's header table keeps it.",
        lambda c: _legacy(c) and c.probe.method in {"POST", "PUT", "PATCH", "DELETE"}
        and c.check == "api.header.authorization" and c.observed == ABSENT,
    ),
    Deviation(
        "legacy-drops-content-type",
        "Legacy settings with no header allow list: MiniStack drops Content-Type on POST; AWS forwards it.",
        lambda c: _legacy(c) and c.check == "api.header.content-type" and c.observed == ABSENT,
    ),
    Deviation(
        "legacy-options-drops-authorization",
        "Legacy settings, uncached OPTIONS: MiniStack drops Authorization; AWS forwards it.",
        lambda c: _legacy(c) and c.probe.method == "OPTIONS" and c.check == "api.header.authorization"
        and c.observed == ABSENT,
    ),
    Deviation(
        "allviewer-403-from-cloudfront",
        "Viewer Host forwarded to the API origin: the 403 comes from MiniStack's CloudFront handler (the "
        "Host loops back into it), not from API Gateway's {\"message\":\"Forbidden\"}.",
        lambda c: c.check == "served_by" and c.expected == "api-gateway" and c.observed in {"cloudfront", "s3"},
    ),
    Deviation(
        "get-body-forwarded",
        "GET with a body is forwarded to the origin; AWS answers 403 itself.",
        lambda c: c.probe.method == "GET" and c.probe.body is not None and c.check in {"status", "served_by"},
    ),
    Deviation(
        "cookie-order-kept",
        "Forwarded cookies keep the viewer's order; AWS sorts them by name.",
        lambda c: c.check == "api.header.cookie" and c.observed != ABSENT and c.expected != ABSENT
        and sorted(_cookie_names(c.observed)) == sorted(_cookie_names(c.expected)),
    ),
    Deviation(
        "accept-encoding-not-normalised",
        "Accept-Encoding is not normalised: the origin sees 'identity' (added by Python's http.client).",
        lambda c: c.check == "api.header.accept-encoding",
    ),
    Deviation(
        "x-forwarded-proto-forwarded",
        "Under all-viewer policies the viewer's X-Forwarded-Proto reaches the origin; AWS removes it. "
        "(MiniStack reads it to tell an HTTPS viewer.)",
        lambda c: c.check == "api.header.x-forwarded-proto" and c.expected == ABSENT,
    ),
    Deviation("orp-authorization-accepted",
              "An origin request policy naming Authorization is accepted (AWS has rejected it with 400)."),
    Deviation("zero-ttl-key-accepted",
              "A cache policy with all TTLs 0 and headers in the cache key is accepted (AWS rejects it)."),
    Deviation("no-caching", "Nothing is cached: X-Cache is always 'Miss from cloudfront'. No Lambda@Edge, "
              "no CloudFront-Viewer-* headers."),
    Deviation("allowed-methods-omitted",
              "AllowedMethods omitted: nothing is enforced (AWS defaults to GET, HEAD)."),
    Deviation("s3-missing-key-403",
              "S3 default origin: a missing key gives 403 AccessDenied, never 404."),
    Deviation("mock-templates-unrendered",
              "REST API MOCK integrations return their response mapping templates unrendered."),
    Deviation("http-proxy-limits",
              "HTTP_PROXY integrations: {proxy} is not substituted and backend headers but Content-Type "
              "are dropped."),
    Deviation(
        "custom-domain-origin-unreachable",
        "An API Gateway custom domain name as CloudFront origin cannot be dialed (no DNS for it; MiniStack "
        "refuses AWS-owned hosts), so CloudFront answers 502. MiniStack does resolve base path mappings when "
        "a request reaches it with Host: <custom domain>, so path_fixes shows that side directly.",
    ),
    Deviation(
        "delete-resource-keeps-children",
        "API Gateway DeleteResource removes only the resource itself; its child resources stay, orphaned "
        "(AWS deletes them with it). path_fixes deletes deepest first, which is right on both.",
    ),
    Deviation(
        "local-origin-address",
        "The API origin is MiniStack's path-style URL (localhost, OriginPath "
        "/restapis/{id}/{stage}/_user_request_), not {id}.execute-api.{region}.amazonaws.com with "
        "OriginPath /{stage}, so the API sees Host: localhost; IP and localhost origins are accepted "
        "(AWS refuses IP origins).",
        lambda c: c.check == "api.header.host" and str(c.expected).endswith(".amazonaws.com")
        and c.observed == "localhost",
    ),
)

BY_ID = {d.id: d for d in DEVIATIONS}


def explain(ctx: Context) -> Deviation | None:
    """The known deviation that explains this mismatch on the local target, if any."""
    return next((d for d in DEVIATIONS if d.applies is not None and d.applies(ctx)), None)


def table(results: Any = None) -> list[dict[str, Any]]:
    """Every documented deviation, with how many checks of ``results`` (a results table) it explained."""
    seen: dict[str, int] = {}
    if results is not None and len(results):
        for note in results.loc[results["verdict"] == "deviation", "note"]:
            dev_id = str(note).split(":", 1)[0].strip()
            seen[dev_id] = seen.get(dev_id, 0) + 1
    return [{"deviation": d.id, "what MiniStack does": d.title, "checks it explained here": seen.get(d.id, 0)}
            for d in DEVIATIONS]
