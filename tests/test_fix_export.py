"""fix --export: one definition, five renderings, each checked by the tool's own rules where it installs here.

- CloudFormation: cfn-lint (a dev dependency) finds nothing in the whole template;
- Terraform: python-hcl2 parses it, and every attribute is one the aws provider documents
  (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudfront_distribution,
  .../cloudfront_cache_policy, .../cloudfront_origin_request_policy);
- boto3: the generated script runs against botocore's Stubber, so each request is validated against
  CloudFront's service model, and the config it sends is the plan's fixed config;
- CDK: property overrides name CloudFormation paths that exist in the template (synthesis needs aws-cdk-lib and
  Node.js, which the suite does not install: see test_cdk_python_synthesizes_when_aws_cdk_lib_is_installed).
"""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from runbook_lib.aws import presets
from runbook_lib.aws.target import aws_api_origin
from runbook_lib.cli import main
from runbook_lib.cloudfront import configs
from runbook_lib.runbook import fix_export, fix_plan

try:
    from tests import stubbing as aws_stubs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]

PRESETS = ("allviewer", "legacy-no-query", "caching-optimized")
NEW = "<new-cache-policy-api>"


def _config(preset: str) -> dict[str, Any]:
    return aws_stubs.as_returned(configs.site_and_api_config(
        bucket_domain="site.s3.us-east-1.amazonaws.com", oac_id="E2OAC",
        api_origin=aws_api_origin("a1b2c3", "prod", "us-east-1"),
        api_behavior=configs.api_behavior(presets.get(preset).behavior_fields(None)), caller_reference="ref",
        comment="mine"))


def _plan(preset: str) -> fix_plan.Plan:
    plan = fix_plan.make_plan(_config(preset), name="SiteDistribution")
    assert plan.changes
    return plan


def _plan_with_new_policy() -> fix_plan.Plan:
    # The seed's fix: Authorization and every query string in the key, MaxTTL 1 (policy_code.API_AUTH_AND_QUERY).
    plan = _plan("caching-optimized")
    plan.policies = {NEW: {"CachePolicyConfig": configs.to_cache_policy_config(configs.API_AUTH_AND_QUERY)}}
    behavior = plan.fixed_config["CacheBehaviors"]["Items"][0]
    behavior["CachePolicyId"] = NEW
    behavior.pop("OriginRequestPolicyId", None)
    return plan


PLANS = {**{p: (lambda p=p: _plan(p)) for p in PRESETS}, "new-policy": _plan_with_new_policy}


