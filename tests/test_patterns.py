"""Path-pattern matching: properties from
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runbook_lib.cloudfront.docs import cloudfront_guide
from runbook_lib.cloudfront.patterns import pattern_covers, pattern_matches, pattern_problem

SOURCE = cloudfront_guide("DownloadDistValuesCacheBehavior.html")
CHARS = "ab/._-"
literal = st.text(alphabet=CHARS, max_size=12)
glob = st.text(alphabet=CHARS + "*?", max_size=10)
path = st.text(alphabet=CHARS, max_size=14)


def reference(pattern: str, text: str) -> bool:
    """A plain recursive glob: '*' any run (including '/'), '?' exactly one character."""
    if not pattern:
        return not text
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return any(reference(rest, text[i:]) for i in range(len(text) + 1))
    if not text:
        return False
    return (head == "?" or head == text[0]) and reference(rest, text[1:])


@given(literal, path)
def test_literal_matches_only_itself(pattern: str, other: str) -> None:
    assert pattern_matches(pattern, pattern)
    assert pattern_matches("/" + pattern.lstrip("/"), pattern) or pattern.startswith("//")
    if other.lstrip("/") != pattern.lstrip("/"):
        assert not pattern_matches(pattern, other)


@given(path)
def test_star_matches_everything(p: str) -> None:
    assert pattern_matches("*", p)
    assert pattern_matches("/*", "/" + p)


@given(glob, path)
def test_leading_slash_optional(pattern: str, p: str) -> None:
    bare, p = pattern.lstrip("/"), p.lstrip("/")
    assert pattern_matches(bare, "/" + p) == pattern_matches("/" + bare, "/" + p) == pattern_matches(bare, p)


@given(glob, path)
def test_agrees_with_reference(pattern: str, p: str) -> None:
    assert pattern_matches(pattern, p) == reference(pattern.removeprefix("/"), p.removeprefix("/"))


@given(glob, glob, path)
def test_covers_is_sound(broad: str, narrow: str, p: str) -> None:
    # If broad covers narrow, every path narrow matches, broad matches too.
    if pattern_covers(broad, narrow) and pattern_matches(narrow, p):
        assert pattern_matches(broad, p)


def test_case_sensitive() -> None:
    assert pattern_matches("*.jpg", "/logo.jpg") and not pattern_matches("*.jpg", "/LOGO.JPG")


def test_covers_examples() -> None:
    assert pattern_covers("/api/*", "/api/v1/*")
    assert not pattern_covers("/api/v1/*", "/api/*")
    assert pattern_covers("*", "/anything?")


def test_pattern_problems() -> None:
    assert pattern_problem("/api/*") is None
    assert pattern_problem("") is not None
    assert pattern_problem("/" + "a" * 255) is not None  # 256 characters > 255
    assert pattern_problem("/a b") is not None
