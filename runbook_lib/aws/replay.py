"""Replay: a user's distribution recreated on a target with each API origin swapped for the echo API.

``check --replay local`` (issue 10) builds a :class:`Replay` on the embedded local AWS, probes each of its API
behaviors and removes it again. The replay keeps what decides forwarding (path patterns and their order,
OriginPath, origin custom headers, protocol policy, allowed methods, legacy ForwardedValues, cache and origin
request policies, CloudFront Functions with their code) and replaces only the API origins' address, with an
echo API that has the source API's routes where the source describes them.

:func:`build` makes it (which echo: ``replay_echo``; the DistributionConfig: ``replay_config``), :func:`remove`
removes it by its stack (``names.replay_stack``: new for each run), and :func:`replayed` does both around a
block. Everything the replay creates carries its stack's ``runbook:stack`` tag or, for its cache and origin
request policies (which take no tags) and its CloudFront Functions, that tag's text as their Comment
(``ownership.mark``): found by it even when a crash left no distribution to record them on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ROUTES_CATCH_ALL", "ROUTES_LAMBDA_URL", "ROUTES_SOURCE", "Replay", "ReplayedBehavior", "build", "leftovers",
    "remove", "remove_leftovers", "replayed",
]

#: The echo API has the source API's routes and stages: a missing route answers as API Gateway would.
ROUTES_SOURCE = "source"
#: The source does not describe the API: the echo answers every path, so a probe cannot tell whether the
#: user's API has the route (``path-reaches-route`` stays unknown).
ROUTES_CATCH_ALL = "catch-all"
#: A Lambda function URL origin: every path reaches the function
#: (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html).
ROUTES_LAMBDA_URL = "lambda-url"


@dataclass
class ReplayedBehavior:
    """One behavior of the replay whose origin is an API (its pattern as in the source; ``*`` for the default)."""

    path_pattern: str
    origin_id: str
    #: The Host the echo API sees as its own (the replayed origin's DomainName), for ``host-is-api``.
    api_host: str
    #: ROUTES_SOURCE, ROUTES_CATCH_ALL or ROUTES_LAMBDA_URL.
    routes: str


@dataclass
class Replay:
    """A replay as built on a target: everything in it carries the tag of stack ``stack_name``."""

    stack_name: str
    distribution_id: str
    #: The replay distribution's own domain (``dXXXX.cloudfront.net``), where probes go.
    domain: str
    #: The DistributionConfig as created on the target (API origins at the echo API's address).
    config: dict[str, Any]
    behaviors: list[ReplayedBehavior]
    #: What could not be replayed as it is (Lambda@Edge, origin groups, certificates...), one sentence each.
    notes: list[str] = field(default_factory=list)


# --- build and remove ---------------------------------------------------------------------------------
# Imported here, below the types: replay_echo reads this module's labels.
from runbook_lib.aws import echo_api, names, ownership, teardown  # noqa: E402
from runbook_lib.aws.calls import aws_call, aws_errors  # noqa: E402
from runbook_lib.aws.distribution import wait_deployed  # noqa: E402
from runbook_lib.aws.replay_config import (  # noqa: E402
    Remap,
    custom_policies,
    prune_to_shape,
    replay_config,
    used_function_arns,
)
from runbook_lib.aws.replay_echo import EchoPlan, plan_echo  # noqa: E402
from runbook_lib.aws.stack import TAG_KEY, Stack, account_id, resource_names  # noqa: E402
from runbook_lib.aws.target import Target  # noqa: E402
from runbook_lib.errors import RunbookError, SourceError  # noqa: E402
from runbook_lib.runbook import progress as progress_bar  # noqa: E402
from runbook_lib.sources import ApiOrigin, DistributionSource, api_origins  # noqa: E402

_STEPS = ("echo function", "echo APIs", "policies", "functions", "distribution")
#: What CloudFront Functions a replay recreates run as (the source does not say which runtime its code targets;
#: 2.0 runs 1.0 code too: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html).
_FUNCTION_RUNTIME = "cloudfront-js-2.0"


@aws_errors
def build(target: Target, source: DistributionSource, api_origin_ids: Sequence[str] = (),
          progress: bool = True) -> Replay:
    """Recreate ``source``'s distribution on ``target`` with each API origin at an echo API (see the module).

    Everything created carries one new replay stack's tag or mark (``names.replay_stack``); a failure part way
    removes what was made and raises the error.
    """
    origins = api_origins(source, tuple(api_origin_ids))
    if not origins:
        raise SourceError(f"Distribution {source.name} has no API origin to replay (none is on execute-api, a Lambda "
                          "function URL or a custom domain the source describes). Name one with --api-origin ID.")
    plans = [plan_echo(o, source.config) for o in origins]
    stack = names.replay_stack()
    try:
        with progress_bar.bar(total=len(_STEPS), desc=f"replay {source.name}", disable=not progress) as bar:
            return _build(target, source, stack, list(zip(origins, plans, strict=True)), bar)
    except BaseException:
        _cleanup(target, stack)
        raise


def _cleanup(target: Target, stack: str) -> None:
    try:
        remove(target, stack, progress=False)
    except RunbookError:  # the build's own error is the one to report; a leftover is found by name later
        pass


def _build(target: Target, source: DistributionSource, stack: str, plans: list[tuple[ApiOrigin, EchoPlan]],
           bar: Any) -> Replay:
    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    account = account_id(target)
    rn = resource_names(stack, account, target.region)
    owner = Stack(name=stack, target=target.name, region=target.region)
    function_arn = echo_api.ensure_function(target, owner, rn["function"],
                                            echo_api.ensure_role(target, owner, rn["role"]))
    step("echo function")
    echo_origins = {}
    for i, (origin, plan) in enumerate(plans):
        api_id = _create_echo(target, stack, f"{rn['api']}-{i + 1}", function_arn, account, plan)
        echo_origins[origin.origin_id] = target.echo_origin(api_id, plan.path_prefix + plan.origin_path)
    step("echo APIs")
    remap = Remap(echo_origins, target.placeholder_origin())
    remap.policy_ids = _create_policies(target, stack, source)
    step("policies")
    remap.function_arns = _create_functions(target, stack, source)
    step("functions")
    config, notes = replay_config(source, remap, f"{stack}-{time.time_ns()}", ownership.mark(stack))
    shape = target.client("cloudfront").meta.service_model.shape_for("DistributionConfig")
    notes += prune_to_shape(config, shape)
    dist = _create_distribution(target, stack, config, counted=not target.is_local)
    step("distribution")
    behaviors = _behaviors(config, {plan.origin_id: plan for _, plan in plans})
    return Replay(stack, str(dist["Id"]), str(dist["DomainName"]), config, behaviors,
                  [*(n for _, plan in plans for n in plan.notes), *notes])


def _create_echo(target: Target, stack: str, name: str, function_arn: str, account: str, plan: EchoPlan) -> str:
    if plan.protocol == "HTTP":
        return echo_api.create_http_echo(target, stack, name, function_arn, account, plan.route_keys, plan.stages)
    return echo_api.create_rest_echo(target, stack, name, function_arn, account, plan.resources, plan.stages)


def _create_policies(target: Target, stack: str, source: DistributionSource) -> dict[str, str]:
    """A copy of each custom policy the source describes, named for the replay and marked with its stack;
    returns source ID → the copy's ID."""
    cf = target.client("cloudfront")
    made = {}
    for i, (kind, source_id, config) in enumerate(custom_policies(source)):
        config = {**config, "Name": names.fit(stack, f"-policy-{i + 1}", names.LIMITS["policy"]),
                  "Comment": ownership.mark(stack)}
        if kind == "cache":
            made[source_id] = str(aws_call("cloudfront.CreateCachePolicy", cf.create_cache_policy,
                                           CachePolicyConfig=config)["CachePolicy"]["Id"])
        else:
            made[source_id] = str(aws_call("cloudfront.CreateOriginRequestPolicy", cf.create_origin_request_policy,
                                           OriginRequestPolicyConfig=config)["OriginRequestPolicy"]["Id"])
    return made