@pytest.fixture(scope="module")
def cfn_lint_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """cfn-lint once over every export (a subprocess, as in test_policy_code), plus one with the API's name
    OriginSslProtocols where CloudFormation says OriginSSLProtocols: the lint must catch that one."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.skip("cfn-lint is not installed (pip install -e '.[dev]')")
    folder = tmp_path_factory.mktemp("fix-cfn")
    files = {key: folder / f"{key}.yaml" for key in [*PLANS, "api-shape"]}
    for key, make in PLANS.items():
        files[key].write_text(fix_export.render(make(), "cloudformation"))
    text = fix_export.render(_plan("allviewer"), "cloudformation")
    assert "OriginSSLProtocols" in text
    files["api-shape"].write_text(text.replace("OriginSSLProtocols", "OriginSslProtocols"))
    proc = subprocess.run([str(cfn_lint), "--format", "json", *map(str, files.values())], capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.strip().startswith("["), proc.stdout + proc.stderr
    by_file: dict[str, list[dict[str, Any]]] = {key: [] for key in files}
    for finding in json.loads(proc.stdout):
        by_file[next(k for k, p in files.items() if Path(finding["Filename"]).name == p.name)].append(finding)
    return by_file


@pytest.mark.parametrize("key", list(PLANS))
def test_cloudformation_export_passes_cfn_lint(key: str, cfn_lint_findings: dict[str, list[dict[str, Any]]]) -> None:
    assert cfn_lint_findings[key] == []
    if key == "new-policy":
        text = fix_export.render(PLANS[key](), "cloudformation")
        assert "Ref: NewCachePolicyApi" in text and "Type: AWS::CloudFront::CachePolicy" in text


def test_cfn_lint_catches_the_api_shape(cfn_lint_findings: dict[str, list[dict[str, Any]]]) -> None:
    assert cfn_lint_findings["api-shape"], "cfn-lint accepted OriginSslProtocols: the check cannot fail"


#: ordered_cache_behavior's arguments in the aws provider (cloudfront_distribution page).
TF_BEHAVIOR = {"allowed_methods", "cache_policy_id", "cached_methods", "compress", "default_ttl",
               "field_level_encryption_id", "forwarded_values", "function_association", "grpc_config",
               "lambda_function_association", "max_ttl", "min_ttl", "origin_request_policy_id", "path_pattern",
               "realtime_log_config_arn", "response_headers_policy_id", "smooth_streaming", "target_origin_id",
               "trusted_key_groups", "trusted_signers", "viewer_protocol_policy"}
#: aws_cloudfront_cache_policy's arguments and blocks (cloudfront_cache_policy page).
TF_CACHE_POLICY = {"name", "comment", "default_ttl", "max_ttl", "min_ttl",
                   "parameters_in_cache_key_and_forwarded_to_origin", "enable_accept_encoding_brotli",
                   "enable_accept_encoding_gzip", "cookies_config", "cookie_behavior", "cookies", "headers_config",
                   "header_behavior", "headers", "query_strings_config", "query_string_behavior", "query_strings",
                   "items"}


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {k for k in node if not k.startswith("__")} | {x for v in node.values() for x in _keys(v)}
    if isinstance(node, list):
        return {x for v in node for x in _keys(v)}
    return set()


@pytest.mark.parametrize("key", list(PLANS))
def test_terraform_export_parses_and_uses_the_providers_names(key: str) -> None:
    hcl2 = pytest.importorskip("hcl2")
    text = fix_export.render(PLANS[key](), "terraform")
    parsed = hcl2.loads(text)
    [behavior] = parsed["ordered_cache_behavior"]
    top = {k for k in behavior if not k.startswith("__")}
    assert top <= TF_BEHAVIOR, top - TF_BEHAVIOR
    assert behavior["path_pattern"].strip('"') == "/api/*"
    if key == "new-policy":
        [resource] = parsed["resource"]
        body = resource['"aws_cloudfront_cache_policy"']['"new_cache_policy_api"']
        assert _keys(body) <= TF_CACHE_POLICY, _keys(body) - TF_CACHE_POLICY
        assert "aws_cloudfront_cache_policy.new_cache_policy_api.id" in behavior["cache_policy_id"]


@pytest.mark.parametrize("key", list(PLANS))
def test_boto3_export_sends_the_fixed_config_through_the_stubber(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = PLANS[key]()
    plan.distribution_id = "E1PRIMARY0001"
    code = fix_export.render(plan, "boto3")
    with aws_stubs.stubbed_aws("us-east-1") as aws:
        expected = copy.deepcopy(plan.fixed_config)
        if plan.policies:
            body = plan.policies[NEW]
            aws.ok("cloudfront", "CreateCachePolicy",
                   {"CachePolicy": aws_stubs.cache_policy("cp-123", body["CachePolicyConfig"]), "ETag": "C"},
                   body)
            expected["CacheBehaviors"]["Items"][0]["CachePolicyId"] = "cp-123"
        aws.ok("cloudfront", "GetDistributionConfig", {"DistributionConfig": plan.config, "ETag": "E7"},
               {"Id": "E1PRIMARY0001"})
        aws.ok("cloudfront", "UpdateDistribution",
               {"Distribution": aws_stubs.distribution("E1PRIMARY0001", plan.config), "ETag": "E8"},
               {"Id": "E1PRIMARY0001", "IfMatch": "E7", "DistributionConfig": expected})
        monkeypatch.setattr(boto3, "client", lambda *a, **k: aws.target.client("cloudfront"))
        exec(compile(code, "fix_export_boto3.py", "exec"), {})  # noqa: S102 - the generated script under test
        aws.assert_done()


@pytest.mark.parametrize("lang", ["cdk-ts", "cdk-python"])
@pytest.mark.parametrize("key", list(PLANS))
def test_cdk_overrides_name_paths_of_the_cloudformation_template(lang: str, key: str) -> None:
    plan = PLANS[key]()
    text = fix_export.render(plan, lang)
    import yaml

    template = yaml.safe_load(fix_export.render(plan, "cloudformation"))
    dist = template["Resources"]["SiteDistribution"]["Properties"]
    paths = re.findall(r'add_?[Pp]roperty_?[Oo]verride\("([^"]+)"', text)
    assert paths
    for path in paths:
        node: Any = dist
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
    for path in re.findall(r'[Dd]eletion_?[Oo]verride\("([^"]+)"', text):
        assert path.rsplit(".", 1)[1] in json.dumps(plan.config)  # removed: it was in the original
    if key == "new-policy":
        assert ("CfnCachePolicy(this, 'NewCachePolicyApi'" in text) or ('CfnCachePolicy(\n    self,' in text)


def test_the_export_names_what_to_change_in_a_terraform_source(repo_root: Path) -> None:
    source = repo_root / "tests" / "fixtures" / "sources" / "terraform_plan_allviewer.json"
    out = io.StringIO()
    assert main(["fix", str(source), "--export", "terraform"], out) == 0
    text = out.getvalue()
    assert "resource aws_cloudfront_distribution." in text and "ordered_cache_behavior (path_pattern '/api/*')" in text
    assert "origin_request_policy_id" in text


@pytest.mark.opt_in
def test_cdk_python_synthesizes_when_aws_cdk_lib_is_installed(tmp_path: Path) -> None:
    # aws-cdk-lib is not a dependency (a large install, and synthesis needs Node.js): this runs only where a
    # Python with aws_cdk is named in RUNBOOK_CDK_PYTHON.
    import os

    python = os.environ.get("RUNBOOK_CDK_PYTHON", "")
    if not python or not shutil.which("node"):
        pytest.skip("set RUNBOOK_CDK_PYTHON to a Python with aws-cdk-lib installed to synthesize the CDK export")
    snippet = fix_export.render(_plan_with_new_policy(), "cdk-python")
    body = "\n".join("        " + line for line in snippet.splitlines() if not line.startswith("from aws_cdk"))
    app = tmp_path / "app.py"
    app.write_text(CDK_APP.replace("        # SNIPPET", body))
    done = subprocess.run([python, str(app)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    template = json.loads((tmp_path / "cdk.out" / "FixExport.template.json").read_text())
    [behavior] = next(r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution")[
        "Properties"]["DistributionConfig"]["CacheBehaviors"]
    assert behavior["CachePolicyId"] == {"Fn::GetAtt": [next(
        k for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudFront::CachePolicy"), "Id"]}


CDK_APP = '''
import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins


class FixExport(cdk.Stack):
    def __init__(self, scope, name):
        super().__init__(scope, name)
        api = origins.HttpOrigin("a1b2c3.execute-api.us-east-1.amazonaws.com", origin_path="/prod")
        distribution = cloudfront.Distribution(self, "Site", default_behavior=cloudfront.BehaviorOptions(origin=api))
        distribution.add_behavior("/api/*", api, cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED)
        # SNIPPET


app = cdk.App(outdir="cdk.out")
FixExport(app, "FixExport")
app.synth()
'''


def test_cli_export_refuses_an_unknown_format() -> None:
    assert main(["fix", "x.json", "--export", "pulumi"], io.StringIO()) == 2


def test_the_export_of_a_cdk_template_names_the_resource_and_property(repo_root: Path) -> None:
    # The fixture's /api/* behavior uses CachingOptimized behind CDK's RestApiOrigin (a placeholder origin name).
    [plan] = fix_plan.plan_source(str(repo_root / "tests" / "fixtures" / "cdk_app" / "template.json"))
    assert plan.kind == "cloudformation"
    assert {f["code"]: f["severity"] for f in plan.findings}["query-strings-dropped"] == "error"  # an execute-api
    text = fix_export.render(plan, "cdk-ts")
    assert f"resource {plan.name} (AWS::CloudFront::Distribution) in " in text
    assert 'cfn.addPropertyOverride("DistributionConfig.CacheBehaviors.0.OriginRequestPolicyId"' in text


CDK_TS_APP = """import * as cdk from 'aws-cdk-lib';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { Construct } from 'constructs';
// SNIPPET-IMPORTS

