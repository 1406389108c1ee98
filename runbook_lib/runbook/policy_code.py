"""One cache-policy definition, rendered as a boto3 config, boto3 code, CloudFormation and CDK.

The fix people find for "Authorization / query strings don't reach my API behind CloudFront" is a
custom cache policy that puts them in the cache key: values in the cache key are automatically
included in origin requests
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-the-cache-key.html).
:class:`CachePolicySpec` states that policy once; the ``to_*`` functions render the same policy for
each tool, so the four copies a reader sees in the runbook cannot drift apart.

Why the working policy has ``MaxTTL=1``: CloudFront refuses a cache policy whose three TTLs are all 0
("caching disabled") if it puts any header, cookie or query string in the cache key, or turns on
gzip/brotli normalisation. CloudFormation and CDK only say "Invalid request provided:
AWS::CloudFront::CachePolicy" (aws-cdk issues 13441 and 16977, cloudformation-coverage-roadmap
issue 571). The usual workaround is ``MaxTTL >= 1`` with ``DefaultTTL=0``: a response without
``Cache-Control``/``Expires`` is still not cached, and one that asks to be cached is kept at most
``MaxTTL`` seconds. :func:`cache_policy_problems` reports that rule and the others CloudFront enforces.

The renderers do not refuse a policy that breaks a rule (the runbook shows the broken one on
purpose); each rendering then starts with a comment naming the problems. Call :func:`check` to
refuse instead.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from collections.abc import Callable
from typing import Any

import yaml

# The policy's shape and its boto3 config live in the pure model (the AWS side deploys them too).
from runbook_lib.cloudfront.configs import (
    API_AUTH_AND_QUERY,
    CachePolicySpec,
    NameBehavior,
    behavior_parts,
    header_parts,
    to_cache_policy_config,
)
from runbook_lib.cloudfront.docs import cloudfront_api, cloudfront_guide
from runbook_lib.errors import CachePolicyError, ConfigError

__all__ = [
    "as_markdown",
    "API_AUTH_AND_QUERY",
    "ZERO_TTL_AUTH_IN_KEY",
    "CachePolicySpec",
    "NameBehavior",
    "cache_policy_problems",
    "check",
    "py_literal",
    "to_boto3_code",
    "to_cache_policy_config",
    "to_cdk_typescript",
    "to_cloudformation_yaml",
]

_DOC_CACHE_KEY = cloudfront_guide("controlling-the-cache-key.html")
_DOC_EXPIRATION = cloudfront_guide("Expiration.html")
_DOC_QUOTAS = cloudfront_guide("cloudfront-limits.html#limits-policies")
_DOC_API = cloudfront_api("API_CachePolicyConfig.html")

#: Default CloudFront quota on the names in each list of a cache policy (adjustable by request).
_NAMES_PER_LIST_QUOTA = 10
#: cachePolicyName as the CDK accepts it (aws-cdk-lib/aws-cloudfront/lib/cache-policy.ts).
_NAME_RE = re.compile(r"^[\w-]+$")
_NAME_MAX = 128
#: "The comment cannot be longer than 128 characters" (AWS::CloudFront::CachePolicy schema).
_COMMENT_MAX = 128


def _all_ttls_zero(spec: CachePolicySpec) -> bool:
    return spec.min_ttl == spec.default_ttl == spec.max_ttl == 0


# --------------------------------------------------------------------------------------------- rules


def cache_policy_problems(spec: CachePolicySpec) -> list[str]:
    """Every CloudFront rule the cache policy ``spec`` breaks, one sentence each with the fix; ``[]`` if none.

    Not a rule: ``Authorization`` may be in a cache policy's header allow-list. (It is an *origin
    request* policy that long refused it; the cache policy is AWS's documented way to forward it:
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html
    and http-401-unauthorized.html.)
    """
    return [problem for rule in _RULES for problem in rule(spec)]


def _ttls_in_order(spec: CachePolicySpec) -> list[str]:
    # CloudFront rejects DefaultTTL outside [MinTTL, MaxTTL]. (The CDK silently raises DefaultTTL
    # and MaxTTL instead, so the same numbers give a different policy there.)
    if spec.min_ttl <= spec.default_ttl <= spec.max_ttl:
        return []
    ttls = f"MinTTL={spec.min_ttl}, DefaultTTL={spec.default_ttl}, MaxTTL={spec.max_ttl}"
    return [f"TTLs out of order ({ttls}): CloudFront needs MinTTL <= DefaultTTL <= MaxTTL "
            f"({_DOC_EXPIRATION}). Raise MaxTTL or lower MinTTL/DefaultTTL."]


def _zero_ttls_with_a_cache_key(spec: CachePolicySpec) -> list[str]:
    if not _all_ttls_zero(spec):
        return []
    headers_kind, headers = header_parts(spec)
    cookies_kind, _ = behavior_parts(spec.cookies)
    query_kind, _ = behavior_parts(spec.query_strings)
    in_key = []
    if headers_kind != "none":
        in_key.append(f"headers {list(headers)}")
    if cookies_kind != "none":
        in_key.append(f"cookies ({cookies_kind})")
    if query_kind != "none":
        in_key.append(f"query strings ({query_kind})")
    if not in_key:
        return []
    return [f"All TTLs are 0 (caching disabled) but the cache key holds {', '.join(in_key)}: "
            "CloudFront rejects this ('Invalid request provided: AWS::CloudFront::CachePolicy' in "
            "CloudFormation/CDK; "
            f"{_DOC_CACHE_KEY}; aws-cdk issues 13441 and 16977). Set MaxTTL to at least 1 and keep "
            "DefaultTTL 0, or keep the TTLs at 0 with nothing in the cache key and forward these values "
            "with an origin request policy."]


def _zero_ttls_with_compression(spec: CachePolicySpec) -> list[str]:
    # "The parameter EnableAcceptEncodingGzip is invalid for policy with caching disabled."
    # (awsdocs/amazon-cloudfront-developer-guide PR 51: compression settings need TTLs > 0.)
    flags = (("EnableAcceptEncodingGzip", spec.gzip), ("EnableAcceptEncodingBrotli", spec.brotli))
    on = [name for name, flag in flags if flag]
    if not (_all_ttls_zero(spec) and on):
        return []
    return [f"All TTLs are 0 (caching disabled) but {' and '.join(on)} is on: CloudFront rejects "
            "compression settings on a policy with caching disabled "
            f"({_DOC_CACHE_KEY}#cache-policy-compressed-objects). "
            "Turn them off or set MaxTTL to at least 1."]


def _accept_encoding_listed_with_compression(spec: CachePolicySpec) -> list[str]:
    # With gzip/brotli on, CloudFront puts a normalised Accept-Encoding in the key itself and refuses
    # it in the allow-list too (cloudformation-coverage-roadmap issue 571; cdk-nextjs PR 188).
    if not ((spec.gzip or spec.brotli) and any(h.lower() == "accept-encoding" for h in spec.headers)):
        return []
    return ["Accept-Encoding is in the header allow-list while gzip/brotli is on: CloudFront already keys on "
            f"the normalised Accept-Encoding and rejects the duplicate ({_DOC_CACHE_KEY}"
            "#cache-policy-compressed-objects). Remove Accept-Encoding from headers, or turn gzip and "
            "brotli off."]


def _names_within_quota(spec: CachePolicySpec) -> list[str]:
    lists = (("headers", spec.headers), ("cookies", behavior_parts(spec.cookies)[1]),
             ("query strings", behavior_parts(spec.query_strings)[1]))
    return [f"{len(names)} {label} listed: CloudFront's default quota is {_NAMES_PER_LIST_QUOTA} "
            f"{label} per cache policy ({_DOC_QUOTAS}). Trim the list or request a quota increase."
            for label, names in lists if len(names) > _NAMES_PER_LIST_QUOTA]


def _name_is_valid(spec: CachePolicySpec) -> list[str]:
    if len(spec.name) <= _NAME_MAX and _NAME_RE.match(spec.name):
        return []
    return [f"Cache policy name {spec.name!r} must be 1-{_NAME_MAX} characters of letters, digits, '-' "
            "and '_' (the CDK refuses anything else at synth time). Rename it, e.g. 'api-auth-and-query'."]


def _comment_fits(spec: CachePolicySpec) -> list[str]:
    if len(spec.comment) <= _COMMENT_MAX:
        return []
    return [f"Comment is {len(spec.comment)} characters; CloudFront allows {_COMMENT_MAX} ({_DOC_API}). "
            "Shorten it."]


#: CloudFront's rules for a cache policy, in the order their problems are reported.
_RULES: tuple[Callable[[CachePolicySpec], list[str]], ...] = (
    _ttls_in_order, _zero_ttls_with_a_cache_key, _zero_ttls_with_compression,
    _accept_encoding_listed_with_compression, _names_within_quota, _name_is_valid, _comment_fits,
)


def check(spec: CachePolicySpec) -> CachePolicySpec:
    """Return ``spec`` if CloudFront would accept it, else raise :class:`CachePolicyError` listing why."""
    problems = cache_policy_problems(spec)
    if problems:
        raise CachePolicyError(
            f"Cache policy {spec.name!r} would be rejected by CloudFront:\n- " + "\n- ".join(problems),
            problems,
        )
    return spec


# -------------------------------------------------------------------------------------------- boto3


def _warning_lines(spec: CachePolicySpec, prefix: str) -> list[str]:
    problems = cache_policy_problems(spec)
    if not problems:
        return []
    lines = [f"{prefix} WARNING: CloudFront will reject this policy:"]
    for problem in problems:
        lines += textwrap.wrap(
            problem, width=100, initial_indent=f"{prefix} - ", subsequent_indent=f"{prefix}   ",
            break_long_words=False, break_on_hyphens=False,
        )
    return lines


def _py_literal(value: Any, indent: int = 0) -> str:
    """``value`` (dicts, lists, str, int, bool) as black-style Python source, lines under 100 chars."""
    pad = " " * indent
    inner = " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {_py_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        flat = "[" + ", ".join(_py_literal(v) for v in value) + "]"
        if len(flat) + indent < 80:
            return flat
        return "[\n" + "\n".join(f"{inner}{_py_literal(v, indent + 4)}," for v in value) + f"\n{pad}]"
    if isinstance(value, str):
        # json.dumps gives a valid Python string literal; long ones become implicit concatenation
        # so the pasted file passes a line-length lint.
        if len(value) <= 60:
            return json.dumps(value)
        chunks = [json.dumps(value[i : i + 60]) for i in range(0, len(value), 60)]
        return "(\n" + "\n".join(f"{inner}{c}" for c in chunks) + f"\n{pad})"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__} as a Python literal")


#: Public name of the literal renderer, for the other exporters (runbook_lib.runbook.fix_export).
py_literal = _py_literal


def to_boto3_code(spec: CachePolicySpec) -> str:
    """Python source that creates the policy with boto3 and prints its ID; ruff-clean, paste-ready."""
    lines = [
        f'"""Create the CloudFront cache policy {spec.name}.',
        "",
        "Generated by runbook_lib.policy_code.to_boto3_code.",
        '"""',
        "",
        *_warning_lines(spec, "#"),
        "import boto3",
        "",
        f"CACHE_POLICY_CONFIG = {_py_literal(to_cache_policy_config(spec))}",
        "",
        "# CloudFront is a global service; its API lives in us-east-1.",
        'cloudfront = boto3.client("cloudfront", region_name="us-east-1")',
        "response = cloudfront.create_cache_policy(CachePolicyConfig=CACHE_POLICY_CONFIG)",
        'print(response["CachePolicy"]["Id"])',
    ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- CloudFormation


