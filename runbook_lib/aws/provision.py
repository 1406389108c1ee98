"""Build, find and remove the runbook's resources: echo API, site bucket, distribution.

The same code runs against both targets (``runbook_lib.target`` holds the one difference, the API
origin's address). Everything created carries the tag ``runbook:stack=<stack name>`` or, where AWS
has no tags (origin access controls, cache policies), a name starting with the stack name, so
:func:`find` and :func:`teardown` get it back and never touch anything else.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from runbook_lib.aws import echo_lambda, presets
from runbook_lib.aws.calls import aws_call, aws_code, aws_errors, aws_failure
from runbook_lib.aws.site_page import INDEX_HTML
from runbook_lib.aws.target import Target
from runbook_lib.errors import ProvisioningError
from runbook_lib.runbook import progress as progress_bar

TAG_KEY = "runbook:stack"
STAGE = "prod"
_LAMBDA_RUNTIME = "python3.12"
_LAMBDA_BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
_ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]



@dataclass
class Stack:
    """What :func:`build` made (or found), by name and ID."""

    name: str
    target: str
    region: str
    preset: str | None = None
    role_arn: str | None = None
    function_name: str | None = None
    api_id: str | None = None
    stage: str = STAGE
    bucket: str | None = None
    oac_id: str | None = None
    cache_policy_id: str | None = None
    distribution_id: str | None = None
    domain_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[dict[str, Any]]:
        """One (field, value) row each, for a notebook table."""
        return [{"field": k, "value": v} for k, v in self.to_dict().items()]


def resource_names(stack_name: str, account: str, region: str) -> dict[str, str]:
    return {
        "role": f"{stack_name}-echo-role",
        "function": f"{stack_name}-echo",
        "api": f"{stack_name}-echo-api",
        # Bucket names are global on AWS: the account and region make ours unique.
        "bucket": f"{stack_name}-site-{account}-{region}".lower()[:63],
        "oac": f"{stack_name}-oac",
        "cache_policy": f"{stack_name}-{presets.CUSTOM_CACHE_POLICY_SUFFIX}",
        "comment": f"{TAG_KEY}={stack_name}",
    }


def account_id(target: Target) -> str:
    return str(aws_call("sts.GetCallerIdentity", target.client("sts").get_caller_identity)["Account"])


# --- Lambda and its role --------------------------------------------------------------------------


def _ensure_role(target: Target, stack: Stack, name: str) -> str:
    iam = target.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError as err:
        if aws_code(err) != "NoSuchEntity":
            raise aws_failure(f"iam.GetRole {name}", err) from err
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }
    role = aws_call("iam.CreateRole", iam.create_role, RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                 Description="Execution role of the CloudFront/API Gateway runbook's echo function",
                 Tags=[{"Key": TAG_KEY, "Value": stack.name}])
    aws_call("iam.AttachRolePolicy", iam.attach_role_policy, RoleName=name, PolicyArn=_LAMBDA_BASIC_EXECUTION)
    return str(role["Role"]["Arn"])


def echo_zip() -> bytes:
    """The deployment package: ``echo_lambda.py`` alone."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("echo_lambda.py", Path(echo_lambda.__file__).read_text())
    return buf.getvalue()


