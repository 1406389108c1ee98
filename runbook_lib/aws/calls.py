"""Every AWS call goes through here: a botocore ``ClientError`` becomes a ProvisioningError that keeps AWS's code.

:func:`aws_call` makes one call; :func:`get_or_none` reads a resource that may not exist; :func:`aws_errors`
guards a public function. All three convert errors with :func:`aws_failure`, the one conversion.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import ClientError

from runbook_lib.errors import ProvisioningError

__all__ = ["NOT_FOUND", "aws_call", "aws_code", "aws_errors", "aws_failure", "get_or_none"]

T = TypeVar("T")
P = ParamSpec("P")

#: The codes with which the services the runbook uses say "no such resource" (a read of something
#: that is not there): IAM, Lambda, API Gateway, S3 (HeadBucket answers a bare 404), CloudFront.
NOT_FOUND = frozenset({
    "NoSuchEntity", "ResourceNotFoundException", "NotFoundException", "404", "NotFound", "NoSuchBucket",
    "NoSuchTagSet", "NoSuchTagSetError", "NoSuchDistribution", "NoSuchCachePolicy", "NoSuchOriginRequestPolicy",
    "NoSuchOriginAccessControl", "NoSuchFunctionExists", "NoSuchResource",
})


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


def aws_call(what: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """``fn(**kwargs)``, with a ClientError raised as :func:`aws_failure` (``from`` the original)."""
    try:
        return fn(**kwargs)
    except ClientError as err:
        raise aws_failure(what, err) from err


def get_or_none(what: str, fn: Callable[..., T], /, *, fix: str = "", **kwargs: Any) -> T | None:
    """``fn(**kwargs)``, or None when AWS answers that the resource does not exist (:data:`NOT_FOUND`).

    Any other error is raised as :func:`aws_failure` with ``fix`` appended.
    """
    try:
        return fn(**kwargs)
    except ClientError as err:
        if aws_code(err) in NOT_FOUND:
            return None
        raise aws_failure(what, err, fix) from err


def aws_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Any ClientError a public function meets becomes a ProvisioningError that keeps its code.

    Specific calls go through :func:`aws_call` for a precise message; this catches the rest (reads,
    paginators, waiters), so a user never meets a bare botocore traceback.
    """
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except ClientError as err:
            raise aws_failure(f"{fn.__name__}: {err.operation_name}", err) from err
    return wrapper
