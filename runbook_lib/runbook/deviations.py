"""Where the embedded local AWS (MiniStack 1.5.33) is known to differ from AWS.

Each entry is written up in docs/deviations.md (a test keeps the two in step). A check whose
observation differs from AWS's documented behaviour *and* is explained by one of these is reported
as ``deviation``, never as a pass or a fail of AWS. On ``target="aws"`` no deviation applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.behaviors import EXECUTE_API, Behavior
from runbook_lib.runbook.probes import ABSENT, Probe

__all__ = ["BY_ID", "DEVIATIONS", "Context", "Deviation", "Match", "explain", "table"]


@dataclass(frozen=True)
class Context:
    """One (probe, check) whose observation did not match the expectation."""

    #: The behavior that served the probe, compiled by the model from the AWS form of the config.
    behavior: Behavior
    probe: Probe
    check: str
    expected: Any
    observed: Any
    #: The status the probe's response had (every check of a probe shares it).
    status: int | None = None


@dataclass(frozen=True)
class Match:
    """A value a deviation excuses, said in words and tested on a context."""

    text: str
    test: Callable[[Context, Any], bool]


def _is(*values: Any) -> Match:
    return Match(" or ".join(repr(v) for v in values), lambda _c, v: v in values)


def _pattern(regex: str) -> Match:
    compiled = re.compile(regex)
    return Match(f"matching /{regex}/", lambda _c, v: isinstance(v, str) and compiled.search(v) is not None)


def _sent(header: str) -> Match:
    """The value the probe itself sent for ``header``."""
    return Match(f"the {header} the viewer sent",
                 lambda c, v: v != ABSENT and v == c.probe.header_dict().get(header))


def _by_check(values: dict[str, Any]) -> Match:
    return Match(", ".join(f"{k}={v!r}" for k, v in values.items()),
                 lambda c, v: c.check in values and v == values[c.check])


def _cookie_names(value: Any) -> list[str]:
    return [c.strip() for c in str(value).split(";") if c.strip()]


_SAME_COOKIES_REORDERED = Match(
    "the expected cookies in another order",
    lambda c, v: v not in (ABSENT, c.expected) and sorted(_cookie_names(v)) == sorted(_cookie_names(c.expected)),
)
_NOT_ABSENT = Match("a value (not absent)", lambda _c, v: v != ABSENT)
_SCHEME = Match("the viewer's scheme (what the runbook sends to tell MiniStack an HTTPS viewer)",
                lambda c, v: v == c.probe.scheme)


#: What CloudFront sends as Host when it does not forward the viewer's: the API origin's own domain name
#: (``{id}.execute-api.{region}.amazonaws.com`` or an API Gateway custom domain), which a replay keeps as the origin.
_OWN_DOMAIN = Match(f"the API origin's own domain name (e.g. matching /{EXECUTE_API.pattern}/)",
                    lambda c, v: c.behavior.origin is not None and isinstance(v, str) and v != ""
                    and (v == c.behavior.origin.domain or EXECUTE_API.search(v) is not None))


def _always(_ctx: Context) -> bool:
    return True


@dataclass(frozen=True)
class Deviation:
    """A documented difference of the local emulator, and exactly what it excuses.

    It excuses a mismatch only when the check is one of ``checks``, ``when`` holds for the configuration
    and request (said in ``condition``), the expected value matches ``expected`` and the observed value
    matches ``observed``. A deviation with no ``checks`` is documentation only: no probe check meets it.
    """

    id: str
    title: str
    checks: frozenset[str] = field(default_factory=frozenset)
    condition: str = ""
    when: Callable[[Context], bool] = _always
    expected: Match | None = None
    observed: Match | None = None

    def excuses(self, ctx: Context) -> bool:
        return (ctx.check in self.checks and self.expected is not None and self.observed is not None
                and self.when(ctx) and self.expected.test(ctx, ctx.expected)
                and self.observed.test(ctx, ctx.observed))

    def scope(self) -> str:
        """What it excuses, in words ('' for a documentation-only deviation)."""
        if not self.checks or self.expected is None or self.observed is None:
            return ""
        return (f"{', '.join(sorted(self.checks))} when {self.condition}: expected {self.expected.text}, "
                f"observed {self.observed.text}")


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_AUTH = frozenset({"api.header.authorization"})

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "legacy-write-drops-authorization",
        "Legacy settings: MiniStack drops Authorization on POST/PUT/PATCH/DELETE; AWS's header table keeps it.",
        _AUTH, "legacy settings, a POST/PUT/PATCH/DELETE",
        lambda c: c.behavior.legacy and c.probe.method in _WRITES,
        _sent("Authorization"), _is(ABSENT),
    ),
    Deviation(
        "legacy-drops-content-type",
        "Legacy settings with no header allow list: MiniStack drops Content-Type on POST; AWS forwards it.",
        frozenset({"api.header.content-type"}), "legacy settings not naming Content-Type, a POST",
        lambda c: c.behavior.legacy and c.probe.method == "POST" and not c.behavior.headers.includes("content-type"),
        _sent("Content-Type"), _is(ABSENT),
    ),
    Deviation(
        "legacy-options-drops-authorization",
        "Legacy settings, uncached OPTIONS: MiniStack drops Authorization; AWS forwards it.",
        _AUTH, "legacy settings, an OPTIONS that is not cached",
        lambda c: c.behavior.legacy and c.probe.method == "OPTIONS" and "OPTIONS" not in c.behavior.cached,
        _sent("Authorization"), _is(ABSENT),
    ),
    Deviation(
        "allviewer-403-from-cloudfront",
        "Viewer Host forwarded to the API origin: the 403 comes from MiniStack's CloudFront handler (the "
        "Host loops back into it), not from API Gateway's {\"message\":\"Forbidden\"}.",
        frozenset({"served_by"}), "the behavior forwards the viewer's Host to a custom origin and the answer is 403",
        lambda c: c.behavior.headers.includes("host") and c.behavior.origin is not None
        and c.behavior.origin.is_custom and c.status == 403,
        _is("api-gateway"), _is("cloudfront"),
    ),
    Deviation(
        "get-body-forwarded",
        "GET with a body is forwarded to the origin; AWS answers 403 itself.",
        frozenset({"status", "served_by"}), "a GET with a body",
        lambda c: c.probe.method == "GET" and c.probe.body is not None,
        _by_check({"status": 403, "served_by": "cloudfront"}), _by_check({"status": 200, "served_by": "api"}),
    ),
    Deviation(
        "cookie-order-kept",
        "Forwarded cookies keep the viewer's order; AWS sorts them by name.",
        frozenset({"api.header.cookie"}), "the behavior forwards cookies",
        lambda c: c.behavior.cookies.kind != "none",
        _NOT_ABSENT, _SAME_COOKIES_REORDERED,
    ),
    Deviation(
        "accept-encoding-not-normalised",
        "Accept-Encoding is not normalised: the origin sees 'identity' (added by Python's http.client).",
        frozenset({"api.header.accept-encoding"}), "any configuration",
        _always,
        Match("anything but 'identity'", lambda _c, v: v != "identity"), _is("identity"),
    ),
    Deviation(
        "x-forwarded-proto-forwarded",
        "Under all-viewer policies the viewer's X-Forwarded-Proto reaches the origin; AWS removes it. "
        "(MiniStack reads it to tell an HTTPS viewer.)",
        frozenset({"api.header.x-forwarded-proto"}), "an all-viewer origin request policy",
        lambda c: c.behavior.all_viewer_orp,
        _is(ABSENT), _SCHEME,
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
        frozenset({"api.header.host"}), "the API origin's Host reaches it (any configuration that does not "
        "forward the viewer's Host)",
        lambda c: not c.behavior.headers.includes("host"),
        _OWN_DOMAIN, _is("localhost"),
    ),
)

BY_ID = {d.id: d for d in DEVIATIONS}


def explain(ctx: Context) -> Deviation | None:
    """The known deviation that excuses exactly this mismatch on the local target, if any."""
    return next((d for d in DEVIATIONS if d.excuses(ctx)), None)


def table(results: Any = None) -> list[dict[str, Any]]:
    """Every documented deviation, with how many checks of ``results`` (a results table) it explained."""
    seen: dict[str, int] = {}
    if results is not None and len(results):
        for note in results.loc[results["verdict"] == "deviation", "note"]:
            dev_id = str(note).split(":", 1)[0].strip()
            seen[dev_id] = seen.get(dev_id, 0) + 1
    return [{"deviation": d.id, "what MiniStack does": d.title, "what it excuses": d.scope() or "(no probe check)",
             "checks it explained here": seen.get(d.id, 0)} for d in DEVIATIONS]
