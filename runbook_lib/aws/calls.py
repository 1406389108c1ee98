"""Every AWS call goes through here, and so does every AWS error: one conversion for all of them.

:func:`aws_call` makes one call; :func:`get_or_none` reads a resource that may not exist; :func:`aws_errors`
guards a public function. All three convert what botocore raises with :func:`convert`:

- AWS refused the request (a ``ClientError`` with a code): :class:`ProvisioningError` keeping the code;
- the credentials, profile, endpoint or request rate are the problem (``NoCredentialsError``,
  ``ProfileNotFound``, ``EndpointConnectionError``, an expired token, throttling that outlasted the
  retries): :class:`AwsAccessError`, one line naming the fix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from runbook_lib.errors import AwsAccessError, ProvisioningError, RunbookError

__all__ = ["NOT_FOUND", "aws_call", "aws_code", "aws_errors", "aws_failure", "convert", "get_or_none"]

T = TypeVar("T")
P = ParamSpec("P")

#: The codes with which the services the runbook uses say "no such resource" (a read of something
#: that is not there): IAM, Lambda, API Gateway, S3 (HeadBucket answers a bare 404), CloudFront.
NOT_FOUND = frozenset({
    "NoSuchEntity", "ResourceNotFoundException", "NotFoundException", "404", "NotFound", "NoSuchBucket",
    "NoSuchTagSet", "NoSuchTagSetError", "NoSuchDistribution", "NoSuchCachePolicy", "NoSuchOriginRequestPolicy",
    "NoSuchOriginAccessControl", "NoSuchFunctionExists", "NoSuchResource",
})
#: Codes that mean the credentials are expired or not valid (STS, IAM, and the services' own words).
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
                      "UnrecognizedClientException", "InvalidToken", "TokenRefreshRequired"})
#: Codes of throttling; botocore's adaptive retry mode (aws.target) has already retried these.
_THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
                        "SlowDown", "ThrottledException", "RequestThrottled", "RequestThrottledException"})


def aws_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def aws_failure(what: str, err: ClientError, fix: str = "") -> ProvisioningError:
    """A ProvisioningError for a failed AWS call: what failed, AWS's code and words, and the fix."""
    code = aws_code(err)
    msg = err.response.get("Error", {}).get("Message", str(err))
    text = f"{what} failed: {code}: {msg}."
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        text += " The credentials lack a permission: README.md lists the IAM policy the runbook needs."
    return ProvisioningError(f"{text} {fix}".strip(), code=code)


def _login(profile: str | None) -> str:
    flag = f" --profile {profile}" if profile else ""
    return (f"Sign in again: `aws sso login{flag}` for an SSO profile, or refresh the keys "
            f"(`aws configure{flag}`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN)")


def _access_fix(err: BaseException, profile: str | None) -> str | None:
    """The one-line explanation and fix for an access problem, or None when ``err`` is not one."""
    if isinstance(err, ClientError):
        code = aws_code(err)
        if code in _EXPIRED:
            return f"AWS refused the credentials ({code}: they are expired or not valid). {_login(profile)}."
        if code in _THROTTLED:
            return (f"AWS kept throttling {err.operation_name} ({code}) after botocore's adaptive retries. Wait a "
                    "minute and run again; the runbook finds and reuses what it already built.")
        return None
    if isinstance(err, ProfileNotFound):
        return (f"{err}. Name a profile that exists (`aws configure list-profiles`), or create it with "
                f"`aws configure --profile {err.kwargs.get('profile', 'NAME')}` or `aws configure sso`.")
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return (f"No usable AWS credentials were found ({err}). {_login(profile)}, or name a profile "
                "(profile='NAME' in a notebook, --profile NAME on the command line, or AWS_PROFILE).")
    if isinstance(err, SSOError | TokenRetrievalError):
        return f"The SSO session has expired or is missing ({err}). {_login(profile)}."
    if isinstance(err, NoRegionError):
        return "No AWS region is set: pass region='eu-west-1' (for example) or set AWS_REGION."
    if isinstance(err, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return (f"AWS could not be reached ({err}). Check the network or proxy, and that the region exists "
                "and offers the service.")
    return None


def convert(err: BaseException, what: str = "", profile: str | None = None) -> RunbookError | None:
    """The runbook error for what botocore raised (see the module's docstring), or None for anything else
    (a programming error such as ``ParamValidationError`` stays as it is)."""
    fix = _access_fix(err, profile)
    if fix is not None:
        code = aws_code(err) if isinstance(err, ClientError) else type(err).__name__
        return AwsAccessError(f"{what}: {fix}" if what else fix, code=code)
    if isinstance(err, ClientError):
        return aws_failure(what or str(err.operation_name), err)
    return None


def aws_call(what: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """``fn(**kwargs)``, with what botocore raises converted by :func:`convert` (``from`` the original)."""
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as err:
        raise (convert(err, what) or err) from err


def get_or_none(what: str, fn: Callable[..., T], /, *, fix: str = "", **kwargs: Any) -> T | None:
    """``fn(**kwargs)``, or None when AWS answers that the resource does not exist (:data:`NOT_FOUND`).

    Any other AWS error is converted by :func:`convert`; a failed call's message ends with ``fix``.
    """
    try:
        return fn(**kwargs)
    except ClientError as err:
        if aws_code(err) in NOT_FOUND:
            return None
        if _access_fix(err, None) is None:
            raise aws_failure(what, err, fix) from err
        raise (convert(err, what) or err) from err
    except BotoCoreError as err:
        raise (convert(err, what) or err) from err


def aws_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Whatever botocore raises inside a public function is converted by :func:`convert`.

    Specific calls go through :func:`aws_call` for a precise message; this catches the rest (reads,
    paginators, waiters), so a user never meets a bare botocore traceback. The profile named in a fix is
    the one of the function's first argument when it is a target.
    """
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as err:
            session = getattr(args[0], "session", None) if args else None
            profile = getattr(session, "profile_name", None)
            what = f"{fn.__name__}: {err.operation_name}" if isinstance(err, ClientError) else fn.__name__
            raise (convert(err, what, None if profile == "default" else profile) or err) from err
    return wrapper
