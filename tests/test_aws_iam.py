"""docs/iam-policy.json allows every AWS call the runbook makes (issue 9, item 7).

The calls are not listed by hand: ``tests/stubbing.py`` records every request sent to a stubbed client
during the session (build, update, find/describe as verify uses them, the lab, the path fixes, teardown,
reading a distribution), and this test, which runs after all the others, derives the IAM action and
resource each one needs and checks the policy allows it.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest

try:
    from tests import stubbing as aws_stubs
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import stubbing as aws_stubs  # type: ignore[no-redef]

pytestmark = pytest.mark.after_stubber_tests

#: One operation that shows each part of the runbook was exercised through a Stubber.
PARTS = {
    "build": ("cloudfront", "CreateDistributionWithTags"),
    "update": ("cloudfront", "UpdateDistribution"),
    "verify (find, describe)": ("cloudfront", "GetDistributionConfig"),
    "lab": ("cloudfront", "CreateOriginRequestPolicy"),
    "path fixes": ("cloudfront", "UpdateFunction"),
    "teardown": ("cloudfront", "DeleteDistribution"),
}

#: Operations whose IAM action is not ``service:Operation``, or that need a second action
#: (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
_IAM_ACTIONS: dict[tuple[str, str], set[str]] = {
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    ("s3", "HeadBucket"): {"s3:ListBucket"},
    ("s3", "ListObjectVersions"): {"s3:ListBucketVersions"},
    ("s3", "DeleteObjects"): {"s3:DeleteObject", "s3:DeleteObjectVersion"},  # objects are deleted by version
    # Tags in the create call need the tagging action too ("This API operation requires the following IAM
    # permissions: CreateDistribution, TagResource", CreateDistributionWithTags in the service model).
    ("cloudfront", "CreateDistributionWithTags"): {"cloudfront:CreateDistribution", "cloudfront:TagResource"},
    ("iam", "CreateRole"): {"iam:CreateRole", "iam:TagRole"},
    ("lambda", "CreateFunction"): {"lambda:CreateFunction", "lambda:TagResource", "iam:PassRole"},
    # "Lambda returns tag data only if you have explicit allow permissions for lambda:ListTags" (GetFunction
    # in the service model): without it teardown would think the function is not ours and leave it.
    ("lambda", "GetFunction"): {"lambda:GetFunction", "lambda:ListTags"},
}


def _apigateway_needs(call: aws_stubs.Call) -> set[tuple[str, str]]:
    """API Gateway's IAM actions are the HTTP methods of its API, on the request path
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-create-and-manage-api.html);
    HTTP APIs (apigatewayv2) drop the ``/v2`` prefix in the resource."""
    model = botocore.session.get_session().get_service_model(call.service).operation_model(call.operation)
    path = model.http["requestUri"].split("?")[0]
    for name, member in model.input_shape.members.items():
        if member.serialization.get("location") == "uri" and name in call.params:
            key = member.serialization.get("name", name)
            path = path.replace(f"{{{key}}}", str(call.params[name])).replace(f"{{{key}+}}", str(call.params[name]))
    path = path.removeprefix("/v2")
    needs = {(f"apigateway:{model.http['method']}", f"arn:aws:apigateway:{call.region}::{path}")}
    if call.operation in {"CreateRestApi", "CreateApi", "CreateDomainName"} and call.params.get(
            "tags", call.params.get("Tags")):  # tags on create
        needs.add(("apigateway:POST", f"arn:aws:apigateway:{call.region}::/tags/*"))
    return needs


def _resource(action: str, call: aws_stubs.Call) -> str:
    kind, params = action.split(":")[0], call.params
    if kind == "iam" and "RoleName" in params:
        return f"arn:aws:iam::{aws_stubs.ACCOUNT}:role/{params['RoleName']}"
    if kind == "iam" and action == "iam:PassRole":
        return str(params["Role"])
    if kind == "lambda" and "FunctionName" in params:
        name = str(params["FunctionName"])
        return name if name.startswith("arn:") else f"arn:aws:lambda:{call.region}:{aws_stubs.ACCOUNT}:function:{name}"
    if kind == "s3" and "Bucket" in params:
        bucket = params["Bucket"]
        return f"arn:aws:s3:::{bucket}/{params.get('Key', '*')}" if "Object" in action else f"arn:aws:s3:::{bucket}"
    return "*"


def needs(call: aws_stubs.Call) -> set[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one call needs."""
    if call.service in {"apigateway", "apigatewayv2"}:
        return _apigateway_needs(call)
    actions = _IAM_ACTIONS.get((call.service, call.operation), {f"{call.service}:{call.operation}"})
    return {(action, _resource(action, call)) for action in actions}


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in actions) and any(
                fnmatch.fnmatchcase(resource, r) for r in resources):
            return True
    return False


def recorded() -> list[aws_stubs.Call]:
    """The calls of every Stubber test: tests import the helper as ``stubbing`` or ``tests.stubbing``, which
    Python keeps as two modules with a list each."""
    modules = {id(m): m for name in ("stubbing", "tests.stubbing") if (m := sys.modules.get(name)) is not None}
    return [call for module in modules.values() for call in module.RECORDED]


def test_docs_iam_policy_allows_every_call_the_stubber_tests_made(repo_root: Path) -> None:
    calls = recorded()
    made = {(c.service, c.operation) for c in calls}
    missing_parts = [part for part, op in PARTS.items() if op not in made]
    assert not missing_parts, (
        f"No Stubber test exercised {missing_parts}: run the whole suite (this test reads the calls the "
        "other tests recorded, and runs after them)."
    )
    policy = json.loads((repo_root / "docs" / "iam-policy.json").read_text())
    pairs = {pair for call in calls for pair in needs(call)}
    missing = sorted(f"{action} on {resource}" for action, resource in pairs if not allowed(policy, action, resource))
    assert not missing, f"docs/iam-policy.json does not allow: {missing}"
    assert len(pairs) >= 60


def test_the_check_bites() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": ["cloudfront:Get*"], "Resource": "*"}]}
    assert allowed(policy, "cloudfront:GetDistribution", "*")
    assert not allowed(policy, "cloudfront:UpdateFunction", "*")
    call = aws_stubs.Call("s3", "DeleteObjects", "eu-west-1", {"Bucket": "b"})
    assert needs(call) == {("s3:DeleteObject", "arn:aws:s3:::b/*"), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/*")}