def _create_functions(target: Target, stack: str, source: DistributionSource) -> dict[str, str]:
    """A published copy of each CloudFront Function whose code the source has; returns source ARN → copy's ARN."""
    cf = target.client("cloudfront")
    made = {}
    for i, arn in enumerate(used_function_arns(source)):
        name = names.fit(stack, f"-fn-{i + 1}", names.LIMITS["cloudfront_function"])
        created = aws_call("cloudfront.CreateFunction", cf.create_function, Name=name,
                           FunctionConfig={"Comment": ownership.mark(stack), "Runtime": _FUNCTION_RUNTIME},
                           FunctionCode=source.functions[arn].encode())
        published = aws_call("cloudfront.PublishFunction", cf.publish_function, Name=name, IfMatch=created["ETag"])
        made[arn] = str(published["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])
    return made


def _create_distribution(target: Target, stack: str, config: dict[str, Any], counted: bool) -> dict[str, Any]:
    cf = target.client("cloudfront")
    dist = aws_call("cloudfront.CreateDistributionWithTags", cf.create_distribution_with_tags,
                    DistributionConfigWithTags={"DistributionConfig": config,
                                                "Tags": {"Items": ownership.tag_list(stack)}})["Distribution"]
    wait_deployed(target, str(dist["Id"]), progress=False, counted=counted)
    return dict(dist)


def _behaviors(config: dict[str, Any], plans: dict[str, EchoPlan]) -> list[ReplayedBehavior]:
    """The replay's behaviors whose origin is an echo API, default (``*``) first, then in the source's order."""
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    found = []
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"].get("Items", [])]:
        oid = behavior["TargetOriginId"]
        if oid in plans:
            found.append(ReplayedBehavior(behavior.get("PathPattern", "*"), oid, str(origins[oid]["DomainName"]),
                                          plans[oid].routes_kind))
    return found


@aws_errors
def remove(target: Target, replay: Replay | str, progress: bool = True) -> list[str]:
    """Remove everything of ``replay`` (or of the replay stack of that name, e.g. after a crash) and nothing
    else: the distribution (disabled, deployed, deleted), its policies and functions, echo APIs, Lambda, role."""
    stack = replay if isinstance(replay, str) else replay.stack_name
    return teardown.remove(target, stack, progress=progress, counted=not target.is_local, replay=True)


@aws_errors
def remove_leftovers(target: Target, progress: bool = True) -> tuple[list[str], list[str]]:
    """Remove every replay :func:`leftovers` finds on ``target``, together (one deployment round); returns the
    replay stacks and what was removed."""
    found = leftovers(target)
    return found, teardown.remove_all(target, found, progress=progress, counted=not target.is_local, replay=True)


@aws_errors
def leftovers(target: Target) -> list[str]:
    """The stack names of every replay on ``target`` (one a killed run left), sorted: found only by the runbook's
    own marks, the ``runbook:stack`` tag on distributions, REST/HTTP APIs, Lambda functions and IAM roles, and the
    Comment :func:`ownership.mark` on policies and CloudFront Functions, with a replay stack's name."""
    found = {*_tagged_distributions(target), *_tagged_apis(target), *_tagged_lambda_and_roles(target),
             *_marked_by_comment(target)}
    return sorted(s for s in found if s.startswith(names.REPLAY_PREFIX) and names.stack_name_problem(s) is None)


def _tagged_distributions(target: Target) -> list[str]:
    cf, found = target.client("cloudfront"), []
    for page in cf.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items", []) or []:
            if str(item.get("Comment", "")).startswith(ownership.mark(names.REPLAY_PREFIX)):
                tags = aws_call("cloudfront.ListTagsForResource", cf.list_tags_for_resource,
                                Resource=item["ARN"])["Tags"].get("Items", []) or []
                found += [t.get("Value", "") for t in tags if t["Key"] == TAG_KEY]
    return found


def _tagged_apis(target: Target) -> list[str]:
    apig, v2 = target.client("apigateway"), target.client("apigatewayv2")
    rest = [(a.get("tags") or {}).get(TAG_KEY, "") for page in apig.get_paginator("get_rest_apis").paginate()
            for a in page.get("items", [])]
    return rest + [(a.get("Tags") or {}).get(TAG_KEY, "") for page in v2.get_paginator("get_apis").paginate()
                   for a in page.get("Items", [])]


def _tagged_lambda_and_roles(target: Target) -> list[str]:
    """Lambda functions and IAM roles named like a replay's (``stack.resource_names``), by their tag."""
    lam, iam, found = target.client("lambda"), target.client("iam"), []
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page.get("Functions", []):
            if fn["FunctionName"].startswith(names.REPLAY_PREFIX):
                tags = aws_call("lambda.ListTags", lam.list_tags, Resource=fn["FunctionArn"])["Tags"]
                found.append(tags.get(TAG_KEY, ""))
    for page in iam.get_paginator("list_roles").paginate():
        for role in page.get("Roles", []):
            if role["RoleName"].startswith(names.REPLAY_PREFIX):
                tags = aws_call("iam.ListRoleTags", iam.list_role_tags, RoleName=role["RoleName"])["Tags"]
                found += [t["Value"] for t in tags if t["Key"] == TAG_KEY]
    return found


def _marked_by_comment(target: Target) -> list[str]:
    """Policies and CloudFront Functions whose Comment is exactly a replay stack's :func:`ownership.mark`."""
    comments = [c for _, _, c in ownership.policy_comments(target)]
    comments += ownership.function_comments(target).values()
    prefix = ownership.mark("")
    return [c.removeprefix(prefix) for c in comments if c.startswith(ownership.mark(names.REPLAY_PREFIX))]


@contextmanager
def replayed(target: Target, source: DistributionSource, api_origin_ids: Sequence[str] = (),
             progress: bool = True) -> Iterator[Replay]:
    """:func:`build`, then :func:`remove` when the block ends: normally, on an error, on Ctrl-C."""
    made = build(target, source, api_origin_ids, progress)
    try:
        yield made
    finally:
        remove(target, made, progress=False)
