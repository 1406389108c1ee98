"""policy_code: one cache-policy spec, checked in each rendering against the tool that reads it.

boto3 config -> botocore's own service model (Stubber); boto3 code -> executed; CloudFormation ->
cfn-lint's AWS schema; CDK -> the construct call executed under node with fakes that map the
behaviours the way aws-cdk-lib's cache-policy.ts does. cache_policy_problems() -> one case per CloudFront rule,
each citing where the rule comes from.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from botocore.stub import Stubber

from runbook_lib.errors import CachePolicyError, ConfigError, RunbookError
from runbook_lib.runbook import policy_code
from runbook_lib.runbook.policy_code import (
    API_AUTH_AND_QUERY,
    ZERO_TTL_AUTH_IN_KEY,
    CachePolicySpec,
    cache_policy_problems,
    check,
    to_boto3_code,
    to_cache_policy_config,
    to_cdk_typescript,
    to_cloudformation_yaml,
)

try:
    from tests import prerequisites
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import prerequisites  # type: ignore[no-redef]

MANAGED = Path(__file__).resolve().parents[1] / "runbook_lib" / "cloudfront" / "data" / "managed_policies.json"

#: Specs that CloudFront accepts, covering every behaviour of each list.
EVERY_SHAPE = CachePolicySpec(
    name="every_shape-1",
    comment="It's a \"quoted\" comment",
    min_ttl=5,
    default_ttl=60,
    max_ttl=3600,
    headers=("Authorization", "X-Api-Version"),
    query_strings=("whitelist", ("page", "limit")),
    cookies=("allExcept", ("tracking",)),
    gzip=True,
    brotli=True,
)
NOTHING_IN_KEY = CachePolicySpec(name="nothing-in-key", min_ttl=0, default_ttl=0, max_ttl=0)
ALL_COOKIES_DENY_QUERY = CachePolicySpec(
    name="cookies-all",
    max_ttl=10,
    query_strings=("allExcept", ("utm_source", "utm_medium")),
    cookies="all",
    gzip=True,
)
COOKIE_ALLOWLIST = CachePolicySpec(name="cookie-allowlist", max_ttl=1, cookies=("whitelist", ("session",)))
VALID_SPECS = [API_AUTH_AND_QUERY, EVERY_SHAPE, NOTHING_IN_KEY, ALL_COOKIES_DENY_QUERY, COOKIE_ALLOWLIST]
ALL_SPECS = [*VALID_SPECS, ZERO_TTL_AUTH_IN_KEY]


def _ids(spec: CachePolicySpec) -> str:
    return spec.name


def _lists_from_quantity_items(config: dict[str, Any]) -> dict[str, Any]:
    """boto3's {Quantity, Items} -> CloudFormation's plain list; an empty Comment is left out."""
    out: dict[str, Any] = json.loads(json.dumps(config))
    params = out["ParametersInCacheKeyAndForwardedToOrigin"]
    for section, key in (("HeadersConfig", "Headers"), ("CookiesConfig", "Cookies"),
                         ("QueryStringsConfig", "QueryStrings")):
        if key in params[section]:
            wrapped = params[section][key]
            assert wrapped["Quantity"] == len(wrapped["Items"])
            params[section][key] = wrapped["Items"]
    if out.get("Comment") == "":
        del out["Comment"]
    return out


# ------------------------------------------------------------------------------------- boto3 config


def _stubbed_client() -> Any:
    return boto3.client(
        "cloudfront", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _response(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "CachePolicy": {
            "Id": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
            "LastModifiedTime": "2026-11-28T00:00:00Z",
            "CachePolicyConfig": config,
        },
        "Location": "https://cloudfront.amazonaws.com/2020-05-31/cache-policy/a1b2c3d4",
        "ETag": "E2QWRUHEXAMPLE",
    }


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_config_is_valid_against_botocore_model(spec: CachePolicySpec) -> None:
    config = to_cache_policy_config(spec)
    client = _stubbed_client()
    with Stubber(client) as stubber:
        stubber.add_response("create_cache_policy", _response(config), {"CachePolicyConfig": config})
        result = client.create_cache_policy(CachePolicyConfig=config)
        stubber.assert_no_pending_responses()
    assert result["CachePolicy"]["CachePolicyConfig"]["Name"] == spec.name


def _enum_violations(shape: Any, value: Any, path: str) -> list[str]:
    """Param validation skips enums; walk the model and check them ourselves."""
    found: list[str] = []
    if shape.type_name == "structure":
        for key, sub in value.items():
            found += _enum_violations(shape.members[key], sub, f"{path}.{key}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            found += _enum_violations(shape.member, item, f"{path}[{i}]")
    elif getattr(shape, "enum", None) and value not in shape.enum:
        found.append(f"{path}={value!r} not in {shape.enum}")
    return found


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_config_behaviours_are_values_of_the_model_enums(spec: CachePolicySpec) -> None:
    model = botocore.session.get_session().get_service_model("cloudfront")
    shape = model.shape_for("CachePolicyConfig")
    assert _enum_violations(shape, to_cache_policy_config(spec), "CachePolicyConfig") == []


def test_enum_walk_catches_a_wrong_behaviour() -> None:
    model = botocore.session.get_session().get_service_model("cloudfront")
    config = to_cache_policy_config(API_AUTH_AND_QUERY)
    config["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["HeaderBehavior"] = "allViewer"
    assert _enum_violations(model.shape_for("CachePolicyConfig"), config, "c") != []


def test_wrong_shape_is_refused_by_stubber() -> None:
    """The Stubber check can fail: a CloudFormation-style plain list is not the API shape."""
    from botocore.exceptions import ParamValidationError

    config = to_cache_policy_config(API_AUTH_AND_QUERY)
    valid = json.loads(json.dumps(config))
    config["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"] = ["Authorization"]
    client = _stubbed_client()
    with Stubber(client) as stubber:
        stubber.add_response("create_cache_policy", _response(valid), {"CachePolicyConfig": config})
        with pytest.raises(ParamValidationError):
            client.create_cache_policy(CachePolicyConfig=config)


def test_api_auth_and_query_is_the_snippet() -> None:
    config = to_cache_policy_config(API_AUTH_AND_QUERY)
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (0, 0, 1)
    params = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": {"Quantity": 1, "Items": ["Authorization"]},
    }
    assert params["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert params["CookiesConfig"] == {"CookieBehavior": "none"}
    assert params["EnableAcceptEncodingGzip"] is False and params["EnableAcceptEncodingBrotli"] is False
    assert to_cache_policy_config(ZERO_TTL_AUTH_IN_KEY)["MaxTTL"] == 0


@pytest.mark.parametrize(
    ("managed_id", "spec"),
    [
        # Managed-CachingDisabled: all TTLs 0, nothing in the key, compression off.
        ("4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
         CachePolicySpec(name="Managed-CachingDisabled", min_ttl=0, default_ttl=0, max_ttl=0)),
        # UseOriginCacheControlHeaders: header allow-list, all cookies, gzip+brotli.
        ("83da9c7e-98b4-4e11-a168-04f0df8e2c65",
         CachePolicySpec(name="UseOriginCacheControlHeaders", min_ttl=0, default_ttl=0, max_ttl=31536000,
                         headers=("Host", "Origin", "X-HTTP-Method-Override", "X-HTTP-Method",
                                  "X-Method-Override"),
                         cookies="all", gzip=True, brotli=True)),
    ],
)
def test_config_matches_aws_managed_policy_shape(managed_id: str, spec: CachePolicySpec) -> None:
    """Our shape (no list for none/all) is the one AWS returns for its own managed policies."""
    managed = json.loads(MANAGED.read_text())["cache_policies"][managed_id]["CachePolicyConfig"]
    assert to_cache_policy_config(spec) == managed
    assert cache_policy_problems(spec) == []


# --------------------------------------------------------------------------------------- boto3 code


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_boto3_code_sends_exactly_the_config(
    spec: CachePolicySpec, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = to_cache_policy_config(spec)
    client = _stubbed_client()
    calls: list[tuple[Any, ...]] = []

    def fake_client(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return client

    monkeypatch.setattr(boto3, "client", fake_client)
    code = to_boto3_code(spec)
    with Stubber(client) as stubber:
        stubber.add_response("create_cache_policy", _response(config), {"CachePolicyConfig": config})
        exec(compile(code, "<generated boto3 code>", "exec"), {"__name__": "__generated__"})
        stubber.assert_no_pending_responses()
    assert calls == [("cloudfront",)]
    assert capsys.readouterr().out.strip() == "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_boto3_code_literal_is_python_not_json(spec: CachePolicySpec) -> None:
    tree = ast.parse(to_boto3_code(spec))
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)
               and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "CACHE_POLICY_CONFIG"]
    assert len(assigns) == 1
    assert ast.literal_eval(assigns[0].value) == to_cache_policy_config(spec)
    assert not re.search(r"\b(true|false|null)\b", ast.unparse(assigns[0].value))


def test_boto3_code_warns_about_the_broken_policy() -> None:
    assert "WARNING: CloudFront will reject this policy" in to_boto3_code(ZERO_TTL_AUTH_IN_KEY)
    assert "WARNING" not in to_boto3_code(API_AUTH_AND_QUERY)


def test_boto3_code_passes_ruff(tmp_path: Path) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        prerequisites.missing("ruff", "pip install -e '.[dev]'")
    long_comment = dataclasses.replace(EVERY_SHAPE, comment="c" * 128)
    paths = []
    for i, spec in enumerate([*ALL_SPECS, long_comment]):
        path = tmp_path / f"gen_{i}.py"
        path.write_text(to_boto3_code(spec))
        paths.append(str(path))
    proc = subprocess.run(
        [str(ruff), "check", "--no-cache", "--isolated", "--line-length", "110",
         "--select", "E,F,W,I,B,UP", *paths],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ----------------------------------------------------------------------------------- CloudFormation


def _break_property(template: str) -> str:
    assert "QueryStringBehavior:" in template
    return template.replace("QueryStringBehavior:", "QueryStringBehaviour:")


def _break_enum(template: str) -> str:
    assert "HeaderBehavior: whitelist" in template
    return template.replace("HeaderBehavior: whitelist", "HeaderBehavior: allViewer")


@pytest.fixture(scope="module")
def cfn_lint_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Run cfn-lint once, as a subprocess (its import can emit warnings that pytest turns into errors)."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        prerequisites.missing("cfn-lint", "pip install -e '.[dev]'")
    folder = tmp_path_factory.mktemp("cfn")
    files: dict[str, Path] = {}
    for spec in ALL_SPECS:
        files[spec.name] = folder / f"{spec.name}.yaml"
        files[spec.name].write_text(to_cloudformation_yaml(spec))
    files["custom-logical-id"] = folder / "custom-logical-id.yaml"
    files["custom-logical-id"].write_text(to_cloudformation_yaml(EVERY_SHAPE, logical_id="MyPolicy2"))
    files["broken-property"] = folder / "broken-property.yaml"
    files["broken-property"].write_text(_break_property(to_cloudformation_yaml(API_AUTH_AND_QUERY)))
    files["broken-enum"] = folder / "broken-enum.yaml"
    files["broken-enum"].write_text(_break_enum(to_cloudformation_yaml(API_AUTH_AND_QUERY)))
    proc = subprocess.run(
        [str(cfn_lint), "--format", "json", *map(str, files.values())],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.stdout.strip().startswith("["), proc.stdout + proc.stderr
    results = json.loads(proc.stdout)
    by_file: dict[str, list[dict[str, Any]]] = {key: [] for key in files}
    for finding in results:
        key = next(k for k, p in files.items() if Path(finding["Filename"]).name == p.name)
        by_file[key].append(finding)
    return by_file


@pytest.mark.parametrize("key", [s.name for s in ALL_SPECS] + ["custom-logical-id"])
def test_cloudformation_passes_cfn_lint(key: str, cfn_lint_findings: dict[str, list[dict[str, Any]]]) -> None:
    # ZERO_TTL_AUTH_IN_KEY passes too: the schema cannot express the all-zero-TTL rule, which is
    # why cache_policy_problems() exists (CloudFormation only fails at deploy time with "Invalid request").
    assert cfn_lint_findings[key] == []


def test_cfn_lint_catches_a_misspelt_property(cfn_lint_findings: dict[str, list[dict[str, Any]]]) -> None:
    findings = cfn_lint_findings["broken-property"]
    assert any(f["Level"] == "Error" for f in findings), findings
    assert any("QueryStringBehaviour" in f["Message"] for f in findings), findings


def test_cfn_lint_catches_a_wrong_behaviour(cfn_lint_findings: dict[str, list[dict[str, Any]]]) -> None:
    findings = cfn_lint_findings["broken-enum"]
    assert any(f["Level"] == "Error" and "allViewer" in f["Message"] for f in findings), findings


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_cloudformation_maps_to_the_boto3_config(spec: CachePolicySpec) -> None:
    template = yaml.safe_load(to_cloudformation_yaml(spec))
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Description"]
    resource = template["Resources"]["ApiCachePolicy"]
    assert resource["Type"] == "AWS::CloudFront::CachePolicy"
    expected = _lists_from_quantity_items(to_cache_policy_config(spec))
    assert resource["Properties"]["CachePolicyConfig"] == expected
    assert template["Outputs"]["ApiCachePolicyId"]["Value"] == {"Ref": "ApiCachePolicy"}


def test_cloudformation_refuses_a_bad_logical_id() -> None:
    with pytest.raises(ConfigError, match="logical IDs"):
        to_cloudformation_yaml(API_AUTH_AND_QUERY, logical_id="api-cache-policy")


def test_cloudformation_yaml_quotes_names_yaml_would_retype() -> None:
    spec = CachePolicySpec(
        name="yaml-traps", max_ttl=1, headers=("on",), query_strings=("whitelist", ("1", "null"))
    )
    config = yaml.safe_load(to_cloudformation_yaml(spec))["Resources"]["ApiCachePolicy"]["Properties"]
    params = config["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["HeadersConfig"]["Headers"] == ["on"]
    assert params["QueryStringsConfig"]["QueryStrings"] == ["1", "null"]


# ---------------------------------------------------------------------------------------------- CDK


def _expected_cdk_calls(spec: CachePolicySpec) -> list[str]:
    def quoted(names: tuple[str, ...]) -> str:
        return ", ".join("'" + n.replace("\\", "\\\\").replace("'", "\\'") + "'" for n in names)

    def behaviour(cls: str, value: Any) -> str:
        if value in ("none", "all"):
            return f"cloudfront.{cls}.{value}()"
        method = {"whitelist": "allowList", "allExcept": "denyList"}[value[0]]
        return f"cloudfront.{cls}.{method}({quoted(value[1])})"

    headers = (f"cloudfront.CacheHeaderBehavior.allowList({quoted(spec.headers)})" if spec.headers
               else "cloudfront.CacheHeaderBehavior.none()")
    return [
        f"minTtl: Duration.seconds({spec.min_ttl}),",
        f"defaultTtl: Duration.seconds({spec.default_ttl}),",
        f"maxTtl: Duration.seconds({spec.max_ttl}),",
        f"headerBehavior: {headers},",
        f"queryStringBehavior: {behaviour('CacheQueryStringBehavior', spec.query_strings)},",
        f"cookieBehavior: {behaviour('CacheCookieBehavior', spec.cookies)},",
        f"enableAcceptEncodingGzip: {str(spec.gzip).lower()},",
        f"enableAcceptEncodingBrotli: {str(spec.brotli).lower()},",
    ]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_cdk_has_a_call_per_field(spec: CachePolicySpec) -> None:
    code = to_cdk_typescript(spec)
    for expected in _expected_cdk_calls(spec):
        assert expected in code
    assert "new cloudfront.CachePolicy(this, 'ApiCachePolicy', {" in code
    assert "import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';" in code


def test_cdk_snippet_for_api_auth_and_query() -> None:
    code = to_cdk_typescript(API_AUTH_AND_QUERY)
    assert "cachePolicyName: 'api-auth-and-query'," in code
    assert "headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization')," in code
    assert "queryStringBehavior: cloudfront.CacheQueryStringBehavior.all()," in code
    assert "cookieBehavior: cloudfront.CacheCookieBehavior.none()," in code
    assert "maxTtl: Duration.seconds(1)," in code


def _balanced(code: str) -> bool:
    """Brackets balance outside string literals and // comments."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    i = 0
    while i < len(code):
        ch = code[i]
        if code.startswith("//", i):
            i = code.find("\n", i)
            if i < 0:
                break
            continue
        if ch in "'\"`":
            i += 1
            while code[i] != ch:
                i += 2 if code[i] == "\\" else 1
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
        i += 1
    return not stack


