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


# Runs in the page after load: every table wider than the page or than a box it sits in, named by its text.
_OVERFLOW_PROBE = """<script>
window.addEventListener('load', function () {
  var width = document.documentElement.clientWidth, found = [];
  document.querySelectorAll('table').forEach(function (t) {
    var r = t.getBoundingClientRect(), cut = r.right > width + 1;
    // A table wider than a box around it is cut off there (reachable only by that box's scroll bar).
    for (var el = t; el && el !== document.documentElement; el = el.parentElement) {
      var box = el.getBoundingClientRect();
      if (el.scrollWidth > el.clientWidth + 1 && r.right > box.left + el.clientWidth + 1) { cut = true; }
    }
    if (cut) {
      found.push(Math.round(r.right) + 'px: ' + (t.innerText || '').slice(0, 60).replace(/\\s+/g, ' '));
    }
  });
  var wide = [];
  document.querySelectorAll('body *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right > width + 1 && wide.length < 5) {
      wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
    }
  });
  var out = document.createElement('pre'); out.id = 'overflow-report';
  out.textContent = JSON.stringify({width: width, overflowing: found, wide: wide,
                                     scrollWidth: document.documentElement.scrollWidth});
  document.body.appendChild(out);
});
</script>"""


def table_overflow(html_file: Path, workdir: Path, *, width: int = 1280) -> dict[str, object]:
    """Open a copy of ``html_file`` at ``width`` px (network blocked) and measure its tables.

    Returns ``{"width", "overflowing": [tables wider than the page], "scrollWidth"}``.
    """
    import json
    import re

    page = html_file.read_text(encoding="utf-8")
    probe = workdir / f"overflow-{html_file.name}"
    head, _, tail = page.rpartition("</body>")  # the last one: Mermaid's script holds the string too
    probe.write_text(head + _OVERFLOW_PROBE + "</body>" + tail, encoding="utf-8")
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={workdir / 'profile'}", f"--window-size={width},900", "--virtual-time-budget=10000",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--dump-dom", probe.as_uri()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="overflow-report">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, done.stdout[-2000:]
    import html as _html

    result: dict[str, object] = json.loads(_html.unescape(found.group(1)))
    return result