def _ensure_function(target: Target, stack: Stack, name: str, role_arn: str) -> str:
    lam = target.client("lambda")
    try:
        return str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
    except ClientError as err:
        if aws_code(err) != "ResourceNotFoundException":
            raise aws_failure(f"lambda.GetFunction {name}", err) from err
    # A new IAM role takes a few seconds to become assumable by Lambda: retry that one error.
    for attempt in range(12):
        try:
            fn = lam.create_function(
                FunctionName=name, Runtime=_LAMBDA_RUNTIME, Role=role_arn, Handler="echo_lambda.handler",
                Code={"ZipFile": echo_zip()}, Timeout=10, MemorySize=128,
                Description="Echoes what API Gateway received (CloudFront/API Gateway runbook)",
                Tags={TAG_KEY: stack.name},
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


# --- API Gateway ------------------------------------------------------------------------------------


def find_api(target: Target, stack_name: str) -> str | None:
    apig = target.client("apigateway")
    for page in apig.get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("tags", {}).get(TAG_KEY) == stack_name:
                return str(api["id"])
    return None


#: The echo API's routes: /api and /api/{proxy+}, because CloudFront forwards the full viewer path
#: (/api/items reaches the stage as /api/items). path_fixes builds the root-routes variant (pitfall).
API_ROUTES: tuple[str, ...] = ("/api", "/api/{proxy+}")


def ensure_api(target: Target, stack: Stack, name: str, function_arn: str, account: str,
                routes: tuple[str, ...] = API_ROUTES) -> str:
    apig = target.client("apigateway")
    api_id = find_api(target, stack.name)
    if api_id is None:
        api = aws_call("apigateway.CreateRestApi", apig.create_rest_api, name=name,
                    description="Echo API behind CloudFront (runbook)",
                    endpointConfiguration={"types": ["REGIONAL"]}, tags={TAG_KEY: stack.name})
        api_id = str(api["id"])
    resources = aws_call("apigateway.GetResources", apig.get_resources, restApiId=api_id, limit=500)["items"]
    by_path = {r["path"]: r for r in resources}
    uri = (f"arn:aws:apigateway:{target.region}:lambda:path/2015-03-31/functions/"
           f"{function_arn}/invocations")
    # Each route is created under its parent path, which comes earlier in ``routes`` (or is the root).
    changed = False
    for path in routes:
        parent_path, part = path.rsplit("/", 1)
        if path not in by_path:
            res = aws_call("apigateway.CreateResource", apig.create_resource, restApiId=api_id,
                        parentId=by_path[parent_path or "/"]["id"], pathPart=part)
            by_path[path] = res
            changed = True
        rid = by_path[path]["id"]
        if "ANY" not in (by_path[path].get("resourceMethods") or {}):
            aws_call("apigateway.PutMethod", apig.put_method, restApiId=api_id, resourceId=rid,
                  httpMethod="ANY", authorizationType="NONE")
            aws_call("apigateway.PutIntegration", apig.put_integration, restApiId=api_id, resourceId=rid,
                  httpMethod="ANY", type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
            changed = True
    stages = {s["stageName"] for s in aws_call("apigateway.GetStages", apig.get_stages, restApiId=api_id)["item"]}
    if changed or stack.stage not in stages:
        aws_call("apigateway.CreateDeployment", apig.create_deployment, restApiId=api_id, stageName=stack.stage)
    _allow_invoke(target, stack, function_arn, api_id, account)
    return api_id


def _allow_invoke(target: Target, stack: Stack, function_arn: str, api_id: str, account: str) -> None:
    lam = target.client("lambda")
    try:
        lam.add_permission(
            FunctionName=function_arn, StatementId=f"{stack.name}-apigateway-invoke",
            Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{target.region}:{account}:{api_id}/*/*/*",
        )
    except ClientError as err:
        if aws_code(err) != "ResourceConflictException":  # already granted on an earlier run
            raise aws_failure("lambda.AddPermission", err) from err


# --- S3 site and origin access control ------------------------------------------------------------


def _ensure_bucket(target: Target, stack: Stack, name: str) -> None:
    s3 = target.client("s3")
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as err:
        if aws_code(err) not in {"404", "NoSuchBucket", "NotFound"}:
            raise aws_failure(f"s3.HeadBucket {name}", err,
                        "The name may belong to another account; pass another stack_name.") from err
        kwargs: dict[str, Any] = {"Bucket": name}
        if target.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
        aws_call("s3.CreateBucket", s3.create_bucket, **kwargs)
        aws_call("s3.PutBucketTagging", s3.put_bucket_tagging, Bucket=name,
              Tagging={"TagSet": [{"Key": TAG_KEY, "Value": stack.name}]})
    aws_call("s3.PutObject", s3.put_object, Bucket=name, Key="index.html", Body=INDEX_HTML,
          ContentType="text/html; charset=utf-8")


def _ensure_oac(target: Target, name: str) -> str:
    cf = target.client("cloudfront")
    for item in aws_call("cloudfront.ListOriginAccessControls", cf.list_origin_access_controls)[
            "OriginAccessControlList"].get("Items", []) or []:
        if item["Name"] == name:
            return str(item["Id"])
    oac = aws_call("cloudfront.CreateOriginAccessControl", cf.create_origin_access_control,
                OriginAccessControlConfig={
                    "Name": name, "Description": "Site bucket of the CloudFront/API Gateway runbook",
                    "SigningProtocol": "sigv4", "SigningBehavior": "always",
                    "OriginAccessControlOriginType": "s3"})
    return str(oac["OriginAccessControl"]["Id"])


def _grant_distribution_read(target: Target, bucket: str, account: str, distribution_id: str) -> None:
    """Bucket policy for OAC: only this distribution may read (the AWS-recommended setup)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowCloudFrontServicePrincipalReadOnly",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {
                "AWS:SourceArn": f"arn:aws:cloudfront::{account}:distribution/{distribution_id}"}},
        }],
    }
    s3 = target.client("s3")
    aws_call("s3.PutBucketPolicy", s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(policy))


# --- cache policy and distribution ------------------------------------------------------------------


def find_cache_policy(target: Target, name: str) -> str | None:
    cf = target.client("cloudfront")
    items = aws_call("cloudfront.ListCachePolicies", cf.list_cache_policies, Type="custom")[
        "CachePolicyList"].get("Items", []) or []
    for item in items:
        if item["CachePolicy"]["CachePolicyConfig"]["Name"] == name:
            return str(item["CachePolicy"]["Id"])
    return None


def _ensure_cache_policy(target: Target, name: str) -> str:
    from runbook_lib.runbook.policy_code import API_AUTH_AND_QUERY, to_cache_policy_config

    existing = find_cache_policy(target, name)
    if existing:
        return existing
    config = to_cache_policy_config(API_AUTH_AND_QUERY)
    config["Name"] = name
    cf = target.client("cloudfront")
    return str(aws_call("cloudfront.CreateCachePolicy", cf.create_cache_policy,
                     CachePolicyConfig=config)["CachePolicy"]["Id"])


def api_behavior(preset: presets.Preset, custom_cache_policy_id: str | None = None) -> dict[str, Any]:
    """The ``/api/*`` cache behavior: all methods, HTTPS, the preset's policies."""
    return {
        "PathPattern": "/api/*",
        "TargetOriginId": "api",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": 7, "Items": list(_ALL_METHODS),
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": False,
        **preset.behavior_fields(custom_cache_policy_id),
    }


def site_and_api_config(*, bucket_domain: str, api_origin: dict[str, Any], api_behavior: dict[str, Any],
                        caller_reference: str, comment: str, oac_id: str = "") -> dict[str, Any]:
    """The runbook's DistributionConfig shape: default behavior → S3, ``/api/*`` → the API origin."""
    site: dict[str, Any] = {"Id": "site", "DomainName": bucket_domain, "OriginPath": "",
                            "S3OriginConfig": {"OriginAccessIdentity": ""}}
    if oac_id:
        site["OriginAccessControlId"] = oac_id
    return {
        "CallerReference": caller_reference,
        "Comment": comment,
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "PriceClass": "PriceClass_100",
        "HttpVersion": "http2",
        "Origins": {"Quantity": 2, "Items": [site, {"Id": "api", **api_origin}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": True,
            "CachePolicyId": presets.CACHING_OPTIMIZED,
        },
        "CacheBehaviors": {"Quantity": 1, "Items": [api_behavior]},
    }


def distribution_config(target: Target, stack: Stack, preset: presets.Preset, caller_reference: str,
                        comment: str) -> dict[str, Any]:
    """The whole DistributionConfig of a stack: S3 with OAC by default, ``/api/*`` → the API stage."""
    assert stack.api_id and stack.bucket and stack.oac_id
    return site_and_api_config(
        bucket_domain=f"{stack.bucket}.s3.{target.region}.amazonaws.com", oac_id=stack.oac_id,
        api_origin=target.api_origin(stack.api_id, stack.stage),
        api_behavior=api_behavior(preset, stack.cache_policy_id),
        caller_reference=caller_reference, comment=comment,
    )


def find_distribution(target: Target, stack_name: str) -> dict[str, Any] | None:
    cf = target.client("cloudfront")
    comment = f"{TAG_KEY}={stack_name}"
    for page in cf.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items", []) or []:
            if item.get("Comment") != comment:
                continue
            tags = cf.list_tags_for_resource(Resource=item["ARN"])["Tags"].get("Items", [])
            if {"Key": TAG_KEY, "Value": stack_name} in tags:
                return dict(item)
    return None


@aws_errors
def wait_deployed(target: Target, distribution_id: str, timeout: float = 1800, progress: bool = True) -> None:
    """Poll until the distribution is ``Deployed`` (minutes on AWS, at once locally), with a progress bar."""
    cf = target.client("cloudfront")
    start = time.monotonic()
    status = cf.get_distribution(Id=distribution_id)["Distribution"]["Status"]
    if status == "Deployed":  # always so locally; no bar for nothing
        return
    with progress_bar.bar(total=None, desc=f"{distribution_id}: waiting for Deployed", unit="check",
              disable=not progress, leave=False) as bar:
        while status != "Deployed":
            bar.set_postfix_str(f"{status}, {time.monotonic() - start:.0f} s")
            if time.monotonic() - start > timeout:
                raise ProvisioningError(
                    f"Distribution {distribution_id} is still {status} after {timeout:.0f} s. "
                    "Re-run the notebook later: it finds the distribution and waits again."
                )
            bar.update(1)
            time.sleep(15)
            status = cf.get_distribution(Id=distribution_id)["Distribution"]["Status"]


def _ensure_distribution(target: Target, stack: Stack, preset: presets.Preset, names: dict[str, str],
                         account: str, progress: bool) -> dict[str, Any]:
    cf = target.client("cloudfront")
    existing = find_distribution(target, stack.name)
    if existing is None:
        config = distribution_config(target, stack, preset, f"{stack.name}-{time.time_ns()}", names["comment"])
        dist = aws_call("cloudfront.CreateDistributionWithTags", cf.create_distribution_with_tags,
                     DistributionConfigWithTags={"DistributionConfig": config,
                                                 "Tags": {"Items": [{"Key": TAG_KEY, "Value": stack.name}]}})
        result = dict(dist["Distribution"])
    else:
        current = aws_call("cloudfront.GetDistributionConfig", cf.get_distribution_config, Id=existing["Id"])
        old = current["DistributionConfig"]
        new = distribution_config(target, stack, preset, old["CallerReference"], old.get("Comment", ""))
        result = existing
        if differs(old, new):
            # IfMatch: the ETag of the config we read, so a concurrent change is refused, not overwritten.
            updated = aws_call("cloudfront.UpdateDistribution", cf.update_distribution,
                            Id=existing["Id"], IfMatch=current["ETag"], DistributionConfig={**old, **new})
            result = dict(updated["Distribution"])
    wait_deployed(target, result["Id"], progress=progress)
    return result


def differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    # AWS fills in defaults (empty lists, FieldLevelEncryptionId...), so compare only what we set.
    keys = ("Origins", "DefaultCacheBehavior", "CacheBehaviors", "DefaultRootObject", "Enabled")
    return any(not _contains(old.get(k), new.get(k)) for k in keys)


def _contains(have: Any, want: Any) -> bool:
    """True when every field in ``want`` has the same value in ``have``."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_contains(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return False
        if all(isinstance(w, str) for w in want):
            # Lists of names (methods, headers, cookies...) are sets to CloudFront, and it returns them in
            # its own order (["HEAD", "GET"] for ["GET", "HEAD"]; terraform-provider-aws PR 7732), so an
            # ordered compare would update an unchanged distribution on every run.
            return all(isinstance(h, str) for h in have) and sorted(have) == sorted(want)
        return all(_contains(h, w) for h, w in zip(have, want, strict=True))
    return bool(have == want)


# --- public API -------------------------------------------------------------------------------------


@aws_errors
def build(target: Target, stack_name: str, preset: str = "recommended", progress: bool = True,
          api_routes: tuple[str, ...] = API_ROUTES) -> Stack:
    """Create (or find and update) the echo API, the site bucket and the distribution.

    Re-running reuses everything it finds; changing ``preset`` updates the ``/api/*`` behavior in place.
    ``api_routes`` are the API's resources (each with ANY → the echo function); existing ones are kept.
    """
    chosen = presets.get(preset)
    account = account_id(target)
    names = resource_names(stack_name, account, target.region)
    stack = Stack(name=stack_name, target=target.name, region=target.region, preset=preset)
    steps = ["role", "function", "api", "bucket", "oac", "cache policy", "distribution", "bucket policy"]
    with progress_bar.bar(total=len(steps), desc="build", disable=not progress) as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        stack.role_arn = _ensure_role(target, stack, names["role"])
        step("role")
        function_arn = _ensure_function(target, stack, names["function"], stack.role_arn)
        stack.function_name = names["function"]
        step("function")
        stack.api_id = ensure_api(target, stack, names["api"], function_arn, account, api_routes)
        step("api")
        _ensure_bucket(target, stack, names["bucket"])
        stack.bucket = names["bucket"]
        step("bucket")
        stack.oac_id = _ensure_oac(target, names["oac"])
        step("oac")
        if chosen.custom_cache_policy:
            stack.cache_policy_id = _ensure_cache_policy(target, names["cache_policy"])
        step("cache policy")
        dist = _ensure_distribution(target, stack, chosen, names, account, progress)
        stack.distribution_id, stack.domain_name = str(dist["Id"]), str(dist["DomainName"])
        step("distribution")
        _grant_distribution_read(target, stack.bucket, account, stack.distribution_id)
        step("bucket policy")
    return stack


@aws_errors
def find(target: Target, stack_name: str) -> Stack | None:
    """The stack as it stands in the account, or None when nothing of it exists."""
    dist = find_distribution(target, stack_name)
    api_id = find_api(target, stack_name)
    if dist is None and api_id is None:
        return None
    stack = Stack(name=stack_name, target=target.name, region=target.region, api_id=api_id)
    if dist is not None:
        stack.distribution_id, stack.domain_name = str(dist["Id"]), str(dist["DomainName"])
        cfg = target.client("cloudfront").get_distribution_config(Id=stack.distribution_id)["DistributionConfig"]
        stack.preset = preset_of(cfg)
    return stack


def preset_of(config: dict[str, Any]) -> str | None:
    """Which preset the ``/api/*`` behavior of ``config`` matches, or None when it matches none."""
    behavior = next((b for b in config.get("CacheBehaviors", {}).get("Items", []) or []
                     if b.get("PathPattern") == "/api/*"), None)
    if behavior is None:
        return None
    for preset in presets.PRESETS.values():
        want = preset.behavior_fields(behavior.get("CachePolicyId") if preset.custom_cache_policy else None)
        if preset.custom_cache_policy and behavior.get("CachePolicyId") in {
                presets.CACHING_DISABLED, presets.CACHING_OPTIMIZED}:
            continue
        if _contains(behavior, want) and ("OriginRequestPolicyId" in want) == bool(
                behavior.get("OriginRequestPolicyId")):
            return preset.name
    return None

@aws_errors
def describe(target: Target, stack: Stack) -> dict[str, Any]:
    """The deployed ``/api/*`` behavior and API origin, as CloudFront holds them."""
    assert stack.distribution_id
    config = target.client("cloudfront").get_distribution_config(Id=stack.distribution_id)["DistributionConfig"]
    behavior = next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")
    origin = next(o for o in config["Origins"]["Items"] if o["Id"] == behavior["TargetOriginId"])
    keep = ("PathPattern", "TargetOriginId", "ViewerProtocolPolicy", "CachePolicyId", "OriginRequestPolicyId",
            "ForwardedValues", "AllowedMethods")
    return {
        "behavior": {k: behavior[k] for k in keep if k in behavior},
        "origin": {k: origin.get(k) for k in ("Id", "DomainName", "OriginPath", "CustomOriginConfig")},
    }


def save(stack: Stack, folder: str | Path) -> Path:
    path = Path(folder) / "stack.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stack.to_dict(), indent=2))
    return path
