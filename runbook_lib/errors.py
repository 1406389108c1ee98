"""Typed errors. Every message says what was expected, what was found and what to do next.

AWS's own errors become :class:`ProvisioningError` (a failed call) or :class:`AwsAccessError` (credentials,
profile, endpoint, throttling) in ``aws.calls``.
"""

from __future__ import annotations

__all__ = [
    "AwsAccessError", "CachePolicyError", "ConfigError", "LocalStackError", "ParameterError", "ProvisioningError",
    "ReportError", "RunbookError", "VerdictFailed",
]


class RunbookError(Exception):
    """Base class of every error the runbook raises on purpose."""

    def _render_traceback_(self) -> list[str]:
        """How IPython (a notebook cell) shows it: one line, the error and its fix, not a traceback."""
        return [f"{type(self).__name__}: {self}"]


class ParameterError(RunbookError, ValueError):
    """A notebook or CLI parameter is unknown or invalid."""


class LocalStackError(RunbookError):
    """The embedded local AWS (MiniStack) could not be installed, started or reached."""


class ProvisioningError(RunbookError):
    """An AWS call made while building or tearing down the runbook's resources failed."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        #: The AWS error code when the cause was a botocore ClientError (e.g. "InvalidArgument").
        self.code = code


class AwsAccessError(RunbookError):
    """AWS cannot be reached or will not answer these credentials: missing or expired credentials, an unknown
    profile, no route to the endpoint, or throttling that outlasted the retries. The message names the fix."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        #: AWS's error code, or the botocore exception's name (e.g. "NoCredentialsError").
        self.code = code


class ConfigError(RunbookError, ValueError):
    """A distribution config or policy given to the model cannot be read."""


class VerdictFailed(RunbookError):
    """A verification or lab run ended in FAIL; the message names what failed (and the HTML report shows it)."""


class SourceError(ConfigError):
    """A ``check`` source (a file or ``distribution:<ID>``) is not one of the accepted formats or cannot be read."""


class ReportError(RunbookError):
    """An executed notebook could not be rendered to its HTML report."""


class CachePolicyError(RunbookError, ValueError):
    """A cache policy definition breaks a rule CloudFront enforces when the policy is created."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        #: Every rule the policy breaks, one sentence each, with the fix.
        self.problems: list[str] = list(problems or [])


class FixRefused(RunbookError):
    """``fix --apply`` changed nothing: the distribution changed since the plan, or the plan cannot be applied."""


class StagingUnavailable(RunbookError):
    """Continuous deployment cannot be used for this distribution (HTTP/3, a quota): apply updates it directly."""
