"""HTTP field names and values a viewer request may carry (RFC 9110), so a typed-in header can't forge another.

A name is a ``token`` (https://www.rfc-editor.org/rfc/rfc9110#section-5.1); a value has no control
characters but horizontal tab (https://www.rfc-editor.org/rfc/rfc9110#section-5.5): a CR or LF in a value
would end the field and start a forged one (``X-Evil: a\\r\\nInjected: yes``).
"""

from __future__ import annotations

import re

from runbook_lib.errors import ConfigError

__all__ = ["check_field", "check_request", "check_target"]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_field(name: str, value: str) -> None:
    """Raise :class:`ConfigError` unless ``name: value`` is a valid HTTP field."""
    if not _TOKEN.fullmatch(name):
        raise ConfigError(
            f"Header name {name!r} is not an HTTP token (RFC 9110 section 5.1: letters, digits and "
            "!#$%&'*+-.^_`|~, no spaces or colons). Fix the name."
        )
    bad = _CONTROL.search(value)
    if bad:
        raise ConfigError(
            f"Header {name} has a control character ({bad.group()!r}) in its value; CR and LF would start a "
            "forged header (RFC 9110 section 5.5). Remove it."
        )


def check_target(method: str, target: str) -> None:
    """Raise :class:`ConfigError` when a method is not a token or a path/query holds spaces or control characters."""
    if not _TOKEN.fullmatch(method):
        raise ConfigError(f"Method {method!r} is not an HTTP token (RFC 9110 section 9.1). Use e.g. GET or POST.")
    bad = _CONTROL.search(target) or re.search(" ", target)
    if bad:
        raise ConfigError(
            f"The request path {target!r} has {bad.group()!r} in it; percent-encode it (RFC 3986) instead."
        )


def check_request(method: str, target: str, headers: dict[str, str]) -> None:
    """:func:`check_target` and :func:`check_field` for a whole request."""
    check_target(method, target)
    for name, value in headers.items():
        check_field(name, value)
