"""Mermaid diagrams in a report, drawn once at report time: inline SVG, no 3.6 MB script in the page.

When a Chromium is installed, :func:`inline_svgs` opens the report with the vendored Mermaid (network
blocked), lets it draw every diagram, and puts the resulting SVGs in place of the diagram sources; the
page then needs no JavaScript at all. Without a browser the caller keeps the script (one copy per folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["BROWSERS", "browser", "inline_svgs"]

#: Executables tried in order; ``RUNBOOK_BROWSER`` names another one.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: What nbconvert writes for a ```mermaid fence (or a text/vnd.mermaid output).
_BLOCK = re.compile(r'<div class="jp-Mermaid">\s*<pre class="mermaid">.*?</pre>\s*</div>', re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_TIMEOUT_S = 120


def browser() -> str | None:
    """The headless browser to draw with, or None."""
    named = os.environ.get("RUNBOOK_BROWSER", "")
    if named:
        return shutil.which(named)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def inline_svgs(page: str) -> str | None:
    """``page`` (holding the Mermaid script and renderer) with each diagram drawn as SVG and every script gone.

    None when there is no browser or it did not draw every diagram: the caller then keeps the script.
    """
    exe = browser()
    originals = list(_BLOCK.finditer(page))
    if exe is None or not originals:
        return None
    with tempfile.TemporaryDirectory(prefix="runbook-diagrams-") as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(page, encoding="utf-8")
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp}/profile",
                # Nothing is fetched: every request goes to a closed port.
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                "--virtual-time-budget=20000", "--dump-dom", source.as_uri()]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
    drawn = _drawn_blocks(done.stdout) if done.returncode == 0 else []
    if len(drawn) != len(originals):
        return None
    parts, last = [], 0
    for match, inner in zip(originals, drawn, strict=True):
        parts += [page[last:match.start()], f'<div class="jp-Mermaid">{inner}</div>']
        last = match.end()
    parts.append(page[last:])
    return _SCRIPT.sub("", "".join(parts))


def _drawn_blocks(dom: str) -> list[str]:
    """The inside of each diagram block of the browser's DOM, once Mermaid has drawn it (or said why not)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_SCRIPT.sub("", dom), "html.parser")
    blocks = soup.select("div.jp-Mermaid")
    if any(block.select_one("figure.runbook-mermaid, pre.runbook-mermaid-error") is None for block in blocks):
        return []  # Mermaid did not finish in time: keep the script rather than undrawn sources
    return [block.decode_contents() for block in blocks]
