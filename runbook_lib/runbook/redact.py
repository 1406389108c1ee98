"""Credentials never reach an output: tables, CSV, HTML and logs show a masked form.

The mask keeps a short hash, so two equal secrets still look equal in a report (and a reader can
see that the API received the Authorization it was sent) without showing either.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = ["SENSITIVE_HEADERS", "headers", "is_sensitive", "mask"]

#: Header names (lower case) whose values are credentials.
SENSITIVE_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
    "x-amz-security-token",
})
#: Any header, check or parameter name containing one of these words (case-insensitive) carries a credential:
#: ``api_key``, ``aws_secret_access_key``, ``access_key_id``, ``auth_token``, ``x-api-key``, ...
_SENSITIVE_NAME = re.compile(r"authorization|cookie|secret|token|password|credential|key", re.I)


def is_sensitive(name: str) -> bool:
    """Whether a header, check or parameter called ``name`` carries a credential."""
    return name.lower() in SENSITIVE_HEADERS or bool(_SENSITIVE_NAME.search(name))


def mask(value: Any) -> Any:
    """``'Bearer abc'`` → ``'‹redacted 10 chars #1f0e3dad›'``; anything not a string passes through."""
    if not isinstance(value, str):
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"‹redacted {len(value)} chars #{digest}›"


def headers(items: dict[str, Any]) -> dict[str, Any]:
    """A copy of a header mapping with credential values masked."""
    return {k: mask(v) if is_sensitive(k) else v for k, v in items.items()}
