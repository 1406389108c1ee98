"""Headless Chromium for the tests that prove a report renders offline (shared by several test modules).

Without Chromium a browser test is skipped with the reason, unless ``CI`` is set: then it fails,
because CI must run it (tests/prerequisites.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

try:
    from tests import prerequisites
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import prerequisites  # type: ignore[no-redef]

__all__ = ["chromium", "dump_dom"]


def chromium() -> str:
    """The Chromium executable; skips (or fails on CI) when there is none."""
    return prerequisites.executable("chromium", "apt-get install -y chromium", "/usr/bin/chromium")


def dump_dom(html_file: Path, profile: Path, *, dead_proxy: bool, budget_ms: int = 10000) -> str:
    """The DOM of ``html_file`` after its scripts ran (``budget_ms`` of virtual time).

    ``dead_proxy`` sends every request, loopback included, to a port nothing listens on, so anything
    the page tried to fetch from the network fails.
    """
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
    ]
    if dead_proxy:
        # Every request, loopback included, goes to a port nothing listens on: a CDN fetch fails.
        args += ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
    args += ["--dump-dom", html_file.as_uri()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