export class FixExport extends cdk.Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const api = new origins.HttpOrigin('a1b2c3.execute-api.us-east-1.amazonaws.com', { originPath: '/prod' });
    const distribution = new cloudfront.Distribution(this, 'Site', { defaultBehavior: { origin: api } });
    distribution.addBehavior('/api/*', api, { cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED });
    // SNIPPET
  }
}
"""


@pytest.mark.opt_in
@pytest.mark.parametrize("key", ["caching-optimized", "new-policy"])
def test_cdk_typescript_type_checks_when_aws_cdk_lib_is_installed(key: str, tmp_path: Path) -> None:
    # aws-cdk-lib and typescript are not dependencies (a large npm install): this runs only where
    # RUNBOOK_CDK_TS_DIR names a folder whose node_modules has aws-cdk-lib, constructs and typescript.
    import os

    folder = Path(os.environ.get("RUNBOOK_CDK_TS_DIR", "/nonexistent"))
    tsc = folder / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() or not shutil.which("node"):
        pytest.skip("set RUNBOOK_CDK_TS_DIR to a folder with aws-cdk-lib, constructs and typescript installed")
    snippet = fix_export.render(PLANS[key](), "cdk-ts").splitlines()
    imports = [line for line in snippet if line.startswith("import ")]
    body = "\n".join("    " + line for line in snippet if not line.startswith("import "))
    app = folder / f"fix_export_{key.replace('-', '_')}.ts"
    app.write_text(CDK_TS_APP.replace("// SNIPPET-IMPORTS", "\n".join(imports)).replace("    // SNIPPET", body))
    done = subprocess.run([str(tsc), "--noEmit", "--strict", "--target", "es2020", "--module", "node16",
                           "--moduleResolution", "node16", "--skipLibCheck", str(app)], cwd=folder,
                          capture_output=True, text=True, timeout=600)
    app.unlink()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
