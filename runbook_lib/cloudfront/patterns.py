"""Cache-behavior path patterns: matching, validation and "does one pattern cover another".

Rules (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern):
``*`` matches 0 or more characters, including ``/`` (``images/*.jpg`` applies to subdirectories);
``?`` matches exactly one character; matching is case-sensitive; the leading ``/`` is optional;
the query string is not part of the match; at most 255 characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = ["compile_pattern", "pattern_matches", "pattern_problem", "pattern_covers"]

MAX_PATTERN_LENGTH = 255

# Characters AWS accepts in a path pattern (same page, "Path pattern": A-Z, a-z, 0-9,
# _ - . * $ / ~ " ' @ : +, and & passed as &amp;). ``?`` is the one-character wildcard.
_VALID = re.compile(r"[A-Za-z0-9_\-.*$/~\"'@:+?&;]*")


def _strip(text: str) -> str:
    # The leading "/" is optional in a pattern, so compare both sides without it.
    return text[1:] if text.startswith("/") else text


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A matcher ``f(path)`` for ``pattern``; ``f`` expects the path *without* its leading ``/``."""
    body = _strip(pattern)
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in body)
    # DOTALL: "*" must match any character, newline included, to mean "any chars".
    return re.compile(regex, re.DOTALL).fullmatch


def pattern_matches(pattern: str, path: str) -> bool:
    """Whether a viewer ``path`` (no query string) falls under ``pattern``."""
    return compile_pattern(pattern)(_strip(path)) is not None


def pattern_problem(pattern: object) -> str | None:
    """Why AWS would reject this PathPattern, or None when it is acceptable."""
    if not isinstance(pattern, str) or pattern == "":
        return "PathPattern is empty; give a pattern such as /api/*."
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"PathPattern is {len(pattern)} characters; the maximum is {MAX_PATTERN_LENGTH}."
    if _VALID.fullmatch(pattern) is None:
        bad = sorted({ch for ch in pattern if _VALID.fullmatch(ch) is None})
        return (
            f"PathPattern {pattern!r} contains characters CloudFront does not accept: {''.join(bad)!r}. "
            "Use A-Z a-z 0-9 _ - . * ? $ / ~ \" ' @ : + &."
        )
    return None


def pattern_covers(broad: str, narrow: str) -> bool:
    """True when every path matched by ``narrow`` is also matched by ``broad``.

    A symbolic match of one glob against the other: ``broad``'s ``*`` may absorb any run of
    ``narrow``'s symbols (wildcards included), ``?`` may absorb one literal or ``?``, literals must
    be equal. It is sound (never claims coverage that does not hold); a few exotic pairs such as
    ``*?`` over ``?*`` are reported as not covering, which only means a missed warning.
    """
    a, b = _strip(broad), _strip(narrow)
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(a):
            result = j == len(b)
        elif a[i] == "*":
            result = go(i + 1, j) or (j < len(b) and go(i, j + 1))
        elif j == len(b) or b[j] == "*":
            result = False
        elif a[i] == "?":
            result = go(i + 1, j + 1)
        else:
            result = a[i] == b[j] and go(i + 1, j + 1)
        memo[key] = result
        return result

    return go(0, 0)