def _cfn_config(spec: CachePolicySpec) -> dict[str, Any]:
    """The boto3 config with CloudFormation's plain lists where the API has {Quantity, Items}."""
    config = to_cache_policy_config(spec)
    params = config["ParametersInCacheKeyAndForwardedToOrigin"]
    for section, list_key in (("HeadersConfig", "Headers"), ("CookiesConfig", "Cookies"),
                              ("QueryStringsConfig", "QueryStrings")):
        if list_key in params[section]:
            params[section][list_key] = params[section][list_key]["Items"]
    if not config["Comment"]:
        del config["Comment"]
    return config


def to_cloudformation_yaml(spec: CachePolicySpec, logical_id: str = "ApiCachePolicy") -> str:
    """A complete CloudFormation template with one ``AWS::CloudFront::CachePolicy`` and its Id output.

    Uses the ``{"Ref": ...}`` mapping rather than the ``!Ref`` tag so a plain YAML loader reads it.
    """
    if not re.fullmatch(r"[A-Za-z0-9]{1,255}", logical_id):
        raise ConfigError(
            f"CloudFormation logical IDs are 1-255 letters and digits, got {logical_id!r}; e.g. "
            "'ApiCachePolicy'."
        )
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"CloudFront cache policy {spec.name} (generated by runbook_lib.policy_code)",
        "Resources": {
            logical_id: {
                "Type": "AWS::CloudFront::CachePolicy",
                "Properties": {"CachePolicyConfig": _cfn_config(spec)},
            }
        },
        "Outputs": {
            f"{logical_id}Id": {
                "Description": "ID of the cache policy, for a cache behavior's CachePolicyId",
                "Value": {"Ref": logical_id},
            }
        },
    }
    body = yaml.safe_dump(template, sort_keys=False, default_flow_style=False, allow_unicode=True, width=110)
    return "\n".join(_warning_lines(spec, "#") + [body])