@pytest.mark.parametrize(
    "spec", [*ALL_SPECS, dataclasses.replace(EVERY_SHAPE, comment="({[ it's ]})")], ids=_ids
)
def test_cdk_is_balanced(spec: CachePolicySpec) -> None:
    assert _balanced(to_cdk_typescript(spec))
    assert not _balanced(to_cdk_typescript(spec).replace("});", "};", 1))


# Fakes that build what aws-cdk-lib's CachePolicy.renderCacheKey builds
# (packages/aws-cdk-lib/aws-cloudfront/lib/cache-policy.ts: allowList -> 'whitelist',
# denyList -> 'allExcept'), then print the CloudFormation CachePolicyConfig.
_NODE_HARNESS = """
const Duration = { seconds: (n) => ({ seconds: n }) };
const lists = (key) => ({
  none: () => ({ behavior: 'none' }),
  all: () => ({ behavior: 'all' }),
  allowList: (...names) => ({ behavior: 'whitelist', [key]: names }),
  denyList: (...names) => ({ behavior: 'allExcept', [key]: names }),
});
let made;
const cloudfront = {
  CachePolicy: class { constructor(scope, id, props) { made = { id, props }; } },
  CacheHeaderBehavior: { none: () => ({ behavior: 'none' }),
                         allowList: (...names) => ({ behavior: 'whitelist', headers: names }) },
  CacheQueryStringBehavior: lists('queryStrings'),
  CacheCookieBehavior: lists('cookies'),
};
(function () {
%s
}).call({});
const p = made.props;
console.log(JSON.stringify({ id: made.id, config: {
  Name: p.cachePolicyName, Comment: p.comment,
  MinTTL: p.minTtl.seconds, DefaultTTL: p.defaultTtl.seconds, MaxTTL: p.maxTtl.seconds,
  ParametersInCacheKeyAndForwardedToOrigin: {
    EnableAcceptEncodingGzip: p.enableAcceptEncodingGzip,
    EnableAcceptEncodingBrotli: p.enableAcceptEncodingBrotli,
    HeadersConfig: { HeaderBehavior: p.headerBehavior.behavior, Headers: p.headerBehavior.headers },
    CookiesConfig: { CookieBehavior: p.cookieBehavior.behavior, Cookies: p.cookieBehavior.cookies },
    QueryStringsConfig: { QueryStringBehavior: p.queryStringBehavior.behavior,
                          QueryStrings: p.queryStringBehavior.queryStrings },
  } } }));
"""


