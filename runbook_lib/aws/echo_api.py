"""The echo API: an IAM role, the echo Lambda function, and a REST API whose routes proxy to it."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from botocore.exceptions import ClientError

from runbook_lib.aws import echo_lambda
from runbook_lib.aws.calls import aws_call, aws_code, aws_failure, get_or_none
from runbook_lib.aws.ownership import find_api, tag_dict, tag_list
from runbook_lib.aws.stack import Stack
from runbook_lib.aws.target import Target

__all__ = [
    "API_ROUTES", "Routes", "create_http_echo", "create_rest_echo", "echo_zip", "ensure_api", "ensure_function",
    "ensure_role", "find_api",
]

_LAMBDA_RUNTIME = "python3.12"
_LAMBDA_BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

#: The echo API's routes: /api and /api/{proxy+}, because CloudFront forwards the full viewer path
#: (/api/items reaches the stage as /api/items). path_fixes builds the root-routes variant (pitfall).
API_ROUTES: tuple[str, ...] = ("/api", "/api/{proxy+}")


def ensure_role(target: Target, stack: Stack, name: str, parent: str = "") -> str:
    iam = target.client("iam")
    found = get_or_none(f"iam.GetRole {name}", iam.get_role, RoleName=name)
    if found is not None:
        return str(found["Role"]["Arn"])
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }
    role = aws_call("iam.CreateRole", iam.create_role, RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                    Description="Execution role of the CloudFront/API Gateway runbook's echo function",
                    Tags=tag_list(stack.name, parent))
    aws_call("iam.AttachRolePolicy", iam.attach_role_policy, RoleName=name, PolicyArn=_LAMBDA_BASIC_EXECUTION)
    return str(role["Role"]["Arn"])


def echo_zip() -> bytes:
    """The deployment package: ``echo_lambda.py`` alone."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("echo_lambda.py", Path(echo_lambda.__file__).read_text())
    return buf.getvalue()


def ensure_function(target: Target, stack: Stack, name: str, role_arn: str, parent: str = "") -> str:
    lam = target.client("lambda")
    found = get_or_none(f"lambda.GetFunction {name}", lam.get_function, FunctionName=name)
    if found is not None:
        return str(found["Configuration"]["FunctionArn"])
    # A new IAM role takes a few seconds to become assumable by Lambda: retry that one error.
    for attempt in range(12):
        try:
            fn = lam.create_function(
                FunctionName=name, Runtime=_LAMBDA_RUNTIME, Role=role_arn, Handler="echo_lambda.handler",
                Code={"ZipFile": echo_zip()}, Timeout=10, MemorySize=128,
                Description="Echoes what API Gateway received (CloudFront/API Gateway runbook)",
                Tags=tag_dict(stack.name, parent),
            )
            break
        except ClientError as err:
            if aws_code(err) == "InvalidParameterValueException" and "assume" in str(err) and attempt < 11:
                time.sleep(5)
                continue
            raise aws_failure("lambda.CreateFunction", err) from err
    if fn.get("State") != "Active":  # Pending for a moment (seconds on AWS)
        waiter = lam.get_waiter("function_active_v2")
        delay = 0.2 if target.is_local else 2
        waiter.wait(FunctionName=name, WaiterConfig={"Delay": delay, "MaxAttempts": int(120 / delay)})
    return str(fn["FunctionArn"])


#: A REST API's routes: resource path → its methods (``ANY`` for all), or the paths alone (each ANY).
Routes = Mapping[str, Sequence[str]] | tuple[str, ...]


def _as_routes(routes: Routes) -> dict[str, tuple[str, ...]]:
    if isinstance(routes, tuple):
        return {path: ("ANY",) for path in routes}
    return {path: tuple(methods) or ("ANY",) for path, methods in routes.items()}