# ---------------------------------------------------------------------------------------------- CDK


def _ts(value: str) -> str:
    """A single-quoted TypeScript string literal."""
    escaped = json.dumps(value)[1:-1].replace("\\\"", '"').replace("'", "\\'")
    return f"'{escaped}'"


def _ts_behavior(cls: str, value: NameBehavior) -> str:
    kind, names = behavior_parts(value)
    # aws-cdk-lib maps allowList -> "whitelist" and denyList -> "allExcept".
    method = {"none": "none", "all": "all", "whitelist": "allowList", "allExcept": "denyList"}[kind]
    return f"cloudfront.{cls}.{method}({', '.join(_ts(n) for n in names)})"


def to_cdk_typescript(spec: CachePolicySpec, construct_id: str = "ApiCachePolicy") -> str:
    """An aws-cdk-lib v2 TypeScript file: a Stack holding ``new cloudfront.CachePolicy(...)``.

    Every TTL and both compression flags are written out: the CDK's defaults (DefaultTTL 1 day,
    MaxTTL 1 year) are not CloudFront's and not this policy's.
    """
    headers = (f"cloudfront.CacheHeaderBehavior.allowList({', '.join(_ts(h) for h in spec.headers)})"
               if spec.headers else "cloudfront.CacheHeaderBehavior.none()")
    props = [
        f"cachePolicyName: {_ts(spec.name)},",
        *([f"comment: {_ts(spec.comment)},"] if spec.comment else []),
        f"minTtl: Duration.seconds({spec.min_ttl}),",
        f"defaultTtl: Duration.seconds({spec.default_ttl}),",
        f"maxTtl: Duration.seconds({spec.max_ttl}),",
        f"headerBehavior: {headers},",
        f"queryStringBehavior: {_ts_behavior('CacheQueryStringBehavior', spec.query_strings)},",
        f"cookieBehavior: {_ts_behavior('CacheCookieBehavior', spec.cookies)},",
        f"enableAcceptEncodingGzip: {'true' if spec.gzip else 'false'},",
        f"enableAcceptEncodingBrotli: {'true' if spec.brotli else 'false'},",
    ]
    stack = re.sub(r"[^A-Za-z0-9]", "", construct_id) or "Api"
    lines = [
        f"// CloudFront cache policy {spec.name} (generated by runbook_lib.policy_code).",
        *_warning_lines(spec, "//"),
        "import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';",
        "import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';",
        "import { Construct } from 'constructs';",
        "",
        f"export class {stack}Stack extends Stack {{",
        "  constructor(scope: Construct, id: string, props?: StackProps) {",
        "    super(scope, id, props);",
        "",
        f"    const cachePolicy = new cloudfront.CachePolicy(this, {_ts(construct_id)}, {{",
        *[f"      {p}" for p in props],
        "    });",
        "",
        f"    new CfnOutput(this, {_ts(construct_id + 'Id')}, {{ value: cachePolicy.cachePolicyId }});",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ named policies

#: The well-known fix: Authorization and every query string in the cache key (so CloudFront forwards
#: them to the API), cookies out, and MaxTTL 1 because all-zero TTLs cannot have a cache key.
def as_markdown(spec: CachePolicySpec) -> str:
    """The three renderings as fenced Markdown blocks, for notebooks and reports."""
    return (
        f"**boto3**\n\n```python\n{to_boto3_code(spec)}\n```\n\n"
        f"**CloudFormation**\n\n```yaml\n{to_cloudformation_yaml(spec)}\n```\n\n"
        f"**AWS CDK (TypeScript)**\n\n```typescript\n{to_cdk_typescript(spec)}\n```\n"
    )


#: The same policy with MaxTTL 0, the version people write first: CloudFront rejects it.
ZERO_TTL_AUTH_IN_KEY = dataclasses.replace(
    API_AUTH_AND_QUERY,
    name="api-auth-and-query-zero-ttl",
    comment="Broken on purpose: all TTLs 0 with Authorization and query strings in the key",
    max_ttl=0,
)
