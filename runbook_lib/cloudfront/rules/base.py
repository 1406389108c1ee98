"""The shapes every config rule shares: the issue it reports, the behavior it looks at, the rule itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.enums import error_status
from runbook_lib.cloudfront.fixes import Fix

__all__ = ["ConfigIssue", "ConfigRule", "Site", "issue"]


@dataclass(frozen=True, slots=True, eq=False)
class ConfigIssue:
    """One thing AWS would reject; ``to_dict`` is the ``config_errors`` entry."""

    status: int
    code: str
    message: str
    behavior: str | None = None  # PathPattern or "default", when the issue belongs to a behavior
    pointer: str = ""  # JSON pointer of the offending value
    kind: str = ""  # the rule's stable name
    doc_url: str = cloudfront_guide("distribution-web-values-specify.html")
    fix: Fix | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Site:
    """One cache behavior as the rules see it, with the distribution facts they need."""

    raw: dict[str, Any]
    label: str  # PathPattern, or "default"
    pointer: str  # JSON pointer of the behavior
    origin_ids: frozenset[str]
    s3_ids: frozenset[str]
    policies: dict[str, Any] | None


def _no_fix(_site: Site) -> Fix | None:
    return None


@dataclass(frozen=True, slots=True)
class ConfigRule:
    """A behavior rule: ``check`` returns the message (what is wrong, how to fix it) or None."""

    kind: str
    code: str  # AWS's error code; the HTTP status comes from botocore's service model
    doc_url: str
    field: str  # the offending value, relative to the behavior ("" = the behavior itself)
    check: Callable[[Site], str | None]
    fix: Callable[[Site], Fix | None] = _no_fix

    def issue(self, site: Site, message: str) -> ConfigIssue:
        return ConfigIssue(
            error_status(self.code),
            self.code,
            message,
            site.label,
            site.pointer + self.field,
            self.kind,
            self.doc_url,
            self.fix(site),
        )


def issue(
    code: str,
    message: str,
    doc_url: str,
    pointer: str,
    kind: str,
    behavior: str | None = None,
    fix: Fix | None = None,
) -> ConfigIssue:
    """A ConfigIssue whose HTTP status is the one botocore's service model gives ``code``."""
    return ConfigIssue(error_status(code), code, message, behavior, pointer, kind, doc_url, fix)