@pytest.fixture(scope="module")
def node() -> str:
    return prerequisites.executable("node", "apt-get install -y nodejs")


@pytest.mark.parametrize("spec", [*ALL_SPECS, dataclasses.replace(EVERY_SHAPE, comment="it's \\ \"odd\" ü")],
                         ids=_ids)
def test_cdk_construct_call_runs_and_means_the_same_policy(spec: CachePolicySpec, tmp_path: Path, node: str) -> None:
    code = to_cdk_typescript(spec, construct_id="Policy1")
    match = re.search(r"^ *const cachePolicy = new cloudfront\.CachePolicy\(.*?^ *\}\);$", code, re.S | re.M)
    assert match, code
    script = tmp_path / "harness.js"
    script.write_text(_NODE_HARNESS % match.group(0), encoding="utf-8")
    proc = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["id"] == "Policy1"
    assert out["config"] == _lists_from_quantity_items(to_cache_policy_config(spec))


# ----------------------------------------------------------------------------------------- validate

CACHE_KEY_DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-the-cache-key.html"

RULES = [
    # (case, spec, expected fragments of the single problem, or None for "accepted"; source)
    ("the snippet is accepted", API_AUTH_AND_QUERY, None,
     "aws-cdk issue 16977: MaxTTL>=1 is the workaround"),
    ("all-zero TTLs with Authorization and query strings in the key", ZERO_TTL_AUTH_IN_KEY,
     ["All TTLs are 0", "Authorization", "query strings", "13441", "16977", CACHE_KEY_DOC,
      "MaxTTL to at least 1"],
     CACHE_KEY_DOC + "; aws-cdk issues 13441, 16977; cloudformation-coverage-roadmap 571"),
    ("all-zero TTLs with only cookies in the key",
     CachePolicySpec(name="c", min_ttl=0, default_ttl=0, max_ttl=0, cookies="all"),
     ["All TTLs are 0", "cookies (all)"], CACHE_KEY_DOC),
    ("all-zero TTLs with nothing in the key is CachingDisabled", NOTHING_IN_KEY, None,
     "Managed-CachingDisabled: using-managed-cache-policies.html"),
    ("all-zero TTLs with gzip on",
     CachePolicySpec(name="g", min_ttl=0, default_ttl=0, max_ttl=0, gzip=True),
     ["EnableAcceptEncodingGzip", "caching disabled"],
     "awsdocs/amazon-cloudfront-developer-guide PR 51 ('invalid for policy with caching disabled')"),
    ("MinTTL above DefaultTTL", CachePolicySpec(name="t", min_ttl=10, default_ttl=5, max_ttl=100),
     ["MinTTL <= DefaultTTL <= MaxTTL", "MinTTL=10, DefaultTTL=5, MaxTTL=100"], "Expiration.html"),
    ("DefaultTTL above MaxTTL", CachePolicySpec(name="t", min_ttl=0, default_ttl=86400, max_ttl=60),
     ["MinTTL <= DefaultTTL <= MaxTTL"], "Expiration.html"),
    ("Authorization may be in a cache policy's headers",
     CachePolicySpec(name="a", max_ttl=60, headers=("authorization",)), None,
     "add-origin-custom-headers.html, http-401-unauthorized.html"),
    ("Accept-Encoding allow-listed while gzip is on",
     CachePolicySpec(name="ae", max_ttl=60, headers=("Accept-Encoding",), gzip=True),
     ["Accept-Encoding", "gzip/brotli"], "cloudformation-coverage-roadmap 571; cdk-nextjs PR 188"),
    ("Accept-Encoding allow-listed with compression off is an ordinary header",
     CachePolicySpec(name="ae", max_ttl=60, headers=("Accept-Encoding",)), None,
     CACHE_KEY_DOC + "#cache-policy-compressed-objects"),
    ("more headers than the default quota",
     CachePolicySpec(name="q", max_ttl=60, headers=tuple(f"X-H{i}" for i in range(11))),
     ["11 headers", "quota is 10"], "cloudfront-limits.html"),
    ("a name CDK refuses", CachePolicySpec(name="api policy", max_ttl=1), ["'api policy'"],
     "aws-cdk-lib cache-policy.ts cachePolicyName check"),
    ("a comment over 128 characters", CachePolicySpec(name="n", max_ttl=1, comment="x" * 129),
     ["129 characters"], "AWS::CloudFront::CachePolicy schema, Comment"),
]


