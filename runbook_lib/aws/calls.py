"""Every AWS call goes through here: a botocore ``ClientError`` becomes a ProvisioningError that keeps AWS's code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import ClientError

from runbook_lib.errors import ProvisioningError

T = TypeVar("T")
P = ParamSpec("P")


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


def aws_call(what: str, fn: Callable[..., T], **kwargs: Any) -> T:
    """``fn(**kwargs)``, with a ClientError raised as :func:`aws_failure` (``from`` the original)."""
    try:
        return fn(**kwargs)
    except ClientError as err:
        raise aws_failure(what, err) from err


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
