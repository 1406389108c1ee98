"""Credentials never reach an output: tables, CSV, HTML and logs show a masked form.

The mask keeps a short keyed hash (HMAC-SHA256 with a random key per run), so two equal secrets still look
equal in a report (and a reader can see that the API received the Authorization it was sent) without
showing either; and since the key is never written anywhere, a holder of the report cannot confirm a guess
by hashing it. ``make report`` sets one key for the whole run (:data:`KEY_ENV`, inherited by every
notebook's kernel); any other process draws its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from typing import Any

__all__ = ["KEY_ENV", "SENSITIVE_HEADERS", "headers", "is_sensitive", "mask", "new_run_key", "run_key"]

#: The environment variable holding this run's mask key (hex). Its name says "key", so it is itself masked.
KEY_ENV = "RUNBOOK_MASK_KEY"
_PROCESS_KEY = secrets.token_bytes(32)

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
    digest = hmac.new(_key(), value.encode(), hashlib.sha256).hexdigest()[:8]
    return f"‹redacted {len(value)} chars #{digest}›"


def new_run_key() -> str:
    """A fresh random key (hex) for one run's masks; put it in ``os.environ[KEY_ENV]`` before notebooks start."""
    return secrets.token_hex(32)


@contextlib.contextmanager
def run_key() -> Iterator[str]:
    """Within the block, every mask (in this process and in the kernels it starts) uses one fresh key."""
    previous = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = key = new_run_key()
    try:
        yield key
    finally:
        if previous is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = previous


def _key() -> bytes:
    env = os.environ.get(KEY_ENV, "")
    return env.encode() if env else _PROCESS_KEY


def headers(items: dict[str, Any]) -> dict[str, Any]:
    """A copy of a header mapping with credential values masked."""
    return {k: mask(v) if is_sensitive(k) else v for k, v in items.items()}