@pytest.mark.parametrize(("case", "spec", "fragments", "source"), RULES, ids=[r[0] for r in RULES])
def test_validate_rules(case: str, spec: CachePolicySpec, fragments: list[str] | None, source: str) -> None:
    problems = cache_policy_problems(spec)
    if fragments is None:
        assert problems == [], f"{case} ({source})"
        assert check(spec) is spec
        return
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], f"{case} ({source}): {fragment!r} not in {problems[0]!r}"


def test_check_raises_a_typed_error_listing_every_problem() -> None:
    bad = dataclasses.replace(ZERO_TTL_AUTH_IN_KEY, gzip=True, name="bad name")
    with pytest.raises(CachePolicyError) as info:
        check(bad)
    assert isinstance(info.value, RunbookError) and isinstance(info.value, ValueError)
    assert len(info.value.problems) == 3
    assert "'bad name' would be rejected by CloudFront" in str(info.value)
    for problem in info.value.problems:
        assert problem in str(info.value)


def test_renderings_warn_only_when_validate_reports() -> None:
    for render, marker in ((to_cloudformation_yaml, "# WARNING"), (to_cdk_typescript, "// WARNING"),
                           (to_boto3_code, "# WARNING")):
        assert marker in render(ZERO_TTL_AUTH_IN_KEY)
        assert "WARNING" not in render(API_AUTH_AND_QUERY)


