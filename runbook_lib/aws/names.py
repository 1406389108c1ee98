"""The names the runbook gives what it creates: one place, so the notebooks, CLI, runner and teardown agree.

Every derived name is checked against the AWS rule for its kind. A name that would be too long keeps its
readable start and its suffix, and the part in between is replaced by a hash of the whole intended name:
two stacks never share a derived name, and the same stack always gets the same one (never a plain cut,
which could end in a hyphen or make two regions' bucket names equal).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from runbook_lib.errors import ParameterError

__all__ = [
    "DEFAULT_STACK",
    "LIMITS",
    "STACK_NAME_MAX",
    "bucket_name",
    "fit",
    "lab_stack",
    "paths_stack",
    "REPLAY_PREFIX",
    "replay_stack",
    "stack_name_problem",
]

#: The stack name every notebook and command uses unless told otherwise.
DEFAULT_STACK = "cf-apigw-runbook"
#: A stack name is 3-30 characters: lower-case letters, digits and '-', from a letter to a letter or digit.
STACK_NAME_MAX = 30
_STACK_NAME = re.compile(rf"^[a-z][a-z0-9-]{{1,{STACK_NAME_MAX - 2}}}[a-z0-9]$")
#: Prefixes S3 reserves (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html);
#: the stack name starts the bucket name.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")

#: Longest name AWS accepts, per kind.
LIMITS = {
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html: 3-63 characters.
    "bucket": 63,
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html: a function name is 64 at most.
    "function": 64,
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html: RoleName, 64.
    "role": 64,
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateFunction.html: Name, 64.
    "cloudfront_function": 64,
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_OriginAccessControlConfig.html: Name, 64.
    "oac": 64,
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachePolicyConfig.html: Name, 128.
    "policy": 128,
    # https://docs.aws.amazon.com/apigateway/latest/api/API_CreateRestApi.html: name (kept as short as a role).
    "api": 128,
}
_HASH_CHARS = 8


def stack_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a stack name (it starts the S3 bucket's name), or None when it can."""
    if not isinstance(name, str) or not _STACK_NAME.match(name):
        return (f"Use 3-{STACK_NAME_MAX} characters: lower-case letters, digits and '-', starting with a letter "
                "and ending with a letter or digit (it names a bucket).")
    if name.startswith(_RESERVED_PREFIXES) or "--" in name:
        return (f"Do not start with {', '.join(_RESERVED_PREFIXES)} or use '--': S3 reserves them "
                "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).")
    return None


def fit(stem: str, suffix: str, limit: int) -> str:
    """``stem + suffix`` when it fits ``limit``; else the start of ``stem``, '-', a hash of the whole name,
    then ``suffix``: as long as ``limit``, never ending in the cut part's hyphen."""
    whole = stem + suffix
    if len(whole) <= limit:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:_HASH_CHARS]
    keep = limit - len(suffix) - _HASH_CHARS - 1
    if keep < 1:
        raise ParameterError(f"No name of at most {limit} characters ends with {suffix!r}; shorten the suffix.")
    return f"{stem[:keep].rstrip('-')}-{digest}{suffix}"


def bucket_name(stack_name: str, account: str, region: str) -> str:
    """The site bucket: global on AWS, so the account and region make it unique
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""
    return fit(stack_name.lower(), f"-site-{account}-{region}".lower(), LIMITS["bucket"])


def lab_stack(stack_name: str) -> str:
    """The pitfalls lab's own stack, a child of ``stack_name`` (by its ``runbook:parent`` tag, not this name)."""
    return f"{stack_name}-lab"


def paths_stack(stack_name: str) -> str:
    """The path-fix stack of the pitfalls lab, a child of ``stack_name`` (by its ``runbook:parent`` tag)."""
    return f"{stack_name}-paths"


#: Every replay stack's name starts so (``check --replay``: a user's distribution recreated behind the echo API).
REPLAY_PREFIX = "cf-apigw-replay-"


def replay_stack(token: str = "") -> str:
    """A replay's stack: ``cf-apigw-replay-<8 hex>``, new for each run (``token`` fixes the suffix, for tests), so
    two replays never share a name and a leftover of a crashed one is found by its name
    (``replay.remove(target, name)``)."""
    name = f"{REPLAY_PREFIX}{token or secrets.token_hex(4)}"
    problem = stack_name_problem(name)
    if problem:
        raise ParameterError(f"Replay stack name {name!r}: {problem}")
    return name
