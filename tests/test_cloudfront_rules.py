"""Issue 14: the model's fidelity rules, table-driven, each row citing the AWS page it rests on.

- which viewer headers reach the origin regardless of policy (Origin and the CORS preflight headers);
- the config errors for values AWS refuses (enums, method sets, custom header names, DefaultRootObject);
- the enums come from botocore's service model: the shipped copy is regenerated and compared;
- a property test: every config the model accepts also passes botocore's validation of the request
  (ParamValidator, plus the enums botocore's model declares but its validator does not check).
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any, NamedTuple

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_lib import diagnose, simulate
from runbook_lib.cloudfront import policies as managed
from runbook_lib.cloudfront.cautions import CAUTION_LEGACY_ORIGIN
from runbook_lib.cloudfront.docs import cloudfront_api, cloudfront_guide
from runbook_lib.cloudfront.fixes import apply_patch
from runbook_lib.cloudfront.rules.config import config_issues

try:
    from tests.model_fixtures import ALL_METHODS, behavior, dig, dist, legacy_fv, qi, req
except ImportError:  # pragma: no cover
    from model_fixtures import ALL_METHODS, behavior, dig, dist, legacy_fv, qi, req  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
CONTROL = cloudfront_guide("controlling-origin-requests.html")
CORS = cloudfront_guide("RequestAndResponseBehaviorCustomOrigin.html#request-custom-cors")
MANAGED_ORP = cloudfront_guide("using-managed-origin-request-policies.html")
MANAGED_CP = cloudfront_guide("using-managed-cache-policies.html")
HEADER_CACHING = cloudfront_guide("header-caching.html")
DENYLIST = cloudfront_guide("add-origin-custom-headers.html#add-origin-custom-headers-denylist")
DIST_API = cloudfront_api("API_DistributionConfig.html")
BEHAVIOR_API = cloudfront_api("API_CacheBehavior.html")
METHODS = cloudfront_guide("DownloadDistValuesCacheBehavior.html#DownloadDistValuesAllowedHTTPMethods")
CP_API = cloudfront_api("API_CachePolicyHeadersConfig.html")
ORP_API = cloudfront_api("API_OriginRequestPolicyHeadersConfig.html")

PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def cache_policy(
    headers: str = "none", cookies: str = "none", query: str = "none", names: list[str] | None = None
) -> dict[str, Any]:
    hc: dict[str, Any] = {"HeaderBehavior": headers}
    if names:
        hc["Headers"] = qi(names)
    return {
        "CachePolicyConfig": {
            "Name": "custom-cp",
            "MinTTL": 0,
            "DefaultTTL": 60,
            "MaxTTL": 60,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": False,
                "EnableAcceptEncodingBrotli": False,
                "HeadersConfig": hc,
                "CookiesConfig": {"CookieBehavior": cookies},
                "QueryStringsConfig": {"QueryStringBehavior": query},
            },
        }
    }


def origin_request_policy(
    headers: str = "none", cookies: str = "none", query: str = "none", names: list[str] | None = None
) -> dict[str, Any]:
    hc: dict[str, Any] = {"HeaderBehavior": headers}
    if names:
        hc["Headers"] = qi(names)
    return {
        "OriginRequestPolicyConfig": {
            "Name": "custom-orp",
            "HeadersConfig": hc,
            "CookiesConfig": {"CookieBehavior": cookies},
            "QueryStringsConfig": {"QueryStringBehavior": query},
        }
    }


# --- 1. Origin and the preflight headers ------------------------------------------------------------


class Forwarding(NamedTuple):
    id: str
    source: str
    config: dict[str, Any]
    header: str
    forwarded: bool
    policies: dict[str, Any] | None = None


def _api(**kw: Any) -> dict[str, Any]:
    return dist(behavior("/api/*", **kw))


FORWARDING = [
    Forwarding("caching-disabled-alone", CONTROL, _api(), "origin", False),
    Forwarding("user-agent-referer-orp", CONTROL, _api(orp=managed.USER_AGENT_REFERER_HEADERS), "origin", False),
    Forwarding("caching-optimized", CONTROL, _api(cache=managed.CACHING_OPTIMIZED), "origin", False),
    Forwarding("cors-custom-origin", MANAGED_ORP, _api(orp=managed.CORS_CUSTOM_ORIGIN), "origin", True),
    Forwarding(
        "cors-custom-origin-no-acrm",
        MANAGED_ORP,
        _api(orp=managed.CORS_CUSTOM_ORIGIN),
        "access-control-request-method",
        False,
    ),
    Forwarding("cors-s3-origin", MANAGED_ORP, _api(orp=managed.CORS_S3_ORIGIN), "origin", True),
    Forwarding(
        "cors-s3-origin-acrm", MANAGED_ORP, _api(orp=managed.CORS_S3_ORIGIN), "access-control-request-method", True
    ),
    Forwarding(
        "cors-s3-origin-acrh", MANAGED_ORP, _api(orp=managed.CORS_S3_ORIGIN), "access-control-request-headers", True
    ),
    Forwarding("all-viewer-except-host", MANAGED_ORP, _api(orp=managed.ALL_VIEWER_EXCEPT_HOST_HEADER), "origin", True),
    Forwarding(
        "all-viewer-except-host-acrh",
        MANAGED_ORP,
        _api(orp=managed.ALL_VIEWER_EXCEPT_HOST_HEADER),
        "access-control-request-headers",
        True,
    ),
    Forwarding("all-viewer", MANAGED_ORP, _api(orp=managed.ALL_VIEWER), "origin", True),
    Forwarding(
        "use-origin-cache-control-keys-origin",
        MANAGED_CP,
        dist(behavior("/app/*", "app", cache=managed.USE_ORIGIN_CACHE_CONTROL_HEADERS)),
        "origin",
        True,
    ),
    Forwarding(
        "custom-orp-allow-list",
        CONTROL,
        _api(orp="orp-1"),
        "origin",
        True,
        {"orp-1": origin_request_policy("whitelist", names=["Origin"])},
    ),
    Forwarding(
        "custom-orp-all-except-origin",
        CONTROL,
        _api(orp="orp-1"),
        "origin",
        False,
        {"orp-1": origin_request_policy("allExcept", names=["Origin", "Host"])},
    ),
    Forwarding("legacy-no-allow-list", CORS, _api(legacy=legacy_fv(query=True)), "origin", False),
    Forwarding("legacy-allow-list", HEADER_CACHING, _api(legacy=legacy_fv(headers=["Origin"])), "origin", True),
    Forwarding(
        "legacy-all-headers",
        HEADER_CACHING,
        dist(behavior("/app/*", "app", legacy=legacy_fv(headers=["*"]))),
        "origin",
        True,
    ),
]


@pytest.mark.parametrize("row", FORWARDING, ids=[r.id for r in FORWARDING])
def test_origin_and_preflight_headers(row: Forwarding) -> None:
    path = "/app/x" if row.config["CacheBehaviors"]["Items"][0]["PathPattern"] == "/app/*" else "/api/x"
    result = simulate(row.config, req("OPTIONS", path=path, headers=PREFLIGHT), row.policies)
    assert result.config_errors == []
    headers = dig(result.to_dict(), "origin_request.headers")
    assert (row.header in headers) is row.forwarded, row.source
    if row.forwarded:
        assert headers[row.header] == PREFLIGHT[next(k for k in PREFLIGHT if k.lower() == row.header)]


def test_legacy_origin_dropped_is_a_caution() -> None:
    # The header table lists Origin as forwarded; the CORS section says to configure it (doubtful point 11).
    dropped = simulate(_api(legacy=legacy_fv(query=True)), req(headers=PREFLIGHT))
    kept = simulate(_api(legacy=legacy_fv(headers=["Origin"])), req(headers=PREFLIGHT))
    assert CAUTION_LEGACY_ORIGIN in dropped.cautions
    assert CAUTION_LEGACY_ORIGIN not in kept.cautions


def test_framing_headers_still_forwarded_under_policies() -> None:
    # RequestAndResponseBehaviorCustomOrigin.html header table: Content-Type/Content-Length are forwarded;
    # the body CloudFront always forwards (controlling-origin-requests.html) needs them.
    out = simulate(_api(), req("POST", headers={"Content-Type": "application/json", "Content-Length": "2"}))
    headers = dig(out.to_dict(), "origin_request.headers")
    assert headers["content-type"] == "application/json" and headers["content-length"] == "2"


# --- 2. Config errors --------------------------------------------------------------------------------


class Invalid(NamedTuple):
    id: str
    source: str
    config: dict[str, Any]
    code: str
    status: int
    pointer: str
    policies: dict[str, Any] | None = None
    fixable: bool = False


def _origin_header(name: str) -> dict[str, Any]:
    cfg = dist(behavior("/app/*", "app"))
    cfg["Origins"]["Items"][2]["CustomHeaders"] = qi(
        [{"HeaderName": "X-Origin-Secret", "HeaderValue": "s"}, {"HeaderName": name, "HeaderValue": "v"}]
    )
    return cfg


def _with(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg = copy.deepcopy(base) if base is not None else dist(behavior("/api/*"))
    return apply_patch(
        cfg, [{"op": "replace" if path.rsplit("/", 1)[-1] in _walk(cfg, path) else "add", "path": path, "value": value}]
    )


def _walk(cfg: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = cfg
    for part in path.split("/")[1:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return dict(node)


B0 = "/CacheBehaviors/Items/0"
INVALID = [
    *(
        Invalid(
            f"custom-header-{name}",
            DENYLIST,
            _origin_header(name),
            "InvalidArgument",
            400,
            "/Origins/Items/2/CustomHeaders",
            fixable=True,
        )
        for name in (
            "Host",
            "X-Amz-Date",
            "x-amz-security-token",
            "X-Edge-Location",
            "X-Real-IP",
            "Cache-Control",
            "Via",
            "Cookie",
            "If-Range",
        )
    ),
    Invalid(
        "default-root-object-slash",
        DIST_API,
        _with("/DefaultRootObject", "/index.html"),
        "InvalidDefaultRootObject",
        400,
        "/DefaultRootObject",
        fixable=True,
    ),
    Invalid(
        "viewer-protocol-enum",
        BEHAVIOR_API,
        _with(f"{B0}/ViewerProtocolPolicy", "https"),
        "InvalidArgument",
        400,
        f"{B0}/ViewerProtocolPolicy",
    ),
    Invalid(
        "origin-protocol-enum",
        cloudfront_api("API_CustomOriginConfig.html"),
        _with("/Origins/Items/0/CustomOriginConfig/OriginProtocolPolicy", "https"),
        "InvalidArgument",
        400,
        "/Origins/Items/0/CustomOriginConfig/OriginProtocolPolicy",
    ),
    *(
        Invalid(
            name, METHODS, dist(behavior("/api/*", **kw)), "InvalidArgument", 400, f"{B0}/AllowedMethods", fixable=True
        )
        for name, kw in (
            ("allowed-get-head-post", {"methods": ["GET", "HEAD", "POST"]}),
            ("allowed-get-only", {"methods": ["GET"]}),
            ("allowed-unknown-method", {"methods": ["GET", "HEAD", "TRACE"]}),
            ("cached-get-only", {"cached": ["GET"]}),
        )
    ),
    Invalid(
        "legacy-cookie-forward-enum",
        cloudfront_api("API_CookiePreference.html"),
        dist(behavior("/api/*", legacy=legacy_fv(query=True, cookies="some"))),
        "InvalidArgument",
        400,
        f"{B0}/ForwardedValues/Cookies/Forward",
    ),
    *(
        Invalid(
            f"orp-{name}",
            ORP_API,
            _api(orp="orp-1"),
            "InvalidArgument",
            400,
            f"{B0}/OriginRequestPolicyId",
            {"orp-1": pol},
        )
        for name, pol in (
            ("header-all", origin_request_policy("all")),
            ("cookie-allviewer", origin_request_policy(cookies="allViewer")),
        )
    ),
    *(
        Invalid(f"cp-{name}", CP_API, _api(cache="cp-1"), "InvalidArgument", 400, f"{B0}/CachePolicyId", {"cp-1": pol})
        for name, pol in (
            ("header-allviewer", cache_policy("allViewer")),
            ("header-all", cache_policy("all")),
            ("cookie-allviewer", cache_policy(cookies="allViewer")),
            ("query-some", cache_policy(query="some")),
        )
    ),
]

VALID = [
    ("custom-header-allowed", DENYLIST, _origin_header("X-Api-Key"), None),
    ("custom-header-authorization", DENYLIST, _origin_header("Authorization"), None),
    ("default-root-object", DIST_API, _with("/DefaultRootObject", "index.html"), None),
    ("viewer-protocol", BEHAVIOR_API, _with(f"{B0}/ViewerProtocolPolicy", "redirect-to-https"), None),
    ("get-head", METHODS, dist(behavior("/api/*", methods=["GET", "HEAD"])), None),
    (
        "get-head-options-cached",
        METHODS,
        dist(behavior("/api/*", methods=["GET", "HEAD", "OPTIONS"], cached=["GET", "HEAD", "OPTIONS"])),
        None,
    ),
    ("all-seven-any-order", METHODS, dist(behavior("/api/*", methods=list(reversed(ALL_METHODS)))), None),
    (
        "orp-all-viewer",
        ORP_API,
        _api(orp="orp-1"),
        {"orp-1": origin_request_policy("allViewer", "all", "allExcept", ["x"])},
    ),
    ("cp-all-except", CP_API, _api(cache="cp-1"), {"cp-1": cache_policy("whitelist", "allExcept", "all", ["X-Key"])}),
]


@pytest.mark.parametrize("row", INVALID, ids=[r.id for r in INVALID])
def test_invalid_value_is_a_config_error(row: Invalid) -> None:
    errors = simulate(row.config, req(), row.policies).config_errors
    assert [(e["status"], e["code"]) for e in errors] == [(row.status, row.code)], row.source
    issue = config_issues(row.config, row.policies)[0]
    assert issue.pointer == row.pointer and issue.doc_url.split("#")[0] == row.source.split("#")[0]
    findings = [f for f in diagnose(row.config, row.policies) if f.code == "config-error"]
    assert len(findings) == 1 and findings[0].doc_url == issue.doc_url
    if row.fixable:
        assert findings[0].fixed_config is not None
        assert simulate(findings[0].fixed_config, req(), row.policies).config_errors == []


@pytest.mark.parametrize("row", VALID, ids=[r[0] for r in VALID])
def test_valid_value_is_accepted(row: tuple[str, str, dict[str, Any], dict[str, Any] | None]) -> None:
    _, source, config, policies = row
    assert simulate(config, req(), policies).config_errors == [], source


# --- 3. The enums are botocore's ---------------------------------------------------------------------


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("cloudfront_enums", ROOT / "tools" / "cloudfront_enums.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cloudfront_enums", module)
    spec.loader.exec_module(module)
    return module


def test_shipped_enums_match_botocore() -> None:
    tool = _tool()
    shipped = tool.OUTPUT.read_text("utf-8")
    assert shipped == tool.render(tool.build()), "run: .venv/bin/python tools/cloudfront_enums.py"


# --- 4. Property: what the model accepts, botocore accepts ------------------------------------------

_MODEL = botocore.session.get_session().get_service_model("cloudfront")


def _enum_errors(value: Any, shape: Shape, where: str = "") -> list[str]:
    # botocore's ParamValidator checks types and required members but not enums; the model has them.
    out: list[str] = []
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        out.append(f"{where}: {value!r} not in {shape.enum}")
    elif shape.type_name == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():  # type: ignore[attr-defined]
            if key in value:
                out += _enum_errors(value[key], member, f"{where}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            out += _enum_errors(item, shape.member, f"{where}[{i}]")  # type: ignore[attr-defined]
    return out


def botocore_errors(operation: str, params: dict[str, Any]) -> list[str]:
    shape = _MODEL.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    return ([report.generate_report()] if report.has_errors() else []) + _enum_errors(params, shape)


def test_botocore_check_can_fail() -> None:
    assert botocore_errors("CreateCachePolicy", cache_policy("allViewer"))
    assert botocore_errors("CreateOriginRequestPolicy", {"OriginRequestPolicyConfig": {"Name": "x"}})
    assert botocore_errors("CreateCachePolicy", cache_policy("whitelist", names=["X"])) == []


FIELDS = ("viewer", "cookies", "header-name", "origin-protocol", "root", "methods", "cp", "orp")


def _value(draw: st.DrawFn, bad: bool, shape: str, *wrong: str) -> str:
    # Valid (from botocore's own enum) unless this is the one field the example breaks.
    choices = list(wrong) if bad else list(_MODEL.shape_for(shape).enum)  # type: ignore[attr-defined]
    return draw(st.sampled_from(choices))


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A config with at most one field broken (None: all valid), so that many examples are accepted."""
    broken = draw(st.sampled_from((None, None, None, *FIELDS)))
    cache = draw(st.sampled_from(["cp-1", managed.CACHING_DISABLED, None]))
    methods = [["GET", "HEAD"], ["GET", "HEAD", "OPTIONS"], ALL_METHODS]
    b = behavior(
        "/api/*",
        methods=draw(st.sampled_from([["GET", "HEAD", "TRACE"], ["GET"]] if broken == "methods" else methods)),
        cached=draw(st.sampled_from([["GET", "HEAD"], ["GET", "HEAD", "OPTIONS"]])),
        protocol=_value(draw, broken == "viewer", "ViewerProtocolPolicy", "https", "HTTPS-ONLY"),
        cache=cache,
        orp=draw(st.sampled_from(["orp-1", managed.ALL_VIEWER_EXCEPT_HOST_HEADER, None])) if cache else None,
        legacy=None
        if cache
        else legacy_fv(query=True, cookies=_value(draw, broken == "cookies", "ItemSelection", "some")),
    )
    if b["AllowedMethods"]["Items"] == ["GET", "HEAD"]:
        b["AllowedMethods"]["CachedMethods"] = qi(["GET", "HEAD"])
    cfg = dist(b)
    app = cfg["Origins"]["Items"][2]
    names = (
        ["Host", "X-Amz-Date", "X-Edge-Id", "Via", "X-Real-Ip"]
        if broken == "header-name"
        else ["X-Api-Key", "X-Origin-Secret"]
    )
    app["CustomHeaders"] = qi([{"HeaderName": draw(st.sampled_from(names)), "HeaderValue": "v"}])
    app["CustomOriginConfig"]["OriginProtocolPolicy"] = _value(
        draw, broken == "origin-protocol", "OriginProtocolPolicy", "https"
    )
    root = draw(st.sampled_from(["/index.html", "/"] if broken == "root" else ["", "index.html"]))
    if root:
        cfg["DefaultRootObject"] = root
    cp_bad, orp_bad = broken == "cp", broken == "orp"
    pols = {
        "cp-1": cache_policy(
            _value(draw, cp_bad, "CachePolicyHeaderBehavior", "allViewer", "all"),
            _value(draw, cp_bad, "CachePolicyCookieBehavior", "allViewer"),
            _value(draw, cp_bad, "CachePolicyQueryStringBehavior", "some"),
            ["X-Key"],
        ),
        "orp-1": origin_request_policy(
            _value(draw, orp_bad, "OriginRequestPolicyHeaderBehavior", "all"),
            _value(draw, orp_bad, "OriginRequestPolicyCookieBehavior", "allViewer"),
            _value(draw, orp_bad, "OriginRequestPolicyQueryStringBehavior", "some"),
            ["X-Key"],
        ),
    }
    return cfg, pols


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_what_the_model_accepts_botocore_accepts(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    cfg, pols = case
    if simulate(cfg, req(), pols).config_errors:
        return
    b = cfg["CacheBehaviors"]["Items"][0]
    assert botocore_errors("UpdateDistribution", {"Id": "E1", "IfMatch": "E2", "DistributionConfig": cfg}) == []
    if b.get("CachePolicyId") == "cp-1":
        assert botocore_errors("CreateCachePolicy", pols["cp-1"]) == []
    if b.get("OriginRequestPolicyId") == "orp-1":
        assert botocore_errors("CreateOriginRequestPolicy", pols["orp-1"]) == []


def test_the_property_is_not_vacuous() -> None:
    # Enough generated configs must be accepted for the property above to say something.
    accepted: list[bool] = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(configs())
    def count(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
        accepted.append(not simulate(case[0], req(), case[1]).config_errors)

    count()
    assert sum(accepted) >= 20, f"only {sum(accepted)} of {len(accepted)} generated configs were accepted"


# --- 5. The explainer's CORS section ------------------------------------------------------------------


def test_explainer_cors_table() -> None:
    # using-managed-origin-request-policies.html: CORS-CustomOrigin = Origin; CORS-S3Origin adds the two
    # Access-Control-Request-* headers; http-403-invalid-method.html: OPTIONS not allowed → 403 at the edge.
    from runbook_lib.runbook import explain

    table = explain.cors_preflight_table().set_index("setup")
    absent = explain.NOT_FORWARDED
    alone = table.loc["CachingDisabled alone"]
    assert (alone["Origin"], alone["Access-Control-Request-Method"]) == (absent, absent)
    custom = table.loc["CachingDisabled + CORS-CustomOrigin"]
    assert custom["Origin"] != absent and custom["Access-Control-Request-Method"] == absent
    for setup in ("CachingDisabled + CORS-S3Origin", "CachingDisabled + AllViewerExceptHostHeader"):
        row = table.loc[setup]
        assert absent not in (
            row["Origin"],
            row["Access-Control-Request-Method"],
            row["Access-Control-Request-Headers"],
        )
    assert table.loc["AllViewerExceptHostHeader, methods GET/HEAD only", "preflight"] == "403 at the edge"


def test_explainer_notebook_mentions_cors() -> None:
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "00_explainer.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in nb.cells)
    assert "CORS-CustomOrigin" in text and "AllViewerExceptHostHeader" in text
    assert "OPTIONS must be an allowed method" in text and "cors_preflight_table" in text