# ------------------------------------------------------------------------------------- the spec


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"query_strings": "some"}, "query_strings must be"),
        ({"cookies": ("whitelist", ())}, "lists no names"),
        ({"cookies": ("allow", ("a",))}, "cookies must be"),
        ({"headers": "Authorization"}, r"write headers=\('Authorization',\)"),
        ({"headers": ("",)}, "non-empty strings"),
        ({"max_ttl": -1}, "max_ttl must be a whole number"),
        ({"min_ttl": 1.5}, "min_ttl must be a whole number"),
        ({"default_ttl": True}, "default_ttl must be a whole number"),
        ({"gzip": "yes"}, "gzip must be True or False"),
        ({"name": ""}, "name must be a non-empty string"),
    ],
)
def test_spec_refuses_malformed_fields(kwargs: dict[str, Any], match: str) -> None:
    fields = {"name": "p", **kwargs}
    with pytest.raises(ConfigError, match=match):
        CachePolicySpec(**fields)


def test_spec_normalises_lists_to_hashable_tuples() -> None:
    spec = CachePolicySpec(
        name="p", headers=["Authorization"],  # type: ignore[arg-type]
        query_strings=["whitelist", ["page"]], cookies=("allExcept", "tracking"),  # type: ignore[arg-type]
    )
    assert spec.headers == ("Authorization",)
    assert spec.query_strings == ("whitelist", ("page",))
    assert spec.cookies == ("allExcept", ("tracking",))
    assert hash(spec) == hash(dataclasses.replace(spec))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.max_ttl = 5  # type: ignore[misc]


def test_public_surface() -> None:
    public = {
        name for name, value in vars(policy_code).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == policy_code.__name__
    } | {"API_AUTH_AND_QUERY", "ZERO_TTL_AUTH_IN_KEY", "NameBehavior",
         # re-exported from runbook_lib.cloudfront.configs, where the policy's shape lives
         "CachePolicySpec", "to_cache_policy_config"}
    assert set(policy_code.__all__) == public