def _with_ancestors(paths: Iterable[str]) -> list[str]:
    """Every path and each of its parents (``/a/b`` → ``/a``, ``/a/b``), parents first."""
    found = {"/"}
    for path in paths:
        parts = [p for p in path.split("/") if p]
        found.update("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(found, key=lambda p: (p.count("/") if p != "/" else 0, p))


def _ensure_routes(target: Target, api_id: str, function_arn: str, routes: Routes) -> bool:
    """Each route (its methods → the function, AWS_PROXY) on REST API ``api_id``, creating the resources in
    between without methods; True when anything was added."""
    apig = target.client("apigateway")
    wanted = _as_routes(routes)
    resources = aws_call("apigateway.GetResources", apig.get_resources, restApiId=api_id, limit=500)["items"]
    by_path = {r["path"]: r for r in resources}
    uri = (f"arn:aws:apigateway:{target.region}:lambda:path/2015-03-31/functions/"
           f"{function_arn}/invocations")
    changed = False
    for path in _with_ancestors(wanted):
        if path not in by_path:
            parent_path, part = path.rsplit("/", 1)
            by_path[path] = aws_call("apigateway.CreateResource", apig.create_resource, restApiId=api_id,
                                     parentId=by_path[parent_path or "/"]["id"], pathPart=part)
            changed = True
        rid, have = by_path[path]["id"], by_path[path].get("resourceMethods") or {}
        for method in (m for m in wanted.get(path, ()) if m not in have):
            aws_call("apigateway.PutMethod", apig.put_method, restApiId=api_id, resourceId=rid,
                     httpMethod=method, authorizationType="NONE")
            aws_call("apigateway.PutIntegration", apig.put_integration, restApiId=api_id, resourceId=rid,
                     httpMethod=method, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
            changed = True
    return changed


def ensure_api(target: Target, stack: Stack, name: str, function_arn: str, account: str,
               routes: Routes = API_ROUTES, parent: str = "") -> str:
    """The stack's REST API with ``routes``, deployed to ``stack.stage``, allowed to invoke the function."""
    apig = target.client("apigateway")
    api_id = find_api(target, stack.name)
    if api_id is None:
        api_id = _create_rest_api(target, name, tag_dict(stack.name, parent))
    changed = _ensure_routes(target, api_id, function_arn, routes)
    stages = {s["stageName"] for s in aws_call("apigateway.GetStages", apig.get_stages, restApiId=api_id)["item"]}
    if changed or stack.stage not in stages:
        aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=api_id, stageName=stack.stage)
    _allow_invoke(target, f"{stack.name}-apigateway-invoke", function_arn, api_id, account)
    return api_id


def _create_rest_api(target: Target, name: str, tags: dict[str, str]) -> str:
    apig = target.client("apigateway")
    api = aws_call("apigateway.CreateRestApi", apig.create_rest_api, name=name,
                   description="Echo API behind CloudFront (runbook)",
                   endpointConfiguration={"types": ["REGIONAL"]}, tags=tags)
    return str(api["id"])


def create_rest_echo(target: Target, stack_name: str, name: str, function_arn: str, account: str,
                     routes: Routes, stages: Sequence[str]) -> str:
    """A new REST API of stack ``stack_name`` (tagged) with ``routes`` → the function, deployed to each of
    ``stages``; a path with no route answers 403 "Missing Authentication Token" as API Gateway does."""
    apig = target.client("apigateway")
    api_id = _create_rest_api(target, name, tag_dict(stack_name))
    _ensure_routes(target, api_id, function_arn, routes)
    for stage in stages:
        aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=api_id, stageName=stage)
    _allow_invoke(target, f"{stack_name}-{api_id}-invoke", function_arn, api_id, account)
    return api_id


def create_http_echo(target: Target, stack_name: str, name: str, function_arn: str, account: str,
                     route_keys: Sequence[str], stages: Sequence[str]) -> str:
    """A new HTTP API (v2) of stack ``stack_name`` (tagged) with ``route_keys`` (``GET /items``, ``$default``)
    → the function (payload format 2.0), and ``stages`` (``$default`` at the root) deployed automatically;
    a path with no route answers 404 "Not Found" as API Gateway does
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)."""
    v2 = target.client("apigatewayv2")
    api_id = str(aws_call("apigatewayv2.CreateApi", v2.create_api, Name=name, ProtocolType="HTTP",
                          Description="Echo API behind CloudFront (runbook)", Tags=tag_dict(stack_name))["ApiId"])
    integration = aws_call("apigatewayv2.CreateIntegration", v2.create_integration, ApiId=api_id,
                           IntegrationType="AWS_PROXY", IntegrationUri=function_arn, PayloadFormatVersion="2.0")
    for key in route_keys:
        aws_call("apigatewayv2.CreateRoute", v2.create_route, ApiId=api_id, RouteKey=key,
                 Target=f"integrations/{integration['IntegrationId']}")
    for stage in stages:
        aws_call("apigatewayv2.CreateStage", v2.create_stage, ApiId=api_id, StageName=stage, AutoDeploy=True)
    _allow_invoke(target, f"{stack_name}-{api_id}-invoke", function_arn, api_id, account, "/*")
    return api_id


def _allow_invoke(target: Target, statement_id: str, function_arn: str, api_id: str, account: str,
                  scope: str = "/*/*/*") -> None:
    """Let API Gateway invoke the function for ``api_id``: ``/*/*/*`` is stage/method/path of a REST API; an HTTP
    API's ``$default`` route has no path part, so it takes ``/*``
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html)."""
    lam = target.client("lambda")
    try:
        lam.add_permission(
            FunctionName=function_arn, StatementId=statement_id,
            Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{target.region}:{account}:{api_id}{scope}",
        )
    except ClientError as err:
        if aws_code(err) != "ResourceConflictException":  # already granted on an earlier run
            raise aws_failure("lambda.AddPermission", err) from err
